//! `GET /api/v1/clients`, `GET` and `PUT /api/v1/clients/{client_id}`: each client's
//! name, SMS sender, targets and brand. Leads and admins read; admins write, with
//! optimistic concurrency (`If-Match`), every save logged.

use super::auth::Principal;
use super::console_api::{IfMatch, admin, console_user, expected_version, parse_body, with_etag};
use super::error::{ApiError, ApiErrors, EditErrors};
use super::state::AppState;
use crate::app::clients::ClientEditError;
use crate::domain::backlog::Activity;
use crate::domain::client::{ClientSettings, ClientSettingsInput};
use crate::domain::error::FieldError;
use crate::domain::ids::ClientId;
use crate::ports::PageRequest;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientListQuery {
    /// 1–200 (50).
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// A page of clients with settings, by client id.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClientPage {
    pub items: Vec<ClientSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A client's settings and who changed them when.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClientView {
    pub settings: ClientSettings,
    pub activity: Vec<Activity>,
}

fn client_id(raw: &str) -> Result<ClientId, ApiError> {
    ClientId::parse(raw).map_err(|e| FieldError::new("client_id", e).into())
}

/// Every client with settings.
#[utoipa::path(
    get,
    path = "/api/v1/clients",
    tag = "clients",
    params(ClientListQuery),
    responses((status = 200, body = ClientPage), ApiErrors)
)]
pub async fn list_clients(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<ClientListQuery>,
) -> Result<Json<ClientPage>, ApiError> {
    console_user(&p)?;
    let page = state
        .services
        .list_client_settings(PageRequest {
            cursor: q.cursor.filter(|c| !c.is_empty()),
            limit: q.limit.unwrap_or(50).clamp(1, 200),
        })
        .await?;
    Ok(Json(ClientPage {
        items: page.items,
        next: page.next,
    }))
}

/// One client's settings and their log; 404 for a client without settings.
#[utoipa::path(
    get,
    path = "/api/v1/clients/{client_id}",
    tag = "clients",
    params(("client_id" = String, Path, description = "The case system's client id")),
    responses((status = 200, body = ClientView, headers(("ETag" = String))), ApiErrors)
)]
pub async fn get_client(
    State(state): State<AppState>,
    p: Principal,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    console_user(&p)?;
    let client = client_id(&raw)?;
    let backlog = &state.services.backlog;
    let settings = backlog
        .get_client_settings(&client)
        .await?
        .ok_or(ApiError::NotFound)?;
    let activity = backlog.client_settings_activity(&client).await?;
    Ok(with_etag(
        settings.version,
        ClientView { settings, activity },
    ))
}

/// Creates (`If-Match: "0"`) or replaces a client's settings (admins).
#[utoipa::path(
    put,
    path = "/api/v1/clients/{client_id}",
    tag = "clients",
    params(("client_id" = String, Path, description = "The case system's client id"), IfMatch),
    request_body = ClientSettingsInput,
    responses((status = 200, body = ClientSettings, headers(("ETag" = String))), EditErrors, ApiErrors)
)]
pub async fn put_client(
    State(state): State<AppState>,
    p: Principal,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Json(mut body): Json<Value>,
) -> Result<Response, ApiError> {
    admin(&p)?;
    let client = client_id(&raw)?;
    let version = expected_version(&headers, &mut body)?;
    let input: ClientSettingsInput = parse_body(body)?;
    match state
        .services
        .update_client_settings(client, input, version, &p.user, jiff::Timestamp::now())
        .await
    {
        Ok(saved) => Ok(with_etag(saved.version, saved)),
        Err(ClientEditError::Invalid(invalid)) => Err(ApiError::Invalid(invalid)),
        Err(ClientEditError::Conflict { current }) => Err(ApiError::Conflict { current }),
        Err(ClientEditError::Store(e)) => Err(e.into()),
    }
}
