//! SMS through Amazon SNS (`Publish` to a phone number), as a transactional message
//! with the configured alphanumeric sender id.

use crate::domain::contact::Recipient;
use crate::ports::{Notifier, OutboundMessage, SendError};
use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;

#[derive(Debug, Clone)]
pub struct SnsSms {
    client: Client,
    sender_id: String,
}

impl SnsSms {
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
        .map_err(|e| SendError::Transient(e.into()))
}

#[async_trait]
impl Notifier for SnsSms {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        let Recipient::Sms(phone) = &message.to else {
            return Err(SendError::Permanent {
                reason: "not_a_phone_number".into(),
            });
        };
        let result = self
            .client
            .publish()
            .phone_number(phone.as_str())
            .message(&message.text)
            .message_attributes("AWS.SNS.SMS.SenderID", attribute(&self.sender_id)?)
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
                _ => Err(SendError::Transient(e.into())),
            },
        }
    }
}
