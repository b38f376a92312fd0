//! The improvement backlog: feedback items made from answers that need a human, and
//! improvements that group them around one fix. Both carry a version for optimistic
//! concurrency; every change is kept in an append-only activity log.

use super::ids::{
    CaseId, ClientId, ContactId, FeedbackId, HandlerId, ImprovementId, SurveyId, TeamId,
};
use super::locale::Language;
use super::score::Score;
use super::step::Step;
use super::survey::{Channel, SurveyKind};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::VariantArray, strum::EnumString, utoipa::ToSchema)]
#[strum(serialize_all = "snake_case")]
pub enum FeedbackStatus {
    /// A suspect answer (too fast, no render stamp, the honeypot) that says something
    /// (a comment or a low score): held for a lead to accept as a person's, counted
    /// from then on, or dismiss as automated, never counted.
    Review,
    New,
    Triaged,
    InProgress,
    Resolved,
    Dismissed,
}

impl FeedbackStatus {
    /// Every value, in declaration order.
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// The moves triage allows: forward along `new → triaged → in_progress →
    /// resolved | dismissed` (steps may be skipped), and reopening a closed item to
    /// `triaged`; an item in `review` is accepted (`new`) or dismissed, and nothing
    /// goes back to `review`.
    pub fn can_move_to(self, to: FeedbackStatus) -> bool {
        use FeedbackStatus::*;
        matches!(
            (self, to),
            (Review, New | Dismissed)
                | (New, Triaged | InProgress | Resolved | Dismissed)
                | (Triaged, InProgress | Resolved | Dismissed)
                | (InProgress, Resolved | Dismissed)
                | (Resolved | Dismissed, Triaged)
        )
    }

    pub fn is_open(self) -> bool {
        matches!(
            self,
            FeedbackStatus::Review
                | FeedbackStatus::New
                | FeedbackStatus::Triaged
                | FeedbackStatus::InProgress
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::VariantArray, strum::EnumString, utoipa::ToSchema)]
#[strum(serialize_all = "snake_case")]
pub enum Priority {
    High,
    Normal,
}

/// A backlog entry made from one answer. No contact details are copied into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// For each theme, the words of the comment that matched it, so a lead sees why
    /// the item was tagged. Erased with the comment.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub theme_words: std::collections::BTreeMap<String, Vec<String>>,
    /// The case in the agency's case system (CSAT): a pseudonymous reference a lead
    /// uses to find whom to call back. Removed when the respondent is erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<CaseId>,
    /// The creditor contact's id in the agency's CRM (NPS), likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<ContactId>,
    /// Made from a suspect answer (held in `review`): counted only once a lead
    /// accepts it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspect: bool,
    /// When the item was last resolved or dismissed; cleared when it is reopened.
    /// Retention counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// Starts at 1; every saved change adds one.
    pub version: u64,
}

impl FeedbackItem {
    /// When a closed item is removed: the retention period after it was closed (an
    /// item closed before `closed_at` was recorded counts from its creation). An open
    /// item is never removed: work in progress is kept until it is closed.
    pub fn expires_at(&self, retention: jiff::SignedDuration) -> Option<Timestamp> {
        self.closed_since()?.checked_add(retention).ok()
    }

    /// Since when a closed item has been closed (its creation, for an item closed
    /// before `closed_at` was recorded); `None` while it is open.
    pub fn closed_since(&self) -> Option<Timestamp> {
        if self.status.is_open() {
            return None;
        }
        Some(
            self.closed_at
                .unwrap_or(self.created_at)
                .max(self.created_at),
        )
    }

    /// The hard ceiling for an item left open: twice the retention period after it
    /// was made, its comment text (and the words matched in it) is removed.
    pub fn text_ceiling(&self, retention: jiff::SignedDuration) -> Timestamp {
        self.created_at
            .checked_add(retention * 2)
            .unwrap_or(Timestamp::MAX)
    }

    /// For an open item with text whose ceiling falls within `notice_days` of
    /// `today` (or has passed): the day (UTC) its text is removed.
    pub fn text_removed_on(
        &self,
        retention: jiff::SignedDuration,
        today: Date,
        notice_days: i64,
    ) -> Option<Date> {
        if !self.status.is_open() || !self.has_text() {
            return None;
        }
        let ceiling = self
            .text_ceiling(retention)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        let limit = today
            .checked_add(jiff::Span::new().days(notice_days))
            .ok()?;
        (ceiling <= limit).then_some(ceiling)
    }

    /// Whether the comment text is still there for the ceiling to remove.
    pub fn has_text(&self) -> bool {
        self.comment.is_some() || !self.theme_words.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::VariantArray, strum::EnumString, utoipa::ToSchema)]
#[strum(serialize_all = "snake_case")]
pub enum ImprovementStatus {
    Proposed,
    Planned,
    InProgress,
    Done,
}

impl ImprovementStatus {
    /// Every value, in declaration order.
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What an improvement keeps of each linked feedback item, so the board can rank
/// improvements without reading every item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkedFeedback {
    pub id: FeedbackId,
    pub client_id: ClientId,
    /// An NPS detractor or a CSAT 1–2.
    pub low_score: bool,
    pub themes: Vec<String>,
}

impl LinkedFeedback {
    pub fn of(item: &FeedbackItem) -> Self {
        Self {
            id: item.id.clone(),
            client_id: item.client_id.clone(),
            low_score: item.score.is_low(),
            themes: item.themes.clone(),
        }
    }
}

/// At most this many items link to one improvement (keeps the record far below
/// DynamoDB's 400 KB item limit; a bigger cluster is more than one fix).
pub const MAX_LINKED: usize = 500;

/// A fix that groups feedback items (e.g. "payment-plan letter is unclear").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Improvement {
    pub id: ImprovementId,
    pub title: String,
    pub description: String,
    pub team: TeamId,
    pub status: ImprovementStatus,
    pub created_at: Timestamp,
    #[serde(default)]
    pub linked: Vec<LinkedFeedback>,
    pub version: u64,
}

impl Improvement {
    /// Linked items that were detractors or CSAT 1–2.
    pub fn low_scores(&self) -> usize {
        self.linked.iter().filter(|l| l.low_score).count()
    }

    /// Distinct clients among the linked items.
    pub fn clients(&self) -> Vec<ClientId> {
        let set: std::collections::BTreeSet<&ClientId> =
            self.linked.iter().map(|l| &l.client_id).collect();
        set.into_iter().cloned().collect()
    }

    /// Themes of the linked items, most frequent first.
    pub fn themes(&self) -> Vec<(String, usize)> {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for t in self.linked.iter().flat_map(|l| &l.themes) {
            *counts.entry(t.as_str()).or_default() += 1;
        }
        let mut out: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(t, n)| (t.to_string(), n))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// How much fixing this would help, to rank the board: every linked item counts
    /// 1, a low score 3 more, every distinct client affected 2 more. Simple on
    /// purpose, so a lead can redo it in their head.
    pub fn impact(&self) -> usize {
        self.linked.len() + 3 * self.low_scores() + 2 * self.clients().len()
    }

    /// Links `item`; `false` if it was linked already or the improvement is full.
    pub fn link(&mut self, item: &FeedbackItem) -> bool {
        if self.linked.len() >= MAX_LINKED || self.linked.iter().any(|l| l.id == item.id) {
            return false;
        }
        self.linked.push(LinkedFeedback::of(item));
        true
    }

    pub fn unlink(&mut self, id: &FeedbackId) -> bool {
        let before = self.linked.len();
        self.linked.retain(|l| &l.id != id);
        before != self.linked.len()
    }
}

/// One entry of an item's append-only activity log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Activity {
    pub at: Timestamp,
    /// The user id of whoever made the change (`system` for routing).
    pub actor: String,
    /// What happened, e.g. `status: new → triaged`, `note: …`.
    pub action: String,
}

/// What a staff note becomes when the person it was written about is erased.
pub const NOTE_ERASED: &str = "note: (erased on the respondent's request)";

impl Activity {
    pub fn new(at: Timestamp, actor: &str, action: impl Into<String>) -> Self {
        Self {
            at,
            actor: actor.to_string(),
            action: action.into(),
        }
    }

    /// This entry with the text of its staff note replaced by [`NOTE_ERASED`]
    /// (who and when stay); `None` if it carries no note. A note is always the last
    /// change of an entry (`status: new → triaged; note: …`).
    pub fn without_note(&self) -> Option<Activity> {
        let start = if self.action.starts_with("note: ") {
            0
        } else {
            self.action.find("; note: ")? + 2
        };
        if self.action[start..] == *NOTE_ERASED {
            return None;
        }
        Some(Activity {
            action: format!("{}{NOTE_ERASED}", &self.action[..start]),
            ..self.clone()
        })
    }
}

impl FeedbackItem {
    /// The subject and text of the alert to the team's lead: what kind of answer,
    /// after which step, when it is due, which themes. Never the comment, the
    /// respondent or the handler: alerts travel through channels (SMS, email, chat)
    /// that must not carry personal data.
    pub fn alert_text(&self, link: &str) -> (String, String) {
        let scale = match self.kind {
            SurveyKind::Csat => "CSAT",
            SurveyKind::Nps => "NPS",
        };
        let after = self
            .step
            .as_ref()
            .map(|s| format!(" after a {}", s.as_str().replace('_', " ")))
            .unwrap_or_default();
        let themes = if self.themes.is_empty() {
            "none".to_string()
        } else {
            self.themes.join(", ")
        };
        let subject = format!(
            "Kundpuls: {scale} {} for team {} - due {}",
            self.score.value(),
            self.team,
            self.due_on
        );
        let text = format!(
            "A {scale} answer of {}{after} needs a team lead (priority {}, due {}).\n\
             Comment: {}. Themes: {themes}.\nOpen it: {link}\n",
            self.score.value(),
            self.priority.as_str(),
            self.due_on,
            if self.comment.is_some() { "yes" } else { "no" },
        );
        (subject, text)
    }
}

impl Priority {
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> Activity {
        Activity::new(Timestamp::UNIX_EPOCH, "lead-1", action)
    }

    #[test]
    fn a_note_loses_its_text_and_keeps_the_rest_of_its_entry() {
        let cases = [
            ("note: ringde 0701234567", Some(NOTE_ERASED.to_string())),
            (
                "status: new → triaged; note: ringde henne",
                Some(format!("status: new → triaged; {NOTE_ERASED}")),
            ),
            ("status: new → triaged", None),
            ("assigned to Åsa", None),
            (NOTE_ERASED, None),
        ];
        for (action, expected) in cases {
            let got = entry(action).without_note();
            assert_eq!(got.as_ref().map(|a| a.action.clone()), expected, "{action}");
            if let Some(a) = got {
                assert_eq!((a.actor.as_str(), a.at), ("lead-1", Timestamp::UNIX_EPOCH));
            }
        }
    }
}

/// Where a team lead's alert about one feedback item stands. Claimed before the
/// publish; a publish that certainly did not go out is tried again later; one whose
/// outcome is unknown (or whose claim ran out) is never repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// An attempt holds it until `lease_until`.
    Claimed,
    /// The channel took it.
    Published,
    /// Certainly not published: tried again from `retry_at`.
    NotSent,
    /// Refused for good, or out of attempts.
    Failed,
    /// It may have gone out: never repeated.
    Unknown,
}

/// The durable record of one item's alert (`ALERT#<feedback id>`), versioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub feedback_id: FeedbackId,
    pub state: AlertState,
    /// The attempt that holds (or last held) the claim.
    pub attempt: String,
    pub lease_until: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Timestamp>,
    /// Publishes tried so far.
    pub attempts: u32,
    pub updated_at: Timestamp,
    pub version: u64,
}

impl AlertRecord {
    /// When the record next needs the schedule: a retry, or a claim running out.
    pub fn due_at(&self) -> Option<Timestamp> {
        match self.state {
            AlertState::Claimed => Some(self.lease_until),
            AlertState::NotSent => self.retry_at,
            AlertState::Published | AlertState::Failed | AlertState::Unknown => None,
        }
    }
}
