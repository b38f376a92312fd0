//! [`StatsStore`] on DynamoDB: one transaction puts the effect marker (conditional on
//! its absence) and `ADD`s to one shard of every counter, so an effect counts once or
//! not at all. Fields are top-level number attributes named `c_<field>`.

use super::{DynamoStore, Tx, build, key_item, n, s};
use crate::adapters::keys;
use crate::domain::stats::{Counter, CounterIncrement, CounterKey};
use crate::ports::{ApplyOutcome, StatsStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const FIELD_PREFIX: &str = "c_";
/// A transaction takes 100 items: the marker and up to 99 counters.
const MAX_INCREMENTS: usize = 99;

#[async_trait]
impl StatsStore for DynamoStore {
    async fn apply_once(
        &self,
        effect_id: &str,
        increments: &[CounterIncrement],
    ) -> Result<ApplyOutcome, StoreError> {
        const OP: &str = "apply_once";
        if increments.len() > MAX_INCREMENTS {
            return Err(StoreError::unavailable(
                OP,
                "more counters than one transaction can hold",
            ));
        }
        let digest = Sha256::digest(effect_id.as_bytes());
        let shard = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
            % self.config.counter_shards.max(1);
        let mut marker = key_item(&keys::effect(effect_id));
        marker.insert(
            super::schema::TTL_ATTRIBUTE.into(),
            self.ttl_from(jiff::Timestamp::now()),
        );
        let mut items = vec![
            TransactWriteItem::builder()
                .put(build(
                    OP,
                    Put::builder()
                        .table_name(self.table())
                        .set_item(Some(marker))
                        .condition_expression("attribute_not_exists(pk)")
                        .build(),
                )?)
                .build(),
        ];
        for inc in increments.iter().filter(|i| !i.fields.is_empty()) {
            let mut update = Update::builder()
                .table_name(self.table())
                .set_key(Some(key_item(&keys::counter_shard(&inc.key, shard))));
            let mut parts = Vec::new();
            for (i, (field, value)) in inc.fields.iter().enumerate() {
                parts.push(format!("#f{i} :v{i}"));
                update = update
                    .expression_attribute_names(format!("#f{i}"), format!("{FIELD_PREFIX}{field}"))
                    .expression_attribute_values(format!(":v{i}"), n(value));
            }
            let update = update
                .update_expression(format!("ADD {}", parts.join(", ")))
                .build();
            items.push(
                TransactWriteItem::builder()
                    .update(build(OP, update)?)
                    .build(),
            );
        }
        match self.transact(OP, items).await? {
            tx if tx.failed(0).is_some() => Ok(ApplyOutcome::AlreadyApplied),
            Tx::Committed => Ok(ApplyOutcome::Applied),
            Tx::Cancelled(_) => Err(StoreError::unavailable(OP, "counter update cancelled")),
        }
    }

    /// Sums the fields over every shard of the counter: one query.
    async fn read(&self, key: &CounterKey) -> Result<Counter, StoreError> {
        let mut counters = self
            .query_counters(
                "read_counter",
                &keys::counter_partition(key),
                &keys::counter_value_prefix(key.value()),
            )
            .await?;
        Ok(counters.remove(key.value()).unwrap_or_default())
    }

    async fn read_group(&self, group: &str) -> Result<BTreeMap<String, Counter>, StoreError> {
        self.query_counters(
            "read_counter_group",
            &keys::counter_group(group),
            keys::COUNTER_PREFIX,
        )
        .await
    }
}

impl DynamoStore {
    /// Counter shards of one partition whose sort keys start with `prefix`, summed by
    /// value. Pages through the result (a group holds values × shards items).
    async fn query_counters(
        &self,
        op: &'static str,
        pk: &str,
        prefix: &str,
    ) -> Result<BTreeMap<String, Counter>, StoreError> {
        let mut out: BTreeMap<String, Counter> = BTreeMap::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::unavailable(op, e))?;
            for item in page.items.unwrap_or_default() {
                let value = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|sk| keys::counter_value_of(sk))
                    .ok_or_else(|| StoreError::corrupt(op, "counter shard without a value"))?
                    .to_string();
                let counter = out.entry(value).or_default();
                for (name, v) in &item {
                    let Some(field) = name.strip_prefix(FIELD_PREFIX) else {
                        continue;
                    };
                    let v: u64 = v.as_n().ok().and_then(|v| v.parse().ok()).ok_or_else(|| {
                        StoreError::corrupt(op, format!("counter field {field} is not a count"))
                    })?;
                    *counter.fields.entry(field.to_string()).or_insert(0) += v;
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}
