//! Email through Amazon SES v2 (`SendEmail`, simple content with text and HTML parts
//! and the unsubscribe headers).

use crate::adapters::aws::classify_send_error;
use crate::domain::contact::Recipient;
use crate::ports::{Notifier, OutboundMessage, SendError};
use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader};

#[derive(Debug, Clone)]
pub struct SesEmail {
    client: Client,
    /// The mailbox the surveys come from, e.g. `"Nordkredit AB" <survey@nordkredit.se>`.
    from: String,
    /// The verified address alone, for mail in a client's name.
    address: String,
    configuration_set: Option<String>,
}

/// `"Display Name" <address>` (RFC 5322), the name as an RFC 2047 encoded word when
/// it is not plain ASCII; control characters are dropped. No name: the address.
pub fn mailbox(display_name: &str, address: &str) -> String {
    let name: String = display_name
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string();
    if name.is_empty() {
        return address.to_string();
    }
    if name.is_ascii() {
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{quoted}\" <{address}>")
    } else {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(name.as_bytes());
        format!("=?UTF-8?B?{encoded}?= <{address}>")
    }
}

/// An SES client for messages to people: the SDK never repeats a `SendEmail` itself.
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    Client::new(&crate::adapters::aws::without_retries(sdk))
}

impl SesEmail {
    /// `client` should come from [`client`] (retries off); mail comes from
    /// `display_name` at `address`.
    pub fn new(
        client: Client,
        display_name: &str,
        address: &str,
        configuration_set: Option<String>,
    ) -> Self {
        Self {
            client,
            from: mailbox(display_name, address),
            address: address.to_string(),
            configuration_set,
        }
    }
}

fn content(data: &str) -> Result<Content, SendError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| SendError::NotSent(e.into()))
}

#[async_trait]
impl Notifier for SesEmail {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        let Recipient::Email(to) = &message.to else {
            return Err(SendError::Permanent {
                reason: "not_an_email_address".into(),
            });
        };
        let mut body = Body::builder().text(content(&message.text)?);
        if let Some(html) = &message.html {
            body = body.html(content(html)?);
        }
        let mut simple = Message::builder()
            .subject(content(message.subject.as_deref().unwrap_or_default())?)
            .body(body.build());
        for (name, value) in &message.headers {
            simple = simple.headers(
                MessageHeader::builder()
                    .name(name)
                    .value(value)
                    .build()
                    .map_err(|e| SendError::NotSent(e.into()))?,
            );
        }
        let result = self
            .client
            .send_email()
            .from_email_address(match &message.sender {
                // The client's name at the agency's verified address.
                Some(name) => mailbox(name, &self.address),
                None => self.from.clone(),
            })
            .set_reply_to_addresses(message.reply_to.clone().map(|r| vec![r]))
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(simple.build()).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(SendEmailError::MessageRejected(_)) => Err(SendError::Permanent {
                    reason: "rejected".into(),
                }),
                Some(SendEmailError::BadRequestException(_)) => Err(SendError::Permanent {
                    reason: "bad_request".into(),
                }),
                Some(
                    SendEmailError::MailFromDomainNotVerifiedException(_)
                    | SendEmailError::NotFoundException(_),
                ) => Err(SendError::Permanent {
                    reason: "sender_not_verified".into(),
                }),
                _ => Err(classify_send_error(e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mailbox;

    #[test]
    fn the_sender_shows_the_agency_by_name_in_any_language() {
        assert_eq!(
            mailbox("Nordkredit AB", "s@nordkredit.se"),
            "\"Nordkredit AB\" <s@nordkredit.se>"
        );
        assert_eq!(
            mailbox("Say \"hi\" \\ there", "s@x.se"),
            "\"Say \\\"hi\\\" \\\\ there\" <s@x.se>"
        );
        // Non-ASCII names travel as an RFC 2047 encoded word.
        assert_eq!(
            mailbox("Inkasso Åström", "s@x.se"),
            "=?UTF-8?B?SW5rYXNzbyDDhXN0csO2bQ==?= <s@x.se>"
        );
        // Control characters (header injection) are dropped; no name, no quotes.
        assert_eq!(mailbox("A\r\nBcc: x@y", "s@x.se"), "\"ABcc: x@y\" <s@x.se>");
        assert_eq!(mailbox("  ", "s@x.se"), "s@x.se");
    }
}
