//! [`BacklogStore`] on DynamoDB: creates and versioned saves are transactions that
//! write the record and its activity entry together.

use super::{DynamoStore, IndexQuery, Item, Tx, build, decode, record, s};
use crate::adapters::keys::{self, Index, IndexKey, Key};
use crate::domain::backlog::{Activity, AlertRecord, FeedbackItem, Improvement, ImprovementStatus};
use crate::domain::client::ClientSettings;
use crate::domain::ids::{ClientId, FeedbackId, ImprovementId, TeamId};
use crate::domain::notice::NoticeRecord;
use crate::domain::themes::StoredLexicon;
use crate::ports::{
    BacklogStore, FeedbackQuery, Page, PageRequest, SaveOutcome, StoreError, VersionedWrite,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

/// On a feedback record: when its activity entries expire (epoch seconds). Not a TTL
/// on the record itself: an open item stays, its history goes at the ceiling.
const ACTIVITY_EXPIRES: &str = "activity_expires";

fn activity_ttl(owner: &Item) -> Option<AttributeValue> {
    owner
        .get(ACTIVITY_EXPIRES)
        .or_else(|| owner.get(super::schema::TTL_ATTRIBUTE))
        .cloned()
}

impl DynamoStore {
    /// An activity entry; it expires with its owner (`ttl` from the owner's record:
    /// its [`ACTIVITY_EXPIRES`] or else its TTL, if it has one).
    fn activity_put(
        &self,
        op: &'static str,
        owner: &Key,
        version: u64,
        activity: &Activity,
        ttl: Option<&aws_sdk_dynamodb::types::AttributeValue>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item = record(op, &keys::activity(owner, version), activity, &[])?;
        if let Some(ttl) = ttl {
            item.insert(super::schema::TTL_ATTRIBUTE.into(), ttl.clone());
        }
        Ok(TransactWriteItem::builder()
            .put(build(
                op,
                Put::builder()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build(),
            )?)
            .build())
    }

    async fn create_versioned(
        &self,
        op: &'static str,
        key: &Key,
        mut item: Item,
        activity: &Activity,
    ) -> Result<bool, StoreError> {
        item.insert("version".into(), super::n(1));
        let ttl = activity_ttl(&item);
        let put = build(
            op,
            Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        let tx = self
            .transact(
                op,
                vec![
                    TransactWriteItem::builder().put(put).build(),
                    self.activity_put(op, key, 1, activity, ttl.as_ref())?,
                ],
            )
            .await?;
        Ok(matches!(tx, Tx::Committed))
    }

    async fn save_versioned(
        &self,
        op: &'static str,
        key: &Key,
        item: Item,
        expected: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError> {
        self.save_versioned_all(op, vec![(key.clone(), item, expected, activity.clone())])
            .await
    }

    /// Every record under its version check and with its activity entry, in one
    /// transaction (at most 50 records: 100 items per transaction).
    async fn save_versioned_all(
        &self,
        op: &'static str,
        writes: Vec<(Key, Item, u64, Activity)>,
    ) -> Result<SaveOutcome, StoreError> {
        let mut items = Vec::with_capacity(writes.len() * 2);
        for (key, item, expected, activity) in &writes {
            let mut item = item.clone();
            item.insert("version".into(), super::n(*expected + 1));
            let ttl = activity_ttl(&item);
            let put = build(
                op,
                Put::builder()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .condition_expression("attribute_exists(pk) AND version = :expected")
                    .expression_attribute_values(":expected", super::n(*expected))
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build(),
            )?;
            items.push(TransactWriteItem::builder().put(put).build());
            items.push(self.activity_put(op, key, expected + 1, activity, ttl.as_ref())?);
        }
        let tx = self.transact(op, items).await?;
        for (i, (_, _, expected, _)) in writes.iter().enumerate() {
            if let Some(reason) = tx.failed(2 * i) {
                let current = reason
                    .old
                    .as_ref()
                    .and_then(|old| old.get("version"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok());
                return Ok(match current {
                    Some(current) => SaveOutcome::Conflict { current },
                    None => SaveOutcome::NotFound,
                });
            }
            if tx.failed(2 * i + 1).is_some() {
                // The activity entry for this version exists: someone saved it first.
                return Ok(SaveOutcome::Conflict {
                    current: expected + 1,
                });
            }
        }
        match tx {
            Tx::Committed => Ok(SaveOutcome::Saved),
            Tx::Cancelled(_) => Err(StoreError::unavailable(op, "transaction cancelled")),
        }
    }

    /// A feedback item's record. A closed item expires `retention_days` after it was
    /// closed; an open one has no TTL (work in progress is kept), and the retention
    /// ceiling removes its comment text instead (see `app::retention`). Its
    /// activity entries expire with the closed item, or at the ceiling while it is
    /// open ([`ACTIVITY_EXPIRES`]).
    fn feedback_record(&self, op: &'static str, item: &FeedbackItem) -> Result<Item, StoreError> {
        let key = keys::feedback(&item.id);
        let mut record = Self::versioned_item(op, &key, item, &keys::feedback_index(item))?;
        let retention =
            jiff::SignedDuration::from_hours(i64::from(self.config.retention_days) * 24);
        let epoch = |t: jiff::Timestamp| AttributeValue::N(t.as_second().to_string());
        match item.expires_at(retention) {
            Some(at) => {
                record.insert(super::schema::TTL_ATTRIBUTE.into(), epoch(at));
                record.insert(ACTIVITY_EXPIRES.into(), epoch(at));
            }
            None => {
                record.insert(ACTIVITY_EXPIRES.into(), epoch(item.text_ceiling(retention)));
            }
        }
        Ok(record)
    }

    fn versioned_item<T: serde::Serialize>(
        op: &'static str,
        key: &Key,
        value: &T,
        index: &[IndexKey],
    ) -> Result<Item, StoreError> {
        record(op, key, value, index)
    }
}

#[async_trait]
impl BacklogStore for DynamoStore {
    async fn create_feedback(
        &self,
        item: &FeedbackItem,
        activity: &Activity,
    ) -> Result<bool, StoreError> {
        const OP: &str = "create_feedback";
        let key = keys::feedback(&item.id);
        let record = self.feedback_record(OP, item)?;
        self.create_versioned(OP, &key, record, activity).await
    }

    async fn get_feedback(&self, id: &FeedbackId) -> Result<Option<FeedbackItem>, StoreError> {
        self.get("get_feedback", &keys::feedback(id)).await
    }

    async fn save_feedback(
        &self,
        item: &FeedbackItem,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError> {
        const OP: &str = "save_feedback";
        let key = keys::feedback(&item.id);
        let record = self.feedback_record(OP, item)?;
        self.save_versioned(OP, &key, record, expected_version, activity)
            .await
    }

    async fn list_feedback(
        &self,
        query: &FeedbackQuery,
        page: PageRequest,
    ) -> Result<Page<FeedbackItem>, StoreError> {
        let listing = keys::feedback_listing(query);
        self.query_index(
            "list_feedback",
            IndexQuery {
                index: listing.index,
                pk: listing.pk,
                below: listing.below,
                reverse: listing.reverse,
                limit: page.clamped_limit(),
                cursor: page.cursor,
            },
        )
        .await
    }

    async fn feedback_activity(&self, id: &FeedbackId) -> Result<Vec<Activity>, StoreError> {
        self.activity_of("feedback_activity", &keys::feedback(id))
            .await
    }

    /// One read of the log, then one `UpdateItem` per entry that carries a note.
    async fn erase_notes(&self, id: &FeedbackId) -> Result<usize, StoreError> {
        const OP: &str = "erase_notes";
        let key = keys::feedback(id);
        let mut changed = 0;
        for (sk, entry) in self.activity_entries(OP, &key).await? {
            let Some(redacted) = entry.without_note() else {
                continue;
            };
            self.client
                .update_item()
                .table_name(self.table())
                .set_key(Some(super::key_item(&Key {
                    pk: key.pk.clone(),
                    sk,
                })))
                .update_expression("SET #action = :action")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#action", "action")
                .expression_attribute_values(":action", s(&redacted.action))
                .send()
                .await
                .map_err(|e| StoreError::unavailable(OP, e))?;
            changed += 1;
        }
        Ok(changed)
    }

    async fn save_all(&self, writes: &[VersionedWrite]) -> Result<SaveOutcome, StoreError> {
        const OP: &str = "save_all";
        let mut records = Vec::with_capacity(writes.len());
        for write in writes {
            records.push(match write {
                VersionedWrite::Feedback {
                    item,
                    expected_version,
                    activity,
                } => {
                    let key = keys::feedback(&item.id);
                    let record = self.feedback_record(OP, item)?;
                    (key, record, *expected_version, activity.clone())
                }
                VersionedWrite::Improvement {
                    item,
                    expected_version,
                    activity,
                } => {
                    let key = keys::improvement(&item.id);
                    let record =
                        Self::versioned_item(OP, &key, item, &keys::improvement_index(item))?;
                    (key, record, *expected_version, activity.clone())
                }
            });
        }
        self.save_versioned_all(OP, records).await
    }

    async fn get_lexicon(&self) -> Result<Option<StoredLexicon>, StoreError> {
        self.get("get_lexicon", &keys::lexicon()).await
    }

    async fn save_lexicon(
        &self,
        lexicon: &StoredLexicon,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError> {
        const OP: &str = "save_lexicon";
        let key = keys::lexicon();
        let record = Self::versioned_item(OP, &key, lexicon, &[])?;
        if expected_version == 0 {
            return Ok(
                if self.create_versioned(OP, &key, record, activity).await? {
                    SaveOutcome::Saved
                } else {
                    let current = self.get_lexicon().await?.map_or(0, |l| l.version);
                    SaveOutcome::Conflict { current }
                },
            );
        }
        self.save_versioned(OP, &key, record, expected_version, activity)
            .await
    }

    async fn lexicon_activity(&self) -> Result<Vec<Activity>, StoreError> {
        self.activity_of("lexicon_activity", &keys::lexicon()).await
    }

    async fn get_client_settings(
        &self,
        client: &ClientId,
    ) -> Result<Option<ClientSettings>, StoreError> {
        self.get("get_client_settings", &keys::client_settings(client))
            .await
    }

    async fn save_client_settings(
        &self,
        settings: &ClientSettings,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError> {
        const OP: &str = "save_client_settings";
        let key = keys::client_settings(&settings.client_id);
        let index = keys::client_settings_index(&settings.client_id);
        let record = Self::versioned_item(OP, &key, settings, &index)?;
        if expected_version == 0 {
            return Ok(
                if self.create_versioned(OP, &key, record, activity).await? {
                    SaveOutcome::Saved
                } else {
                    let current = self
                        .get_client_settings(&settings.client_id)
                        .await?
                        .map_or(0, |s| s.version);
                    SaveOutcome::Conflict { current }
                },
            );
        }
        self.save_versioned(OP, &key, record, expected_version, activity)
            .await
    }

    async fn list_client_settings(
        &self,
        page: PageRequest,
    ) -> Result<Page<ClientSettings>, StoreError> {
        self.query_index(
            "list_client_settings",
            IndexQuery {
                index: Index::Gsi1,
                pk: keys::CLIENT_SETTINGS_LIST.into(),
                below: None,
                reverse: false,
                limit: page.clamped_limit(),
                cursor: page.cursor,
            },
        )
        .await
    }

    async fn client_settings_activity(
        &self,
        client: &ClientId,
    ) -> Result<Vec<Activity>, StoreError> {
        self.activity_of("client_settings_activity", &keys::client_settings(client))
            .await
    }

    async fn get_alert(&self, id: &FeedbackId) -> Result<Option<AlertRecord>, StoreError> {
        self.get("get_alert", &keys::alert(id)).await
    }

    async fn save_alert(
        &self,
        alert: &AlertRecord,
        expected_version: u64,
    ) -> Result<SaveOutcome, StoreError> {
        let mut stored = alert.clone();
        stored.version = expected_version + 1;
        let key = keys::alert(&alert.feedback_id);
        let index = keys::alert_index(&stored);
        self.put_at_version(
            "save_alert",
            &key,
            &stored,
            &index,
            alert.updated_at,
            expected_version,
        )
        .await
    }

    async fn alerts_due(
        &self,
        until: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        self.due_on("alerts_due", keys::ALERTS_DUE, until, limit)
            .await
    }

    async fn get_notice(&self, id: &str) -> Result<Option<NoticeRecord>, StoreError> {
        self.get("get_notice", &keys::notice(id)).await
    }

    /// Notices expire with the retention period from their raising, like alerts.
    async fn save_notice(
        &self,
        notice: &NoticeRecord,
        expected_version: u64,
    ) -> Result<SaveOutcome, StoreError> {
        let mut stored = notice.clone();
        stored.version = expected_version + 1;
        let key = keys::notice(&notice.id);
        let index = keys::notice_index(&stored);
        self.put_at_version(
            "save_notice",
            &key,
            &stored,
            &index,
            notice.created_at,
            expected_version,
        )
        .await
    }

    async fn recent_notices(
        &self,
        team: &TeamId,
        limit: usize,
    ) -> Result<Vec<NoticeRecord>, StoreError> {
        self.recent_notices_of(team, limit).await
    }

    async fn notices_due(
        &self,
        until: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<NoticeRecord>, StoreError> {
        self.due_on("notices_due", keys::NOTICES_DUE, until, limit)
            .await
    }

    async fn create_improvement(
        &self,
        item: &Improvement,
        activity: &Activity,
    ) -> Result<bool, StoreError> {
        const OP: &str = "create_improvement";
        let key = keys::improvement(&item.id);
        let record = Self::versioned_item(OP, &key, item, &keys::improvement_index(item))?;
        self.create_versioned(OP, &key, record, activity).await
    }

    async fn get_improvement(&self, id: &ImprovementId) -> Result<Option<Improvement>, StoreError> {
        self.get("get_improvement", &keys::improvement(id)).await
    }

    async fn save_improvement(
        &self,
        item: &Improvement,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError> {
        const OP: &str = "save_improvement";
        let key = keys::improvement(&item.id);
        let record = Self::versioned_item(OP, &key, item, &keys::improvement_index(item))?;
        self.save_versioned(OP, &key, record, expected_version, activity)
            .await
    }

    async fn improvement_activity(&self, id: &ImprovementId) -> Result<Vec<Activity>, StoreError> {
        self.activity_of("improvement_activity", &keys::improvement(id))
            .await
    }

    async fn list_improvements(
        &self,
        status: ImprovementStatus,
        page: PageRequest,
    ) -> Result<Page<Improvement>, StoreError> {
        self.query_index(
            "list_improvements",
            IndexQuery {
                index: Index::Gsi1,
                pk: keys::improvement_status(status),
                below: None,
                reverse: false,
                limit: page.clamped_limit(),
                cursor: page.cursor,
            },
        )
        .await
    }
}

impl DynamoStore {
    async fn activity_of(&self, op: &'static str, key: &Key) -> Result<Vec<Activity>, StoreError> {
        Ok(self
            .activity_entries(op, key)
            .await?
            .into_iter()
            .map(|(_, a)| a)
            .collect())
    }

    /// An item's activity entries with their sort keys, oldest first.
    async fn activity_entries(
        &self,
        op: &'static str,
        key: &Key,
    ) -> Result<Vec<(String, Activity)>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND begins_with(sk, :act)")
                .expression_attribute_values(":pk", s(&key.pk))
                .expression_attribute_values(":act", s(keys::ACTIVITY_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::unavailable(op, e))?;
            for item in resp.items.unwrap_or_default() {
                let sk = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                out.push((sk, decode(op, item)?));
            }
            start = resp.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}
