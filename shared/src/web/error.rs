//! API errors: one mapping from what went wrong to a status and a JSON body
//! `{"error": {"code", "message", "fields"?}}`. Internal detail is logged, never sent.

use crate::domain::error::{FieldError, InvalidInput};
use crate::ports::StoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

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

/// Every error's body: `{"error": {"code", "message", "fields"?, "current_version"?}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For people; the code is for programs.
    pub message: String,
    /// With `invalid_input`: every field that was refused, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub fields: Option<Vec<FieldError>>,
    /// With `conflict`: the version to reload.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub current_version: Option<u64>,
}

/// What went wrong, for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 422: fields named in `fields`.
    InvalidInput,
    /// 400: the body or a parameter cannot be read at all.
    BadRequest,
    /// 400: a page cursor that this listing did not give out.
    InvalidCursor,
    /// 401: no bearer token, or not a valid one.
    Unauthorized,
    /// 403: not for this role or team.
    Forbidden,
    /// 404
    NotFound,
    /// 405
    MethodNotAllowed,
    /// 409: edited since it was read; `current_version` says what to reload.
    Conflict,
    /// 413
    PayloadTooLarge,
    /// 415
    UnsupportedMediaType,
    /// 428: send the version you edited in `If-Match`.
    PreconditionRequired,
    /// 503: storage unavailable; retry.
    Unavailable,
}

impl ErrorBody {
    fn new(code: ErrorCode, message: String) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message,
                fields: None,
                current_version: None,
            },
        }
    }
}

/// A status and body in the API's error shape; 401 says how to authenticate.
fn error_response(status: StatusCode, body: ErrorBody) -> Response {
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            "www-authenticate",
            axum::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidInput),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            ApiError::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, ErrorCode::Conflict),
            ApiError::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                ErrorCode::PreconditionRequired,
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            ApiError::Store(StoreError::InvalidCursor) => {
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidCursor)
            }
            ApiError::Store(e) => {
                tracing::error!(error = %e, "storage failure");
                (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable)
            }
        };
        let mut body = ErrorBody::new(code, self.to_string());
        if let ApiError::Invalid(InvalidInput(fields)) = &self {
            body.error.fields = Some(fields.clone());
        }
        if let ApiError::Conflict { current } = &self {
            body.error.current_version = Some(*current);
        }
        error_response(status, body)
    }
}

/// Puts the framework's own refusals (an unreadable JSON body or query, a wrong
/// method, a body too large, an unknown route) into the API's error shape. Their
/// text is replaced by a fixed message: it can quote the request.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "this route does not take that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge, "the body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "unsupported content type; send application/json",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            ErrorCode::InvalidInput,
            "the body does not have the expected fields and types",
        ),
        StatusCode::UNAUTHORIZED => (ErrorCode::Unauthorized, "missing or invalid bearer token"),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "not allowed"),
        s if s.is_server_error() => (ErrorCode::Unavailable, "please try again"),
        _ => (ErrorCode::BadRequest, "the request cannot be read"),
    };
    let mut fixed = error_response(status, ErrorBody::new(code, message.to_string()));
    if let Some(allow) = response.headers().get(axum::http::header::ALLOW) {
        fixed
            .headers_mut()
            .insert(axum::http::header::ALLOW, allow.clone());
    }
    fixed
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

/// The refusals every JSON operation may answer, all in the [`ErrorBody`] shape.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ApiErrors {
    /// The body, a parameter or a page cursor cannot be read.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No bearer token, or not a valid one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Not for this role or team.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such record (or route).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The method is not one this path takes.
    #[response(status = 405)]
    MethodNotAllowed(ErrorBody),
    /// The body is larger than the route takes.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// The body is not of a type the route takes.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Fields refused: each is named in `fields`.
    #[response(status = 422)]
    Invalid(ErrorBody),
    /// Storage unavailable; the request changed nothing it cannot repeat. Retry.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The extra refusals of an edit: optimistic concurrency.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum EditErrors {
    /// Changed since it was read: reload `current_version` and edit again.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// No version sent: send the `ETag` you read as `If-Match`.
    #[response(status = 428)]
    PreconditionRequired(ErrorBody),
}
