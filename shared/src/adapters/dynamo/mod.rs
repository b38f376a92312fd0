//! The DynamoDB adapter: one table (see [`super::keys`] for the key design and
//! [`schema`] for its definition), items mapped with `serde_dynamo`, and conditional
//! writes or transactions for every at-most-once and exactly-once effect. No Scan.

mod backlog;
mod contacts;
pub mod cost;
mod notices;
mod quota;
pub mod schema;
mod stats;
pub mod stream;
mod surveys;

use super::cursor::CursorKey;
use super::keys::{IndexKey, Key};
use crate::ports::StoreError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

type Item = HashMap<String, AttributeValue>;

/// How many times a write that lost a race (transaction conflict, stale revision)
/// is tried again before the store reports the backend as unavailable.
const MAX_RACE_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone)]
pub struct DynamoConfig {
    pub table_name: String,
    /// Write shards per counter. One item takes at most 1,000 writes/s; with 8
    /// shards a single counter (say, this month × `all`) takes 8,000 answers/s.
    pub counter_shards: u32,
    /// Days after which surveys and answers are removed by TTL.
    pub retention_days: u32,
}

impl DynamoConfig {
    pub fn new(table_name: impl Into<String>) -> Self {
        Self {
            table_name: table_name.into(),
            counter_shards: 8,
            retention_days: 400,
        }
    }
}

/// The DynamoDB store. Cheap to clone: the SDK client is shared.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    config: DynamoConfig,
    /// Seals the page cursors this store gives out; the same in every instance.
    cursors: CursorKey,
}

impl DynamoStore {
    /// `cursors` must be the same key in every process serving the same listings
    /// ([`CursorKey::derive`] from a shared secret), or a page cursor from one
    /// Lambda instance is refused by the next.
    pub fn new(client: Client, config: DynamoConfig, cursors: CursorKey) -> Self {
        Self {
            client,
            config,
            cursors,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.config.table_name
    }

    async fn get_item(
        &self,
        operation: &'static str,
        key: &Key,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table())
            .set_key(Some(key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::unavailable(operation, e))?;
        Ok(out.item)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        key: &Key,
    ) -> Result<Option<T>, StoreError> {
        self.get_item(operation, key)
            .await?
            .map(|item| decode(operation, item))
            .transpose()
    }

    /// Writes `value` as the whole record at `key` (with its index keys), whatever
    /// was there.
    async fn put_record<T: Serialize>(
        &self,
        operation: &'static str,
        key: &Key,
        value: &T,
        index: &[IndexKey],
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(self.table())
            .set_item(Some(record(operation, key, value, index)?))
            .send()
            .await
            .map_err(|e| StoreError::unavailable(operation, e))?;
        Ok(())
    }

    /// Runs a transaction. Cancellations caused only by races (`TransactionConflict`)
    /// are retried with a short backoff; a failed condition comes back as
    /// [`Tx::Cancelled`] with each item's reason and, where asked, its old image.
    async fn transact(
        &self,
        operation: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<Tx, StoreError> {
        for attempt in 0..MAX_RACE_ATTEMPTS {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Tx::Committed),
                Err(SdkError::ServiceError(ctx)) => match ctx.into_err() {
                    TransactWriteItemsError::TransactionCanceledException(e) => {
                        let reasons: Vec<Reason> = e
                            .cancellation_reasons()
                            .iter()
                            .map(|r| Reason {
                                failed_condition: r.code() == Some("ConditionalCheckFailed"),
                                old: r.item().cloned(),
                            })
                            .collect();
                        if reasons.iter().any(|r| r.failed_condition) {
                            return Ok(Tx::Cancelled(reasons));
                        }
                        backoff(attempt).await;
                    }
                    other => return Err(StoreError::unavailable(operation, other)),
                },
                Err(e) => return Err(StoreError::unavailable(operation, e)),
            }
        }
        Err(StoreError::unavailable(
            operation,
            "transaction kept conflicting with concurrent writes",
        ))
    }

    /// Epoch seconds at which a record written `at` leaves under the retention policy.
    fn ttl_from(&self, at: jiff::Timestamp) -> AttributeValue {
        let secs = at.as_second() + i64::from(self.config.retention_days) * 86_400;
        AttributeValue::N(secs.to_string())
    }
}

/// Opens the connection to DynamoDB (DNS, TCP, TLS) during a function's init, which
/// no user or event waits on, by reading a key that never exists. Takes the client
/// rather than the store, which needs the contact-key secret: a start opens this
/// connection while it reads the secret. Failure is only logged: the first real
/// request connects anyway.
pub async fn warm(client: &Client, table: &str) {
    let started = std::time::Instant::now();
    let result = client
        .get_item()
        .table_name(table)
        .set_key(Some(key_item(&Key {
            pk: "WARM".into(),
            sk: "WARM".into(),
        })))
        .send()
        .await;
    match result {
        Ok(_) => tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "DynamoDB connection warmed"
        ),
        Err(e) => tracing::warn!(
            error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e),
            "warming the DynamoDB connection failed"
        ),
    }
}

async fn backoff(attempt: u32) {
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    let ms = (5u64 << attempt.min(6)) + u64::from(jitter[0] % 16);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

enum Tx {
    Committed,
    Cancelled(Vec<Reason>),
}

/// Why one item of a cancelled transaction failed.
struct Reason {
    failed_condition: bool,
    old: Option<Item>,
}

impl Tx {
    /// The reason for item `i`, if the transaction was cancelled by its condition.
    fn failed(&self, i: usize) -> Option<&Reason> {
        match self {
            Tx::Committed => None,
            Tx::Cancelled(r) => r.get(i).filter(|r| r.failed_condition),
        }
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_item(k: &Key) -> Item {
    HashMap::from([
        (schema::PARTITION_KEY.to_string(), s(&k.pk)),
        (schema::SORT_KEY.to_string(), s(&k.sk)),
    ])
}

/// A record as an item: its fields, its key and its index keys.
fn record<T: Serialize>(
    operation: &'static str,
    key: &Key,
    value: &T,
    index: &[IndexKey],
) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(value).map_err(|e| StoreError::corrupt(operation, e))?;
    item.extend(key_item(key));
    for ik in index {
        item.insert(ik.index.pk_attr().to_string(), s(&ik.pk));
        item.insert(ik.index.sk_attr().to_string(), s(&ik.sk));
    }
    Ok(item)
}

/// The result of a conditional write whose failed condition means "already so"
/// (a pointer that exists, a later time already kept): success either way.
fn unless_already<T, E: crate::adapters::aws::ServiceError>(
    operation: &'static str,
    result: Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> Result<(), StoreError> {
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error().and_then(|s| s.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(())
        }
        Err(e) => Err(StoreError::unavailable(operation, e)),
    }
}

fn decode<T: DeserializeOwned>(operation: &'static str, item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::corrupt(operation, e))
}

fn build<T>(
    operation: &'static str,
    r: Result<T, aws_sdk_dynamodb::error::BuildError>,
) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::unavailable(operation, e))
}

impl IndexQuery {
    /// What a cursor of this query is bound to (see [`super::cursor`]): the same
    /// listing names as the embedded store's.
    fn listing(&self) -> String {
        let direction = if self.reverse { "rev" } else { "fwd" };
        format!("{}|{}|{direction}", self.index.name(), self.pk)
    }
}

impl DynamoStore {
    /// `LastEvaluatedKey` as a cursor sealed for `listing`: every key attribute is
    /// a string.
    fn seal_cursor(&self, listing: &str, last: Option<Item>) -> Option<String> {
        let map: BTreeMap<String, String> = last?
            .into_iter()
            .filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s.clone())))
            .collect();
        let position = serde_json::to_vec(&map).ok()?;
        Some(self.cursors.seal(listing, &position))
    }

    /// The `ExclusiveStartKey` a cursor sealed for `listing` carries.
    fn open_cursor(&self, listing: &str, cursor: Option<&str>) -> Result<Option<Item>, StoreError> {
        cursor
            .map(|c| {
                let position = self
                    .cursors
                    .open(listing, c)
                    .ok_or(StoreError::InvalidCursor)?;
                let map: BTreeMap<String, String> =
                    serde_json::from_slice(&position).map_err(|_| StoreError::InvalidCursor)?;
                Ok(map.into_iter().map(|(k, v)| (k, s(v))).collect())
            })
            .transpose()
    }
}

/// A query over one index partition (never a scan).
struct IndexQuery {
    index: super::keys::Index,
    pk: String,
    /// Only sort keys strictly below this.
    below: Option<String>,
    reverse: bool,
    limit: usize,
    cursor: Option<String>,
}

impl DynamoStore {
    async fn query_index<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        q: IndexQuery,
    ) -> Result<crate::ports::Page<T>, StoreError> {
        let listing = q.listing();
        let mut condition = "#pk = :pk".to_string();
        let mut req = self
            .client
            .query()
            .table_name(self.table())
            .index_name(q.index.name())
            .expression_attribute_names("#pk", q.index.pk_attr())
            .expression_attribute_values(":pk", s(&q.pk))
            .scan_index_forward(!q.reverse)
            .limit(i32::try_from(q.limit.clamp(1, 1000)).unwrap_or(1000))
            .set_exclusive_start_key(self.open_cursor(&listing, q.cursor.as_deref())?);
        if let Some(below) = q.below {
            condition.push_str(" AND #sk < :below");
            req = req
                .expression_attribute_names("#sk", q.index.sk_attr())
                .expression_attribute_values(":below", s(below));
        }
        let out = req
            .key_condition_expression(condition)
            .send()
            .await
            .map_err(|e| StoreError::unavailable(operation, e))?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| decode(operation, i))
            .collect::<Result<Vec<T>, _>>()?;
        Ok(crate::ports::Page {
            items,
            next: self.seal_cursor(&listing, out.last_evaluated_key),
        })
    }
}
