//! Telling business systems that holds have ended, so that a system that paused a
//! member's payouts on `hold.placed` can resume them without polling.

use super::BusinessEvent;
use crate::portal::Portal;
use crate::ports::{ChangeSet, HoldAnnounced, StoreError};

impl Portal {
    /// Announces up to `limit` holds whose time has passed (`hold.ended`), each once:
    /// the mark and the events land in one change, and an instance that finds another
    /// got there first gives way (the rest are announced on its next pass). Returns how
    /// many were announced. Meant to run every few seconds on every instance.
    pub async fn announce_ended_holds(&self, limit: u32) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let ended = self.store.unannounced_ended_holds(now, limit).await?;
        if ended.is_empty() {
            return Ok(0);
        }
        let change = ChangeSet {
            announced_holds: ended
                .iter()
                .map(|e| HoldAnnounced { id: e.id, at: now })
                .collect(),
            events: ended
                .iter()
                .map(|e| BusinessEvent::hold_ended(e, self.rng.as_ref()))
                .collect(),
            ..ChangeSet::default()
        };
        match self.store.apply(change).await {
            Ok(()) => Ok(ended.len()),
            Err(StoreError::Conflict) => Ok(0),
            Err(e) => Err(e),
        }
    }
}
