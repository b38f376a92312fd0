//! `GET /dev/outbox`: what the local service "sent", newest first, with the links
//! ready to click. Mounted only by `kundpuls serve`, and it holds phone numbers and
//! addresses: it answers only a request addressed to a loopback `Host`, and only
//! with `--demo` or to someone signed in to the console.

use super::state::AppState;
use crate::adapters::outbox::OutboxLine;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "dev_outbox.html")]
struct OutboxPage<'a> {
    lines: &'a [OutboxLine],
    path: String,
}

/// `localhost`, `127.0.0.1`, `[::1]`, with or without a port.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

pub async fn outbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<super::console::ConsoleUser, Response>,
) -> Response {
    let Some(outbox) = &state.outbox else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !loopback_host(&headers) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if !state.demo
        && let Err(to_login) = user
    {
        return to_login;
    }
    let mut lines = match outbox.read_all() {
        Ok(lines) => lines,
        Err(e) => {
            tracing::error!(error = %e, "reading the outbox");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the outbox could not be read",
            )
                .into_response();
        }
    };
    lines.reverse();
    let page = OutboxPage {
        lines: &lines,
        path: outbox.path().display().to_string(),
    };
    match page.render() {
        Ok(html) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the outbox");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
