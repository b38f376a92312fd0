use super::StoreError;
use crate::domain::stats::{Counter, CounterIncrement, CounterKey};
use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    Applied,
    /// This effect id was applied before: nothing changed.
    AlreadyApplied,
}

/// Pre-aggregated counters.
///
/// Contract: `apply_once` adds every increment, or none, exactly once per
/// `effect_id`, however often it is redelivered or raced. Counters may be sharded
/// inside the store; `read` returns the sum over shards.
#[async_trait]
pub trait StatsStore: Send + Sync {
    async fn apply_once(
        &self,
        effect_id: &str,
        increments: &[CounterIncrement],
    ) -> Result<ApplyOutcome, StoreError>;

    async fn read(&self, key: &CounterKey) -> Result<Counter, StoreError>;
}
