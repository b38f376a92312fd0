//! Fuzzed edges: the parsers that take outside input, fed generated input by
//! proptest (stable toolchain, shrinking included). Each harness holds that the
//! parser never panics and never answers a server error, and where it takes
//! something, that it keeps its promises. The test command runs a smoke round (256
//! cases a harness); `scripts/fuzz` runs them for longer
//! (`PROPTEST_CASES`, bounded by time).

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use jiff::Timestamp;
use kundpuls::domain::case_step::CaseStepEvent;
use kundpuls::domain::ids::SurveyId;
use kundpuls::domain::policy::{SurveyPolicy, WeekWindows};
use kundpuls::domain::token::SurveyToken;
use kundpuls::web::auth::{LocalKey, Role};
use kundpuls::web::stamp::StampKey;
use kundpuls::web::{AppState, Authenticator, local_router};
use kundpuls_tests::events::{event, recent_json};
use kundpuls_tests::{Backend, Harness, app};
use proptest::prelude::*;
use std::sync::OnceLock;
use tower::ServiceExt;

/// JSON-ish text: real event fields with generated values, and plain noise.
fn event_text() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        any::<String>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        prop::collection::vec(any::<String>(), 0..20).prop_map(serde_json::Value::from),
    ];
    let fields = [
        "event_id",
        "occurred_at",
        "case_id",
        "client_id",
        "step",
        "handler_id",
        "team",
        "segment",
    ];
    prop_oneof![
        any::<String>(),
        prop::collection::vec((prop::sample::select(fields.to_vec()), value), 0..10).prop_map(
            |pairs| {
                let mut e = recent_json("evt-fuzz", "call_completed", "+46701234567");
                for (k, v) in pairs {
                    e[k] = v;
                }
                e.to_string()
            }
        ),
    ]
}

proptest! {
    #[test]
    fn the_case_step_parser_takes_only_what_it_can_keep(text in event_text()) {
        let now: Timestamp = Timestamp::now();
        if let Ok(step) = CaseStepEvent::from_json_at(text.as_bytes(), now) {
            // What it takes has checked identifiers and a time not too far ahead.
            prop_assert!(step.occurred_at <= now + jiff::SignedDuration::from_mins(10));
            prop_assert!(!step.event_id.as_str().is_empty());
        }
    }

    #[test]
    fn the_contacts_csv_parser_reads_rows_or_refuses_them(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        // Every readable row comes back; a broken header is a refusal, not a panic.
        let mut text = b"client_id,contact_id,email,industry\n".to_vec();
        text.extend(bytes);
        if let Ok(rows) = kundpuls::web::ingest::parse_csv(&text) {
            for row in rows {
                prop_assert!(row.line.is_some());
            }
        }
    }

    #[test]
    fn the_token_decoder_round_trips_what_it_takes(text in "[A-Za-z0-9_%=+/-]{0,40}") {
        if let Some(token) = SurveyToken::parse(&text) {
            prop_assert_eq!(token.expose(), text);
        }
    }

    #[test]
    fn the_render_stamp_is_never_trusted_when_forged(stamp in any::<String>()) {
        let key = StampKey::new(b"fuzz-stamp-key-0123456789abcdef01");
        let survey = SurveyId::parse("s-fuzz").unwrap();
        let now = Timestamp::now();
        // A stamp not issued by this key always makes the answer suspect.
        let real = key.issue(&survey, now - jiff::SignedDuration::from_secs(30), false, false);
        prop_assume!(stamp != real);
        prop_assert!(!key.check(&survey, Some(&stamp), now).is_empty());
    }
}

/// A local server with one sent survey, shared by the router harnesses.
struct Site {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    /// The survey pages as on AWS: without the local per-link limit, so every case
    /// reaches the form parser.
    pages: axum::Router,
    link: String,
    lead: String,
    _h: Harness,
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (router, pages, link, lead, h) = runtime.block_on(async {
            let h = Harness::embedded().await;
            let policy = SurveyPolicy {
                send_windows: WeekWindows::always(),
                ..SurveyPolicy::default()
            };
            let (services, outbox) = app::local(&h, policy);
            services
                .handle_case_step(
                    &event(&recent_json(
                        "evt-fuzz-site",
                        "call_completed",
                        "+46701239999",
                    )),
                    Timestamp::now(),
                )
                .await
                .unwrap();
            let link = outbox.read_all().unwrap()[0].link.clone();
            let Backend::Embedded { dir, .. } = &h.backend else {
                unreachable!()
            };
            let key = LocalKey::load_or_create(dir.path()).unwrap();
            let lead = key
                .sign(
                    "lead-fuzz",
                    Role::Lead,
                    &[kundpuls::domain::ids::TeamId::parse("energy").unwrap()],
                    1,
                )
                .unwrap();
            let state = AppState {
                services,
                auth: Authenticator::Local(key),
                stamp: StampKey::new(b"fuzz-site-stamp-key-0123456789ab"),
                outbox: None,
                sign_in: None,
                demo: false,
            };
            let pages = kundpuls::web::lambda_survey_router(state.clone());
            (local_router(state), pages, link, lead, h)
        });
        Site {
            runtime,
            router,
            pages,
            link,
            lead,
            _h: h,
        }
    })
}

fn status_of(router: &axum::Router, request: Request<Body>) -> StatusCode {
    site()
        .runtime
        .block_on(router.clone().oneshot(request))
        .unwrap()
        .status()
}

fn status(request: Request<Body>) -> StatusCode {
    status_of(&site().router, request)
}

proptest! {
    // A request costs more than a parse: 128 cases by default, PROPTEST_CASES rules.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_survey_form_parser_never_fails_the_server(body in "[a-z=&%0-9+. -]{0,300}") {
        let path = site().link.split_once("/s/").map(|(_, t)| format!("/s/{t}")).unwrap();
        let s = status_of(
            &site().pages,
            Request::post(path)
                .header("host", "127.0.0.1")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        );
        prop_assert!(!s.is_server_error(), "{}", s);
    }

    #[test]
    fn the_console_query_parameters_never_fail_the_server(query in "[a-z_=&%0-9+.,-]{0,120}") {
        let site = site();
        for path in ["/console", "/api/v1/feedback", "/console/reports", "/console/improvements"] {
            let s = status(
                Request::get(format!("{path}?{query}"))
                    .header("host", "127.0.0.1")
                    .header("authorization", format!("Bearer {}", site.lead))
                    .header("cookie", format!("kp_console={}", site.lead))
                    .body(Body::empty())
                    .unwrap(),
            );
            prop_assert!(!s.is_server_error(), "{} {}", path, s);
        }
    }
}
