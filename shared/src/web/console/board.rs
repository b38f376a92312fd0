//! The improvement board: improvements by status, ranked by impact; creating and
//! moving them.

use super::queue::{human, query_string};
use super::{Chrome, ConsolePage, ConsoleUser, OrPage, page, same_site};
use crate::app::triage::{FeedbackPatch, ImprovementPatch, NewImprovement};
use crate::domain::backlog::{Improvement, ImprovementStatus};
use crate::domain::ids::{FeedbackId, ImprovementId, TeamId};
use crate::web::auth::Role;
use crate::web::console_api::{
    apply_feedback_patch, can_see, improvement_board, visible_improvement,
};
use crate::web::error::ApiError;
use crate::web::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

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
) -> Result<Response, ConsolePage> {
    let team = match q
        .team
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(TeamId::parse)
    {
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => return Err(ConsolePage::not_found(&p)),
        None => None,
    };
    let all = ImprovementStatus::ALL;
    let summaries = improvement_board(&state, &p, all, team.as_ref())
        .await
        .or_page(&p)?;
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
        .or(q.error.map(|code| super::banner::banner(&code).to_string()));
    Ok(page(
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
    ))
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
) -> Result<Response, ConsolePage> {
    same_site(&headers)?;
    let fail = |text: String, to: &str| {
        ConsolePage::redirect(&format!("{to}{}", query_string(&[("error", &text)])))
    };
    let back = form
        .link_feedback
        .as_deref()
        .filter(|f| !f.is_empty())
        .and_then(|f| FeedbackId::parse(f).ok())
        .map(|f| format!("/console/feedback/{f}"))
        .unwrap_or_else(|| "/console/improvements".into());
    let team =
        TeamId::parse(form.team.trim()).map_err(|_| fail(super::banner::invalid("team"), &back))?;
    if !can_see(&p, &team) {
        return Err(ConsolePage::error(&p, ApiError::Forbidden));
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
    let imp: Improvement = created.map_err(|e| {
        let code = match e {
            crate::app::triage::TriageError::Invalid { field, .. } => super::banner::invalid(field),
            _ => "not_saved".into(),
        };
        fail(code, &back)
    })?;
    if let (Some(fid), Some(version)) = (
        form.link_feedback.as_deref().filter(|f| !f.is_empty()),
        form.feedback_version,
    ) {
        let fid = FeedbackId::parse(fid).map_err(|_| ConsolePage::not_found(&p))?;
        let patch = FeedbackPatch {
            improvement_id: Some(Some(imp.id.clone())),
            ..FeedbackPatch::default()
        };
        return match apply_feedback_patch(&state, &p, &fid, version, &patch).await {
            Ok(_) => Ok(Redirect::to(&format!("{back}?saved=1")).into_response()),
            Err(ApiError::Conflict { current }) => {
                Ok(Redirect::to(&format!("{back}?conflict={current}")).into_response())
            }
            Err(_) => Err(fail("not_saved".into(), &back)),
        };
    }
    Ok(Redirect::to("/console/improvements").into_response())
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
) -> Result<Response, ConsolePage> {
    same_site(&headers)?;
    let id = ImprovementId::parse(&id).map_err(|_| ConsolePage::not_found(&p))?;
    visible_improvement(&state, &p, &id).await.or_page(&p)?;
    let Some(status) = ImprovementStatus::parse(&form.status) else {
        return Err(ConsolePage::redirect(
            "/console/improvements?error=unknown_status",
        ));
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
        Ok(_) => Ok(Redirect::to("/console/improvements").into_response()),
        Err(crate::app::triage::TriageError::Conflict { current }) => {
            Ok(Redirect::to(&format!("/console/improvements?conflict={current}")).into_response())
        }
        Err(e) => Err(ConsolePage::error(&p, e)),
    }
}
