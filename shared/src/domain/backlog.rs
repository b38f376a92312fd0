//! The improvement backlog: feedback items made from answers that need a human, and
//! improvements that group them around one fix. Both carry a version for optimistic
//! concurrency; every change is kept in an append-only activity log.

use super::ids::{ClientId, FeedbackId, HandlerId, ImprovementId, SurveyId, TeamId};
use super::locale::Language;
use super::score::Score;
use super::step::Step;
use super::survey::{Channel, SurveyKind};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    New,
    Triaged,
    InProgress,
    Resolved,
    Dismissed,
}

impl FeedbackStatus {
    pub const ALL: [FeedbackStatus; 5] = [
        FeedbackStatus::New,
        FeedbackStatus::Triaged,
        FeedbackStatus::InProgress,
        FeedbackStatus::Resolved,
        FeedbackStatus::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackStatus::New => "new",
            FeedbackStatus::Triaged => "triaged",
            FeedbackStatus::InProgress => "in_progress",
            FeedbackStatus::Resolved => "resolved",
            FeedbackStatus::Dismissed => "dismissed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    Normal,
}

/// A backlog entry made from one answer. No contact details are copied into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackItem {
    pub id: FeedbackId,
    pub survey_id: SurveyId,
    pub kind: SurveyKind,
    pub channel: Channel,
    pub score: Score,
    pub comment: Option<String>,
    pub language: Language,
    pub step: Option<Step>,
    pub client_id: ClientId,
    pub team: TeamId,
    pub handler_id: Option<HandlerId>,
    pub created_at: Timestamp,
    pub priority: Priority,
    pub due_on: Date,
    pub themes: Vec<String>,
    pub status: FeedbackStatus,
    pub assignee: Option<String>,
    pub contacted_at: Option<Timestamp>,
    pub improvement_id: Option<ImprovementId>,
    /// Starts at 1; every saved change adds one.
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImprovementStatus {
    Proposed,
    Planned,
    InProgress,
    Done,
}

impl ImprovementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImprovementStatus::Proposed => "proposed",
            ImprovementStatus::Planned => "planned",
            ImprovementStatus::InProgress => "in_progress",
            ImprovementStatus::Done => "done",
        }
    }
}

/// A fix that groups feedback items (e.g. "payment-plan letter is unclear").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Improvement {
    pub id: ImprovementId,
    pub title: String,
    pub description: String,
    pub team: TeamId,
    pub status: ImprovementStatus,
    pub created_at: Timestamp,
    pub version: u64,
}

/// One entry of an item's append-only activity log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub at: Timestamp,
    /// The user id of whoever made the change (`system` for routing).
    pub actor: String,
    /// What happened, e.g. `status: new → triaged`, `note: …`.
    pub action: String,
}
