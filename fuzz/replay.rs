//! Replays the saved inputs of a fuzz target through the same checks the target makes,
//! in the ordinary `cargo test`. Each crate that owns targets includes this file from
//! its `tests/fuzz_corpus.rs` (`#[path = "../../../fuzz/replay.rs"] mod replay;`).

use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Runs `check` on every file under `fuzz/corpus/<target>/` and
/// `fuzz/regressions/<target>/`, and fails naming each input that breaks a property or
/// panics. An empty or missing corpus fails too, so the test cannot pass by finding
/// nothing to replay.
pub fn replay<E: Display>(target: &str, check: impl Fn(&[u8]) -> Result<(), E>) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let corpus = inputs(&fuzz.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "no saved inputs in fuzz/corpus/{target}/"
    );
    let regressions = inputs(&fuzz.join("regressions").join(target));
    let mut failures = Vec::new();
    for file in corpus.iter().chain(&regressions) {
        let data =
            std::fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        match catch_unwind(AssertUnwindSafe(|| check(&data))) {
            Ok(Ok(())) => {}
            Ok(Err(violation)) => failures.push(format!("{}: {violation}", file.display())),
            Err(_) => failures.push(format!("{}: panicked", file.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} saved inputs of {target} fail:\n{}",
        failures.len(),
        corpus.len() + regressions.len(),
        failures.join("\n")
    );
}

/// The files in `dir`, in name order; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}
