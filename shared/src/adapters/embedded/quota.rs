//! [`SendQuota`] for the local process: the embedded store has one process, so the
//! count per channel and second lives in memory beside the file. Seconds more than
//! a minute old are dropped as new ones come.

use super::EmbeddedStore;
use crate::domain::survey::Channel;
use crate::ports::{SendQuota, StoreError};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// Counts per (channel, second).
#[derive(Debug, Default)]
pub(super) struct SendSlots(std::sync::Mutex<BTreeMap<(Channel, i64), u32>>);

#[async_trait]
impl SendQuota for EmbeddedStore {
    async fn take_send_slot(
        &self,
        channel: Channel,
        second: i64,
        limit: u32,
    ) -> Result<bool, StoreError> {
        let mut counts = self
            .slots
            .0
            .lock()
            .map_err(|_| StoreError::unavailable("take_send_slot", "a sender panicked"))?;
        counts.retain(|&(_, s), _| s > second - 60);
        let count = counts.entry((channel, second)).or_default();
        if *count >= limit {
            return Ok(false);
        }
        *count += 1;
        Ok(true)
    }
}
