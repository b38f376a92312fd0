//! `GET /api/v1/reports/nps` and `/csat`: figures by dimension or month from the
//! counters. A lead reads their team's counters; an admin the agency's or a team's.

use super::auth::Principal;
use super::console_api::{console_user, given, scoped_team};
use super::error::{ApiError, ApiErrors};
use super::state::AppState;
use crate::app::reports::{GroupBy, Report, ReportQuery};
use crate::domain::error::FieldError;
use crate::domain::reports::Month;
use crate::domain::stats::Dimension;
use crate::domain::survey::SurveyKind;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Default, Deserialize)]
pub struct ReportParams {
    pub group_by: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub team: Option<String>,
    /// Any other parameter named after a dimension filters (`client=acme-energy`).
    #[serde(flatten)]
    pub filters: HashMap<String, String>,
}

fn invalid(field: &str, reason: &str) -> ApiError {
    FieldError::new(field, reason).into()
}

/// The longest range a report or an export covers.
pub const MAX_MONTHS: usize = 36;

/// `from`/`to` query parameters (`YYYY-MM`) as a month range: `to` defaults to this
/// month, `from` to `default_months` months ending with `to`. Reports and exports
/// read them the same way.
pub fn month_range(
    from: Option<&str>,
    to: Option<&str>,
    default_months: i32,
    now: jiff::Timestamp,
) -> Result<(Month, Month), ApiError> {
    let to = match given(to) {
        None => Month::of(now),
        Some(t) => Month::parse(t).ok_or_else(|| invalid("to", "a month like 2026-11"))?,
    };
    let from = match given(from) {
        None => to.plus(1 - default_months.max(1)),
        Some(f) => Month::parse(f).ok_or_else(|| invalid("from", "a month like 2026-09"))?,
    };
    if from > to {
        return Err(invalid("from", "must not be after to"));
    }
    if from.through(to).len() > MAX_MONTHS {
        return Err(invalid("from", "a report covers at most 36 months"));
    }
    Ok((from, to))
}

/// Parses and scopes a report request for `p`.
pub fn report_query(
    p: &Principal,
    kind: &str,
    q: &ReportParams,
    now: jiff::Timestamp,
) -> Result<ReportQuery, ApiError> {
    console_user(p)?;
    let kind = SurveyKind::parse(kind).ok_or(ApiError::NotFound)?;
    let group_by = match given(q.group_by.as_deref()) {
        None => GroupBy::Month,
        Some(g) => GroupBy::parse(g).ok_or_else(|| {
            invalid(
                "group_by",
                "month, client, team, handler, step, segment, channel, language or all",
            )
        })?,
    };
    let default_months = if group_by == GroupBy::Month { 12 } else { 3 };
    let (from, to) = month_range(q.from.as_deref(), q.to.as_deref(), default_months, now)?;
    let team = scoped_team(p, q.team.as_deref())?;
    let mut filters: Vec<(Dimension, String)> = Vec::new();
    for (name, value) in &q.filters {
        let Some(d) =
            Dimension::parse(name).filter(|d| *d != Dimension::All && *d != Dimension::Team)
        else {
            return Err(invalid(name, "not a report parameter"));
        };
        if !value.trim().is_empty() {
            filters.push((d, value.trim().to_string()));
        }
    }
    if filters.len() > 1 {
        return Err(invalid("filter", "one dimension filter at a time"));
    }
    let filter = filters.pop();
    if filter.is_some() && group_by != GroupBy::Month {
        return Err(invalid(
            "group_by",
            "a dimension filter works with group_by=month (counters are kept per dimension, not per pair)",
        ));
    }
    Ok(ReportQuery {
        kind,
        group_by,
        from,
        to,
        team,
        filter,
    })
}

/// NPS or CSAT by month or by one dimension, with trend, rolling 12 months,
/// response rate and skip reasons. A lead sees their teams' counters only.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{kind}",
    tag = "insight",
    params(
        ("kind" = SurveyKind, Path),
        ("group_by" = Option<String>, Query, description = "`month` (default) or a dimension", pattern = "^\\s*(month|client|team|handler|step|segment|channel|language)?\\s*$"),
        ("from" = Option<String>, Query, description = "`YYYY-MM`; default 11 months before `to`", pattern = "^\\s*([0-9]{4}-[0-9]{2})?\\s*$"),
        ("to" = Option<String>, Query, description = "`YYYY-MM`; default this month", pattern = "^\\s*([0-9]{4}-[0-9]{2})?\\s*$"),
        ("team" = Option<String>, Query, description = "One team the caller may see", pattern = "^\\s*([A-Za-z0-9._:-]{1,128})?\\s*$"),
        ("client" = Option<String>, Query, description = "With `group_by=month`: one value of one dimension (likewise `handler`, `step`…)")
    ),
    responses((status = 200, body = Report), ApiErrors)
)]
pub async fn report(
    State(state): State<AppState>,
    p: Principal,
    Path(kind): Path<String>,
    Query(q): Query<ReportParams>,
) -> Result<Json<Report>, ApiError> {
    let query = report_query(&p, &kind, &q, jiff::Timestamp::now())?;
    Ok(Json(state.services.report(&query).await?))
}
