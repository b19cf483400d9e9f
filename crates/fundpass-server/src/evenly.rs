//! The anonymous identify steps answer in the same time whether or not the details
//! match a member.
//!
//! The steps do the same lookups and write the same flow and audit rows either way,
//! but a matching member also sets something in motion (registration queues a text
//! and its audit row), which costs a fraction of a millisecond a patient caller could
//! measure. So each step answers no sooner than `identify_floor` (50 ms unless
//! configured) after it began: the step's own work, matched or not, is over well
//! before then, and the time a caller sees is the floor.

use std::future::Future;

use crate::state::AppState;

/// Runs `step`, then waits until `identify_floor` has passed since it began. The
/// wait is a timer, not work: waiting requests cost no CPU.
pub(crate) async fn evenly<F: Future>(state: &AppState, step: F) -> F::Output {
    let started = tokio::time::Instant::now();
    let output = step.await;
    if let Ok(floor) = std::time::Duration::try_from(state.portal.policy.identify_floor) {
        tokio::time::sleep_until(started + floor).await;
    }
    output
}
