//! Every function's entry point, driven with the event JSON AWS sends, against
//! DynamoDB, SNS and SES on moto, end to end: an SQS case step → the SMS in moto →
//! an API Gateway request opens and answers the survey → the table's stream batch →
//! the feedback item and the lead's alert → an API Gateway request to the console API
//! lists it; a scheduled event ticks the schedule; the ingest API takes a case step.

#![allow(clippy::unwrap_used)]

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use kundpuls::app::Services;
use kundpuls::events;
use kundpuls::web::stamp::StampKey;
use kundpuls::web::{
    AppState, Authenticator, lambda_console_router, lambda_ingest_router, lambda_survey_router,
};
use kundpuls_tests::answers::always;
use kundpuls_tests::events::recent_json;
use kundpuls_tests::lambda_events::invoke;
use kundpuls_tests::{Backend, Harness, app, lambda_events, moto, stream};
use serde_json::{Value, json};

fn state(services: &Services) -> AppState {
    AppState {
        services: services.clone(),
        auth: Authenticator::ApiGateway,
        stamp: StampKey::new(b"e2e-stamp-key-0123456789abcdef01"),
        outbox: None,
        sign_in: None,
        demo: false,
    }
}

fn field<'a>(html: &'a str, name: &str) -> &'a str {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    let end = html[start..].find('"').unwrap();
    &html[start..start + end]
}

#[tokio::test]
async fn a_case_step_becomes_a_listed_feedback_item_through_every_entry_point() {
    let h = Harness::dynamodb().await;
    let Backend::Dynamo { store, .. } = &h.backend else {
        unreachable!()
    };
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    // Phone numbers unique per run: moto keeps every SMS it accepted.
    let run = uuid::Uuid::new_v4().as_u128() % 10_000_000;
    let phone = format!("+4670{run:07}");
    let phone2 = format!("+4673{run:07}");
    let phone = phone.as_str();
    let now = jiff::Timestamp::now();

    // 1. SQS → send-debtor-surveys: the SMS goes out through SNS.
    let body = recent_json(&format!("evt-e2e-{run}"), "call_completed", phone).to_string();
    let batch: SqsEvent =
        serde_json::from_value(lambda_events::sqs(&[("m-1", body.as_str())])).unwrap();
    let response = events::case_steps::handle(&services, batch, now).await;
    assert!(response.batch_item_failures.is_empty());
    let sms = moto::sms_to(phone);
    assert_eq!(sms.len(), 1, "one SMS in moto");
    let link = sms[0]
        .split_whitespace()
        .find(|w| w.starts_with("https://"))
        .unwrap();
    let path = link.trim_start_matches(app::BASE_URL).to_string();
    assert!(path.starts_with("/s/"));

    // 2. API Gateway → answer-survey: open the page, answer CSAT 1 with a comment.
    let survey = lambda_survey_router(state(&services));
    let (status, page) = invoke(
        &survey,
        lambda_events::http("GET", &path, "", None, None, None),
    )
    .await;
    assert_eq!(status, 200);
    let stamp = field(&page, "stamp").to_string();
    // A person takes a moment; faster answers are flagged as automated.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let form = format!("score=1&fcr=no&comment=Otrevlig+och+hotfull&stamp={stamp}&website=");
    let (status, thanks) = invoke(
        &survey,
        lambda_events::http(
            "POST",
            &path,
            "",
            Some("application/x-www-form-urlencoded"),
            Some(&form),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200, "{thanks}");
    assert!(thanks.contains("Tack"), "the Swedish thank-you page");

    // 3. The table's stream → route-feedback: one item, one alert.
    let stream_json = stream::lambda_event(store.table());
    let batch: StreamEvent = serde_json::from_value(stream_json).unwrap();
    let response = events::answers::handle(&services, batch).await;
    assert!(response.batch_item_failures.is_empty());

    // 4. API Gateway (JWT claims of the energy lead) → console-api lists it.
    let console = lambda_console_router(state(&services));
    let lead = json!({"sub": "lead-anna", "cognito:groups": "[lead]", "custom:teams": "energy"});
    let (status, body) = invoke(
        &console,
        lambda_events::http(
            "GET",
            "/api/v1/feedback",
            "status=new",
            None,
            None,
            Some(lead.clone()),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["score"], json!({"kind": "csat", "value": 1}));
    assert_eq!(items[0]["priority"], "high");
    assert_eq!(items[0]["comment"], "Otrevlig och hotfull");
    let id = items[0]["id"].as_str().unwrap().to_string();
    let alerts: Vec<Value> = moto::topic_notifications(app::ALERT_TOPIC)
        .into_iter()
        .filter(|n| n[3]["feedback_id"]["Value"] == id.as_str())
        .collect();
    assert_eq!(alerts.len(), 1, "the lead was alerted once");
    // Another team's lead gets 403 for it; no claims at all, 401.
    let telecom =
        json!({"sub": "lead-olle", "cognito:groups": "[lead]", "custom:teams": "telecom"});
    let item_path = format!("/api/v1/feedback/{id}");
    let (status, _) = invoke(
        &console,
        lambda_events::http("GET", &item_path, "", None, None, Some(telecom)),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = invoke(
        &console,
        lambda_events::http("GET", &item_path, "", None, None, None),
    )
    .await;
    assert_eq!(status, 401);
    // The lead triages it through the API.
    let (status, body) = invoke(
        &console,
        lambda_events::http(
            "PATCH",
            &item_path,
            "",
            Some("application/json"),
            Some(&json!({"version": 1, "status": "triaged", "assignee": "anna"}).to_string()),
            Some(lead),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // 5. EventBridge → run-survey-schedule: a tick with nothing due does nothing.
    let tick: EventBridgeEvent<Value> = serde_json::from_value(lambda_events::scheduled()).unwrap();
    let report = events::schedule::handle(
        &services,
        tick,
        now,
        kundpuls::app::schedule::TickBudget::unlimited(),
    )
    .await
    .unwrap();
    assert_eq!(report.sent, 0);

    // 6. API Gateway (system claims) → ingest-api takes a second case step.
    let ingest = lambda_ingest_router(state(&services));
    let system = json!({"sub": "case-system", "cognito:groups": "[system]"});
    let step = recent_json(&format!("evt-e2e-{run}-b"), "payment_plan_agreed", &phone2).to_string();
    let (status, body) = invoke(
        &ingest,
        lambda_events::http(
            "POST",
            "/api/v1/case-steps",
            "",
            Some("application/json"),
            Some(&step),
            Some(system),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(moto::sms_to(&phone2).len(), 1);
}
