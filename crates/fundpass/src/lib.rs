//! The parts of the `fundpass` command that are also driven from outside it: the
//! import file reader, which the fuzz targets in `fuzz/` feed arbitrary bytes.

pub mod import_file;
