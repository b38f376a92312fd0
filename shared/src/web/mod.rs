//! The HTTP side: axum routers served by `lambda_http` on Lambda and by `axum::serve`
//! in `kundpuls serve`. Handlers parse, call a use case, and map the outcome.

pub mod auth;
pub mod charts;
pub mod clients_api;
pub mod console;
pub mod console_api;
pub mod dev;
mod endpoints;
pub mod erasure;
pub mod error;
pub mod exports;
pub mod headers;
pub mod html;
pub mod ingest;
pub mod openapi;
pub mod ratelimit;
pub mod reports;
pub mod sign_in;
pub mod stamp;
pub mod state;
pub mod survey;
pub mod themes_api;
pub mod warnings_api;

pub use state::{AppState, Authenticator};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Request bodies above this are refused (a CSV of 10,000 contacts fits).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

async fn healthz() -> &'static str {
    "ok"
}

// The ingest API: case steps from the case system, contacts from admins.
endpoints::api!(ingest_served, ingest_documented:
    (ingest::case_steps),
    (ingest::contacts),
    (ingest::deactivate_contact),
);

// The console's JSON API (feedback, improvements, themes, reports, exports,
// erasure).
endpoints::api!(console_api_served, console_api_documented:
    (console_api::list_feedback),
    (console_api::get_feedback, console_api::patch_feedback),
    (console_api::list_improvements, console_api::create_improvement),
    (console_api::get_improvement, console_api::patch_improvement),
    (themes_api::get_themes, themes_api::put_themes),
    (clients_api::list_clients),
    (clients_api::get_client, clients_api::put_client),
    (reports::report),
    (warnings_api::list_warnings),
    (exports::answers_csv),
    (exports::feedback_csv),
    (erasure::erase_person),
);

/// The OpenAPI document of every JSON route, built from the same declarations as
/// the routers (see [`openapi`]).
pub fn api_document() -> utoipa::openapi::OpenApi {
    let (_, document) = OpenApiRouter::<AppState>::with_openapi(openapi::ApiDoc::openapi())
        .merge(ingest_documented())
        .merge(console_api_documented())
        .routes(routes!(openapi::document))
        .split_for_parts();
    document
}

/// A JSON API router: its body limit, and every refusal in the API's error shape.
fn json_api(routes: endpoints::Endpoints, body_limit: usize) -> Router<AppState> {
    routes
        .router
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::map_response(error::json_errors))
}

/// `GET /api/v1/openapi.json`, served by every function with a JSON API.
fn openapi_router() -> Router<AppState> {
    Router::new().route(openapi::OPENAPI_PATH, get(openapi::document))
}

pub fn ingest_router() -> Router<AppState> {
    json_api(ingest_served(), MAX_BODY_BYTES)
}

pub fn console_api_router() -> Router<AppState> {
    json_api(console_api_served(), 1024 * 1024)
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
        .route("/console/auth/callback", get(console::callback))
        .route("/console/auth/refresh", get(console::refresh))
        .route("/console/auth/signed-out", get(console::signed_out))
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
        .route(
            "/console/clients",
            get(console::clients).post(console::save_client),
        )
        .route(
            "/console/themes",
            get(console::themes).post(console::edit_themes),
        )
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
        .route("/assets/brand/{file}", get(survey::brand_stylesheet))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .layer(axum::middleware::from_fn(survey::house_rules));
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
        .merge(openapi_router())
        .merge(console_router())
        // The limiter's refusals carry the survey pages' headers too.
        .merge(headers::secured(
            survey_router().layer(axum::middleware::from_fn_with_state(
                limit,
                ratelimit::limit_survey_links,
            )),
            &headers::SURVEY_PAGES,
        ))
        .route("/healthz", get(healthz))
        .route("/dev/outbox", get(dev::outbox))
        .with_state(state)
}

/// What the ingest Lambda serves behind API Gateway.
pub fn lambda_ingest_router(state: AppState) -> Router {
    Router::new()
        .merge(ingest_router())
        .merge(openapi_router())
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// What the console Lambda serves behind API Gateway: the JSON API and the pages.
pub fn lambda_console_router(state: AppState) -> Router {
    Router::new()
        .merge(console_api_router())
        .merge(openapi_router())
        .merge(console_router())
        .route("/healthz", get(healthz))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// `(path, METHOD)` of every operation in the OpenAPI document.
    fn documented() -> BTreeSet<(String, String)> {
        let document = serde_json::to_value(super::api_document()).expect("the document is JSON");
        let paths = document["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .expect("a path item")
                    .keys()
                    .filter(|key| {
                        ["get", "put", "post", "delete", "patch", "head", "options"]
                            .contains(&key.as_str())
                    })
                    .map(|method| (path.clone(), method.to_uppercase()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn method_name(method: &utoipa::openapi::path::HttpMethod) -> String {
        let name = serde_json::to_value(method).expect("a method is JSON");
        name.as_str().expect("a method is a string").to_uppercase()
    }

    #[test]
    fn the_functions_serve_exactly_the_documented_operations() {
        let mut served: BTreeSet<(String, String)> = [
            super::ingest_served().list,
            super::console_api_served().list,
        ]
        .into_iter()
        .flatten()
        .flat_map(|(path, methods)| {
            methods
                .into_iter()
                .map(move |m| (path.clone(), method_name(&m)))
        })
        .collect();
        served.insert((super::openapi::OPENAPI_PATH.to_string(), "GET".into()));
        let documented = documented();
        assert!(documented.len() >= 20, "{documented:?}");
        assert_eq!(served, documented);
    }
}
