//! Surveys (one invitation to one recipient) and the answers recorded for them.

use super::contact::{ContactKey, Recipient};
use super::ids::{CaseId, ClientId, ContactId, FeedbackId, HandlerId, SegmentId, SurveyId, TeamId};
use super::locale::{Country, Language};
use super::score::Score;
use super::step::Step;
use super::token::TokenHash;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::VariantArray, strum::EnumString, utoipa::ToSchema)]
#[strum(serialize_all = "lowercase")]
pub enum SurveyKind {
    /// Relationship Net Promoter Score to a creditor contact, 0–10, by email.
    Nps,
    /// Satisfaction after a case step, 1–5, to a debtor by SMS.
    Csat,
}

impl SurveyKind {
    /// Every value, in declaration order.
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// `nps` or `csat`, as [`SurveyKind::as_str`] writes them.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::VariantArray, utoipa::ToSchema)]
#[strum(serialize_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// ```text
/// scheduled ──claim──▶ sending ──accepted──▶ sent ──▶ answered | expired
///    ▲                   │ ├──not sent, attempts left──▶ scheduled (later)
///    │                   │ ├──refused / no attempts / may not send──▶ failed
///    └──outside hours────┘ └──unknown, or the claim ran out──▶ send_unknown
/// scheduled ──a later flag, opt-out, expiry──▶ failed
/// ```
/// See [`crate::domain::sending`] for the one check before every channel call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyState {
    Scheduled,
    /// Claimed by one sender, whose channel call is under way.
    Sending,
    Sent,
    /// The channel may or may not have delivered it: never sent again.
    SendUnknown,
    Answered,
    Expired,
    Failed,
}

/// Who and what a survey is about: copied onto its answer so that routing and
/// counting need nothing else. No contact details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveySubject {
    pub client_id: ClientId,
    pub team: TeamId,
    pub handler_id: Option<HandlerId>,
    pub step: Option<Step>,
    pub segment: Option<SegmentId>,
    pub case_id: Option<CaseId>,
    pub contact_id: Option<ContactId>,
    pub language: Language,
    pub country: Option<Country>,
    /// Keyed hash of the debtor id or contact id, for erasure requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<super::contact::ContactKey>,
}

/// What a caller asks a survey store to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSurvey {
    /// `csat:<event id>` or `nps:<client>:<contact>:<wave>`; the survey id derives from it.
    pub idempotency_key: String,
    pub kind: SurveyKind,
    pub channel: Channel,
    pub token_hash: TokenHash,
    pub contact_key: ContactKey,
    pub recipient: Recipient,
    pub subject: SurveySubject,
    pub created_at: Timestamp,
    /// `None` sends now (state `sent` once the notifier succeeds); `Some` schedules.
    pub send_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    /// When the step that asked for this survey happened (CSAT).
    pub event_at: Option<Timestamp>,
    /// Created already claimed by its creator, who sends it at once.
    pub claim: Option<Claim>,
}

/// One sender's claim on a survey: only the holder of `attempt` may record what its
/// channel call did, and nobody else calls the channel before `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub attempt: String,
    pub lease_until: Timestamp,
}

impl Claim {
    /// A fresh attempt id (122 random bits) holding until `lease_until`.
    pub fn new(lease_until: Timestamp) -> Self {
        Self {
            attempt: uuid::Uuid::new_v4().to_string(),
            lease_until,
        }
    }
}

/// A stored survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    pub id: SurveyId,
    pub idempotency_key: String,
    pub kind: SurveyKind,
    pub channel: Channel,
    pub state: SurveyState,
    pub token_hash: TokenHash,
    pub contact_key: ContactKey,
    /// Kept only until the message is sent (or fails): then erased.
    pub recipient: Option<Recipient>,
    pub subject: SurveySubject,
    pub created_at: Timestamp,
    pub send_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub reminded_at: Option<Timestamp>,
    pub failure: Option<String>,
    /// Channel calls started so far.
    #[serde(default)]
    pub attempts: u32,
    /// The current or last claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_at: Option<Timestamp>,
    /// The revision this copy was read or written at, where the store keeps one
    /// (DynamoDB): a change to this copy can then be written without reading the
    /// survey again, conditional on that revision. Never stored in the record.
    #[serde(skip)]
    pub rev: KnownRev,
}

/// Where a copy of a survey was read or written (see [`Survey::rev`]): a note on
/// the copy, not part of the survey, so two copies of the same survey are equal
/// whatever revision each was read at.
#[derive(Debug, Clone, Copy, Default)]
pub struct KnownRev(pub Option<u64>);

impl PartialEq for KnownRev {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for KnownRev {}

impl Survey {
    /// The stored form of a new survey: `scheduled` until a send is confirmed.
    pub fn from_new(new: NewSurvey) -> Self {
        let claimed = new.claim.is_some();
        Self {
            id: SurveyId::for_idempotency_key(&new.idempotency_key),
            idempotency_key: new.idempotency_key,
            kind: new.kind,
            channel: new.channel,
            state: if claimed {
                SurveyState::Sending
            } else {
                SurveyState::Scheduled
            },
            token_hash: new.token_hash,
            contact_key: new.contact_key,
            recipient: Some(new.recipient),
            subject: new.subject,
            created_at: new.created_at,
            send_at: Some(new.send_at.unwrap_or(new.created_at)),
            sent_at: None,
            expires_at: new.expires_at,
            answered_at: None,
            reminded_at: None,
            failure: None,
            attempts: u32::from(claimed),
            claim: new.claim,
            event_at: new.event_at,
            rev: KnownRev(None),
        }
    }

    /// Whether `attempt` holds the claim on this survey now.
    pub fn claimed_by(&self, attempt: &str) -> bool {
        self.state == SurveyState::Sending
            && self.claim.as_ref().is_some_and(|c| c.attempt == attempt)
    }

    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// Whether an answer may be recorded now: within the link's lifetime, once the
    /// link may have reached the person (a link in hand proves that a message whose
    /// outcome was unknown, or is still being confirmed, did arrive).
    pub fn accepts_answer(&self, now: Timestamp) -> bool {
        matches!(
            self.state,
            SurveyState::Sent | SurveyState::Sending | SurveyState::SendUnknown
        ) && !self.is_expired_at(now)
    }

    /// Applies one step of sending (see [`crate::domain::sending::SurveyChange`]);
    /// `false`, changing nothing, if the survey is not where the step starts from.
    pub fn apply(&mut self, change: &crate::domain::sending::SurveyChange) -> bool {
        change.apply_to(self)
    }

    // The transitions below return `false`, changing nothing, when the survey is not
    // in the state they start from. Both stores apply them atomically.

    /// `sent → answered`, if it accepts an answer now.
    pub fn mark_answered(&mut self, at: Timestamp, now: Timestamp) -> bool {
        if !self.accepts_answer(now) {
            return false;
        }
        self.state = SurveyState::Answered;
        self.answered_at = Some(at);
        true
    }
}

/// A survey as its link opens it: what the respondent's pages and the answer
/// need, kept on each link's own record so that opening a link is one read. Only
/// `answered_at` and `links` change after the survey is created; every link's copy
/// is kept in step with them in the same write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedSurvey {
    pub id: SurveyId,
    pub kind: SurveyKind,
    pub channel: Channel,
    pub contact_key: ContactKey,
    pub subject: SurveySubject,
    pub expires_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<Timestamp>,
    /// Every link into the survey that carries this copy (this one among them), so
    /// that an answer closes all of them. Empty for a view read from the survey
    /// itself (a link written before links carried a copy).
    #[serde(default)]
    pub links: Vec<TokenHash>,
}

impl LinkedSurvey {
    /// The view of `survey` for copies on `links`.
    pub fn of(survey: &Survey, links: Vec<TokenHash>) -> Self {
        Self {
            id: survey.id.clone(),
            kind: survey.kind,
            channel: survey.channel,
            contact_key: survey.contact_key.clone(),
            subject: survey.subject.clone(),
            expires_at: survey.expires_at,
            answered_at: survey.answered_at,
            links,
        }
    }

    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// Whether the page offers the form. The store decides on the survey itself
    /// when the answer is written (a survey never sent does not accept one).
    pub fn is_open_at(&self, now: Timestamp) -> bool {
        self.answered_at.is_none() && !self.is_expired_at(now)
    }
}

/// Why an answer is believed to come from a machine rather than a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspectReason {
    /// The hidden honeypot link was followed.
    Honeypot,
    /// Submitted faster than a person could read the page.
    TooFast,
    /// The render timestamp was missing or its signature did not check.
    BadRenderStamp,
}

impl SuspectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuspectReason::Honeypot => "honeypot",
            SuspectReason::TooFast => "too_fast",
            SuspectReason::BadRenderStamp => "bad_render_stamp",
        }
    }
}

/// What a respondent submits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerInput {
    pub score: Score,
    pub comment: Option<String>,
    /// After a call: "was your matter resolved in this call?".
    pub resolved_first_contact: Option<bool>,
    pub suspect: Vec<SuspectReason>,
    pub answered_at: Timestamp,
}

/// A recorded answer: at most one per survey. It carries the survey's subject so that
/// routing and counting read nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub survey_id: SurveyId,
    pub kind: SurveyKind,
    pub channel: Channel,
    pub score: Score,
    pub comment: Option<String>,
    pub resolved_first_contact: Option<bool>,
    /// Kept but left out of every figure and of routing.
    pub suspect: Vec<SuspectReason>,
    pub answered_at: Timestamp,
    pub subject: SurveySubject,
}

impl Answer {
    pub fn new(survey: &LinkedSurvey, input: AnswerInput) -> Self {
        Self {
            survey_id: survey.id.clone(),
            kind: survey.kind,
            channel: survey.channel,
            score: input.score,
            comment: input
                .comment
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty()),
            resolved_first_contact: input.resolved_first_contact,
            suspect: input.suspect,
            answered_at: input.answered_at,
            subject: survey.subject.clone(),
        }
    }

    pub fn is_suspect(&self) -> bool {
        !self.suspect.is_empty()
    }

    /// A low score or any comment from a person needs a human.
    pub fn needs_follow_up(&self) -> bool {
        !self.is_suspect() && self.says_something()
    }

    /// A suspect answer that says something is not dropped: a lead decides whether a
    /// person wrote it.
    pub fn needs_review(&self) -> bool {
        self.is_suspect() && self.says_something()
    }

    fn says_something(&self) -> bool {
        self.score.is_low() || self.comment.is_some()
    }

    /// The answer as counted once a lead has accepted it as a person's.
    pub fn accepted(mut self) -> Self {
        self.suspect.clear();
        self
    }

    /// The answer as it may stay after its respondent was erased (while it still
    /// waits to be routed and counted): without the comment and without the
    /// references to the case and the person.
    pub fn redacted(mut self) -> Self {
        self.comment = None;
        self.subject.case_id = None;
        self.subject.contact_id = None;
        self.subject.person = None;
        self
    }

    pub fn feedback_id(&self) -> FeedbackId {
        FeedbackId::for_survey(&self.survey_id)
    }
}

/// That a person's data was erased on request: when, by whom, how much. Kept under
/// the keyed hash of their id, never the id itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRecord {
    pub person: super::contact::ContactKey,
    pub at: Timestamp,
    pub actor: String,
    pub surveys: usize,
    pub answers: usize,
    pub feedback_items: usize,
    /// Creditor contact records removed (one per client that knew the person).
    #[serde(default)]
    pub contacts: usize,
}
