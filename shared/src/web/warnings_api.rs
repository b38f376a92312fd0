//! `GET /api/v1/warnings`: the early warnings of the last 30 days, for a team's
//! own tools (a dashboard, a chat bot) beside the queue page's banner. A lead reads
//! their teams', an admin any team's, or every team with answers this month or last.

use super::auth::Principal;
use super::console_api::{given, scoped_team};
use super::error::{ApiError, ApiErrors};
use super::state::AppState;
use crate::domain::survey::SurveyKind;
use crate::domain::warnings::Warning;
use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
pub struct WarningsQuery {
    pub team: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WarningList {
    /// Newest first, per team.
    pub warnings: Vec<Warning>,
}

/// Early warnings raised in the last 30 days: a team's, handler's or client's
/// rolling 30-day figure below target or fallen beyond its margin (n ≥ 30).
#[utoipa::path(
    get,
    path = "/api/v1/warnings",
    tag = "insight",
    params(
        ("team" = Option<String>, Query, description = "One team the caller may see; a lead without it gets all their teams, an admin every team with answers this month or last", pattern = "^\\s*([A-Za-z0-9._:-]{1,128})?\\s*$"),
    ),
    responses((status = 200, body = WarningList), ApiErrors)
)]
pub async fn list_warnings(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<WarningsQuery>,
) -> Result<Json<WarningList>, ApiError> {
    let now = jiff::Timestamp::now();
    let named = scoped_team(&p, q.team.as_deref())?;
    let teams = match (named, given(q.team.as_deref())) {
        (Some(team), Some(_)) => vec![team],
        (Some(_), None) => p.teams.clone(),
        (None, _) => {
            let mut all = std::collections::BTreeSet::new();
            for kind in SurveyKind::ALL {
                all.extend(state.services.teams_with_answers(*kind, now).await?);
            }
            all.into_iter().collect()
        }
    };
    let mut warnings = Vec::new();
    for team in &teams {
        warnings.extend(state.services.recent_warnings(team, now).await?);
    }
    Ok(Json(WarningList { warnings }))
}
