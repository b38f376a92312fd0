//! How long `POST /api/v1/case-steps` takes for the largest batch it allows (100
//! events), on DynamoDB and SNS (moto on loopback) and on the embedded store, through
//! the router the ingest function serves: 500 events as five such requests, one after
//! another, printing the slowest request and the total. Every event is new and
//! sent at once (the heaviest path: decision reads, the claimed create, the SMS, the
//! settle, the counters). Prints figures; asserts only that every event was decided.
//!
//! The DynamoDB figures need moto, started as `scripts/test` starts it.
//! `cargo bench -p kundpuls-tests --bench ingest`
//! (`INGEST_BENCH_SIZES=100,500` to choose the batch sizes.)

use axum::body::Body;
use axum::http::Request;
use kundpuls::web::auth::{LocalKey, Role};
use kundpuls::web::ingest::{CONCURRENT_EVENTS, MAX_EVENTS};
use kundpuls::web::{AppState, Authenticator, local_router};
use kundpuls_tests::answers::always;
use kundpuls_tests::events::recent_json;
use kundpuls_tests::{Harness, app};
use serde_json::Value;
use std::time::Instant;
use tower::ServiceExt;

/// Posts `n` events in requests of at most [`MAX_EVENTS`]: (slowest request, total) in seconds.
async fn post_batch(services: kundpuls::app::Services, n: usize, run: &str) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let key = LocalKey::load_or_create(dir.path()).expect("a local key");
    let token = key.sign("bench", Role::System, &[], 1).expect("a token");
    let router = local_router(AppState {
        services,
        auth: Authenticator::Local(key.clone()),
        stamp: kundpuls::web::stamp::StampKey::new(&key.derive("render-stamp")),
        outbox: None,
        sign_in: None,
        demo: false,
    });
    let events: Vec<Value> = (0..n)
        .map(|i| {
            let mut v = recent_json(
                &format!("bench-{run}-{i}"),
                "call_completed",
                &format!("+4676{run}{i:04}"),
            );
            v["debtor"]["debtor_id"] = format!("D-{run}-{i}").into();
            v
        })
        .collect();
    let (mut slowest, mut total) = (0f64, 0f64);
    for chunk in events.chunks(MAX_EVENTS) {
        let request = Request::post("/api/v1/case-steps")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(Value::Array(chunk.to_vec()).to_string()))
            .expect("a request");
        let started = Instant::now();
        let response = router.clone().oneshot(request).await.expect("a response");
        let seconds = started.elapsed().as_secs_f64();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .expect("a body");
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        assert!(status.is_success(), "{status}: {body}");
        let sent = body["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter(|r| r["outcome"] == "sent")
            .count();
        assert_eq!(sent, chunk.len(), "every event sent");
        slowest = slowest.max(seconds);
        total += seconds;
    }
    (slowest, total)
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("INGEST_BENCH_SIZES")
        .unwrap_or_else(|_| "100,500".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "POST /api/v1/case-steps, {MAX_EVENTS} events a request, {CONCURRENT_EVENTS} decided at a time (release build)"
    );
    println!(
        "{:<28} {:>7} {:>16} {:>10} {:>10}",
        "store", "events", "slowest request", "total s", "events/s"
    );
    for (i, n) in sizes.iter().enumerate() {
        let h = Harness::embedded().await;
        let (services, _) = app::local(&h, always());
        let (slowest, s) = post_batch(services, *n, &format!("{}", 10 + i)).await;
        println!(
            "{:<28} {n:>7} {slowest:>16.2} {s:>10.2} {:>10.0}",
            "embedded + file outbox",
            *n as f64 / s
        );
    }
    if std::env::var("AWS_ENDPOINT_URL").is_err() {
        println!(
            "AWS_ENDPOINT_URL is not set: start moto (scripts/test does) for the DynamoDB figures"
        );
        return;
    }
    for (i, n) in sizes.iter().enumerate() {
        let h = Harness::dynamodb().await;
        let from = format!("bench-{}@nordkredit.example", uuid::Uuid::new_v4().simple());
        let services = app::aws(&h, always(), &from).await;
        let (slowest, s) = post_batch(services, *n, &format!("{}", 20 + i)).await;
        println!(
            "{:<28} {n:>7} {slowest:>16.2} {s:>10.2} {:>10.0}",
            "DynamoDB + SNS (moto)",
            *n as f64 / s
        );
    }
}
