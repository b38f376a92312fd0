//! What alerts and notices to team leads need of the table besides gets: a
//! versioned put that is also the claim (conditional on absence at version 0), the
//! due listing on `gsi1` the timers read, and a team's notices on `gsi2`.

use super::{DynamoStore, IndexQuery, record};
use crate::adapters::keys::{self, Index, IndexKey, Key};
use crate::domain::ids::TeamId;
use crate::domain::notice::NoticeRecord;
use crate::ports::{SaveOutcome, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The stored version of a versioned record, whatever else it holds.
#[derive(serde::Deserialize)]
struct StoredVersion {
    version: u64,
}

impl DynamoStore {
    /// Puts a versioned record (with its index keys and a `ttl` from `ttl_at`) if
    /// none is stored (`expected_version` 0) or the stored one has that version;
    /// when the condition fails, reads which of the two it was.
    pub(super) async fn put_at_version<T: Serialize + Sync>(
        &self,
        op: &'static str,
        key: &Key,
        stored: &T,
        index: &[IndexKey],
        ttl_at: jiff::Timestamp,
        expected_version: u64,
    ) -> Result<SaveOutcome, StoreError> {
        let mut item = record(op, key, stored, index)?;
        item.insert(super::schema::TTL_ATTRIBUTE.into(), self.ttl_from(ttl_at));
        let mut req = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item));
        req = if expected_version == 0 {
            req.condition_expression("attribute_not_exists(pk)")
        } else {
            req.condition_expression("version = :expected")
                .expression_attribute_values(":expected", super::n(expected_version))
        };
        match req.send().await {
            Ok(_) => Ok(SaveOutcome::Saved),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let current: Option<StoredVersion> = self.get(op, key).await?;
                Ok(match current {
                    Some(c) => SaveOutcome::Conflict { current: c.version },
                    None => SaveOutcome::NotFound,
                })
            }
            Err(e) => Err(StoreError::unavailable(op, e)),
        }
    }

    /// Records of the due partition `pk` (alerts or notices) whose retry or claim
    /// end is at or before `until`, oldest first.
    pub(super) async fn due_on<T: DeserializeOwned>(
        &self,
        op: &'static str,
        pk: &str,
        until: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        let page = self
            .query_index(
                op,
                IndexQuery {
                    index: Index::Gsi1,
                    pk: pk.into(),
                    below: Some(keys::up_to(until)),
                    reverse: false,
                    limit,
                    cursor: None,
                },
            )
            .await?;
        Ok(page.items)
    }

    /// A team's newest notices, newest first.
    pub(super) async fn recent_notices_of(
        &self,
        team: &TeamId,
        limit: usize,
    ) -> Result<Vec<NoticeRecord>, StoreError> {
        let page = self
            .query_index(
                "recent_notices",
                IndexQuery {
                    index: Index::Gsi2,
                    pk: keys::notices_of_team(team),
                    below: None,
                    reverse: true,
                    limit,
                    cursor: None,
                },
            )
            .await?;
        Ok(page.items)
    }
}
