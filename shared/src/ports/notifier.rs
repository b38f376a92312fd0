use crate::domain::contact::Recipient;
use crate::domain::ids::SurveyId;
use crate::domain::locale::Language;
use crate::domain::survey::Channel;
use async_trait::async_trait;
use thiserror::Error;

/// One message to one recipient, fully rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    pub survey_id: SurveyId,
    pub channel: Channel,
    pub to: Recipient,
    pub language: Language,
    /// Email only.
    pub subject: Option<String>,
    pub text: String,
    /// Email only.
    pub html: Option<String>,
    /// Extra email headers (`List-Unsubscribe`…).
    pub headers: Vec<(String, String)>,
    /// Email only: where a reply goes (the contact's account manager).
    pub reply_to: Option<String>,
    /// Who the message comes from, when not the agency: the client's SMS sender id,
    /// or the display name its email comes from (at the agency's address).
    pub sender: Option<String>,
    /// The survey link inside the message.
    pub link: String,
}

/// Why a channel call did not end in a confirmed acceptance. What matters is
/// whether the message could have gone out: only a call that certainly did not is
/// ever made again.
#[derive(Debug, Error)]
pub enum SendError {
    /// The provider refused this message for good (invalid number, rejected or
    /// suppressed address): nothing went out, and retrying will not help.
    #[error("message permanently refused: {reason}")]
    Permanent { reason: String },
    /// The provider certainly did not take the message (refused before accepting,
    /// no connection made): worth another attempt later.
    #[error("message not sent, worth retrying")]
    NotSent(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The provider refused the message for its rate (a 429, `Throttling`…): not
    /// sent, worth another attempt later, and the sender should slow down.
    #[error("message not sent: throttled by the provider")]
    Throttled(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request may have been accepted (a timeout or a 5xx after it was written,
    /// a connection lost mid-response): never sent again automatically.
    #[error("message outcome unknown")]
    Unknown(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Sends survey messages (SMS and email).
///
/// Contract: `Ok` means the provider accepted the message. Errors say whether the
/// message could have gone out ([`SendError`]). One call is one request: adapters
/// never repeat a request themselves (their SDK clients have retries off), because
/// only the caller knows whether a repeat is safe. Adapters never log the
/// recipient's address or the message text.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError>;
}

/// A note to a team's lead: a feedback item that needs them now, an early warning
/// or the weekly digest. It carries no personal data: no respondent, no contact
/// detail, no comment text — only what it is about and where to open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub about: AlertAbout,
    pub team: crate::domain::ids::TeamId,
    pub subject: String,
    pub text: String,
    /// The item in the console.
    pub link: String,
}

/// What an alert is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertAbout {
    Feedback {
        feedback_id: crate::domain::ids::FeedbackId,
        survey_id: SurveyId,
    },
    /// An early warning or a weekly digest (`kind`), by its notice id.
    Notice { kind: &'static str, id: String },
}

impl AlertAbout {
    /// `feedback`, `warning` or `digest`.
    pub fn kind(&self) -> &'static str {
        match self {
            AlertAbout::Feedback { .. } => "feedback",
            AlertAbout::Notice { kind, .. } => kind,
        }
    }
}

/// Delivers alerts to team leads (an SNS topic in AWS, the outbox locally).
///
/// Contract: `Ok` means the channel accepted the alert. Callers make sure an item is
/// alerted at most once; adapters do not deduplicate.
#[async_trait]
pub trait Alerter: Send + Sync {
    async fn alert(&self, alert: &Alert) -> Result<(), SendError>;
}
