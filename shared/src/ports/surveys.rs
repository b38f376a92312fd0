use super::StoreError;
use crate::domain::contact::ContactKey;
use crate::domain::ids::SurveyId;
use crate::domain::sending::SurveyChange;
use crate::domain::survey::{Answer, LinkedSurvey, NewSurvey, Survey};
use crate::domain::token::TokenHash;
use async_trait::async_trait;
use jiff::Timestamp;

/// The schedule's time-ordered work lists; both stores keep the same three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkList {
    /// Scheduled surveys with `send_at <= until`, and sending surveys whose claim ran
    /// out by `until`. A survey under a live claim is not listed.
    ToSend,
    /// Sent, unanswered surveys with `expires_at <= until`.
    ToExpire,
    /// Sent, unanswered, not yet reminded NPS surveys sent at or before `until`
    /// (candidates for the one reminder).
    ToRemind,
}

/// Enforces the fatigue window atomically with the creation of a survey: the survey
/// is created only if the contact was not surveyed after `not_since`, and then the
/// contact's last-surveyed time becomes `surveyed_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FatigueGuard {
    pub not_since: Timestamp,
    pub surveyed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created(Survey),
    /// A survey with the same idempotency key exists: it is returned unchanged.
    Duplicate(Survey),
    /// The fatigue guard failed: the contact was surveyed at `last_surveyed_at`.
    Fatigued {
        last_surveyed_at: Timestamp,
    },
}

// Returned once per submitted answer and matched at once: boxing the survey would
// buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerOutcome {
    Recorded(Answer),
    /// This survey already has an answer: the first one, unchanged.
    AlreadyAnswered(Answer),
    /// The link's lifetime is over (or the survey was never sent).
    NotOpen(Survey),
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionOutcome {
    Done(Survey),
    /// The survey is not in the state the transition starts from.
    WrongState(Survey),
    NotFound,
}

/// Surveys and their answers.
///
/// Contract:
/// - `create` is idempotent on `NewSurvey::idempotency_key` (the survey id derives
///   from it) and atomic with the optional fatigue guard: under any number of
///   concurrent or replayed calls exactly one returns `Created`. A survey whose
///   `send_at` is `None` is due at once; one created with a `claim` is `sending`,
///   held by its creator.
/// - `record_answer` succeeds at most once per survey, only while the survey is
///   `sent` and `now < expires_at`; the survey becomes `answered` in the same atomic
///   step, and the answer enters the change feed (embedded) / table stream (DynamoDB).
/// - State changes are conditional on the state they start from.
/// - `due_*` listings are ordered by time, at most `limit` long, read from an index
///   (never a scan).
#[async_trait]
pub trait SurveyStore: Send + Sync {
    async fn create(
        &self,
        new: NewSurvey,
        fatigue: Option<FatigueGuard>,
    ) -> Result<CreateOutcome, StoreError>;

    async fn get(&self, id: &SurveyId) -> Result<Option<Survey>, StoreError>;

    /// What the link with this hash opens (one read on DynamoDB: the link's own
    /// record carries the page's copy of the survey).
    async fn find_by_token(&self, hash: &TokenHash) -> Result<Option<LinkedSurvey>, StoreError>;

    async fn answer(&self, id: &SurveyId) -> Result<Option<Answer>, StoreError>;

    /// Surveys of one person (by [`crate::domain::contact::ContactKeyer::person_key`]).
    async fn surveys_of_person(
        &self,
        person: &crate::domain::contact::ContactKey,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<Survey>, StoreError>;

    /// Deletes a survey, its answer and its first link pointer (erasure). Returns
    /// whether an answer existed. Counters are not touched.
    async fn erase_survey(&self, survey: &Survey) -> Result<bool, StoreError>;

    async fn record_erasure(
        &self,
        record: &crate::domain::survey::ErasureRecord,
    ) -> Result<(), StoreError>;

    async fn erasures(
        &self,
        person: &crate::domain::contact::ContactKey,
    ) -> Result<Vec<crate::domain::survey::ErasureRecord>, StoreError>;

    /// Answers of one kind recorded in one month (`YYYY-MM`), oldest first.
    async fn list_answers(
        &self,
        kind: crate::domain::survey::SurveyKind,
        month: &str,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<Answer>, StoreError>;

    /// Adds another link token that opens this survey (a scheduled send, a retried
    /// send or a reminder draws a fresh one; links already sent keep working).
    /// Idempotent for the same hash.
    async fn add_token(&self, survey: &Survey, hash: &TokenHash) -> Result<(), StoreError>;

    /// One step of sending ([`SurveyChange`]): claim, settle, release, lapse or
    /// cancel, applied atomically and only if the survey is in the state the step
    /// starts from (`WrongState` otherwise, changing nothing). Of any number of
    /// concurrent claims on one survey exactly one is `Done`.
    async fn apply(
        &self,
        id: &SurveyId,
        change: SurveyChange,
    ) -> Result<TransitionOutcome, StoreError>;

    /// Records the one answer to the survey `link` opened: the survey becomes
    /// `answered` and every link's copy says so, in one write. `NotOpen` when the
    /// survey does not accept an answer now; the first answer wins.
    async fn record_answer(
        &self,
        link: &LinkedSurvey,
        answer: Answer,
        now: Timestamp,
    ) -> Result<AnswerOutcome, StoreError>;

    /// [`SurveyStore::apply`] to a copy the caller holds: a store that keeps
    /// revisions writes the change without reading the survey first when the copy
    /// is current, and reads it again when it is not. Same outcomes.
    async fn apply_to(
        &self,
        known: &Survey,
        change: SurveyChange,
    ) -> Result<TransitionOutcome, StoreError> {
        self.apply(&known.id, change).await
    }

    /// The surveys waiting on `list` up to `until`, earliest first (see [`WorkList`]).
    async fn due(
        &self,
        list: WorkList,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Survey>, StoreError>;

    /// When this contact was last surveyed (for the fatigue rule's decision).
    async fn last_surveyed(&self, contact: &ContactKey) -> Result<Option<Timestamp>, StoreError>;
}
