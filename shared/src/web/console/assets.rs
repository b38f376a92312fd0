//! The console's stylesheet and script, served under versioned paths.

use super::{CSS, JS};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}
