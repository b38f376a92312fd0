//! The HTTP side: axum routers served by `lambda_http` on Lambda and by `axum::serve`
//! in `kundpuls serve`. Handlers parse, call a use case, and map the outcome.

pub mod auth;
pub mod charts;
pub mod console;
pub mod console_api;
pub mod dev;
pub mod erasure;
pub mod error;
pub mod exports;
pub mod headers;
pub mod html;
pub mod ingest;
pub mod ratelimit;
pub mod reports;
pub mod stamp;
pub mod state;
pub mod survey;

pub use state::{AppState, Authenticator};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

/// Request bodies above this are refused (a CSV of 10,000 contacts fits).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

async fn healthz() -> &'static str {
    "ok"
}

/// The ingest API: case steps from the case system, contacts from admins.
pub fn ingest_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/case-steps", post(ingest::case_steps))
        .route("/api/v1/contacts", post(ingest::contacts))
        .route(
            "/api/v1/contacts/{client_id}/{contact_id}",
            delete(ingest::deactivate_contact),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The console's JSON API (feedback, improvements, themes).
pub fn console_api_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/feedback", get(console_api::list_feedback))
        .route(
            "/api/v1/feedback/{id}",
            get(console_api::get_feedback).patch(console_api::patch_feedback),
        )
        .route(
            "/api/v1/improvements",
            get(console_api::list_improvements).post(console_api::create_improvement),
        )
        .route(
            "/api/v1/improvements/{id}",
            get(console_api::get_improvement).patch(console_api::patch_improvement),
        )
        .route(
            "/api/v1/themes",
            get(console_api::get_themes).put(console_api::put_themes),
        )
        .route("/api/v1/reports/{kind}", get(reports::report))
        .route("/api/v1/export/answers.csv", get(exports::answers_csv))
        .route("/api/v1/people/{id}", delete(erasure::erase_person))
        .route("/api/v1/export/feedback.csv", get(exports::feedback_csv))
        .layer(DefaultBodyLimit::max(1024 * 1024))
}

/// The console pages for team leads, and their two assets.
pub fn console_router() -> Router<AppState> {
    let router = Router::new()
        .route("/console", get(console::queue))
        .route(
            "/console/login",
            get(console::login_form).post(console::login),
        )
        .route("/console/logout", post(console::logout))
        .route(
            "/console/feedback/{id}",
            get(console::item).post(console::triage),
        )
        .route(
            "/console/improvements",
            get(console::board).post(console::create_improvement),
        )
        .route(
            "/console/improvements/{id}",
            post(console::update_improvement),
        )
        .route("/console/reports", get(console::reports))
        .route(console::CSS_PATH, get(console::stylesheet))
        .route(console::JS_PATH, get(console::script))
        .layer(DefaultBodyLimit::max(64 * 1024));
    headers::secured(router, &headers::CONSOLE_PAGES)
}

/// The respondent's pages and their stylesheet.
pub fn survey_router() -> Router<AppState> {
    let router = Router::new()
        .route("/s/{token}", get(survey::show).post(survey::submit))
        .route(
            "/s/{token}/opt-out",
            get(survey::opt_out_confirm).post(survey::opt_out),
        )
        .route(survey::CSS_PATH, get(survey::stylesheet))
        .layer(DefaultBodyLimit::max(16 * 1024));
    headers::secured(router, &headers::SURVEY_PAGES)
}

/// What the answer-survey Lambda serves behind API Gateway (public routes).
pub fn lambda_survey_router(state: AppState) -> Router {
    Router::new().merge(survey_router()).with_state(state)
}

/// Requests per survey link per minute in the local server.
pub const LOCAL_LINK_REQUESTS_PER_MINUTE: u32 = 60;

/// Everything the local server serves.
pub fn local_router(state: AppState) -> Router {
    let limit = ratelimit::RateLimit::per_minute(LOCAL_LINK_REQUESTS_PER_MINUTE);
    Router::new()
        .merge(ingest_router())
        .merge(console_api_router())
        .merge(console_router())
        .merge(survey_router().layer(axum::middleware::from_fn_with_state(
            limit,
            ratelimit::limit_survey_links,
        )))
        .route("/healthz", get(healthz))
        .route("/dev/outbox", get(dev::outbox))
        .with_state(state)
}

/// What the ingest Lambda serves behind API Gateway.
pub fn lambda_ingest_router(state: AppState) -> Router {
    Router::new()
        .merge(ingest_router())
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// What the console Lambda serves behind API Gateway: the JSON API and the pages.
pub fn lambda_console_router(state: AppState) -> Router {
    Router::new()
        .merge(console_api_router())
        .merge(console_router())
        .route("/healthz", get(healthz))
        .with_state(state)
}
