//! What SES says about the NPS email after it went out, through the stack's
//! configuration set and an SNS topic: a permanent bounce or a complaint suppresses
//! the address for good (it is never surveyed again, and every skip is counted as
//! `email_suppressed`). A transient bounce (a full mailbox) changes nothing.
//! Addresses are keyed as everywhere else and never logged.

use crate::app::Services;
use crate::domain::contact::{Email, Recipient};
use crate::ports::StoreError;
use aws_lambda_events::event::sns::SnsEvent;
use jiff::Timestamp;
use serde::Deserialize;

/// The part of an SES event (event publishing's `eventType`, or a feedback
/// notification's `notificationType`) that decides anything.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MailEvent {
    #[serde(alias = "notificationType")]
    event_type: String,
    #[serde(default)]
    bounce: Option<Bounce>,
    #[serde(default)]
    complaint: Option<Complaint>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    #[serde(default)]
    bounced_recipients: Vec<Addressee>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    #[serde(default)]
    complained_recipients: Vec<Addressee>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Addressee {
    email_address: String,
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailReport {
    pub suppressed: usize,
    /// Transient bounces, deliveries and anything else that changes nothing.
    pub ignored: usize,
}

/// The addresses an event suppresses.
fn to_suppress(event: &MailEvent) -> Vec<&str> {
    match event.event_type.as_str() {
        "Bounce" => event
            .bounce
            .iter()
            .filter(|b| b.bounce_type == "Permanent")
            .flat_map(|b| b.bounced_recipients.iter())
            .map(|a| a.email_address.as_str())
            .collect(),
        "Complaint" => event
            .complaint
            .iter()
            .flat_map(|c| c.complained_recipients.iter())
            .map(|a| a.email_address.as_str())
            .collect(),
        _ => Vec::new(),
    }
}

/// Suppresses every address a permanent bounce or a complaint names. A message
/// that cannot be read is logged (without its text) and skipped: SES will not send
/// it again, and failing the batch would not make it readable.
pub async fn handle(
    services: &Services,
    event: SnsEvent,
    now: Timestamp,
) -> Result<MailReport, StoreError> {
    let mut report = MailReport::default();
    for record in event.records {
        let Ok(mail) = serde_json::from_str::<MailEvent>(&record.sns.message) else {
            tracing::warn!(message_id = %record.sns.message_id, "not an SES event; skipped");
            report.ignored += 1;
            continue;
        };
        let addresses = to_suppress(&mail);
        if addresses.is_empty() {
            report.ignored += 1;
            continue;
        }
        for address in addresses {
            let Ok(email) = Email::parse(address) else {
                report.ignored += 1;
                continue;
            };
            let key = services.keyer.key_for(&Recipient::Email(email));
            services.contacts.suppress(&key, now).await?;
            report.suppressed += 1;
        }
        tracing::info!(kind = %mail.event_type, "mail event: address suppressed");
    }
    Ok(report)
}
