//! API errors: one mapping from what went wrong to a status and a JSON body
//! `{"error": {"code", "message", "fields"?}}`. Internal detail is logged, never sent.

use crate::domain::error::{FieldError, InvalidInput};
use crate::ports::StoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("invalid input")]
    Invalid(InvalidInput),
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("not allowed for this role or team")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error(
        "changed by someone else since you loaded it: the current version is {current}; reload and try again"
    )]
    Conflict { current: u64 },
    #[error("send the version you edited in If-Match (or as \"version\")")]
    PreconditionRequired,
    #[error("unsupported content type; send {0}")]
    UnsupportedMediaType(&'static str),
    #[error("storage unavailable")]
    Store(#[from] StoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::PreconditionRequired => {
                (StatusCode::PRECONDITION_REQUIRED, "precondition_required")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Store(StoreError::InvalidCursor) => {
                (StatusCode::BAD_REQUEST, "invalid_cursor")
            }
            ApiError::Store(e) => {
                tracing::error!(error = ?e, "storage failure");
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
        };
        let mut error = json!({"code": code, "message": self.to_string()});
        if let ApiError::Invalid(InvalidInput(fields)) = &self {
            error["fields"] = json!(fields);
        }
        if let ApiError::Conflict { current } = &self {
            error["current_version"] = json!(current);
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Invalid(InvalidInput(vec![e]))
    }
}

impl From<crate::app::triage::TriageError> for ApiError {
    fn from(e: crate::app::triage::TriageError) -> Self {
        use crate::app::triage::TriageError;
        match e {
            TriageError::NotFound => ApiError::NotFound,
            TriageError::Conflict { current } => ApiError::Conflict { current },
            TriageError::Invalid { field, reason } => FieldError::new(field, reason).into(),
            TriageError::Store(e) => ApiError::Store(e),
        }
    }
}
