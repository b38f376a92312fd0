//! Ports: the small async traits the domain needs from the outside world. Each store
//! port has a DynamoDB adapter and an embedded adapter, and one conformance suite
//! holds both to the contracts written here; the notifier has SES, SNS and a local
//! file outbox. Expected outcomes (a duplicate, a conflict, an expired survey) are
//! values of the `*Outcome` enums; `Err` is kept for real faults.

mod backlog;
mod contacts;
mod error;
mod feed;
mod notifier;
mod quota;
mod stats;
mod surveys;

pub use backlog::{BacklogStore, FeedbackQuery, FeedbackScope, SaveOutcome, VersionedWrite};
pub use contacts::ContactStore;
pub use error::StoreError;
pub use feed::{AnswerFeed, FeedCursor, FeedEntry};
pub use notifier::{Alert, AlertAbout, Alerter, Notifier, OutboundMessage, SendError};
pub use quota::SendQuota;
pub use stats::{ApplyOutcome, StatsStore};
pub use surveys::{
    AnswerOutcome, CreateOutcome, FatigueGuard, SurveyStore, TransitionOutcome, WorkList,
};

use serde::{Deserialize, Serialize};

/// A page request: `cursor` is the opaque `next` of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub cursor: Option<String>,
    /// 1–1000; adapters clamp.
    pub limit: usize,
}

impl PageRequest {
    pub fn first(limit: usize) -> Self {
        Self {
            cursor: None,
            limit,
        }
    }

    /// The page after the one whose `next` was `cursor`.
    pub fn after(cursor: String, limit: usize) -> Self {
        Self {
            cursor: Some(cursor),
            limit,
        }
    }

    pub fn clamped_limit(&self) -> usize {
        self.limit.clamp(1, 1000)
    }
}

/// One page of results. `next` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}
