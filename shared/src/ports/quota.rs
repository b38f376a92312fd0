use super::StoreError;
use crate::domain::survey::Channel;
use async_trait::async_trait;

/// The account-wide send rate per channel, shared by every process that sends
/// (the case-step consumer's instances, the ingest API's, the schedule): one count
/// per channel and second, taken before each provider call.
///
/// Contract: `take_send_slot(channel, second, limit)` counts one send in `second`
/// (Unix seconds) and answers `true` if fewer than `limit` were counted in it
/// before; otherwise it counts nothing and answers `false`. Concurrent callers
/// never get more than `limit` slots of one second between them.
#[async_trait]
pub trait SendQuota: Send + Sync {
    async fn take_send_slot(
        &self,
        channel: Channel,
        second: i64,
        limit: u32,
    ) -> Result<bool, StoreError>;
}
