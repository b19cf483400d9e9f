//! What the HTTP benchmarks share: the timed window (clients, a probe, memory
//! sampling), latency summaries, the report's common lines and process memory. Each
//! benchmark brings its own server, its own requests and its own header line.

pub mod flood;
pub mod inproc;
pub mod memory;
pub mod pool;
pub mod process;
pub mod report;
pub mod stats;
