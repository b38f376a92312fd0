//! No personal data in logs, proven: every tracing event and span this test binary
//! emits is captured while a debtor and a creditor contact go through the whole
//! product (case step, SMS, answer with a comment, routing and alert, an invalid
//! event carrying the phone number, the contact's NPS email, erasure) on both
//! stores; none may carry the planted phone number, email, link token, debtor or
//! contact id, or comment text.

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use kundpuls::app::Services;
use kundpuls::domain::token::SurveyToken;
use kundpuls_tests::journey::{self, Planted, always};
use kundpuls_tests::{Backend, Harness, app};
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

async fn the_whole_product(h: &Harness, services: &Services, p: &Planted) -> SurveyToken {
    let lived = journey::live(h, services, p).await;
    // Erasure on request.
    let now = Timestamp::now();
    services
        .erase_person(&p.debtor, "admin-1", now)
        .await
        .unwrap();
    services
        .erase_person(&p.contact, "admin-1", now)
        .await
        .unwrap();
    lived.token
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
        let p = Planted::new();
        let token = the_whole_product(&h, &services, &p).await;
        let digits: String = p.phone.chars().filter(char::is_ascii_digit).collect();
        secrets.extend([
            p.phone.clone(),
            digits,
            p.debtor.clone(),
            p.comment.clone(),
            "Åsa ringde".to_string(),
            p.email.clone(),
            p.name.clone(),
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
