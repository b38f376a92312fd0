//! The console's JSON API over HTTP (local router, local tokens): team scoping (401
//! without a token, 403 across teams), filters and cursor pagination, `If-Match`
//! edits with 409 on a concurrent edit, the activity log, improvements ranked by
//! impact, and the admin-edited lexicon used by routing.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kundpuls::app::Services;
use kundpuls::domain::ids::TeamId;
use kundpuls::web::auth::{LocalKey, Role};
use kundpuls::web::{AppState, Authenticator, local_router};
use kundpuls_tests::answers::{always, answer};
use kundpuls_tests::{Backend, Harness, app};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Api {
    router: axum::Router,
    key: LocalKey,
    h: Harness,
    services: Services,
}

async fn api() -> Api {
    let h = Harness::embedded().await;
    let Backend::Embedded { dir, .. } = &h.backend else {
        unreachable!()
    };
    let key = LocalKey::load_or_create(dir.path()).unwrap();
    let (services, outbox) = app::local(&h, always());
    let router = local_router(AppState {
        services: services.clone(),
        auth: Authenticator::Local(key.clone()),
        stamp: kundpuls::web::stamp::StampKey::new(&key.derive("render-stamp")),
        outbox: Some(outbox),
        sign_in: None,
        demo: false,
    });
    Api {
        router,
        key,
        h,
        services,
    }
}

/// Who calls: a lead of `energy`, a lead of `telecom`, an admin, or nobody.
#[derive(Clone, Copy)]
enum Who {
    EnergyLead,
    TelecomLead,
    Admin,
    Nobody,
}

impl Api {
    fn token(&self, who: Who) -> Option<String> {
        let (user, role, team) = match who {
            Who::EnergyLead => ("lead-energy", Role::Lead, "energy"),
            Who::TelecomLead => ("lead-telecom", Role::Lead, "telecom"),
            Who::Admin => ("admin-1", Role::Admin, "energy"),
            Who::Nobody => return None,
        };
        Some(
            self.key
                .sign(user, role, &[TeamId::parse(team).unwrap()], 1)
                .unwrap(),
        )
    }

    /// GET, with the `ETag` (for an `If-Match` afterwards).
    async fn get_with_etag(&self, who: Who, path: &str) -> (StatusCode, Value, Option<String>) {
        self.call(who, "GET", path, None, None).await
    }

    async fn post(&self, who: Who, path: &str, body: Value) -> (StatusCode, Value, Option<String>) {
        self.call(who, "POST", path, None, Some(body)).await
    }

    async fn patch(
        &self,
        who: Who,
        path: &str,
        if_match: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value, Option<String>) {
        self.call(who, "PATCH", path, if_match, Some(body)).await
    }

    async fn put_themes(
        &self,
        who: Who,
        if_match: Option<&str>,
        lexicon: Value,
    ) -> (StatusCode, Value, Option<String>) {
        self.call(who, "PUT", "/api/v1/themes", if_match, Some(lexicon))
            .await
    }

    async fn delete(&self, who: Who, path: &str) -> (StatusCode, Value, Option<String>) {
        self.call(who, "DELETE", path, None, None).await
    }

    async fn call(
        &self,
        who: Who,
        method: &str,
        path: &str,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = self.token(who) {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(v) = if_match {
            request = request.header("if-match", v);
        }
        let request = match body {
            Some(b) => request
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            etag,
        )
    }

    async fn get(&self, who: Who, path: &str) -> (StatusCode, Value) {
        let (s, b, _) = self.get_with_etag(who, path).await;
        (s, b)
    }
}

#[tokio::test]
async fn leads_see_only_their_team_and_nobody_sees_anything_without_a_token() {
    let api = api().await;
    let a = answer(&api.h, &api.services, 1, 1, Some("Otrevlig"), false).await;
    api.services.route_answer(&a).await.unwrap();
    let path = format!("/api/v1/feedback/{}", a.feedback_id());

    assert_eq!(
        api.get(Who::Nobody, &path).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.get(Who::TelecomLead, &path).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get(Who::TelecomLead, "/api/v1/feedback?team=energy&status=new")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, list) = api
        .get(Who::TelecomLead, "/api/v1/feedback?status=new")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "their own team is empty"
    );
    let edit = api
        .patch(
            Who::TelecomLead,
            &path,
            Some("\"1\""),
            json!({"status": "triaged"}),
        )
        .await;
    assert_eq!(edit.0, StatusCode::FORBIDDEN);

    let (status, view) = api.get(Who::EnergyLead, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["item"]["team"], "energy");
    assert_eq!(view["activity"].as_array().unwrap().len(), 1);
    assert_eq!(api.get(Who::Admin, &path).await.0, StatusCode::OK);
}

#[tokio::test]
async fn filters_and_cursor_pages_walk_the_queue_once() {
    let api = api().await;
    // 7 items for energy: 1–2 without complaint themes are normal priority.
    let comments = [
        "Otrevlig ton",
        "Lång kö",
        "Otrevlig och hotfull",
        "Svårt att förstå",
        "Otrevlig igen",
        "Väntade länge",
        "Hotfull",
    ];
    for (n, c) in comments.iter().enumerate() {
        let a = answer(&api.h, &api.services, 10 + n as u32, 2, Some(c), false).await;
        api.services.route_answer(&a).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let (status, page) = api
            .get(
                Who::EnergyLead,
                &format!("/api/v1/feedback?status=new&limit=3&cursor={cursor}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        for i in page["items"].as_array().unwrap() {
            seen.push(i["id"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (7, 7), "every item once");

    // A cursor is good only in the listing that gave it out: another status's
    // listing, or a made-up one, is a 400 that names the cursor.
    let (_, first) = api
        .get(Who::EnergyLead, "/api/v1/feedback?status=new&limit=3")
        .await;
    let given = first["next"].as_str().expect("a second page");
    for path in [
        format!("/api/v1/feedback?status=in_progress&cursor={given}"),
        "/api/v1/feedback?status=new&cursor=eyJwayI6IkZFRURCQUNLI3gifQ".to_string(),
    ] {
        let (status, body) = api.get(Who::EnergyLead, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body["error"]["code"], "invalid_cursor", "{path}");
    }

    let (_, high) = api
        .get(
            Who::EnergyLead,
            "/api/v1/feedback?status=new&priority=high&limit=2",
        )
        .await;
    let high_items = high["items"].as_array().unwrap();
    assert_eq!(high_items.len(), 2);
    assert!(high_items.iter().all(|i| i["priority"] == "high"));
    // The filtered walk continues where it stopped.
    let (_, rest) = api
        .get(
            Who::EnergyLead,
            &format!(
                "/api/v1/feedback?status=new&priority=high&limit=50&cursor={}",
                high["next"].as_str().unwrap()
            ),
        )
        .await;
    let all_high = high_items.len() + rest["items"].as_array().unwrap().len();
    let (_, waiting) = api
        .get(
            Who::EnergyLead,
            "/api/v1/feedback?status=new&theme=waiting_and_reachability",
        )
        .await;
    assert_eq!(waiting["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        all_high, 4,
        "Otrevlig ×3 and Hotfull are treatment complaints"
    );
    let (status, bad) = api
        .get(Who::EnergyLead, "/api/v1/feedback?status=open")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["error"]["fields"][0]["field"], "status");
    // Due tomorrow (one business day) is not overdue today.
    let (_, overdue) = api
        .get(
            Who::EnergyLead,
            "/api/v1/feedback?status=new&due_before=2026-11-24",
        )
        .await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 0);
    let (_, overdue) = api
        .get(
            Who::EnergyLead,
            "/api/v1/feedback?status=new&due_before=2026-12-31",
        )
        .await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn a_stale_edit_gets_409_and_every_change_is_logged() {
    let api = api().await;
    let a = answer(&api.h, &api.services, 30, 1, Some("Otrevlig"), false).await;
    api.services.route_answer(&a).await.unwrap();
    let path = format!("/api/v1/feedback/{}", a.feedback_id());
    let (_, _, etag) = api.get_with_etag(Who::EnergyLead, &path).await;
    assert_eq!(etag.as_deref(), Some("\"1\""));

    // Without a version: 428.
    let (status, _, _) = api
        .patch(Who::EnergyLead, &path, None, json!({"status": "triaged"}))
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    // Two leads edit version 1: the first wins, the second gets 409 with the version.
    let (status, item, etag) = api
        .patch(
            Who::EnergyLead,
            &path,
            Some("\"1\""),
            json!({"status": "triaged", "assignee": "anna", "note": "Ringer upp i morgon"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (item["status"].as_str(), item["version"].as_u64()),
        (Some("triaged"), Some(2))
    );
    assert_eq!(etag.as_deref(), Some("\"2\""));
    let (status, conflict, _) = api
        .patch(
            Who::Admin,
            &path,
            Some("\"1\""),
            json!({"status": "dismissed"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"]["current_version"], 2);
    // A move the workflow does not allow is a 422 naming the field.
    let (status, bad, _) = api
        .patch(
            Who::EnergyLead,
            &path,
            None,
            json!({"version": 2, "status": "new"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["error"]["fields"][0]["field"], "status");
    // Closing the loop, with the version in the body.
    let (status, item, _) = api
        .patch(
            Who::EnergyLead,
            &path,
            None,
            json!({"version": 2, "contacted": true, "status": "resolved"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(item["contacted_at"].is_string());
    let (_, view) = api.get(Who::EnergyLead, &path).await;
    let log: Vec<String> = view["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["actor"].as_str().unwrap(),
                a["action"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(
        log[1].starts_with("lead-energy status: new → triaged; assigned to anna; note: Ringer upp")
    );
    assert!(log[2].contains("respondent contacted"));
}

#[tokio::test]
async fn improvements_link_items_and_rank_by_impact() {
    let api = api().await;
    let mut ids = Vec::new();
    for (n, (score, comment)) in [
        (1, "Brevet var svårt att förstå"),
        (2, "Otydligt brev"),
        (4, "Bra"),
    ]
    .iter()
    .enumerate()
    {
        let a = answer(
            &api.h,
            &api.services,
            40 + n as u32,
            *score,
            Some(comment),
            false,
        )
        .await;
        api.services.route_answer(&a).await.unwrap();
        ids.push(a.feedback_id().to_string());
    }
    let (status, small, _) = api
        .post(
            Who::EnergyLead,
            "/api/v1/improvements",
            json!({"title": "Greeting script", "team": "energy"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, letter, _) = api
        .post(
            Who::EnergyLead,
            "/api/v1/improvements",
            json!({"title": "Rewrite the payment-plan letter", "team": "energy"}),
        )
        .await;
    let (status, _, _) = api
        .post(
            Who::TelecomLead,
            "/api/v1/improvements",
            json!({"title": "Not mine", "team": "energy"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Two low scores to the letter, the praise to the script.
    for (id, imp) in [(&ids[0], &letter), (&ids[1], &letter), (&ids[2], &small)] {
        let (status, item, _) = api
            .patch(
                Who::EnergyLead,
                &format!("/api/v1/feedback/{id}"),
                Some("1"),
                json!({"improvement_id": imp["id"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{item}");
    }
    let (status, board) = api.get(Who::EnergyLead, "/api/v1/improvements").await;
    assert_eq!(status, StatusCode::OK);
    let board = board.as_array().unwrap();
    assert_eq!(board[0]["title"], "Rewrite the payment-plan letter");
    assert_eq!(
        (
            board[0]["linked_count"].as_u64(),
            board[0]["low_scores"].as_u64()
        ),
        (Some(2), Some(2))
    );
    // 2 linked + 3×2 low + 2×1 client.
    assert_eq!(board[0]["impact"], 10);
    assert_eq!(board[1]["impact"], 3);
    // Moving an item to another improvement unlinks it from the first.
    let (status, _, _) = api
        .patch(
            Who::EnergyLead,
            &format!("/api/v1/feedback/{}", ids[1]),
            Some("2"),
            json!({"improvement_id": small["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, board) = api.get(Who::EnergyLead, "/api/v1/improvements").await;
    let counts: Vec<u64> = board
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["linked_count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), 3);
    // Status moves are versioned too.
    let path = format!("/api/v1/improvements/{}", letter["id"].as_str().unwrap());
    let (_, imp, etag) = api.get_with_etag(Who::EnergyLead, &path).await;
    let (status, planned, _) = api
        .patch(
            Who::EnergyLead,
            &path,
            etag.as_deref(),
            json!({"status": "planned"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imp}");
    assert_eq!(planned["status"], "planned");
    assert_eq!(
        api.get(Who::TelecomLead, &path).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_admin_edits_the_lexicon_and_routing_uses_it() {
    let api = api().await;
    let (status, themes, etag) = api.get_with_etag(Who::Admin, "/api/v1/themes").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        etag.as_deref(),
        Some("\"0\""),
        "the built-in lexicon until edited"
    );
    let mut lexicon = themes["lexicon"].clone();
    lexicon["sv"]["payment_plan"]
        .as_array_mut()
        .unwrap()
        .push(json!("Klarna"));
    let (status, _, _) = api
        .put_themes(Who::EnergyLead, Some("\"0\""), json!({"lexicon": lexicon}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "leads read, admins edit");
    let (status, saved, etag) = api
        .put_themes(Who::Admin, Some("\"0\""), json!({"lexicon": lexicon}))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    let (status, _, _) = api
        .put_themes(Who::Admin, Some("\"0\""), json!({"lexicon": lexicon}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    lexicon["sv"]["payment_plan"]
        .as_array_mut()
        .unwrap()
        .push(json!("x"));
    let (status, bad, _) = api
        .put_themes(Who::Admin, Some("\"1\""), json!({"lexicon": lexicon}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    // The new stem (stored lower-case) tags an inflected form.
    let a = answer(
        &api.h,
        &api.services,
        50,
        3,
        Some("Ville betala med Klarnas app"),
        false,
    )
    .await;
    api.services.route_answer(&a).await.unwrap();
    let item = api
        .h
        .store
        .get_feedback(&a.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert!(
        item.themes.contains(&"payment_plan".to_string()),
        "{:?}",
        item.themes
    );
    let before = kundpuls::domain::themes::Lexicon::default().tag(
        kundpuls::domain::locale::Language::Sv,
        "Ville betala med Klarnas app",
    );
    assert!(
        !before.contains_key("payment_plan"),
        "only the edit tags it"
    );
}

#[tokio::test]
async fn reports_are_scoped_to_the_callers_teams_and_say_what_is_wrong() {
    let api = api().await;
    let a = answer(&api.h, &api.services, 60, 2, Some("Lång kö"), false).await;
    api.services.route_answer(&a).await.unwrap();
    // A lead's report is their team's, whatever they ask for.
    let (status, report) = api
        .get(
            Who::EnergyLead,
            "/api/v1/reports/csat?group_by=handler&from=2026-11&to=2026-11",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["team"], "energy");
    assert_eq!(report["rows"][0]["key"], "h-anna");
    assert_eq!(report["rows"][0]["n"], 1);
    assert_eq!(report["rows"][0]["csat"]["mean"], 2.0);
    assert_eq!(report["target"], 4.0);
    let (status, report) = api
        .get(
            Who::TelecomLead,
            "/api/v1/reports/csat?group_by=handler&from=2026-11&to=2026-11",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        report["rows"].as_array().unwrap().len(),
        0,
        "telecom has no answers"
    );
    assert_eq!(
        api.get(Who::TelecomLead, "/api/v1/reports/csat?team=energy")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get(Who::Nobody, "/api/v1/reports/nps").await.0,
        StatusCode::UNAUTHORIZED
    );
    // The admin sees the agency.
    let (_, report) = api
        .get(
            Who::Admin,
            "/api/v1/reports/csat?group_by=team&from=2026-11&to=2026-11",
        )
        .await;
    assert!(report["team"].is_null());
    assert_eq!(report["total"]["n"], 1);
    // Wrong input is a 422 naming the parameter.
    for (query, field) in [
        ("group_by=colour", "group_by"),
        ("from=2026-13", "from"),
        ("from=2026-11&to=2026-09", "from"),
        ("group_by=handler&client=acme-energy", "group_by"),
        ("shoe=42", "shoe"),
    ] {
        let (status, body) = api
            .get(Who::Admin, &format!("/api/v1/reports/csat?{query}"))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(body["error"]["fields"][0]["field"], field, "{query}");
    }
    assert_eq!(
        api.get(Who::Admin, "/api/v1/reports/ces").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn get_text(api: &Api, who: Who, path: &str) -> (StatusCode, String, Option<String>) {
    let mut request = Request::builder().method("GET").uri(path);
    if let Some(token) = api.token(who) {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = api
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let ct = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap(), ct)
}

#[tokio::test]
async fn csv_exports_stream_every_answer_and_item_of_the_team_without_contact_data() {
    let api = api().await;
    // 1,203 answers: more than two export pages.
    let mut ids = std::collections::BTreeSet::new();
    for n in 0..1_203u32 {
        let a = answer(
            &api.h,
            &api.services,
            1_000 + n,
            1 + (n % 5) as u8,
            (n % 3 == 0).then_some("Långa väntetider; \"svårt\""),
            false,
        )
        .await;
        api.services.route_answer(&a).await.unwrap();
        ids.insert(a.survey_id.to_string());
    }
    let (status, csv, ct) = get_text(
        &api,
        Who::EnergyLead,
        "/api/v1/export/answers.csv?kind=csat&from=2026-11&to=2026-11&bom=true",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("text/csv; charset=utf-8"));
    assert!(csv.starts_with('\u{feff}'), "a BOM for Excel");
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        kundpuls::web::exports::ANSWER_COLUMNS
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let exported: std::collections::BTreeSet<String> =
        rows.iter().map(|r| r[0].to_string()).collect();
    assert_eq!(exported, ids, "every answer exactly once");
    assert_eq!(rows.len(), ids.len());
    assert!(
        rows.iter().any(|r| &r[4] == "Långa väntetider; \"svårt\""),
        "quoting survives"
    );
    assert!(!csv.contains("+4674"), "no phone numbers");
    // Another team's lead gets their own (empty) team, and 403 for energy.
    let (_, other, _) = get_text(
        &api,
        Who::TelecomLead,
        "/api/v1/export/answers.csv?from=2026-11&to=2026-11",
    )
    .await;
    assert_eq!(other.lines().count(), 1, "header only");
    assert_eq!(
        get_text(
            &api,
            Who::TelecomLead,
            "/api/v1/export/answers.csv?team=energy"
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // Feedback: the items routing made (CSAT 1–2 and every comment).
    let (status, csv, _) = get_text(&api, Who::EnergyLead, "/api/v1/export/feedback.csv").await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let items = reader.records().count();
    let expected = (0..1_203u32).filter(|n| n % 5 < 2 || n % 3 == 0).count();
    assert_eq!(items, expected);
    assert_eq!(
        get_text(&api, Who::Nobody, "/api/v1/export/feedback.csv")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn only_an_admin_can_erase_a_person() {
    let api = api().await;
    let a = answer(&api.h, &api.services, 70, 1, Some("Otrevlig"), false).await;
    api.services.route_answer(&a).await.unwrap();
    let (status, _, _) = api.delete(Who::EnergyLead, "/api/v1/people/D-7781").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(api.h.store.answer(&a.survey_id).await.unwrap().is_some());
    let (status, body, _) = api.delete(Who::Admin, "/api/v1/people/D-7781").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["surveys"].as_u64(),
            body["answers"].as_u64(),
            body["feedback_items"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert!(api.h.store.answer(&a.survey_id).await.unwrap().is_none());
}

/// Client settings: admins create and edit them with `If-Match`, leads read them,
/// every refusal names its field, and every save is logged.
#[tokio::test]
async fn client_settings_are_versioned_validated_and_admin_only() {
    let api = api().await;
    let path = "/api/v1/clients/ellevio";
    let body = json!({
        "display_name": "Ellevio Energi",
        "sms_sender": "Ellevio",
        "nps_target": 45,
        "csat_target": 4.3,
        "brand_colour": "#0B5394",
        "reply_to": "kundservice@ellevio.example"
    });
    // A lead may not write; nobody may do anything.
    let (status, _, _) = api
        .call(
            Who::EnergyLead,
            "PUT",
            path,
            Some("\"0\""),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = api.call(Who::Nobody, "GET", path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Before any save the client has no settings.
    assert_eq!(api.get(Who::Admin, path).await.0, StatusCode::NOT_FOUND);
    // The admin creates them (version 0 → 1)…
    let (status, saved, etag) = api
        .call(Who::Admin, "PUT", path, Some("\"0\""), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(saved["brand_colour"], "#0b5394");
    assert_eq!(saved["updated_by"], "admin-1");
    // …a second create, or an edit on a stale version, is a conflict.
    let (status, conflict, _) = api
        .call(Who::Admin, "PUT", path, Some("\"0\""), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    let mut edit = body.clone();
    edit["csat_target"] = json!(4.5);
    let (status, _, etag) = api
        .call(Who::Admin, "PUT", path, Some("\"1\""), Some(edit))
        .await;
    assert_eq!((status, etag.as_deref()), (StatusCode::OK, Some("\"2\"")));
    // The lead reads the settings and their log, and the list.
    let (status, view) = api.get(Who::EnergyLead, path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["settings"]["csat_target"], 4.5);
    assert_eq!(view["activity"].as_array().unwrap().len(), 2);
    let (status, list) = api.get(Who::TelecomLead, "/api/v1/clients").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"][0]["client_id"], "ellevio");
    // Every wrong field is named.
    let bad = json!({
        "sms_sender": "Ab",
        "nps_target": 120,
        "csat_target": 0,
        "brand_colour": "#ffee00",
        "reply_to": "nobody"
    });
    let (status, refused, _) = api
        .call(
            Who::Admin,
            "PUT",
            "/api/v1/clients/acme",
            Some("\"0\""),
            Some(bad),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let fields: Vec<&str> = refused["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "display_name",
            "sms_sender",
            "nps_target",
            "csat_target",
            "brand_colour",
            "reply_to"
        ]
    );
    let (status, unknown, _) = api
        .call(
            Who::Admin,
            "PUT",
            "/api/v1/clients/acme",
            Some("\"0\""),
            Some(json!({"display_name": "Acme", "colour": "#000000"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{unknown}");
    let (status, _, _) = api
        .call(
            Who::Admin,
            "PUT",
            "/api/v1/clients/not%20an%20id",
            Some("\"0\""),
            Some(json!({"display_name": "Acme"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// `GET /api/v1/warnings`: a lead reads their team's early warnings, not another
/// team's (403 when named, nothing when not theirs); no token, 401.
#[tokio::test]
async fn early_warnings_are_read_per_team() {
    let api = api().await;
    let now = jiff::Timestamp::now();
    let energy = TeamId::parse("energy").unwrap();
    let mut answers =
        kundpuls_tests::generated::csat_window(&energy, "h-api", &[(4, 24), (5, 16)], 30, now);
    answers.extend(kundpuls_tests::generated::csat_window(
        &energy,
        "h-api",
        &[(3, 16), (4, 24)],
        0,
        now,
    ));
    for a in &answers {
        api.services.route_answer(a).await.unwrap();
    }
    let touched = std::collections::BTreeSet::from([(
        kundpuls::domain::survey::SurveyKind::Csat,
        energy.clone(),
    )]);
    let raised = api.services.early_warnings(&touched, now).await.unwrap();
    assert_eq!(
        raised.raised, 3,
        "the handler alone in the team: handler, team, client"
    );

    let (status, body, _) = api.get_with_etag(Who::EnergyLead, "/api/v1/warnings").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let scopes: Vec<(String, String)> = body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            assert_eq!(w["team"], "energy");
            assert_eq!(w["reasons"], json!(["below_target", "dropped"]));
            (
                w["dimension"].as_str().unwrap().to_string(),
                w["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = scopes.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            ("client".to_string(), "acme-energy".to_string()),
            ("handler".to_string(), "h-api".to_string()),
            ("team".to_string(), "energy".to_string()),
        ]
    );
    let (status, _, _) = api
        .get_with_etag(Who::TelecomLead, "/api/v1/warnings?team=energy")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body, _) = api
        .get_with_etag(Who::TelecomLead, "/api/v1/warnings")
        .await;
    assert_eq!(
        (status, body["warnings"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );
    let (status, body, _) = api.get_with_etag(Who::Admin, "/api/v1/warnings").await;
    assert_eq!(
        (status, body["warnings"].as_array().unwrap().len()),
        (StatusCode::OK, 3)
    );
    let (status, _, _) = api.get_with_etag(Who::Nobody, "/api/v1/warnings").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
