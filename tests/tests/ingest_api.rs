//! The ingest API over HTTP semantics (the local router, local tokens): validation
//! errors name the field, roles are enforced, CSV and JSON contacts are upserted.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kundpuls::domain::creditor::CreditorContact;
use kundpuls::domain::ids::{ClientId, ContactId, TeamId};
use kundpuls::domain::policy::SurveyPolicy;
use kundpuls::web::auth::{LocalKey, Role};
use kundpuls::web::{AppState, Authenticator, local_router};
use kundpuls_tests::events::recent_json;
use kundpuls_tests::{Backend, Harness, app};
use serde_json::Value;
use tower::ServiceExt;

struct Api {
    router: axum::Router,
    key: LocalKey,
    h: Harness,
}

async fn api() -> Api {
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
    Api { router, key, h }
}

impl Api {
    async fn post(
        &self,
        path: &str,
        role: Role,
        content_type: &str,
        body: String,
    ) -> (StatusCode, Value) {
        self.call("POST", path, role, content_type, body).await
    }

    /// The stored creditor contact.
    async fn creditor(&self, client: &str, contact: &str) -> CreditorContact {
        self.h
            .store
            .get_creditor(
                &ClientId::parse(client).unwrap(),
                &ContactId::parse(contact).unwrap(),
            )
            .await
            .unwrap()
            .unwrap()
    }

    async fn delete(&self, path: &str, role: Role) -> (StatusCode, Value) {
        self.call("DELETE", path, role, "application/json", String::new())
            .await
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        role: Role,
        content_type: &str,
        body: String,
    ) -> (StatusCode, Value) {
        let token = self
            .key
            .sign("tester", role, &[TeamId::parse("energy").unwrap()], 1)
            .unwrap();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

#[tokio::test]
async fn a_bad_event_is_refused_with_422_naming_each_field() {
    let api = api().await;
    let mut event = recent_json("evt-bad", "call_completed", "0701234567");
    event["occurred_at"] = "tomorrow".into();
    let (status, body) = api
        .post(
            "/api/v1/case-steps",
            Role::System,
            "application/json",
            event.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "invalid_input");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["debtor.phone", "occurred_at"]);
    // Sent four more times (once with its keys in another order): counted once.
    let reordered: serde_json::Map<String, Value> = event
        .as_object()
        .unwrap()
        .clone()
        .into_iter()
        .rev()
        .collect();
    for body in [
        event.to_string(),
        event.to_string(),
        event.to_string(),
        Value::Object(reordered).to_string(),
    ] {
        api.post("/api/v1/case-steps", Role::System, "application/json", body)
            .await;
    }
    let month = jiff::Timestamp::now().strftime("%Y-%m").to_string();
    let counter = api
        .h
        .store
        .read(&kundpuls::domain::stats::CounterKey::new(
            kundpuls::domain::survey::SurveyKind::Csat,
            &month,
            kundpuls::domain::stats::Dimension::All,
            "all",
        ))
        .await
        .unwrap();
    assert_eq!(counter.fields.get("skip_invalid_event"), Some(&1));
}

#[tokio::test]
async fn an_array_with_one_bad_event_decides_the_good_ones_and_reports_the_bad_one() {
    let api = api().await;
    let mut bad = recent_json("evt-b2", "call_completed", "+46701234568");
    bad["step"] = "Call Completed".into();
    let body = Value::Array(vec![
        recent_json("evt-b1", "call_completed", "+46701234567"),
        bad,
    ])
    .to_string();
    let (status, reply) = api
        .post("/api/v1/case-steps", Role::System, "application/json", body)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let results = reply["results"].as_array().unwrap();
    assert_ne!(results[0]["outcome"], "invalid");
    assert_eq!(results[1]["outcome"], "invalid");
    assert_eq!(results[1]["errors"][0]["field"], "step");
}

#[tokio::test]
async fn only_system_and_admin_may_post_case_steps_and_non_json_is_refused() {
    let api = api().await;
    let body = recent_json("evt-r", "call_completed", "+46701234567").to_string();
    let (status, _) = api
        .post(
            "/api/v1/case-steps",
            Role::Lead,
            "application/json",
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api
        .post("/api/v1/case-steps", Role::System, "text/plain", body)
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn an_admin_deactivates_a_contact_who_left_and_others_may_not() {
    let api = api().await;
    let csv = "client_id,contact_id,email,industry\nnordtel,c-7,g@example.com,telecom\n";
    let (status, _) = api
        .post("/api/v1/contacts", Role::Admin, "text/csv", csv.to_string())
        .await;
    assert_eq!(status, StatusCode::OK);
    let path = "/api/v1/contacts/nordtel/c-7";
    for role in [Role::Lead, Role::System] {
        assert_eq!(api.delete(path, role).await.0, StatusCode::FORBIDDEN);
    }
    let (status, body) = api.delete(path, Role::Admin).await;
    assert_eq!((status, &body["cancelled"]), (StatusCode::OK, &0.into()));
    let stored = api.creditor("nordtel", "c-7").await;
    assert!(!stored.active);
    let (status, body) = api
        .delete("/api/v1/contacts/nordtel/c-unknown", Role::Admin)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // An `active` column brings the contact back.
    let csv =
        "client_id,contact_id,email,industry,active\nnordtel,c-7,g@example.com,telecom,true\n";
    api.post("/api/v1/contacts", Role::Admin, "text/csv", csv.to_string())
        .await;
    let back = api.creditor("nordtel", "c-7").await;
    assert!(back.active);
}

#[tokio::test]
async fn unreadable_csv_rows_are_named_by_line_and_the_rest_are_stored() {
    let api = api().await;
    // GIVEN a spreadsheet export with a byte order mark, a row with a column too
    // many and one with columns missing in the middle, and a last row whose quote
    // never closes (it swallows the rest of the file, so it comes last)
    let csv = "\u{feff}client_id,contact_id,email,industry,language\n\
               nordtel,c-1,a@example.com,telecom,fi\n\
               nordtel,c-2,b@example.com,telecom,fi,extra\n\
               nordtel,c-3,c@example.com\n\
               nordtel,c-4,d@example.com,telecom,pl\n\
               nordtel,c-5,\"e@example.com,telecom,sv\n";
    // WHEN it is uploaded
    let (status, report) = api
        .post("/api/v1/contacts", Role::Admin, "text/csv", csv.to_string())
        .await;
    // THEN the readable rows are stored and each unreadable one is named by its
    // row and its line in the file (the header is line 1)
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(report["upserted"], 2, "{report}");
    let rejected: Vec<(u64, u64, String)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["line"].as_u64().unwrap(),
                r["errors"][0]["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(rejected.len(), 3, "{report}");
    assert_eq!((rejected[0].0, rejected[0].1), (2, 3));
    assert!(
        rejected[0].2.contains("6 columns where the header has 5"),
        "{report}"
    );
    assert_eq!((rejected[1].0, rejected[1].1), (3, 4));
    assert!(rejected[1].2.contains("3 columns"), "{report}");
    assert_eq!((rejected[2].0, rejected[2].1), (5, 6));
    for id in ["c-1", "c-4"] {
        let stored = api
            .h
            .store
            .get_creditor(
                &ClientId::parse("nordtel").unwrap(),
                &ContactId::parse(id).unwrap(),
            )
            .await
            .unwrap();
        assert!(stored.is_some(), "{id} stored");
    }
    // AND nothing of a row's contents is echoed back
    assert!(!report.to_string().contains("@example.com"), "{report}");
}

#[tokio::test]
async fn contacts_upload_as_csv_stores_the_good_rows_and_names_the_bad_ones() {
    let api = api().await;
    let csv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/contacts.csv"
    ))
    .unwrap();
    let (status, _) = api
        .post("/api/v1/contacts", Role::System, "text/csv", csv.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "contacts are for admins");
    let (status, report) = api
        .post("/api/v1/contacts", Role::Admin, "text/csv", csv)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["upserted"], 3);
    assert_eq!(report["rejected"][0]["row"], 4);
    assert_eq!(report["rejected"][0]["errors"][0]["field"], "email");
    let stored = api
        .h
        .store
        .get_creditor(
            &ClientId::parse("acme-energy").unwrap(),
            &ContactId::parse("c-2").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.language, kundpuls::domain::locale::Language::Pl);
    // JSON works too, and an all-good upload is 200.
    let json = serde_json::json!([{"client_id": "nordtel", "contact_id": "c-9", "email": "x@example.com", "industry": "telecom"}]);
    let (status, report) = api
        .post(
            "/api/v1/contacts",
            Role::Admin,
            "application/json",
            json.to_string(),
        )
        .await;
    assert_eq!(
        (status, report["upserted"].as_u64()),
        (StatusCode::OK, Some(1))
    );
}
