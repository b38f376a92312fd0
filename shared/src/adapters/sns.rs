//! SMS through Amazon SNS (`Publish` to a phone number), as a transactional message
//! with the configured alphanumeric sender id.

use crate::adapters::aws::classify_send_error;
use crate::domain::contact::Recipient;
use crate::ports::{Alert, AlertAbout, Alerter, Notifier, OutboundMessage, SendError};
use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;

#[derive(Debug, Clone)]
pub struct SnsSms {
    client: Client,
    sender_id: String,
}

/// An SNS client for messages to people: the SDK never repeats a `Publish` itself.
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    Client::new(&crate::adapters::aws::without_retries(sdk))
}

impl SnsSms {
    /// `client` should come from [`client`] (retries off).
    pub fn new(client: Client, sender_id: impl Into<String>) -> Self {
        Self {
            client,
            sender_id: sender_id.into(),
        }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, SendError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| SendError::NotSent(e.into()))
}

#[async_trait]
impl Notifier for SnsSms {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        let Recipient::Sms(phone) = &message.to else {
            return Err(SendError::Permanent {
                reason: "not_a_phone_number".into(),
            });
        };
        let sender = message.sender.as_deref().unwrap_or(&self.sender_id);
        // A client's number goes as the origination number, an alphanumeric id as
        // the sender id.
        let sender_attribute = if sender.starts_with('+') {
            "AWS.MM.SMS.OriginationNumber"
        } else {
            "AWS.SNS.SMS.SenderID"
        };
        let result = self
            .client
            .publish()
            .phone_number(phone.as_str())
            .message(&message.text)
            .message_attributes(sender_attribute, attribute(sender)?)
            .message_attributes("AWS.SNS.SMS.SMSType", attribute("Transactional")?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(
                    PublishError::InvalidParameterException(_)
                    | PublishError::InvalidParameterValueException(_),
                ) => Err(SendError::Permanent {
                    reason: "invalid_number".into(),
                }),
                Some(PublishError::EndpointDisabledException(_)) => Err(SendError::Permanent {
                    reason: "number_disabled".into(),
                }),
                _ => Err(classify_send_error(e)),
            },
        }
    }
}

/// Alerts to team leads: `Publish` to one SNS topic, with the team as the `team`
/// message attribute so each lead's subscription filters on it
/// (`{"team": ["collections-north"]}`).
#[derive(Debug, Clone)]
pub struct SnsAlerts {
    client: Client,
    topic_arn: String,
}

impl SnsAlerts {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

#[async_trait]
impl Alerter for SnsAlerts {
    async fn alert(&self, alert: &Alert) -> Result<(), SendError> {
        // SNS subjects are ASCII-only, at most 100 characters.
        let subject: String = alert
            .subject
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '-'
                }
            })
            .take(100)
            .collect();
        // `kind` lets a subscription filter (e.g. digests to email only); the id
        // names what the alert is about.
        let (id_name, id) = match &alert.about {
            AlertAbout::Feedback { feedback_id, .. } => ("feedback_id", feedback_id.to_string()),
            AlertAbout::Notice { id, .. } => ("notice_id", id.clone()),
        };
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(&alert.text)
            .message_attributes("team", attribute(alert.team.as_str())?)
            .message_attributes("kind", attribute(alert.about.kind())?)
            .message_attributes(id_name, attribute(&id)?)
            .send()
            .await
            .map(|_| ())
            .map_err(classify_send_error)
    }
}
