//! The durable answer feed: appended in the same transaction as the answer it
//! carries, read by cursor, with each consumer's committed position kept beside it.
//!
//! Entries every consumer has passed are dropped when a consumer commits (the one at
//! the lowest cursor stays, so the sequence never restarts), so the feed holds only
//! what is still to be routed. An erasure redacts an entry that is still there: the
//! answer is still counted once, without its words or whose it was.

use super::{EmbeddedStore, R, Writer};
use crate::domain::ids::SurveyId;
use crate::domain::survey::Answer;
use crate::ports::{AnswerFeed, FeedCursor, FeedEntry, StoreError};
use async_trait::async_trait;
use redb::ReadableTable;

impl Writer<'_> {
    pub(super) fn append_feed(&mut self, answer: &Answer) -> R<()> {
        let next = match self.feed.last()? {
            Some((k, _)) => k.value() + 1,
            None => 1,
        };
        let bytes = serde_json::to_vec(answer)?;
        self.feed.insert(next, bytes.as_slice())?;
        Ok(())
    }

    /// Redacts every feed entry of one survey ([`Answer::redacted`]).
    pub(super) fn redact_feed(&mut self, survey: &SurveyId) -> R<()> {
        let mut redacted = Vec::new();
        for row in self.feed.iter()? {
            let (k, v) = row?;
            let answer: Answer = serde_json::from_slice(v.value())?;
            if &answer.survey_id == survey {
                let clean = answer.clone().redacted();
                if clean != answer {
                    redacted.push((k.value(), serde_json::to_vec(&clean)?));
                }
            }
        }
        for (k, bytes) in redacted {
            self.feed.insert(k, bytes.as_slice())?;
        }
        Ok(())
    }

    /// Drops the entries below every consumer's committed position.
    fn prune_feed(&mut self) -> R<()> {
        let mut lowest: Option<u64> = None;
        for row in self.cursors.iter()? {
            let (_, v) = row?;
            lowest = Some(lowest.map_or(v.value(), |l| l.min(v.value())));
        }
        let Some(lowest) = lowest else {
            return Ok(());
        };
        self.feed.retain_in(..lowest, |_, _| false)?;
        Ok(())
    }
}

#[async_trait]
impl AnswerFeed for EmbeddedStore {
    async fn read_after(
        &self,
        after: FeedCursor,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let limit = limit.clamp(1, 1000);
        self.read("read_feed", move |r| {
            let mut out = Vec::new();
            for row in r.feed.range(after.0.saturating_add(1)..)? {
                let (k, v) = row?;
                out.push(FeedEntry {
                    cursor: FeedCursor(k.value()),
                    answer: serde_json::from_slice(v.value())?,
                });
                if out.len() >= limit {
                    break;
                }
            }
            Ok(out)
        })
        .await
    }

    async fn committed(&self, consumer: &str) -> Result<FeedCursor, StoreError> {
        let consumer = consumer.to_string();
        self.read("feed_committed", move |r| {
            Ok(FeedCursor(
                r.cursors
                    .get(consumer.as_str())?
                    .map(|g| g.value())
                    .unwrap_or(0),
            ))
        })
        .await
    }

    async fn commit(&self, consumer: &str, cursor: FeedCursor) -> Result<(), StoreError> {
        let consumer = consumer.to_string();
        self.write("feed_commit", move |w| {
            let current = w
                .cursors
                .get(consumer.as_str())?
                .map(|g| g.value())
                .unwrap_or(0);
            // Commits only move forward: a late, older commit cannot replay work.
            if cursor.0 > current {
                w.cursors.insert(consumer.as_str(), cursor.0)?;
                w.prune_feed()?;
            }
            Ok(())
        })
        .await
    }
}
