//! `GET /dev/outbox`: what the local service "sent", newest first, with the links
//! ready to click. Mounted only by `kundpuls serve`.

use super::state::AppState;
use crate::adapters::outbox::OutboxLine;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "dev_outbox.html")]
struct OutboxPage<'a> {
    lines: &'a [OutboxLine],
    path: String,
}

pub async fn outbox(State(state): State<AppState>) -> Response {
    let Some(outbox) = &state.outbox else {
        return StatusCode::NOT_FOUND.into_response();
    };
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
