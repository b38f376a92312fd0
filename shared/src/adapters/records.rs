//! Small records both stores keep beside the domain's own types.

use crate::domain::ids::SurveyId;
use crate::domain::survey::LinkedSurvey;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// `TOKEN#<hash>` → the survey it opens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenPointer {
    pub survey_id: SurveyId,
    /// The survey as its pages need it (DynamoDB), so that opening the link reads
    /// nothing else. Absent where the store reads the survey itself (the embedded
    /// store) and on pointers written before the copy was carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<LinkedSurvey>,
}

impl TokenPointer {
    pub fn bare(survey_id: SurveyId) -> Self {
        Self {
            survey_id,
            page: None,
        }
    }
}

/// `SURVEY#<id>` / `LINK#<hash>`: a link drawn for a send or reminder after the
/// survey's first, kept beside the survey so an erasure removes its pointer too.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SurveyLink {
    pub token_hash: crate::domain::token::TokenHash,
}

/// What is remembered of a contact under its keyed hash. Times are Unix
/// milliseconds so that DynamoDB conditions can compare them as numbers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContactState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opted_out_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_surveyed_ms: Option<i64>,
    /// Under a person key: when their latest flagged step happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagged_ms: Option<i64>,
    /// When mail to this address first bounced for good or was reported as spam.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed_ms: Option<i64>,
}

impl ContactState {
    pub fn last_surveyed(&self) -> Option<Timestamp> {
        self.last_surveyed_ms
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
    }

    pub fn flagged(&self) -> Option<Timestamp> {
        self.flagged_ms
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
    }

    pub fn suppressed(&self) -> Option<Timestamp> {
        self.suppressed_ms
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
    }

    pub fn opted_out(&self) -> Option<Timestamp> {
        self.opted_out_ms
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
    }
}
