//! The team leads' console at `/console`: the feedback queue with filters and counts,
//! one item with its survey context and activity log, triage, and the improvement
//! board. Server-rendered HTML that works without JavaScript; a small script (same
//! origin, no inline code) saves triage forms without a page reload and adds
//! keyboard shortcuts. The same team rules as the JSON API apply: a lead sees their
//! teams only.
//!
//! Sign-in: locally, the token `kundpuls token` prints is pasted once at
//! `/console/login` and kept in an HttpOnly, SameSite=Strict cookie; behind API
//! Gateway the verified JWT claims are used as for the API.

use super::auth::{Principal, Role};
use super::console_api::{
    FeedbackListQuery, apply_feedback_patch, can_see, improvement_board, resolve_listing, today,
    visible_feedback, visible_improvement,
};
use super::error::ApiError;
use super::state::{AppState, Authenticator};
use super::survey::cross_site;
use crate::app::triage::{FeedbackPatch, ImprovementPatch, NewImprovement};
use crate::domain::backlog::{
    Activity, FeedbackItem, FeedbackStatus, Improvement, ImprovementStatus,
};
use crate::domain::ids::{FeedbackId, ImprovementId, TeamId};
use crate::domain::score::Score;
use crate::domain::themes::ALL_THEMES;
use crate::ports::PageRequest;
use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

pub const CSS: &str = include_str!("../../templates/console.css");
pub const JS: &str = include_str!("../../templates/console.js");
/// Versioned asset paths: they change when the files do, so they cache forever.
pub const CSS_PATH: &str = "/console/assets/console-1.css";
pub const JS_PATH: &str = "/console/assets/console-1.js";
pub const SESSION_COOKIE: &str = "kp_console";

/// Headers on every console page: only same-origin style, script and requests.
fn security_headers(headers: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; \
         img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    set(headers, "referrer-policy", "same-origin");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "cache-control", "no-store");
}

fn page(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    match body {
        Ok(b) => {
            let mut r = (status, Html(b)).into_response();
            security_headers(r.headers_mut());
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// What the layout needs on every page.
pub struct Chrome {
    pub user: String,
    pub role: &'static str,
    pub section: &'static str,
}

impl Chrome {
    fn of(p: &Principal, section: &'static str) -> Self {
        Self {
            user: p.user.clone(),
            role: match p.role {
                Role::Admin => "admin",
                Role::Lead => "team lead",
                Role::System => "system",
            },
            section,
        }
    }
}

/// The signed-in console user, or a redirect to the sign-in page.
pub struct ConsoleUser(pub Principal);

fn cookie_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = match Principal::from_request_parts(parts, state).await {
            Ok(p) => Some(p),
            Err(_) => match &state.auth {
                Authenticator::Local(key) => cookie_token(parts)
                    .and_then(|t| key.verify(&t))
                    .as_ref()
                    .and_then(Principal::from_claims),
                Authenticator::ApiGateway => None,
            },
        };
        match principal {
            Some(p) if p.is(&[Role::Lead, Role::Admin]) => Ok(ConsoleUser(p)),
            Some(p) => Err(message(
                Some(&p),
                StatusCode::FORBIDDEN,
                "Not for this account",
                "The console is for team leads and admins.",
            )),
            None => Err(Redirect::to("/console/login").into_response()),
        }
    }
}

#[derive(Template)]
#[template(path = "console_message.html")]
struct MessagePage<'a> {
    chrome: Option<Chrome>,
    title: &'a str,
    body: &'a str,
}

fn message(p: Option<&Principal>, status: StatusCode, title: &str, body: &str) -> Response {
    page(
        status,
        MessagePage {
            chrome: p.map(|p| Chrome::of(p, "")),
            title,
            body,
        }
        .render(),
    )
}

/// An API error as a console page.
fn error_page(p: &Principal, e: ApiError) -> Response {
    match e {
        ApiError::NotFound => message(
            Some(p),
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such item. It may have been removed under the retention policy.",
        ),
        ApiError::Forbidden => message(
            Some(p),
            StatusCode::FORBIDDEN,
            "Not your team",
            "This belongs to a team you do not lead.",
        ),
        other => {
            let status = other.into_response().status();
            message(
                Some(p),
                status,
                "Something went wrong",
                "Please try again in a moment.",
            )
        }
    }
}

// ---------------------------------------------------------------- sign-in

#[derive(Template)]
#[template(path = "console_login.html")]
struct LoginPage<'a> {
    chrome: Option<Chrome>,
    error: Option<&'a str>,
    local: bool,
}

pub async fn login_form(State(state): State<AppState>) -> Response {
    page(
        StatusCode::OK,
        LoginPage {
            chrome: None,
            error: None,
            local: matches!(state.auth, Authenticator::Local(_)),
        }
        .render(),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let Authenticator::Local(key) = &state.auth else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let token = form.token.trim();
    let principal = key
        .verify(token)
        .as_ref()
        .and_then(Principal::from_claims)
        .filter(|p| p.is(&[Role::Lead, Role::Admin]));
    if cross_site(&headers) || principal.is_none() {
        return page(
            StatusCode::UNAUTHORIZED,
            LoginPage {
                chrome: None,
                error: Some("That token is not valid here, or has expired. Make a new one with `kundpuls token --role lead --team <team>`."),
                local: true,
            }
            .render(),
        );
    }
    let mut response = Redirect::to("/console").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/console"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

pub async fn logout() -> Response {
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "kp_console=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0",
        ),
    );
    response
}

// ---------------------------------------------------------------- the queue

/// One row of the queue, ready to show.
pub struct Row {
    pub id: String,
    pub due: String,
    pub overdue: bool,
    pub priority: &'static str,
    pub score: String,
    pub step: String,
    pub themes: String,
    pub excerpt: String,
    pub assignee: String,
    pub status: &'static str,
}

fn score_label(score: Score) -> String {
    match score {
        Score::Nps(s) => format!("NPS {}", s.value()),
        Score::Csat(s) => format!("CSAT {}", s.value()),
    }
}

fn human(s: &str) -> String {
    s.replace('_', " ")
}

fn row(item: &FeedbackItem, today: jiff::civil::Date) -> Row {
    let excerpt = item
        .comment
        .as_deref()
        .map(|c| {
            let mut e: String = c.chars().take(90).collect();
            if c.chars().count() > 90 {
                e.push('…');
            }
            e
        })
        .unwrap_or_default();
    Row {
        id: item.id.to_string(),
        due: item.due_on.to_string(),
        overdue: item.status.is_open() && item.due_on < today,
        priority: item.priority.as_str(),
        score: score_label(item.score),
        step: item
            .step
            .as_ref()
            .map(|s| human(s.as_str()))
            .unwrap_or_else(|| "relationship".into()),
        themes: item
            .themes
            .iter()
            .map(|t| human(t))
            .collect::<Vec<_>>()
            .join(", "),
        excerpt,
        assignee: item.assignee.clone().unwrap_or_default(),
        status: item.status.as_str(),
    }
}

pub struct Tab {
    pub status: &'static str,
    pub label: String,
    pub count: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "console_queue.html")]
struct QueuePage {
    chrome: Option<Chrome>,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
    teams: Vec<String>,
    team: String,
    free_team: bool,
    status: String,
    priority: String,
    theme: String,
    themes: Vec<(&'static str, String)>,
    kind: String,
    overdue: bool,
    next_href: Option<String>,
    first_href: Option<String>,
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&urlencode(v));
    }
    out
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub async fn queue(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    Query(mut q): Query<FeedbackListQuery>,
) -> Response {
    if q.status.as_deref().is_none_or(str::is_empty) {
        q.status = Some("new".into());
    }
    if q.status.as_deref() == Some("all") {
        q.status = None;
    }
    let today = today();
    let listing = match resolve_listing(&p, &q, today) {
        Ok(l) => l,
        Err(ApiError::Invalid(_)) if p.role == Role::Admin && q.team.is_none() => {
            return Redirect::to("/console?status=new").into_response();
        }
        Err(e) => return error_page(&p, e),
    };
    let services = &state.services;
    let page_items = match services
        .list_feedback(
            listing.scope.clone(),
            &listing.filter,
            PageRequest {
                cursor: q.cursor.clone().filter(|c| !c.is_empty()),
                limit: listing.limit.min(50),
            },
        )
        .await
    {
        Ok(pg) => pg,
        Err(e) => return error_page(&p, e.into()),
    };
    let counts = match services.count_feedback(listing.team.as_ref(), 1000).await {
        Ok(c) => c,
        Err(e) => return error_page(&p, e.into()),
    };
    let team = listing
        .team
        .as_ref()
        .map(|t| t.to_string())
        .unwrap_or_default();
    let status = listing.status.map(|s| s.as_str()).unwrap_or("all");
    let priority = q.priority.clone().unwrap_or_default();
    let theme = q.theme.clone().unwrap_or_default();
    let kind = q.kind.clone().unwrap_or_default();
    let overdue = q.overdue == Some(true);
    let filters = |status: &str, cursor: &str| {
        format!(
            "/console{}",
            query_string(&[
                ("status", status),
                ("team", &team),
                ("priority", &priority),
                ("theme", &theme),
                ("kind", &kind),
                ("overdue", if overdue { "true" } else { "" }),
                ("cursor", cursor),
            ])
        )
    };
    let tabs = counts
        .iter()
        .map(|(s, n, more)| Tab {
            status: s.as_str(),
            label: human(s.as_str()),
            count: if *more {
                format!("{n}+")
            } else {
                n.to_string()
            },
            href: filters(s.as_str(), ""),
            current: s.as_str() == status,
        })
        .collect();
    let body = QueuePage {
        chrome: Some(Chrome::of(&p, "queue")),
        tabs,
        rows: page_items.items.iter().map(|i| row(i, today)).collect(),
        teams: p.teams.iter().map(|t| t.to_string()).collect(),
        free_team: p.role == Role::Admin,
        team: team.clone(),
        status: status.to_string(),
        priority: priority.clone(),
        theme: theme.clone(),
        themes: ALL_THEMES.iter().map(|t| (*t, human(t))).collect(),
        kind: kind.clone(),
        overdue,
        next_href: page_items.next.as_deref().map(|c| filters(status, c)),
        first_href: q
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|_| filters(status, "")),
    }
    .render();
    page(StatusCode::OK, body)
}

// ---------------------------------------------------------------- one item

pub struct ActivityLine {
    pub at: String,
    pub actor: String,
    pub action: String,
}

fn activity_line(a: &Activity) -> ActivityLine {
    ActivityLine {
        at: a
            .at
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string(),
        actor: a.actor.clone(),
        action: a.action.clone(),
    }
}

#[derive(Template)]
#[template(path = "console_item.html")]
struct ItemPage {
    chrome: Option<Chrome>,
    row: Row,
    team: String,
    version: u64,
    title: String,
    comment: Option<String>,
    comment_lang: &'static str,
    context: Vec<(&'static str, String)>,
    /// (value, label, selected) for the status select: the current status and the
    /// moves the workflow allows.
    statuses: Vec<(&'static str, String, bool)>,
    contacted: bool,
    improvements: Vec<(String, String, bool)>,
    activity: Vec<ActivityLine>,
    flash: Option<String>,
    flash_error: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ItemQuery {
    saved: Option<String>,
    conflict: Option<u64>,
    error: Option<String>,
}

pub async fn item(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<ItemQuery>,
) -> Response {
    let Ok(id) = FeedbackId::parse(&id) else {
        return error_page(&p, ApiError::NotFound);
    };
    let view = match visible_feedback(&state, &p, &id).await {
        Ok(v) => v,
        Err(e) => return error_page(&p, e),
    };
    let item = &view.item;
    let team = item.team.clone();
    let board = improvement_board(
        &state,
        &p,
        &[
            ImprovementStatus::Proposed,
            ImprovementStatus::Planned,
            ImprovementStatus::InProgress,
        ],
        Some(&team),
    )
    .await
    .unwrap_or_default();
    let mut improvements: Vec<(String, String, bool)> = board
        .iter()
        .map(|s| {
            let imp = &s.improvement;
            (
                imp.id.to_string(),
                imp.title.clone(),
                item.improvement_id.as_ref() == Some(&imp.id),
            )
        })
        .collect();
    if let Some(linked) = &view.improvement
        && !improvements
            .iter()
            .any(|(id, _, _)| *id == linked.id.to_string())
    {
        improvements.push((linked.id.to_string(), linked.title.clone(), true));
    }
    let statuses = FeedbackStatus::ALL
        .into_iter()
        .filter(|s| *s == item.status || item.status.can_move_to(*s))
        .map(|s| (s.as_str(), human(s.as_str()), s == item.status))
        .collect();
    let step = item
        .step
        .as_ref()
        .map(|s| format!(" after {}", human(s.as_str())))
        .unwrap_or_default();
    let mut context = vec![
        ("Client", item.client_id.to_string()),
        ("Team", item.team.to_string()),
        (
            "Handler",
            item.handler_id
                .as_ref()
                .map(|h| h.to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        ("Channel", item.channel.as_str().to_string()),
        ("Language", item.language.code().to_string()),
        (
            "Received",
            activity_line(&Activity {
                at: item.created_at,
                actor: String::new(),
                action: String::new(),
            })
            .at,
        ),
        ("Survey", item.survey_id.to_string()),
    ];
    if let Some(at) = item.contacted_at {
        context.push((
            "Respondent contacted",
            at.to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%Y-%m-%d %H:%M UTC")
                .to_string(),
        ));
    }
    let (flash, flash_error) = if q.saved.is_some() {
        (Some("Saved.".to_string()), false)
    } else if let Some(current) = q.conflict {
        (
            Some(format!(
                "Someone else changed this item first (now version {current}). Their change is shown below; make yours again if it still applies."
            )),
            true,
        )
    } else if let Some(e) = q.error {
        (Some(e.chars().take(300).collect()), true)
    } else {
        (None, false)
    };
    let body = ItemPage {
        chrome: Some(Chrome::of(&p, "queue")),
        row: row(item, today()),
        team: item.team.to_string(),
        version: item.version,
        title: format!("{}{step}", score_label(item.score)),
        comment: item.comment.clone(),
        comment_lang: item.language.code(),
        context,
        statuses,
        contacted: item.contacted_at.is_some(),
        improvements,
        activity: view.activity.iter().map(activity_line).collect(),
        flash,
        flash_error,
    }
    .render();
    page(StatusCode::OK, body)
}

#[derive(Debug, Deserialize)]
pub struct TriageForm {
    version: u64,
    status: Option<String>,
    assignee: Option<String>,
    contacted: Option<String>,
    improvement_id: Option<String>,
    note: Option<String>,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

pub async fn triage(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TriageForm>,
) -> Response {
    if cross_site(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(id) = FeedbackId::parse(&id) else {
        return error_page(&p, ApiError::NotFound);
    };
    let back = format!("/console/feedback/{id}");
    let status = match form.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => match FeedbackStatus::parse(s) {
            Some(s) => Some(s),
            None => return Redirect::to(&format!("{back}?error=Unknown%20status")).into_response(),
        },
        None => None,
    };
    let improvement_id = match form.improvement_id.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(s) => match ImprovementId::parse(s) {
            Ok(i) => Some(Some(i)),
            Err(_) => {
                return Redirect::to(&format!("{back}?error=Unknown%20improvement"))
                    .into_response();
            }
        },
    };
    let patch = FeedbackPatch {
        status,
        assignee: form.assignee.map(Some),
        note: form.note,
        contacted: Some(form.contacted.is_some()),
        improvement_id,
    };
    let result = apply_feedback_patch(&state, &p, &id, form.version, &patch).await;
    if wants_json(&headers) {
        return match result {
            Ok(item) => {
                let activity = state
                    .services
                    .backlog
                    .feedback_activity(&id)
                    .await
                    .unwrap_or_default();
                axum::Json(serde_json::json!({
                    "item": item,
                    "activity": activity.iter().map(activity_line).map(|a| serde_json::json!({
                        "at": a.at, "actor": a.actor, "action": a.action
                    })).collect::<Vec<_>>(),
                }))
                .into_response()
            }
            Err(e) => e.into_response(),
        };
    }
    match result {
        Ok(_) => Redirect::to(&format!("{back}?saved=1")).into_response(),
        Err(ApiError::Conflict { current }) => {
            Redirect::to(&format!("{back}?conflict={current}")).into_response()
        }
        Err(ApiError::Invalid(invalid)) => {
            let text = invalid
                .0
                .iter()
                .map(|f| format!("{}: {}", f.field, f.reason))
                .collect::<Vec<_>>()
                .join("; ");
            Redirect::to(&format!("{back}?error={}", urlencode(&text))).into_response()
        }
        Err(e) => error_page(&p, e),
    }
}

// ---------------------------------------------------------------- improvements

pub struct Card {
    pub id: String,
    pub title: String,
    pub description: String,
    pub team: String,
    pub version: u64,
    pub status: &'static str,
    pub impact: usize,
    pub linked: usize,
    pub low_scores: usize,
    pub clients: usize,
    pub themes: String,
}

pub struct Column {
    pub status: &'static str,
    pub label: String,
    pub cards: Vec<Card>,
}

#[derive(Template)]
#[template(path = "console_board.html")]
struct BoardPage {
    chrome: Option<Chrome>,
    columns: Vec<Column>,
    teams: Vec<String>,
    free_team: bool,
    statuses: Vec<(&'static str, String)>,
    flash: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    team: Option<String>,
    conflict: Option<u64>,
    error: Option<String>,
}

pub async fn board(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    Query(q): Query<BoardQuery>,
) -> Response {
    let team = match q
        .team
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(TeamId::parse)
    {
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => return error_page(&p, ApiError::NotFound),
        None => None,
    };
    let all = ImprovementStatus::ALL;
    let summaries = match improvement_board(&state, &p, &all, team.as_ref()).await {
        Ok(s) => s,
        Err(e) => return error_page(&p, e),
    };
    let columns = all
        .iter()
        .map(|status| Column {
            status: status.as_str(),
            label: human(status.as_str()),
            cards: summaries
                .iter()
                .filter(|s| s.improvement.status == *status)
                .map(|s| Card {
                    id: s.improvement.id.to_string(),
                    title: s.improvement.title.clone(),
                    description: s.improvement.description.clone(),
                    team: s.improvement.team.to_string(),
                    version: s.improvement.version,
                    status: s.improvement.status.as_str(),
                    impact: s.impact,
                    linked: s.linked_count,
                    low_scores: s.low_scores,
                    clients: s.clients_affected,
                    themes: s
                        .top_themes
                        .iter()
                        .map(|(t, n)| format!("{} ({n})", human(t)))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
        })
        .collect();
    let flash = q
        .conflict
        .map(|c| {
            format!("Someone else changed that improvement first (now version {c}). Try again.")
        })
        .or(q.error.map(|e| e.chars().take(300).collect()));
    page(
        StatusCode::OK,
        BoardPage {
            chrome: Some(Chrome::of(&p, "improvements")),
            columns,
            teams: p.teams.iter().map(|t| t.to_string()).collect(),
            free_team: p.role == Role::Admin,
            statuses: all
                .iter()
                .map(|s| (s.as_str(), human(s.as_str())))
                .collect(),
            flash,
        }
        .render(),
    )
}

#[derive(Debug, Deserialize)]
pub struct NewImprovementForm {
    title: String,
    #[serde(default)]
    description: String,
    team: String,
    /// Link this feedback item (at this version) to the new improvement.
    link_feedback: Option<String>,
    feedback_version: Option<u64>,
}

pub async fn create_improvement(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    headers: HeaderMap,
    Form(form): Form<NewImprovementForm>,
) -> Response {
    if cross_site(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let fail = |text: String, to: &str| {
        Redirect::to(&format!("{to}?error={}", urlencode(&text))).into_response()
    };
    let back = form
        .link_feedback
        .as_deref()
        .filter(|f| !f.is_empty())
        .map(|f| format!("/console/feedback/{}", urlencode(f)))
        .unwrap_or_else(|| "/console/improvements".into());
    let Ok(team) = TeamId::parse(form.team.trim()) else {
        return fail("team: not a team id".into(), &back);
    };
    if !can_see(&p, &team) {
        return error_page(&p, ApiError::Forbidden);
    }
    let created = state
        .services
        .create_improvement(
            NewImprovement {
                title: form.title,
                description: form.description,
                team,
            },
            &p.user,
            jiff::Timestamp::now(),
        )
        .await;
    let imp: Improvement = match created {
        Ok(i) => i,
        Err(e) => return fail(e.to_string(), &back),
    };
    if let (Some(fid), Some(version)) = (
        form.link_feedback.as_deref().filter(|f| !f.is_empty()),
        form.feedback_version,
    ) {
        let Ok(fid) = FeedbackId::parse(fid) else {
            return error_page(&p, ApiError::NotFound);
        };
        let patch = FeedbackPatch {
            improvement_id: Some(Some(imp.id.clone())),
            ..FeedbackPatch::default()
        };
        return match apply_feedback_patch(&state, &p, &fid, version, &patch).await {
            Ok(_) => Redirect::to(&format!("{back}?saved=1")).into_response(),
            Err(ApiError::Conflict { current }) => {
                Redirect::to(&format!("{back}?conflict={current}")).into_response()
            }
            Err(e) => fail(e.to_string(), &back),
        };
    }
    Redirect::to("/console/improvements").into_response()
}

#[derive(Debug, Deserialize)]
pub struct ImprovementForm {
    version: u64,
    status: String,
}

pub async fn update_improvement(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ImprovementForm>,
) -> Response {
    if cross_site(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(id) = ImprovementId::parse(&id) else {
        return error_page(&p, ApiError::NotFound);
    };
    if let Err(e) = visible_improvement(&state, &p, &id).await {
        return error_page(&p, e);
    }
    let Some(status) = ImprovementStatus::parse(&form.status) else {
        return Redirect::to("/console/improvements?error=Unknown%20status").into_response();
    };
    let patch = ImprovementPatch {
        status: Some(status),
        ..ImprovementPatch::default()
    };
    match state
        .services
        .update_improvement(&id, form.version, &patch, &p.user, jiff::Timestamp::now())
        .await
    {
        Ok(_) => Redirect::to("/console/improvements").into_response(),
        Err(crate::app::triage::TriageError::Conflict { current }) => {
            Redirect::to(&format!("/console/improvements?conflict={current}")).into_response()
        }
        Err(e) => error_page(&p, e.into()),
    }
}

// ---------------------------------------------------------------- assets

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

// ---------------------------------------------------------------- reports

/// One row of a report table, formatted.
pub struct ReportLine {
    pub key: String,
    pub n: u64,
    pub value: String,
    pub spread: String,
    pub fcr: String,
    pub response: String,
    pub trend: String,
    pub rolling: String,
    pub low: bool,
    pub below_target: bool,
}

fn report_line(r: &crate::domain::reports::ReportRow, nps: bool, target: f64) -> ReportLine {
    let f = |v: Option<f64>, d: usize| v.map(|v| format!("{v:.d$}")).unwrap_or_else(|| "—".into());
    let digits = if nps { 0 } else { 2 };
    ReportLine {
        key: r.key.clone(),
        n: r.n,
        value: f(r.value(), digits),
        spread: if nps {
            r.nps
                .map(|s| format!("±{:.0}", s.margin))
                .unwrap_or_else(|| "—".into())
        } else {
            r.csat
                .map(|s| format!("{:.0} %", 100.0 * s.top2_share))
                .unwrap_or_else(|| "—".into())
        },
        fcr: r
            .fcr_rate
            .map(|v| format!("{:.0} %", 100.0 * v))
            .unwrap_or_else(|| "—".into()),
        response: r
            .response_rate
            .map(|v| format!("{:.0} %", 100.0 * v))
            .unwrap_or_else(|| "—".into()),
        trend: r
            .trend
            .map(|t| format!("{}{t:.digits$}", if t > 0.0 { "+" } else { "" }))
            .unwrap_or_else(|| "—".into()),
        rolling: f(r.rolling_12, digits),
        low: r.low_sample && r.n > 0,
        below_target: r.value().is_some_and(|v| v < target),
    }
}

#[derive(Template)]
#[template(path = "console_reports.html")]
struct ReportsPage {
    chrome: Option<Chrome>,
    nps: bool,
    group_by: String,
    dimensions: Vec<(&'static str, bool)>,
    from: String,
    to: String,
    team: String,
    teams: Vec<String>,
    free_team: bool,
    trend_svg: String,
    by_svg: String,
    months: Vec<ReportLine>,
    rows: Vec<ReportLine>,
    total: ReportLine,
    skipped: Vec<(String, u64)>,
    reads: usize,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportsQuery {
    kind: Option<String>,
    group_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
    team: Option<String>,
}

pub async fn reports(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    Query(q): Query<ReportsQuery>,
) -> Response {
    use super::charts::{LineChart, Series};
    use super::reports::{ReportParams, report_query};
    use crate::app::reports::GroupBy;
    use crate::domain::stats::Dimension;
    let kind = match q.kind.as_deref() {
        Some("nps") => "nps",
        _ => "csat",
    };
    let nps = kind == "nps";
    let now = jiff::Timestamp::now();
    let group_by = q
        .group_by
        .clone()
        .filter(|g| Dimension::parse(g).is_some_and(|d| d != Dimension::All))
        .unwrap_or_else(|| {
            if p.role == Role::Admin {
                "team".into()
            } else {
                "handler".into()
            }
        });
    // The month report resolves the range (12 months to this month unless asked);
    // every other report on the page covers the same months.
    let params = |group_by: &str,
                  filter: Option<(&str, &str)>,
                  from: Option<String>,
                  to: Option<String>| ReportParams {
        group_by: Some(group_by.to_string()),
        from,
        to,
        team: q.team.clone().filter(|t| !t.is_empty()),
        filters: filter
            .map(|(d, v)| std::collections::HashMap::from([(d.to_string(), v.to_string())]))
            .unwrap_or_default(),
    };
    let run = |params: ReportParams| {
        let state = state.clone();
        let p = p.clone();
        async move {
            let query = report_query(&p, kind, &params, now)?;
            Ok::<_, ApiError>(state.services.report(&query).await?)
        }
    };
    let by_month = match run(params("month", None, q.from.clone(), q.to.clone())).await {
        Ok(r) => r,
        Err(ApiError::Invalid(invalid)) => {
            let text: Vec<String> = invalid
                .0
                .iter()
                .map(|f| format!("{}: {}", f.field, f.reason))
                .collect();
            return message(
                Some(&p),
                StatusCode::UNPROCESSABLE_ENTITY,
                "Check the report settings",
                &text.join("; "),
            );
        }
        Err(e) => return error_page(&p, e),
    };
    let range = || (Some(by_month.from.clone()), Some(by_month.to.clone()));
    let by_dim = match run(params(&group_by, None, range().0, range().1)).await {
        Ok(r) => r,
        Err(e) => return error_page(&p, e),
    };
    let x_labels: Vec<String> = by_month.rows.iter().map(|r| r.key.clone()).collect();
    let (y_min, y_max) = if nps { (-100.0, 100.0) } else { (1.0, 5.0) };
    let target = by_month.target;
    let target_label = if nps {
        "target 40".to_string()
    } else {
        "target 4.0".to_string()
    };
    let trend_svg = LineChart {
        title: &format!(
            "{} by month, {}",
            kind.to_uppercase(),
            by_month
                .team
                .as_ref()
                .map_or("all teams".into(), |t| format!("team {t}"))
        ),
        x_labels: x_labels.clone(),
        series: vec![Series {
            label: "all".into(),
            values: by_month.rows.iter().map(|r| r.value()).collect(),
            margins: by_month
                .rows
                .iter()
                .map(|r| r.nps.map(|s| s.margin))
                .collect(),
        }],
        y_min,
        y_max,
        target,
        target_label: target_label.clone(),
    }
    .svg("trend");
    // The five largest values of the chosen dimension, each over the months.
    let mut series = Vec::new();
    if let Some(GroupBy::Dimension(d)) = GroupBy::parse(&group_by) {
        for row in by_dim.rows.iter().take(5) {
            let (from, to) = range();
            if let Ok(r) = run(params(
                "month",
                Some((d.as_str(), row.key.as_str())),
                from,
                to,
            ))
            .await
            {
                series.push(Series {
                    label: row.key.clone(),
                    values: r.rows.iter().map(|r| r.value()).collect(),
                    margins: vec![None; r.rows.len()],
                });
            }
        }
    }
    let by_svg = LineChart {
        title: &format!(
            "{} by {group_by} and month (five largest)",
            kind.to_uppercase()
        ),
        x_labels,
        series,
        y_min,
        y_max,
        target,
        target_label,
    }
    .svg("by");
    let body = ReportsPage {
        chrome: Some(Chrome::of(&p, "reports")),
        nps,
        dimensions: [
            "client", "team", "handler", "step", "segment", "channel", "language",
        ]
        .into_iter()
        .map(|d| (d, d == group_by))
        .collect(),
        group_by: group_by.clone(),
        from: by_month.from.clone(),
        to: by_month.to.clone(),
        team: by_month
            .team
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        teams: p.teams.iter().map(|t| t.to_string()).collect(),
        free_team: p.role == Role::Admin,
        trend_svg,
        by_svg,
        months: by_month
            .rows
            .iter()
            .map(|r| report_line(r, nps, target))
            .collect(),
        rows: by_dim
            .rows
            .iter()
            .map(|r| report_line(r, nps, target))
            .collect(),
        total: report_line(&by_dim.total, nps, target),
        skipped: by_month
            .total
            .skipped
            .iter()
            .map(|(k, v)| (human(k), *v))
            .collect(),
        reads: by_month.group_reads + by_dim.group_reads,
    }
    .render();
    page(StatusCode::OK, body)
}
