use super::StoreError;
use crate::domain::survey::Answer;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A position in the change feed: entries after it have not been acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FeedCursor(pub u64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub cursor: FeedCursor,
    pub answer: Answer,
}

/// The durable change feed of recorded answers: the embedded store's stand-in for
/// the DynamoDB table stream.
///
/// Contract: at-least-once. Every recorded answer appears once in the feed, in
/// commit order. A consumer reads after its committed cursor and commits after it
/// has processed; what it did not commit is delivered again (also after a restart),
/// so its processing must be idempotent.
#[async_trait]
pub trait AnswerFeed: Send + Sync {
    async fn read_after(
        &self,
        after: FeedCursor,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError>;

    async fn committed(&self, consumer: &str) -> Result<FeedCursor, StoreError>;

    async fn commit(&self, consumer: &str, cursor: FeedCursor) -> Result<(), StoreError>;
}
