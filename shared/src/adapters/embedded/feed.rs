//! The durable answer feed: appended in the same transaction as the answer it
//! carries, read by cursor, with each consumer's committed position kept beside it.

use super::{EmbeddedStore, R, Writer};
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
            }
            Ok(())
        })
        .await
    }
}
