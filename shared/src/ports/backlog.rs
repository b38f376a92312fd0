use super::{Page, PageRequest, StoreError};
use crate::domain::backlog::{
    Activity, AlertRecord, FeedbackItem, FeedbackStatus, Improvement, ImprovementStatus,
};
use crate::domain::client::ClientSettings;
use crate::domain::ids::{ClientId, FeedbackId, ImprovementId, TeamId};
use crate::domain::notice::NoticeRecord;
use crate::domain::themes::StoredLexicon;
use async_trait::async_trait;
use jiff::civil::Date;

/// Which index a feedback listing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackScope {
    TeamStatus(TeamId, FeedbackStatus),
    Status(FeedbackStatus),
    /// Every status, newest first.
    Team(TeamId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackQuery {
    pub scope: FeedbackScope,
    /// With a status scope: only items due strictly before this date (overdue).
    pub due_before: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved,
    /// Someone saved first: the stored version is `current`.
    Conflict {
        current: u64,
    },
    NotFound,
}

/// One versioned save inside [`BacklogStore::save_all`].
#[derive(Debug, Clone)]
pub enum VersionedWrite {
    Feedback {
        item: Box<FeedbackItem>,
        expected_version: u64,
        activity: Activity,
    },
    Improvement {
        item: Improvement,
        expected_version: u64,
        activity: Activity,
    },
}

/// Feedback items, improvements and their activity logs.
///
/// Contract:
/// - `create_feedback` creates at most once per id (`false` if it existed).
/// - `save_*` writes `item` only if the stored version equals `expected_version`;
///   the stored version becomes `expected_version + 1` (whatever `item.version`
///   says) and `activity` is appended in the same atomic step.
/// - Listings with a status are ordered by due date (then id), team-only listings
///   by creation time, newest first; cursors never lose or repeat an item of an
///   unchanged set.
/// - `save_all` applies every write or none (each under its own version check); the
///   outcome is `Saved` or the first write's `Conflict`/`NotFound`.
/// - The theme lexicon is one versioned record: `save_lexicon` with expected version
///   0 creates it; otherwise it behaves as `save_*`.
/// - Activity logs are append-only, oldest first.
#[async_trait]
pub trait BacklogStore: Send + Sync {
    async fn create_feedback(
        &self,
        item: &FeedbackItem,
        activity: &Activity,
    ) -> Result<bool, StoreError>;

    async fn get_feedback(&self, id: &FeedbackId) -> Result<Option<FeedbackItem>, StoreError>;

    async fn save_feedback(
        &self,
        item: &FeedbackItem,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError>;

    async fn list_feedback(
        &self,
        query: &FeedbackQuery,
        page: PageRequest,
    ) -> Result<Page<FeedbackItem>, StoreError>;

    async fn feedback_activity(&self, id: &FeedbackId) -> Result<Vec<Activity>, StoreError>;

    /// Replaces the text of every staff note in an item's activity log (see
    /// [`Activity::without_note`]); returns how many entries changed.
    async fn erase_notes(&self, id: &FeedbackId) -> Result<usize, StoreError>;

    async fn create_improvement(
        &self,
        item: &Improvement,
        activity: &Activity,
    ) -> Result<bool, StoreError>;

    async fn get_improvement(&self, id: &ImprovementId) -> Result<Option<Improvement>, StoreError>;

    async fn save_improvement(
        &self,
        item: &Improvement,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError>;

    async fn improvement_activity(&self, id: &ImprovementId) -> Result<Vec<Activity>, StoreError>;

    async fn list_improvements(
        &self,
        status: ImprovementStatus,
        page: PageRequest,
    ) -> Result<Page<Improvement>, StoreError>;

    async fn save_all(&self, writes: &[VersionedWrite]) -> Result<SaveOutcome, StoreError>;

    async fn get_lexicon(&self) -> Result<Option<StoredLexicon>, StoreError>;

    async fn save_lexicon(
        &self,
        lexicon: &StoredLexicon,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError>;

    async fn lexicon_activity(&self) -> Result<Vec<Activity>, StoreError>;

    async fn get_client_settings(
        &self,
        client: &ClientId,
    ) -> Result<Option<ClientSettings>, StoreError>;

    /// Like `save_lexicon`: expected version 0 creates the client's settings.
    async fn save_client_settings(
        &self,
        settings: &ClientSettings,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError>;

    /// Every client with settings, by client id.
    async fn list_client_settings(
        &self,
        page: PageRequest,
    ) -> Result<Page<ClientSettings>, StoreError>;

    async fn client_settings_activity(
        &self,
        client: &ClientId,
    ) -> Result<Vec<Activity>, StoreError>;

    async fn get_alert(&self, id: &FeedbackId) -> Result<Option<AlertRecord>, StoreError>;

    /// Writes `alert` if the stored version equals `expected_version` (0: none
    /// stored yet); the stored version becomes `expected_version + 1`.
    async fn save_alert(
        &self,
        alert: &AlertRecord,
        expected_version: u64,
    ) -> Result<SaveOutcome, StoreError>;

    /// Alerts whose retry or claim end is at or before `until`, oldest first.
    async fn alerts_due(
        &self,
        until: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, StoreError>;

    async fn get_notice(&self, id: &str) -> Result<Option<NoticeRecord>, StoreError>;

    /// Writes `notice` if the stored version equals `expected_version` (0: none
    /// stored yet, which is how a notice is claimed); the stored version becomes
    /// `expected_version + 1`.
    async fn save_notice(
        &self,
        notice: &NoticeRecord,
        expected_version: u64,
    ) -> Result<SaveOutcome, StoreError>;

    /// A team's newest notices, newest first.
    async fn recent_notices(
        &self,
        team: &TeamId,
        limit: usize,
    ) -> Result<Vec<NoticeRecord>, StoreError>;

    /// Notices whose retry or claim end is at or before `until`, oldest first.
    async fn notices_due(
        &self,
        until: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<NoticeRecord>, StoreError>;
}
