//! [`StatsStore`] on the embedded store. One writer at a time, so no sharding.

use super::{EmbeddedStore, Lookup};
use crate::adapters::keys;
use crate::domain::stats::{Counter, CounterIncrement, CounterKey};
use crate::ports::{ApplyOutcome, StatsStore, StoreError};
use async_trait::async_trait;
use std::collections::BTreeMap;

#[async_trait]
impl StatsStore for EmbeddedStore {
    async fn apply_once(
        &self,
        effect_id: &str,
        increments: &[CounterIncrement],
    ) -> Result<ApplyOutcome, StoreError> {
        let marker = keys::effect(effect_id);
        let increments = increments.to_vec();
        self.write("apply_once", move |w| {
            if w.get::<serde_json::Value>(&marker)?.is_some() {
                return Ok(ApplyOutcome::AlreadyApplied);
            }
            w.put(&marker, &serde_json::json!({}))?;
            for inc in &increments {
                let key = keys::counter_shard(&inc.key, 0);
                let mut counter = w.get::<Counter>(&key)?.unwrap_or_default();
                counter.add(&inc.fields);
                w.put(&key, &counter)?;
            }
            Ok(ApplyOutcome::Applied)
        })
        .await
    }

    async fn read(&self, key: &CounterKey) -> Result<Counter, StoreError> {
        let key = keys::counter_shard(key, 0);
        self.read("read_counter", move |r| {
            Ok(r.get::<Counter>(&key)?.unwrap_or_default())
        })
        .await
    }

    async fn read_group(&self, group: &str) -> Result<BTreeMap<String, Counter>, StoreError> {
        let pk = keys::counter_group(group);
        self.read("read_counter_group", move |r| {
            let mut out = BTreeMap::new();
            for (sk, counter) in r.keyed_items_with_prefix::<Counter>(&pk, keys::COUNTER_PREFIX)? {
                if let Some(value) = keys::counter_value_of(&sk) {
                    out.entry(value.to_string())
                        .or_insert_with(Counter::default)
                        .add(&counter.fields);
                }
            }
            Ok(out)
        })
        .await
    }
}
