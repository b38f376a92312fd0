//! Decisions per second, in process. Prints figures; asserts nothing about speed
//! (these machines are shared and noisy). Bounded: a fixed number of events.
//!
//! `cargo bench -p kundpuls-tests --bench decisions`
//!
//! 1. the pure rules (`decide`) on a mix of steps;
//! 2. the whole case-step use case on the embedded store with the file outbox:
//!    store reads, one durable create, the SMS to the outbox and the counters, for
//!    events sent now, and for events skipped before any store read;
//! 3. the SMS each language produces with the longest link the config allows.

use jiff::Timestamp;
use kundpuls::domain::case_step::CaseStepEvent;
use kundpuls::domain::locale::Language;
use kundpuls::domain::messages::{MAX_LINK_LEN, MAX_SENDER_LEN, sms};
use kundpuls::domain::policy::SurveyPolicy;
use kundpuls::domain::rules::{DebtorFacts, decide};
use kundpuls_tests::events::{event, example_json};
use kundpuls_tests::{Harness, app};
use std::hint::black_box;
use std::time::Instant;

const PURE_EVENTS: usize = 1_000_000;
const STORE_EVENTS: usize = 5_000;
const CONCURRENCY: usize = 16;

fn monday() -> Timestamp {
    "2026-11-23T09:00:00Z".parse().expect("valid")
}

fn events(n: usize, step: &str) -> Vec<CaseStepEvent> {
    (0..n)
        .map(|i| {
            event(&example_json(
                &format!("bench-{step}-{i}"),
                step,
                &format!("+4671{i:07}"),
            ))
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    println!(
        "kundpuls decision benchmark ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    // 1. Pure rules.
    let policy = SurveyPolicy::default();
    let mix: Vec<_> = [
        "call_completed",
        "payment_received",
        "reminder_sent",
        "case_closed",
    ]
    .iter()
    .flat_map(|s| events(250, s))
    .collect();
    let facts = DebtorFacts::default();
    let start = Instant::now();
    for i in 0..PURE_EVENTS {
        black_box(decide(
            black_box(&mix[i % mix.len()]),
            &facts,
            &policy,
            monday(),
        ));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "pure rules:           {:>10.0} decisions/s ({PURE_EVENTS} decisions in {secs:.2} s)",
        PURE_EVENTS as f64 / secs
    );

    // 2. The use case on the embedded store.
    for (label, step) in [
        ("sent now (SMS to outbox)", "call_completed"),
        ("skipped (step not surveyed)", "payment_received"),
    ] {
        let h = Harness::embedded().await;
        let (services, outbox) = app::local(&h, SurveyPolicy::default());
        let batch = events(STORE_EVENTS, step);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for chunk in batch.chunks(STORE_EVENTS / CONCURRENCY) {
            let services = services.clone();
            let chunk = chunk.to_vec();
            tasks.push(tokio::spawn(async move {
                for e in &chunk {
                    services
                        .handle_case_step(e, monday())
                        .await
                        .expect("handled");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let secs = start.elapsed().as_secs_f64();
        let sent = outbox.read_all().expect("outbox").len();
        println!(
            "use case, {label:<28} {:>8.0} events/s ({STORE_EVENTS} events, {CONCURRENCY} tasks, {secs:.2} s, {sent} SMS)",
            STORE_EVENTS as f64 / secs
        );
    }

    // 3. SMS sizes.
    let link = format!(
        "https://{}/s/{}",
        "x".repeat(MAX_LINK_LEN - 8 - 3 - 22),
        "A".repeat(22)
    );
    let sender = "S".repeat(MAX_SENDER_LEN);
    println!(
        "SMS with an {MAX_SENDER_LEN}-character sender and a {}-character link:",
        link.len()
    );
    for &lang in Language::ALL {
        let size = sms::size(&sms::csat_text(lang, &sender, &link));
        println!(
            "  {lang}: {:?}, {} units, {} segment(s)",
            size.encoding, size.units, size.segments
        );
    }
}
