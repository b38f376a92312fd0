//! The contracts integrators build on: the OpenAPI document is the routers' own
//! (every documented operation is routed; every API path in the code is
//! documented), it is served without sign-in, the committed copies in `docs/` are
//! current, and the case-step event's JSON Schema agrees with the parser.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kundpuls::domain::case_step::CaseStepEvent;
use kundpuls::domain::policy::SurveyPolicy;
use kundpuls::web::auth::LocalKey;
use kundpuls::web::{AppState, Authenticator, api_document, local_router};
use kundpuls_tests::{Backend, Harness, app};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use tower::ServiceExt;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn document() -> Value {
    serde_json::to_value(api_document()).unwrap()
}

fn event_schema() -> Value {
    kundpuls::web::openapi::case_step_event_schema()
}

fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&event_schema())
        .unwrap()
}

fn example() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/examples/case-step.json")).unwrap(),
    )
    .unwrap()
}

/// Where the schema says an event is wrong: each error's path and message.
fn errors(event: &Value) -> Vec<String> {
    validator()
        .iter_errors(event)
        .map(|e| format!("{} {}", e.instance_path(), e))
        .collect()
}

fn parses(event: &Value) -> bool {
    serde_json::from_value(event.clone())
        .map_err(|e| kundpuls::domain::error::InvalidInput::one("body", e.to_string()))
        .and_then(CaseStepEvent::parse)
        .is_ok()
}

#[test]
fn the_event_schema_takes_the_examples_and_the_parser_agrees() {
    let schema = event_schema();
    let mut good = vec![example()];
    good.push(schema["example"].clone());
    // The smallest event: no segment, no phone, no language, no country, no flags.
    let mut minimal = example();
    minimal.as_object_mut().unwrap().remove("segment");
    minimal["debtor"] = json!({"debtor_id": "D-1"});
    good.push(minimal);
    // Spellings the parser reads: a phone with spaces, a region on the language,
    // a lower-case country, a flag it does not know (which blocks the survey).
    let mut loose = example();
    loose["debtor"] = json!({
        "debtor_id": "D-2", "phone": "+46 70-123 45 67", "language": "sv-SE",
        "country": "se", "flags": ["Vulnerable", "something new"]
    });
    good.push(loose);
    for event in &good {
        assert_eq!(errors(event), Vec::<String>::new(), "{event}");
        assert!(
            parses(event),
            "the parser refuses what the schema takes: {event}"
        );
    }
}

/// A change that breaks one field of an event.
type Breaks = Box<dyn Fn(&mut Value)>;

#[test]
fn the_event_schema_refuses_broken_copies_naming_the_field() {
    let broken: Vec<(&str, Breaks)> = vec![
        (
            "event_id",
            Box::new(|e| drop(e.as_object_mut().unwrap().remove("event_id"))),
        ),
        (
            "event_id",
            Box::new(|e| e["event_id"] = "has spaces".into()),
        ),
        (
            "event_id",
            Box::new(|e| e["event_id"] = "x".repeat(129).into()),
        ),
        (
            "occurred_at",
            Box::new(|e| e["occurred_at"] = "yesterday".into()),
        ),
        (
            "occurred_at",
            Box::new(|e| e["occurred_at"] = 1_700_000_000.into()),
        ),
        (
            "client_id",
            Box::new(|e| drop(e.as_object_mut().unwrap().remove("client_id"))),
        ),
        ("step", Box::new(|e| e["step"] = "Call Completed".into())),
        ("team", Box::new(|e| e["team"] = "".into())),
        (
            "handler_id",
            Box::new(|e| e["handler_id"] = json!(["h-anna"])),
        ),
        (
            "debtor",
            Box::new(|e| drop(e.as_object_mut().unwrap().remove("debtor"))),
        ),
        (
            "debtor_id",
            Box::new(|e| drop(e["debtor"].as_object_mut().unwrap().remove("debtor_id"))),
        ),
        (
            "phone",
            Box::new(|e| e["debtor"]["phone"] = "0701234567".into()),
        ),
        (
            "phone",
            Box::new(|e| e["debtor"]["phone"] = "+0701234567".into()),
        ),
        (
            "country",
            Box::new(|e| e["debtor"]["country"] = "SWE".into()),
        ),
        (
            "flags",
            Box::new(|e| e["debtor"]["flags"] = "vulnerable".into()),
        ),
        (
            "flags",
            Box::new(|e| e["debtor"]["flags"] = json!(vec!["x"; 17])),
        ),
        (
            "language",
            Box::new(|e| e["debtor"]["language"] = "x".repeat(17).into()),
        ),
    ];
    assert!(broken.len() >= 10);
    for (field, breaks) in broken {
        let mut event = example();
        breaks(&mut event);
        let found = errors(&event);
        assert!(
            !found.is_empty(),
            "the schema takes a broken {field}: {event}"
        );
        assert!(
            found.iter().any(|e| e.contains(field)),
            "no error names {field}: {found:?}"
        );
        assert!(
            !parses(&event),
            "the parser takes a broken {field}: {event}"
        );
    }
}

/// The `docs/` copies are what the code generates (`kundpuls contract …` writes
/// them; see docs/integration.md).
#[test]
fn the_committed_contracts_are_current() {
    for (file, generated) in [
        ("docs/openapi.json", document()),
        ("docs/case-step-event.schema.json", event_schema()),
    ] {
        let path = Path::new(ROOT).join(file);
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(
            committed == generated,
            "{file} is stale: run `cargo run -q -p kundpuls-cli -- contract {}` > {file}",
            if file.ends_with("openapi.json") {
                "openapi"
            } else {
                "case-step-schema"
            }
        );
    }
}

async fn local() -> axum::Router {
    let h = Harness::embedded().await;
    let Backend::Embedded { dir, .. } = &h.backend else {
        unreachable!()
    };
    let key = LocalKey::load_or_create(dir.path()).unwrap();
    let (services, outbox) = app::local(&h, SurveyPolicy::default());
    let router = local_router(AppState {
        services,
        auth: Authenticator::Local(key.clone()),
        stamp: kundpuls::web::stamp::StampKey::new(&key.derive("render-stamp")),
        outbox: Some(outbox),
        sign_in: None,
        demo: false,
    });
    // The harness's directory must outlive the router's store.
    std::mem::forget(h);
    router
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "put", "post", "delete", "patch"].contains(&m.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_every_api_path_is_documented() {
    let doc = document();
    let ops = documented_operations(&doc);
    assert!(ops.len() >= 17, "{ops:?}");
    let router = local().await;
    for (method, path) in &ops {
        let concrete = path
            .replace("{kind}", "csat")
            .replace('{', "x-")
            .replace('}', "");
        let response = router
            .clone()
            .oneshot(
                Request::builder()
                    .method(method.as_str())
                    .uri(&concrete)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        // Without a token every operation but the document itself asks for one.
        let expected = if path == "/api/v1/openapi.json" {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(status, expected, "{method} {concrete}");
    }
    // Every API path written in the web code is in the document (parameters
    // compared as `{}`).
    let shape = |path: &str| {
        path.split('/')
            .map(|s| if s.starts_with('{') { "{}" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    };
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| shape(p))
        .collect();
    let web = Path::new(ROOT).join("shared/src/web");
    let mut written = BTreeSet::new();
    for entry in walk(&web) {
        let source = std::fs::read_to_string(&entry).unwrap();
        for (at, _) in source.match_indices("\"/api/v1/") {
            let literal = source[at + 1..].split('"').next().unwrap();
            if !literal.contains(' ') {
                written.insert(shape(literal.split('?').next().unwrap()));
            }
        }
    }
    assert!(written.len() >= 13, "{written:?}");
    for path in &written {
        assert!(
            documented.contains(path),
            "{path} is in the web code but not in the OpenAPI document"
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn the_document_is_served_without_sign_in_and_refusals_keep_the_error_shape() {
    let router = local().await;
    let get = |uri: &str| {
        router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
    };
    let response = get("/api/v1/openapi.json").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    let served: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(served, document());
    // A method the route does not take: 405 in the API's shape, with Allow.
    let response = router
        .clone()
        .oneshot(
            Request::builder()
                .method("PUT")
                .uri("/api/v1/case-steps")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers().contains_key("allow"));
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn a_client_credentials_token_posts_case_steps_and_reads_nothing() {
    use kundpuls::web::{lambda_console_router, lambda_ingest_router};
    use kundpuls_tests::lambda_events::{http, invoke};
    let h = Harness::embedded().await;
    let (services, _outbox) = app::local(&h, SurveyPolicy::default());
    let state = AppState {
        services,
        auth: Authenticator::ApiGateway,
        stamp: kundpuls::web::stamp::StampKey::new(b"contract-stamp-key-0123456789abcd"),
        outbox: None,
        sign_in: None,
        demo: false,
    };
    let ingest = lambda_ingest_router(state.clone());
    let console = lambda_console_router(state);
    // What the JWT authorizer hands over for a Cognito client-credentials token.
    let machine = |scope: &str| {
        json!({"sub": "case-system-client", "client_id": "case-system-client",
               "token_use": "access", "scope": scope})
    };
    let steps = machine("kundpuls/case-steps.write");
    let event =
        kundpuls_tests::events::recent_json("evt-machine-1", "call_completed", "+46701234567")
            .to_string();
    let post = |claims: Value, path: &str, content_type: &str, body: &str| {
        http(
            "POST",
            path,
            "",
            Some(content_type),
            Some(body),
            Some(claims),
        )
    };
    // It posts case steps.
    let (status, body) = invoke(
        &ingest,
        post(
            steps.clone(),
            "/api/v1/case-steps",
            "application/json",
            &event,
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // It cannot upsert contacts without their scope, nor read anything of the console.
    let csv = "client_id,contact_id,email,industry\nnordtel,c-1,a@example.com,telecom\n";
    let (status, _) = invoke(
        &ingest,
        post(steps.clone(), "/api/v1/contacts", "text/csv", csv),
    )
    .await;
    assert_eq!(status, 403);
    for path in [
        "/api/v1/feedback",
        "/api/v1/improvements",
        "/api/v1/themes",
        "/api/v1/reports/csat",
    ] {
        let (status, body) = invoke(
            &console,
            http("GET", path, "", None, None, Some(steps.clone())),
        )
        .await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    // A client with the contacts scope may upsert them; scopes of other APIs are no one.
    let crm = machine("kundpuls/contacts.write");
    let (status, body) = invoke(
        &ingest,
        post(crm.clone(), "/api/v1/contacts", "text/csv", csv),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = invoke(
        &ingest,
        post(crm, "/api/v1/case-steps", "application/json", &event),
    )
    .await;
    assert_eq!(status, 403);
    let stranger = machine("aws.cognito.signin.user.admin");
    let (status, _) = invoke(
        &ingest,
        post(stranger, "/api/v1/case-steps", "application/json", &event),
    )
    .await;
    assert_eq!(status, 401);
    // The document names both schemes and the scope each ingest route needs.
    let doc = document();
    let flows = &doc["components"]["securitySchemes"]["case_system"]["flows"];
    assert!(flows["clientCredentials"]["scopes"]["kundpuls/case-steps.write"].is_string());
    assert_eq!(
        doc["paths"]["/api/v1/case-steps"]["post"]["security"][1]["case_system"][0],
        "kundpuls/case-steps.write"
    );
    assert_eq!(
        doc["paths"]["/api/v1/feedback"]["get"]["security"],
        Value::Null,
        "console routes take people's tokens only"
    );
}
