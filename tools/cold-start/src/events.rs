//! The event each binary answers: the functions' own fixtures (real events) where
//! they have one, and a request that reads the table for the HTTP functions that
//! have none.

use crate::Subject;

fn fixture(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../functions/");
    std::fs::read_to_string(format!("{root}{path}"))
        .unwrap_or_else(|e| panic!("reading fixture {path}: {e}"))
}

/// An API Gateway (HTTP API, v2) request; `claims` as the JWT authorizer passes them.
fn http(method: &str, path: &str, claims: Option<serde_json::Value>) -> String {
    let mut context = serde_json::json!({
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "survey.nordkredit.se",
        "domainPrefix": "survey",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                 "sourceIp": "192.0.2.10", "userAgent": "Mozilla/5.0"},
        "requestId": "req-cold",
        "routeKey": format!("{method} {path}"),
        "stage": "$default",
        "time": "23/Nov/2026:08:55:01 +0000",
        "timeEpoch": 1795337701000u64
    });
    if let Some(claims) = claims {
        context["authorizer"] = serde_json::json!({"jwt": {"claims": claims, "scopes": null}});
    }
    serde_json::json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "survey.nordkredit.se", "user-agent": "Mozilla/5.0"},
        "requestContext": context,
        "isBase64Encoded": false
    })
    .to_string()
}

/// The yardstick first, then every function.
pub fn subjects() -> Vec<Subject> {
    let lead =
        serde_json::json!({"sub": "lead-1", "cognito:groups": "[lead]", "custom:teams": "energy"});
    vec![
        Subject {
            name: "hello-lambda",
            event: r#"{"hello": "world"}"#.into(),
        },
        Subject {
            // An unknown link: one read of the token pointer, then the page.
            name: "answer-survey",
            event: http("GET", "/s/AAAAAAAAAAAAAAAAAAAAAA", None),
        },
        Subject {
            name: "console-api",
            event: http("GET", "/api/v1/feedback", Some(lead)),
        },
        Subject {
            name: "ingest-api",
            event: fixture("ingest-api/fixtures/apigw-case-step.json"),
        },
        Subject {
            name: "send-debtor-surveys",
            event: fixture("send-debtor-surveys/fixtures/sqs-batch.json"),
        },
        Subject {
            name: "run-survey-schedule",
            event: fixture("run-survey-schedule/fixtures/scheduled-event.json"),
        },
        Subject {
            name: "route-feedback",
            event: r#"{"Records": []}"#.into(),
        },
        Subject {
            name: "mail-events",
            event: fixture("mail-events/fixtures/ses-events.json"),
        },
    ]
}
