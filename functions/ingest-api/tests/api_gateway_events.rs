//! The ingest router as API Gateway (HTTP API v2, JWT authorizer) invokes it: real
//! event JSON turned into requests by `lambda_http`.

#![allow(clippy::unwrap_used)]

use kundpuls::domain::policy::SurveyPolicy;
use kundpuls::web::{AppState, Authenticator, lambda_ingest_router};
use kundpuls_tests::{Harness, app};
use tower::ServiceExt;

async fn call(fixture: &str, h: &Harness) -> (u16, serde_json::Value) {
    let (services, _) = app::local(h, SurveyPolicy::default());
    let router = lambda_ingest_router(AppState {
        services,
        auth: Authenticator::ApiGateway,
        stamp: kundpuls::web::stamp::StampKey::new(b"test-stamp-key-0123456789abcdef"),
        outbox: None,
        sign_in: None,
        demo: false,
    });
    // The fixture's step is dated now: a fixed date would turn stale.
    let mut event: serde_json::Value = serde_json::from_str(fixture).unwrap();
    let mut body: serde_json::Value =
        serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    body["occurred_at"] = jiff::Timestamp::now().to_string().into();
    event["body"] = body.to_string().into();
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_system_caller_posts_a_case_step_and_gets_its_outcome() {
    let h = Harness::embedded().await;
    let (status, body) = call(include_str!("../fixtures/apigw-case-step.json"), &h).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event_id"], "evt-apigw-1");
    // Sent or scheduled depends on the wall clock; either way a survey exists.
    assert!(
        ["sent", "scheduled"].contains(&body["outcome"].as_str().unwrap()),
        "{body}"
    );
    assert!(body["survey_id"].as_str().unwrap().starts_with("s-"));
}

#[tokio::test]
async fn a_team_lead_may_not_post_case_steps() {
    let h = Harness::embedded().await;
    let (status, body) = call(include_str!("../fixtures/apigw-case-step-as-lead.json"), &h).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden");
}
