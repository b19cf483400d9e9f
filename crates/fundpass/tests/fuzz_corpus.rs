//! The saved inputs of the import reader's fuzz target (`fuzz/corpus/import_rows/`, and
//! crash inputs in `fuzz/regressions/import_rows/`) still pass the checks it makes.

#![allow(clippy::panic)]

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn saved_import_files_are_read_in_line_order_without_quoting_numbers() {
    replay::replay(
        "import_rows",
        fundpass::import_file::fuzzing::check_import_rows,
    );
}
