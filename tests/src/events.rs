//! Case-step events as the case system sends them.

use kundpuls::domain::case_step::CaseStepEvent;
use serde_json::{Value, json};

/// The DESIGN.md example, with `event_id`, `step` and phone chosen by the test.
pub fn example_json(event_id: &str, step: &str, phone: &str) -> Value {
    json!({
        "event_id": event_id,
        "occurred_at": "2026-11-22T09:14:00Z",
        "case_id": "C-100045",
        "client_id": "acme-energy",
        "step": step,
        "handler_id": "h-anna",
        "team": "energy",
        "segment": "first_time_late",
        "debtor": {
            "debtor_id": "D-7781",
            "phone": phone,
            "language": "sv",
            "country": "SE",
            "flags": []
        }
    })
}

/// The same event, dated `at` (steps are surveyed only while recent).
pub fn dated(mut v: Value, at: jiff::Timestamp) -> Value {
    v["occurred_at"] = json!(at.to_string());
    v
}

/// The example, dated a minute ago: for tests that run on the wall clock (HTTP
/// routes, the Lambda entry points), where a fixed date would turn stale.
pub fn recent_json(event_id: &str, step: &str, phone: &str) -> Value {
    dated(
        example_json(event_id, step, phone),
        jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1),
    )
}

pub fn event(v: &Value) -> CaseStepEvent {
    CaseStepEvent::from_json(v.to_string().as_bytes()).expect("valid event")
}
