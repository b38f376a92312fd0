//! What every server-rendered page shares: an askama template rendered into a
//! response (its family's router adds the security headers, see `headers`), and
//! the cross-site check that form posts pass first.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The rendered page, or a bare 500 if rendering failed (logged as `what`;
/// nothing internal is shown).
pub fn page(
    status: StatusCode,
    body: Result<String, askama::Error>,
    what: &'static str,
) -> Response {
    match body {
        Ok(b) => (status, Html(b)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, page = what, "rendering a page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A cross-site form post (another origin in `Origin` or `Sec-Fetch-Site`).
pub(crate) fn cross_site(headers: &HeaderMap) -> bool {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site")) {
        return true;
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) if origin != "null" => {
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            origin_host != host
        }
        _ => false,
    }
}
