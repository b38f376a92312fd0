//! Lambda event JSON as the AWS services send it: an SQS batch, an API Gateway HTTP
//! API (v2) request with or without JWT claims, an EventBridge scheduled event. The
//! shapes follow the fixtures in `functions/*/fixtures/`, which are real events.

use serde_json::{Value, json};

/// An SQS batch, one record per `(message id, body)`.
pub fn sqs(messages: &[(&str, &str)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id,
                "receiptHandle": format!("rh-{id}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795338840000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795338840001"
                },
                "messageAttributes": {},
                "md5OfBody": "00000000000000000000000000000000",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-north-1:123456789012:kundpuls-case-steps",
                "awsRegion": "eu-north-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// One HTTP API request. `claims` are what the JWT authorizer verified (absent on
/// public routes).
pub fn http(
    method: &str,
    path: &str,
    query: &str,
    content_type: Option<&str>,
    body: Option<&str>,
    claims: Option<Value>,
) -> String {
    let mut headers = json!({"host": "survey.nordkredit.se", "user-agent": "Mozilla/5.0"});
    if let Some(ct) = content_type {
        headers["content-type"] = json!(ct);
    }
    let mut context = json!({
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "survey.nordkredit.se",
        "domainPrefix": "survey",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.10",
            "userAgent": "Mozilla/5.0"
        },
        "requestId": "req-e2e",
        "routeKey": format!("{method} {path}"),
        "stage": "$default",
        "time": "23/Nov/2026:08:55:01 +0000",
        "timeEpoch": 1795337701000u64
    });
    if let Some(claims) = claims {
        headers["authorization"] = json!("Bearer eyJ.verified.by-api-gateway");
        context["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

/// EventBridge's scheduled event.
pub fn scheduled() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-23T09:00:00Z",
        "region": "eu-north-1",
        "resources": ["arn:aws:events:eu-north-1:123456789012:rule/kundpuls-schedule"],
        "detail": {}
    })
}

/// Sends an API Gateway (HTTP API, v2) event through a router as `lambda_http`
/// does: the status and the body's text.
pub async fn invoke(router: &axum::Router, event: String) -> (u16, String) {
    use tower::ServiceExt;
    let request = lambda_http::request::from_str(&event).expect("an API Gateway event");
    let response = router.clone().oneshot(request).await.expect("a response");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("a body");
    (status, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}
