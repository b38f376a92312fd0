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
    /// The survey link inside the message.
    pub link: String,
}

#[derive(Debug, Error)]
pub enum SendError {
    /// This recipient cannot be reached this way (invalid number, rejected or
    /// suppressed address): retrying will not help; the survey is marked failed.
    #[error("message permanently refused: {reason}")]
    Permanent { reason: String },
    /// Throttling, an outage, a timeout: the survey stays due and is retried.
    #[error("message not sent, worth retrying")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Sends survey messages (SMS and email).
///
/// Contract: `Ok` means the provider accepted the message. Errors say whether a retry
/// can help. Adapters never log the recipient's address or the message text.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError>;
}
