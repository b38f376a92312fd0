//! `DELETE /api/v1/people/{id}` (admins): erasure of a debtor or creditor contact on
//! request. The use case is [`crate::app::erasure`].

use super::auth::Principal;
use super::console_api::admin;
use super::error::{ApiError, ApiErrors};
use super::state::AppState;
use crate::domain::error::FieldError;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

/// What an erasure removed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Erased {
    pub erased_at: jiff::Timestamp,
    pub surveys: usize,
    pub answers: usize,
    pub feedback_items: usize,
    /// Creditor contact records removed (name, email; the contact leaves its wave).
    pub contacts: usize,
}

/// Erases one person's surveys, answers and comments; answers what went.
#[utoipa::path(
    delete,
    path = "/api/v1/people/{id}",
    tag = "insight",
    params(("id" = String, Path, description = "A debtor id or a creditor contact id")),
    responses((status = 200, body = Erased), ApiErrors)
)]
pub async fn erase_person(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin(&p)?;
    let id = id.trim();
    if id.is_empty() || id.len() > 128 {
        return Err(FieldError::new("id", "a debtor id or contact id").into());
    }
    let record = state
        .services
        .erase_person(id, &p.user, jiff::Timestamp::now())
        .await?;
    Ok(Json(Erased {
        erased_at: record.at,
        surveys: record.surveys,
        answers: record.answers,
        feedback_items: record.feedback_items,
        contacts: record.contacts,
    })
    .into_response())
}
