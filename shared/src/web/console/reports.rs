//! The reports dashboard: NPS and CSAT charts and tables over the reports use case.

use super::queue::human;
use super::{Chrome, ConsolePage, ConsoleUser, OrPage, message, page};
use crate::domain::survey::SurveyKind;
use crate::web::auth::Role;
use crate::web::error::ApiError;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

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
    /// The goal the row is read against (a client's own, or the report's).
    pub target: String,
}

fn report_line(r: &crate::domain::reports::ReportRow, kind: SurveyKind, target: f64) -> ReportLine {
    let nps = kind == SurveyKind::Nps;
    let target = r.target.unwrap_or(target);
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
        target: if nps {
            format!("{target:.0}")
        } else {
            format!("{target:.1}")
        },
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
) -> Result<Response, ConsolePage> {
    use crate::app::reports::GroupBy;
    use crate::domain::stats::Dimension;
    use crate::web::charts::{LineChart, Series};
    use crate::web::reports::{ReportParams, report_query};
    let survey_kind = q
        .kind
        .as_deref()
        .and_then(SurveyKind::parse)
        .unwrap_or(SurveyKind::Csat);
    let kind = survey_kind.as_str();
    let nps = survey_kind == SurveyKind::Nps;
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
            return Err(ConsolePage::from(message(
                Some(&p),
                StatusCode::UNPROCESSABLE_ENTITY,
                "Check the report settings",
                &text.join("; "),
            )));
        }
        Err(e) => return Err(ConsolePage::error(&p, e)),
    };
    let range = || (Some(by_month.from.clone()), Some(by_month.to.clone()));
    let by_dim = run(params(&group_by, None, range().0, range().1))
        .await
        .or_page(&p)?;
    let x_labels: Vec<String> = by_month.rows.iter().map(|r| r.key.clone()).collect();
    let (y_min, y_max) = if nps { (-100.0, 100.0) } else { (1.0, 5.0) };
    let target = by_month.target;
    let target_label = if nps {
        format!("target {target:.0}")
    } else {
        format!("target {target:.1}")
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
            .map(|r| report_line(r, survey_kind, target))
            .collect(),
        rows: by_dim
            .rows
            .iter()
            .map(|r| report_line(r, survey_kind, target))
            .collect(),
        total: report_line(&by_dim.total, survey_kind, target),
        skipped: by_month
            .total
            .skipped
            .iter()
            .map(|(k, v)| (human(k), *v))
            .collect(),
        reads: by_month.group_reads + by_dim.group_reads,
    }
    .render();
    Ok(page(StatusCode::OK, body))
}
