use super::StoreError;
use crate::domain::stats::{Counter, CounterIncrement, CounterKey};
use async_trait::async_trait;
use std::collections::BTreeMap;

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

    /// Every counter of a group (one kind, month, scope and dimension), by value,
    /// summed over shards. One read whatever the number of answers behind it.
    async fn read_group(&self, group: &str) -> Result<BTreeMap<String, Counter>, StoreError>;
}
