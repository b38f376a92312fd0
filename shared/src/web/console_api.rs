//! The console's JSON API: the feedback queue, triage, improvements and the theme
//! lexicon. Team leads see and change only their teams' records; admins see all.
//! Edits carry the version they were made on (`If-Match: "3"`, or `"version": 3`
//! in the body); a stale one is answered with 409 and the current version.

use super::auth::{Principal, Role};
use super::error::{ApiError, ApiErrors, EditErrors};
use super::state::AppState;
use crate::app::triage::{
    FeedbackFilter, FeedbackPatch, FeedbackView, ImprovementPatch, ImprovementSummary,
    NewImprovement,
};
use crate::domain::backlog::{
    FeedbackItem, FeedbackStatus, Improvement, ImprovementStatus, Priority,
};
use crate::domain::error::FieldError;
use crate::domain::ids::{FeedbackId, ImprovementId, TeamId};
use crate::domain::survey::SurveyKind;
use crate::ports::{FeedbackScope, Page, PageRequest};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Only leads and admins use the console.
pub fn console_user(p: &Principal) -> Result<(), ApiError> {
    if p.is(&[Role::Lead, Role::Admin]) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

pub fn can_see(p: &Principal, team: &TeamId) -> bool {
    match p.role {
        Role::Admin => true,
        Role::Lead => p.teams.contains(team),
        Role::System => false,
    }
}

/// A query parameter that was given: present and not blank, trimmed.
pub fn given(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The team a console request is about: the one asked for if the caller may see it
/// (403 otherwise); a lead who names none gets their first team; an admin who names
/// none gets every team (`None`).
pub fn scoped_team(p: &Principal, team: Option<&str>) -> Result<Option<TeamId>, ApiError> {
    console_user(p)?;
    match given(team) {
        Some(t) => {
            let team = TeamId::parse(t).map_err(|r| ApiError::from(FieldError::new("team", r)))?;
            if !can_see(p, &team) {
                return Err(ApiError::Forbidden);
            }
            Ok(Some(team))
        }
        None if p.role == Role::Lead => {
            Ok(Some(p.teams.first().cloned().ok_or(ApiError::Forbidden)?))
        }
        None => Ok(None),
    }
}

pub(crate) fn admin(p: &Principal) -> Result<(), ApiError> {
    if p.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The `If-Match` header of an edit, for the API's document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct IfMatch {
    /// The `ETag` the edit was made on: `"3"` (or `W/"3"`, or `3`).
    #[param(rename = "If-Match", pattern = "^(W/)?\"?[0-9]{1,19}\"?$")]
    if_match: String,
}

/// The version an edit was made on: `If-Match` (`"3"`, `W/"3"` or `3`) first, else
/// the body's `version`.
pub(crate) fn expected_version(headers: &HeaderMap, body: &mut Value) -> Result<u64, ApiError> {
    let from_body = body
        .as_object_mut()
        .and_then(|o| o.remove("version"))
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| ApiError::from(FieldError::new("version", "a whole number")))
        })
        .transpose()?;
    let from_header = headers
        .get(header::IF_MATCH)
        .map(|v| {
            v.to_str()
                .ok()
                .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| ApiError::BadRequest("If-Match must be a version like \"3\"".into()))
        })
        .transpose()?;
    from_header
        .or(from_body)
        .ok_or(ApiError::PreconditionRequired)
}

pub(crate) fn with_etag(version: u64, body: impl Serialize) -> Response {
    let mut response = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        FieldError::new(
            if path == "." { "body".into() } else { path },
            e.inner().to_string(),
        )
        .into()
    })
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackListQuery {
    /// An admin without `team` must name one.
    #[param(pattern = "^\\s*(new|triaged|in_progress|resolved|dismissed)?\\s*$")]
    pub status: Option<String>,
    /// A team the caller leads (a lead without it gets their first team).
    #[param(pattern = "^\\s*([A-Za-z0-9._:-]{1,128})?\\s*$")]
    pub team: Option<String>,
    /// `high` or `normal`.
    #[param(pattern = "^\\s*(high|normal)?\\s*$")]
    pub priority: Option<String>,
    pub theme: Option<String>,
    /// `nps` or `csat`.
    #[param(pattern = "^\\s*(nps|csat)?\\s*$")]
    pub kind: Option<String>,
    /// `true`: only items due before today.
    pub overdue: Option<bool>,
    /// `YYYY-MM-DD`: only items due before this day.
    #[param(pattern = "^\\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\\s*$")]
    pub due_before: Option<String>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
    /// Items per page (50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

/// What a listing was asked, after defaults: echoed so a client sees its scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResolvedListing {
    pub status: Option<FeedbackStatus>,
    pub team: Option<TeamId>,
    #[serde(skip)]
    pub scope: FeedbackScope,
    #[serde(skip)]
    pub filter: FeedbackFilter,
    pub limit: usize,
}

/// Turns query parameters into an index scope and filters, checking teams: a lead
/// without `team` gets their first team; an admin without `team` needs `status`.
pub fn resolve_listing(
    p: &Principal,
    q: &FeedbackListQuery,
    today: jiff::civil::Date,
) -> Result<ResolvedListing, ApiError> {
    console_user(p)?;
    let field = |name: &str, reason: &str| ApiError::from(FieldError::new(name, reason));
    let status = given(q.status.as_deref())
        .map(|s| {
            FeedbackStatus::parse(s)
                .ok_or_else(|| field("status", "new, triaged, in_progress, resolved or dismissed"))
        })
        .transpose()?;
    let team = scoped_team(p, q.team.as_deref())?;
    let scope = match (&team, status) {
        (Some(t), Some(s)) => FeedbackScope::TeamStatus(t.clone(), s),
        (Some(t), None) => FeedbackScope::Team(t.clone()),
        (None, Some(s)) => FeedbackScope::Status(s),
        (None, None) => return Err(field("status", "give a status or a team")),
    };
    let priority = given(q.priority.as_deref())
        .map(|s| Priority::parse(s).ok_or_else(|| field("priority", "high or normal")))
        .transpose()?;
    let kind = given(q.kind.as_deref())
        .map(|s| SurveyKind::parse(s).ok_or_else(|| field("kind", "csat or nps")))
        .transpose()?;
    let mut due_before = given(q.due_before.as_deref())
        .map(|s| {
            s.parse::<jiff::civil::Date>()
                .map_err(|_| field("due_before", "a date like 2026-11-30"))
        })
        .transpose()?;
    if q.overdue == Some(true) {
        due_before = Some(due_before.map_or(today, |d| d.min(today)));
    }
    Ok(ResolvedListing {
        status,
        team,
        scope,
        filter: FeedbackFilter {
            priority,
            theme: given(q.theme.as_deref()).map(str::to_string),
            kind,
            due_before,
        },
        limit: match q.limit {
            None => 50,
            Some(n @ 1..=200) => n,
            Some(_) => return Err(field("limit", "1 to 200")),
        },
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedbackList {
    pub query: ResolvedListing,
    pub items: Vec<FeedbackItem>,
    pub next: Option<String>,
}

pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// The feedback queue of a team (or, for an admin, of a status across teams), by
/// due date, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/feedback",
    tag = "backlog",
    params(FeedbackListQuery),
    responses((status = 200, body = FeedbackList), ApiErrors)
)]
pub async fn list_feedback(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<FeedbackListQuery>,
) -> Result<Json<FeedbackList>, ApiError> {
    let listing = resolve_listing(&p, &q, today())?;
    let Page { items, next } = state
        .services
        .list_feedback(
            listing.scope.clone(),
            &listing.filter,
            PageRequest {
                cursor: q.cursor.clone().filter(|c| !c.is_empty()),
                limit: listing.limit,
            },
        )
        .await?;
    Ok(Json(FeedbackList {
        query: listing,
        items,
        next,
    }))
}

fn feedback_id(id: &str) -> Result<FeedbackId, ApiError> {
    FeedbackId::parse(id).map_err(|_| ApiError::NotFound)
}

fn improvement_id(id: &str) -> Result<ImprovementId, ApiError> {
    ImprovementId::parse(id).map_err(|_| ApiError::NotFound)
}

/// The item if it exists and the caller may see it (403 across teams).
pub async fn visible_feedback(
    state: &AppState,
    p: &Principal,
    id: &FeedbackId,
) -> Result<FeedbackView, ApiError> {
    console_user(p)?;
    let view = state
        .services
        .feedback_view(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !can_see(p, &view.item.team) {
        return Err(ApiError::Forbidden);
    }
    Ok(view)
}

/// One item with its activity log and its improvement. `ETag` is its version.
#[utoipa::path(
    get,
    path = "/api/v1/feedback/{id}",
    tag = "backlog",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = FeedbackView, headers(("ETag" = String, description = "The item's version, quoted"))),
        ApiErrors
    )
)]
pub async fn get_feedback(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = visible_feedback(&state, &p, &feedback_id(&id)?).await?;
    Ok(with_etag(view.item.version, view))
}

/// Applies a triage change for `p`; shared by the JSON API and the console forms.
pub async fn apply_feedback_patch(
    state: &AppState,
    p: &Principal,
    id: &FeedbackId,
    version: u64,
    patch: &FeedbackPatch,
) -> Result<FeedbackItem, ApiError> {
    visible_feedback(state, p, id).await?;
    let principal = p.clone();
    let may_link = move |imp: &Improvement| can_see(&principal, &imp.team);
    Ok(state
        .services
        .update_feedback(
            id,
            version,
            patch,
            &p.user,
            jiff::Timestamp::now(),
            &may_link,
        )
        .await?)
}

/// Triage: status, assignee, note, "respondent contacted", improvement link.
#[utoipa::path(
    patch,
    path = "/api/v1/feedback/{id}",
    tag = "backlog",
    params(
        ("id" = String, Path),
        IfMatch
    ),
    request_body = FeedbackPatch,
    responses(
        (status = 200, body = FeedbackItem, headers(("ETag" = String))),
        EditErrors,
        ApiErrors
    )
)]
pub async fn patch_feedback(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(mut body): Json<Value>,
) -> Result<Response, ApiError> {
    let id = feedback_id(&id)?;
    let version = expected_version(&headers, &mut body)?;
    let patch: FeedbackPatch = parse_body(body)?;
    let item = apply_feedback_patch(&state, &p, &id, version, &patch).await?;
    Ok(with_etag(item.version, item))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImprovementListQuery {
    /// Comma-separated statuses; default every status but `done`.
    #[param(
        pattern = "^\\s*((proposed|planned|in_progress|done)\\s*(,\\s*(proposed|planned|in_progress|done)\\s*)*)?$"
    )]
    pub status: Option<String>,
    #[param(pattern = "^\\s*([A-Za-z0-9._:-]{1,128})?\\s*$")]
    pub team: Option<String>,
}

pub fn board_statuses(q: Option<&str>) -> Result<Vec<ImprovementStatus>, ApiError> {
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(vec![
            ImprovementStatus::Proposed,
            ImprovementStatus::Planned,
            ImprovementStatus::InProgress,
        ]),
        Some(list) => list
            .split(',')
            .map(|s| {
                ImprovementStatus::parse(s.trim()).ok_or_else(|| {
                    FieldError::new("status", "proposed, planned, in_progress or done").into()
                })
            })
            .collect(),
    }
}

pub async fn improvement_board(
    state: &AppState,
    p: &Principal,
    statuses: &[ImprovementStatus],
    team: Option<&TeamId>,
) -> Result<Vec<ImprovementSummary>, ApiError> {
    console_user(p)?;
    if let Some(t) = team
        && !can_see(p, t)
    {
        return Err(ApiError::Forbidden);
    }
    let principal = p.clone();
    let team = team.cloned();
    let visible = move |imp: &Improvement| {
        can_see(&principal, &imp.team) && team.as_ref().is_none_or(|t| &imp.team == t)
    };
    Ok(state.services.improvement_board(statuses, &visible).await?)
}

/// The improvement board, ranked by impact.
#[utoipa::path(
    get,
    path = "/api/v1/improvements",
    tag = "backlog",
    params(ImprovementListQuery),
    responses((status = 200, body = Vec<ImprovementSummary>), ApiErrors)
)]
pub async fn list_improvements(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<ImprovementListQuery>,
) -> Result<Json<Vec<ImprovementSummary>>, ApiError> {
    let statuses = board_statuses(q.status.as_deref())?;
    let team = q
        .team
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| TeamId::parse(t).map_err(|r| ApiError::from(FieldError::new("team", r))))
        .transpose()?;
    Ok(Json(
        improvement_board(&state, &p, &statuses, team.as_ref()).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/improvements",
    tag = "backlog",
    request_body = NewImprovement,
    responses(
        (status = 201, body = ImprovementSummary, headers(("ETag" = String), ("Location" = String))),
        ApiErrors
    )
)]
pub async fn create_improvement(
    State(state): State<AppState>,
    p: Principal,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    console_user(&p)?;
    let new: NewImprovement = parse_body(body)?;
    if !can_see(&p, &new.team) {
        return Err(ApiError::Forbidden);
    }
    let imp = state
        .services
        .create_improvement(new, &p.user, jiff::Timestamp::now())
        .await?;
    let mut response = with_etag(imp.version, ImprovementSummary::from(imp.clone()));
    *response.status_mut() = StatusCode::CREATED;
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/improvements/{}", imp.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

pub async fn visible_improvement(
    state: &AppState,
    p: &Principal,
    id: &ImprovementId,
) -> Result<Improvement, ApiError> {
    console_user(p)?;
    let imp = state
        .services
        .backlog
        .get_improvement(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !can_see(p, &imp.team) {
        return Err(ApiError::Forbidden);
    }
    Ok(imp)
}

/// An improvement and its activity log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImprovementView {
    pub improvement: ImprovementSummary,
    pub activity: Vec<crate::domain::backlog::Activity>,
}

#[utoipa::path(
    get,
    path = "/api/v1/improvements/{id}",
    tag = "backlog",
    params(("id" = String, Path)),
    responses((status = 200, body = ImprovementView, headers(("ETag" = String))), ApiErrors)
)]
pub async fn get_improvement(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let imp = visible_improvement(&state, &p, &improvement_id(&id)?).await?;
    let activity = state.services.backlog.improvement_activity(&imp.id).await?;
    let version = imp.version;
    Ok(with_etag(
        version,
        ImprovementView {
            improvement: ImprovementSummary::from(imp),
            activity,
        },
    ))
}

#[utoipa::path(
    patch,
    path = "/api/v1/improvements/{id}",
    tag = "backlog",
    params(
        ("id" = String, Path),
        IfMatch
    ),
    request_body = ImprovementPatch,
    responses((status = 200, body = ImprovementSummary, headers(("ETag" = String))), EditErrors, ApiErrors)
)]
pub async fn patch_improvement(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(mut body): Json<Value>,
) -> Result<Response, ApiError> {
    let id = improvement_id(&id)?;
    visible_improvement(&state, &p, &id).await?;
    let version = expected_version(&headers, &mut body)?;
    let patch: ImprovementPatch = parse_body(body)?;
    let imp = state
        .services
        .update_improvement(&id, version, &patch, &p.user, jiff::Timestamp::now())
        .await?;
    Ok(with_etag(imp.version, ImprovementSummary::from(imp)))
}
