//! Sending one survey message (first send, resumed send or reminder) and recording
//! what came of it.

use super::Services;
use crate::domain::contact::Recipient;
use crate::domain::messages::email::{NpsEmailInput, render_nps};
use crate::domain::messages::sms::csat_text;
use crate::domain::stats::survey_increments;
use crate::domain::survey::{Channel, Survey, SurveyKind};
use crate::domain::token::SurveyToken;
use crate::ports::{OutboundMessage, SendError, StoreError, TransitionOutcome};
use jiff::Timestamp;
use serde::Serialize;

/// What became of one attempt to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "delivery", rename_all = "snake_case")]
pub enum Delivered {
    Sent,
    /// Refused for good; the survey is `failed` with this reason.
    Failed {
        reason: String,
    },
    /// Not sent this time (throttling, an outage); the schedule tries again.
    Retrying,
}

impl Services {
    /// Counts `field` once per (`effect`, survey) in the survey's counters.
    pub(crate) async fn count(
        &self,
        survey: &Survey,
        effect: &str,
        field: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let increments = survey_increments(survey.kind, &survey.subject, survey.channel, at, field);
        self.stats
            .apply_once(&format!("{effect}:{}", survey.id), &increments)
            .await?;
        Ok(())
    }

    /// Marks a survey failed with `reason` (once) and counts it.
    pub(crate) async fn fail(
        &self,
        survey: &Survey,
        reason: &str,
        now: Timestamp,
    ) -> Result<Delivered, StoreError> {
        if let TransitionOutcome::Done(_) = self.surveys.mark_failed(&survey.id, reason).await? {
            self.count(survey, "failed", &format!("failed_{reason}"), now)
                .await?;
        }
        tracing::warn!(survey_id = %survey.id, reason, "survey failed");
        Ok(Delivered::Failed {
            reason: reason.to_string(),
        })
    }

    /// Renders the message for `survey` with the link for `token`, or `None` with a
    /// reason when there is no one to send it to.
    async fn message(
        &self,
        survey: &Survey,
        token: &SurveyToken,
        reminder: bool,
    ) -> Result<Result<OutboundMessage, &'static str>, StoreError> {
        let link = self.config.link(token);
        let language = survey.subject.language;
        let message = match survey.kind {
            SurveyKind::Csat => {
                let Some(to @ Recipient::Sms(_)) = survey.recipient.clone() else {
                    return Ok(Err("no_recipient"));
                };
                OutboundMessage {
                    survey_id: survey.id.clone(),
                    channel: Channel::Sms,
                    to,
                    language,
                    subject: None,
                    text: csat_text(language, self.config.sender_name(), &link),
                    html: None,
                    headers: vec![],
                    link,
                }
            }
            SurveyKind::Nps => {
                let Some(contact_id) = &survey.subject.contact_id else {
                    return Ok(Err("no_recipient"));
                };
                let Some(contact) = self
                    .contacts
                    .get_creditor(&survey.subject.client_id, contact_id)
                    .await?
                else {
                    return Ok(Err("contact_removed"));
                };
                let email = render_nps(&NpsEmailInput {
                    language: contact.language,
                    agency: self.config.agency_name(),
                    contact_name: &contact.name,
                    account_manager: &contact.account_manager,
                    link: &link,
                    reminder,
                })
                .map_err(|e| StoreError::corrupt("render_email", e))?;
                OutboundMessage {
                    survey_id: survey.id.clone(),
                    channel: Channel::Email,
                    to: Recipient::Email(contact.email),
                    language: contact.language,
                    subject: Some(email.subject),
                    text: email.text,
                    html: Some(email.html),
                    headers: email.headers,
                    link,
                }
            }
        };
        Ok(Ok(message))
    }

    /// Draws a fresh link token and stores its hash as another way into `survey`.
    pub(crate) async fn new_link_token(&self, survey: &Survey) -> Result<SurveyToken, StoreError> {
        let token = SurveyToken::generate();
        self.surveys
            .add_token(&survey.id, &token.hash(), survey.expires_at)
            .await?;
        Ok(token)
    }

    /// Sends a scheduled survey (its first message) with `token`, which opens it.
    pub(crate) async fn deliver(
        &self,
        survey: &Survey,
        token: &SurveyToken,
        now: Timestamp,
    ) -> Result<Delivered, StoreError> {
        let message = match self.message(survey, token, false).await? {
            Ok(m) => m,
            Err(reason) => return self.fail(survey, reason, now).await,
        };
        let notifier = match survey.channel {
            Channel::Sms => &self.sms,
            Channel::Email => &self.email,
        };
        match notifier.send(&message).await {
            Ok(()) => {
                if let TransitionOutcome::Done(_) = self.surveys.mark_sent(&survey.id, now).await? {
                    self.count(survey, "sent", "sent", now).await?;
                }
                tracing::info!(survey_id = %survey.id, channel = survey.channel.as_str(), "survey sent");
                Ok(Delivered::Sent)
            }
            Err(SendError::Permanent { reason }) => self.fail(survey, &reason, now).await,
            Err(SendError::Transient(e)) => {
                tracing::warn!(survey_id = %survey.id, error = %e, "send failed, will retry");
                Ok(Delivered::Retrying)
            }
        }
    }

    /// Sends the one NPS reminder with a fresh link token.
    pub(crate) async fn remind(
        &self,
        survey: &Survey,
        now: Timestamp,
    ) -> Result<Delivered, StoreError> {
        let token = self.new_link_token(survey).await?;
        let message = match self.message(survey, &token, true).await? {
            Ok(m) => m,
            Err(reason) => {
                // Nobody to remind: note it so that it is not tried again.
                self.surveys.mark_reminded(&survey.id, now).await?;
                return Ok(Delivered::Failed {
                    reason: reason.to_string(),
                });
            }
        };
        match self.email.send(&message).await {
            Ok(()) => {
                if let TransitionOutcome::Done(_) =
                    self.surveys.mark_reminded(&survey.id, now).await?
                {
                    self.count(survey, "reminded", "reminded", now).await?;
                }
                Ok(Delivered::Sent)
            }
            Err(SendError::Permanent { reason }) => {
                self.surveys.mark_reminded(&survey.id, now).await?;
                Ok(Delivered::Failed { reason })
            }
            Err(SendError::Transient(e)) => {
                tracing::warn!(survey_id = %survey.id, error = %e, "reminder failed, will retry");
                Ok(Delivered::Retrying)
            }
        }
    }
}
