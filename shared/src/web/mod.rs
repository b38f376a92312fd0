//! The HTTP side: axum routers served by `lambda_http` on Lambda and by `axum::serve`
//! in `kundpuls serve`. Handlers parse, call a use case, and map the outcome.

pub mod auth;
pub mod dev;
pub mod error;
pub mod ingest;
pub mod state;

pub use state::{AppState, Authenticator};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

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
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Everything the local server serves.
pub fn local_router(state: AppState) -> Router {
    Router::new()
        .merge(ingest_router())
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
