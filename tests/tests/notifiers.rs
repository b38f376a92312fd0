//! The real SES and SNS adapters against moto, read back from what moto recorded, and
//! the local file outbox.

#![allow(clippy::unwrap_used)]

use kundpuls::adapters::outbox::FileOutbox;
use kundpuls::adapters::ses::SesEmail;
use kundpuls::adapters::sns::SnsSms;
use kundpuls::domain::contact::{Email, PhoneNumber, Recipient};
use kundpuls::domain::ids::SurveyId;
use kundpuls::domain::locale::Language;
use kundpuls::domain::messages::email::{NpsEmailInput, render_nps};
use kundpuls::domain::messages::sms::csat_text;
use kundpuls::domain::survey::Channel;
use kundpuls::ports::{Notifier, OutboundMessage, SendError};
use kundpuls_tests::moto;

const LINK: &str = "https://survey.example.se/s/AAAAAAAAAAAAAAAAAAAAAA";

fn unique_phone() -> PhoneNumber {
    let n = uuid::Uuid::new_v4().as_u128() % 10_000_000;
    PhoneNumber::parse(&format!("+4673{n:07}")).unwrap()
}

fn sms(to: &PhoneNumber, language: Language) -> OutboundMessage {
    OutboundMessage {
        survey_id: SurveyId::for_idempotency_key("csat:evt-sms"),
        channel: Channel::Sms,
        to: Recipient::Sms(to.clone()),
        language,
        subject: None,
        text: csat_text(language, "Nordkredit", LINK),
        html: None,
        headers: vec![],
        reply_to: None,
        sender: None,
        link: LINK.into(),
    }
}

fn nps_email(to: &Email) -> OutboundMessage {
    let rendered = render_nps(&NpsEmailInput {
        language: Language::Sv,
        agency: "Nordkredit",
        controller: "Nordkredit AB",
        privacy_url: None,
        contact_name: "Karin",
        account_manager: "Anna Lind",
        link: LINK,
        reminder: false,
    })
    .unwrap();
    OutboundMessage {
        survey_id: SurveyId::for_idempotency_key("nps:acme:c-1:2026"),
        channel: Channel::Email,
        to: Recipient::Email(to.clone()),
        language: Language::Sv,
        subject: Some(rendered.subject),
        text: rendered.text,
        html: Some(rendered.html),
        headers: rendered.headers,
        reply_to: None,
        sender: None,
        link: LINK.into(),
    }
}

#[tokio::test]
async fn sns_delivers_the_debtor_sms_as_rendered() {
    let sdk = kundpuls_tests::sdk_config().await;
    let notifier = SnsSms::new(aws_sdk_sns::Client::new(&sdk), "Nordkredit");
    let phone = unique_phone();
    let message = sms(&phone, Language::Pl);
    notifier.send(&message).await.unwrap();
    assert_eq!(moto::sms_to(phone.as_str()), vec![message.text]);
}

#[tokio::test]
async fn ses_delivers_the_nps_email_from_the_verified_sender() {
    let sdk = kundpuls_tests::sdk_config().await;
    let client = aws_sdk_sesv2::Client::new(&sdk);
    let from = format!(
        "survey-{}@nordkredit.example",
        uuid::Uuid::new_v4().simple()
    );
    client
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .unwrap();
    // The agency's name, as people see it: "Nordkredit AB" <address>.
    let notifier = SesEmail::new(client, "Nordkredit AB", &from, None);
    let to = Email::parse(&format!(
        "cfo-{}@acme.example",
        uuid::Uuid::new_v4().simple()
    ))
    .unwrap();
    let mut message = nps_email(&to);
    message.reply_to = Some("anna.lind@nordkredit.example".into());
    notifier.send(&message).await.unwrap();
    let got = moto::emails_to(to.as_str());
    assert_eq!(got.len(), 1);
    let (subject, body, source) = &got[0];
    assert_eq!(subject, message.subject.as_ref().unwrap());
    assert_eq!(Some(body), message.html.as_ref());
    assert_eq!(source, &format!("\"Nordkredit AB\" <{from}>"));
    assert!(body.contains(&format!("{LINK}?score=10")));
}

#[tokio::test]
async fn an_unverified_sender_is_a_permanent_failure() {
    let sdk = kundpuls_tests::sdk_config().await;
    let notifier = SesEmail::new(
        aws_sdk_sesv2::Client::new(&sdk),
        "Nobody",
        "nobody@unverified.example",
        None,
    );
    let to = Email::parse("someone@acme.example").unwrap();
    let err = notifier.send(&nps_email(&to)).await.unwrap_err();
    assert!(
        matches!(err, SendError::Permanent { ref reason } if reason == "rejected"),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_outbox_keeps_one_json_line_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path());
    let phone = PhoneNumber::parse("+46701234567").unwrap();
    outbox.send(&sms(&phone, Language::Sv)).await.unwrap();
    let to = Email::parse("cfo@acme.example").unwrap();
    outbox.send(&nps_email(&to)).await.unwrap();
    let lines = outbox.read_all().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].channel, "sms");
    assert_eq!(lines[0].to, "+46701234567");
    assert_eq!(lines[0].language, "sv");
    assert_eq!(lines[0].link, LINK);
    assert!(lines[0].subject.is_none() && lines[0].html.is_none());
    assert_eq!(lines[1].channel, "email");
    assert!(lines[1].subject.is_some() && lines[1].html.is_some());
    // Each line is a complete JSON object with the documented fields.
    let raw = std::fs::read_to_string(outbox.path()).unwrap();
    let first: serde_json::Value = serde_json::from_str(raw.lines().next().unwrap()).unwrap();
    for field in [
        "channel",
        "to",
        "language",
        "text",
        "link",
        "survey_id",
        "sent_at",
    ] {
        assert!(first.get(field).is_some(), "missing {field}");
    }
}
