//! `GET` and `PUT /api/v1/themes`: the theme lexicon that tags comments, read by
//! leads and admins, replaced by admins with optimistic concurrency.

use super::auth::Principal;
use super::console_api::{IfMatch, admin, console_user, expected_version, parse_body, with_etag};
use super::error::{ApiError, ApiErrors, EditErrors};
use super::state::AppState;
use crate::domain::error::FieldError;
use crate::domain::themes::{Lexicon, StoredLexicon};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

/// The theme lexicon in use (the built-in one until an admin saves one).
#[utoipa::path(
    get,
    path = "/api/v1/themes",
    tag = "insight",
    responses((status = 200, body = StoredLexicon, headers(("ETag" = String))), ApiErrors)
)]
pub async fn get_themes(State(state): State<AppState>, p: Principal) -> Result<Response, ApiError> {
    console_user(&p)?;
    let stored: StoredLexicon = state.services.stored_lexicon().await?;
    Ok(with_etag(stored.version, stored))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemesBody {
    lexicon: Lexicon,
}

/// Replaces the lexicon (admins).
#[utoipa::path(
    put,
    path = "/api/v1/themes",
    tag = "insight",
    params(IfMatch),
    request_body = ThemesBody,
    responses((status = 200, body = StoredLexicon, headers(("ETag" = String))), EditErrors, ApiErrors)
)]
pub async fn put_themes(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Json(mut body): Json<Value>,
) -> Result<Response, ApiError> {
    admin(&p)?;
    let version = expected_version(&headers, &mut body)?;
    let ThemesBody { lexicon } = parse_body(body)?;
    match state
        .services
        .update_lexicon(lexicon, version, &p.user, jiff::Timestamp::now())
        .await
    {
        Ok(stored) => Ok(with_etag(stored.version, stored)),
        Err(crate::app::themes::LexiconEditError::Invalid(problems)) => {
            Err(ApiError::Invalid(crate::domain::error::InvalidInput(
                problems
                    .into_iter()
                    .map(|p| FieldError::new("lexicon", p))
                    .collect(),
            )))
        }
        Err(crate::app::themes::LexiconEditError::Conflict { current }) => {
            Err(ApiError::Conflict { current })
        }
        Err(crate::app::themes::LexiconEditError::Store(e)) => Err(e.into()),
    }
}
