//! No personal data in logs, proven: every tracing event and span this test binary
//! emits is captured while a debtor and a creditor contact go through the whole
//! product (case step, SMS, answer with a comment, routing and alert, an invalid
//! event carrying the phone number, the contact's NPS email, erasure) on both
//! stores; none may carry the planted phone number, email, link token, debtor or
//! contact id, or comment text.

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use kundpuls::app::Services;
use kundpuls::app::contacts::ContactRow;
use kundpuls::domain::creditor::CreditorContactInput;
use kundpuls::domain::policy::{SurveyPolicy, WeekWindows};
use kundpuls::domain::score::{CsatScore, Score};
use kundpuls::domain::survey::{Answer, AnswerInput};
use kundpuls::domain::token::SurveyToken;
use kundpuls_tests::events::{event, recent_json};
use kundpuls_tests::{Backend, Harness, app, lambda_events, moto};
use std::sync::{Arc, Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

/// Every event and span field, as text.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={value}", field.name()));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut text = Text(event.metadata().target().to_string());
        event.record(&mut text);
        self.0.lock().unwrap().push(text.0);
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut text = Text(attrs.metadata().name().to_string());
        attrs.record(&mut text);
        self.0.lock().unwrap().push(text.0);
    }
}

/// One capture for the whole binary.
fn capture() -> Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            // The product's filter as its logging installs it, at its most
            // talkative (`RUST_LOG=trace`, as an operator chasing a problem sets it).
            let subscriber = tracing_subscriber::registry()
                .with(kundpuls::wiring::logging::filter("trace"))
                .with(capture.clone());
            tracing::subscriber::set_global_default(subscriber).unwrap();
            capture
        })
        .clone()
}

struct Planted {
    phone: String,
    debtor: String,
    comment: String,
    email: String,
    contact: String,
}

fn planted() -> Planted {
    let n = uuid::Uuid::new_v4().as_u128() % 10_000_000;
    Planted {
        phone: format!("+4670{n:07}"),
        debtor: format!("D-PLANTED-{n}"),
        comment: format!("Handläggaren Åsa ringde aldrig tillbaka PLANTED{n}"),
        email: format!("planted.person.{n}@acme.example"),
        contact: format!("C-PLANTED-{n}"),
    }
}

/// The link token of the one message sent to `phone`.
fn token_sent_to(h: &Harness, phone: &str) -> SurveyToken {
    let link = match &h.backend {
        Backend::Embedded { dir, .. } => {
            kundpuls::adapters::outbox::read_outbox(&dir.path().join("outbox.jsonl"))
                .unwrap()
                .into_iter()
                .find(|l| l.to == phone)
                .unwrap()
                .link
        }
        Backend::Dynamo { .. } => moto::sms_to(phone)[0]
            .split_whitespace()
            .find(|w| w.starts_with(app::BASE_URL))
            .unwrap()
            .to_string(),
    };
    SurveyToken::parse(link.rsplit('/').next().unwrap()).unwrap()
}

async fn the_whole_product(h: &Harness, services: &Services, p: &Planted) -> SurveyToken {
    let now = Timestamp::now();
    // A case step, with an SMS.
    let mut json = recent_json(
        &format!("evt-{}", uuid::Uuid::new_v4().simple()),
        "call_completed",
        &p.phone,
    );
    json["debtor"]["debtor_id"] = p.debtor.clone().into();
    services.handle_case_step(&event(&json), now).await.unwrap();
    let token = token_sent_to(h, &p.phone);
    let survey = h.store.find_by_token(&token.hash()).await.unwrap().unwrap();
    // An answer with a comment, routed to the backlog and alerted.
    let answer = Answer::new(
        &survey,
        AnswerInput {
            score: Score::Csat(CsatScore::try_from(1u8).unwrap()),
            comment: Some(p.comment.clone()),
            resolved_first_contact: Some(false),
            suspect: vec![],
            answered_at: now,
        },
    );
    h.store
        .record_answer(&survey.id, answer.clone(), now)
        .await
        .unwrap();
    services.route_answer(&answer).await.unwrap();
    // An invalid event carrying the phone number in a flag and as the debtor id,
    // through the queue.
    let mut bad = json.clone();
    bad["event_id"] = format!("evt-bad-{}", uuid::Uuid::new_v4().simple()).into();
    bad["debtor"]["flags"] = serde_json::json!([format!("call {} after five", p.phone)]);
    bad["step"] = "Not A Step".into();
    let batch: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(lambda_events::sqs(&[("m-1", &bad.to_string())])).unwrap();
    kundpuls::events::case_steps::handle(services, batch, now).await;
    // A flagged step for the same debtor (the flag's value is free text).
    let mut flagged = json.clone();
    flagged["event_id"] = format!("evt-flag-{}", uuid::Uuid::new_v4().simple()).into();
    flagged["debtor"]["flags"] = serde_json::json!([format!("call {} after five", p.phone)]);
    services
        .handle_case_step(&event(&flagged), now)
        .await
        .unwrap();
    // A creditor contact and their NPS email (their wave month, inside the hours).
    let rows = vec![ContactRow::from(CreditorContactInput {
        client_id: Some("acme-energy".into()),
        contact_id: Some(p.contact.clone()),
        email: Some(p.email.clone()),
        name: Some("Planted Person".into()),
        industry: Some("energy".into()),
        ..Default::default()
    })];
    services.import_contacts(rows, now, |_| {}).await.unwrap();
    services.run_schedule(now).await.unwrap();
    // Erasure on request.
    services
        .erase_person(&p.debtor, "admin-1", now)
        .await
        .unwrap();
    services
        .erase_person(&p.contact, "admin-1", now)
        .await
        .unwrap();
    token
}

fn always() -> SurveyPolicy {
    SurveyPolicy {
        send_windows: WeekWindows::always(),
        ..SurveyPolicy::default()
    }
}

#[tokio::test]
async fn no_log_line_carries_personal_data_on_either_store() {
    let capture = capture();
    let mut secrets = Vec::new();
    for h in [Harness::embedded().await, Harness::dynamodb().await] {
        let services = match &h.backend {
            Backend::Embedded { .. } => app::local(&h, always()).0,
            Backend::Dynamo { .. } => {
                let from = format!("nps-{}@nordkredit.example", uuid::Uuid::new_v4().simple());
                app::aws(&h, always(), &from).await
            }
        };
        let p = planted();
        let token = the_whole_product(&h, &services, &p).await;
        let digits: String = p.phone.chars().filter(char::is_ascii_digit).collect();
        secrets.extend([
            p.phone.clone(),
            digits,
            p.debtor.clone(),
            p.comment.clone(),
            "Åsa ringde".to_string(),
            p.email.clone(),
            p.contact.clone(),
            token.expose(),
        ]);
    }
    let lines = capture.0.lock().unwrap().clone();
    assert!(
        lines.len() >= 20,
        "the scenario logged only {} lines",
        lines.len()
    );
    for line in &lines {
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a log line carries personal data: {line}"
            );
        }
    }
    println!(
        "scanned {} tracing events and spans for {} planted values",
        lines.len(),
        secrets.len()
    );
}
