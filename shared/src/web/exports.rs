//! CSV exports, streamed a page at a time (the response starts before the last page
//! is read, and memory stays flat): `GET /api/v1/export/answers.csv` and
//! `/feedback.csv`. No contact data in either: no phone numbers, emails or names.
//! The feedback export carries each item's case or contact reference (the ids of the
//! agency's own systems, so a lead can call the person back); the answers export
//! carries none. `?bom=true` starts the file with a UTF-8 byte-order mark so
//! Excel reads å, ä, ö and ł right. Team scoping as everywhere in the console.

use super::auth::Principal;
use super::console_api::scoped_team;
use super::error::{ApiError, ApiErrors};
use super::state::AppState;
use crate::app::Services;
use crate::domain::backlog::{FeedbackItem, FeedbackStatus};
use crate::domain::error::FieldError;
use crate::domain::ids::TeamId;
use crate::domain::reports::Month;
use crate::domain::survey::{Answer, SurveyKind};
use crate::ports::{FeedbackQuery, FeedbackScope, PageRequest};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

const PAGE: usize = 500;
const BOM: &[u8] = b"\xEF\xBB\xBF";

pub const ANSWER_COLUMNS: [&str; 14] = [
    "survey_id",
    "kind",
    "answered_at",
    "score",
    "comment",
    "resolved_first_contact",
    "suspect",
    "client_id",
    "team",
    "handler_id",
    "step",
    "segment",
    "channel",
    "language",
];

pub const FEEDBACK_COLUMNS: [&str; 20] = [
    "feedback_id",
    "survey_id",
    "created_at",
    "kind",
    "score",
    "comment",
    "themes",
    "priority",
    "status",
    "due_on",
    "assignee",
    "contacted_at",
    "improvement_id",
    "client_id",
    "team",
    "handler_id",
    "step",
    "language",
    "case_id",
    "contact_id",
];

fn answer_record(a: &Answer) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    vec![
        a.survey_id.to_string(),
        a.kind.as_str().to_string(),
        a.answered_at.to_string(),
        a.score.value().to_string(),
        opt(a.comment.clone()),
        opt(a.resolved_first_contact.map(|b| b.to_string())),
        (!a.suspect.is_empty()).to_string(),
        a.subject.client_id.to_string(),
        a.subject.team.to_string(),
        opt(a.subject.handler_id.as_ref().map(|h| h.to_string())),
        opt(a.subject.step.as_ref().map(|s| s.to_string())),
        opt(a.subject.segment.as_ref().map(|s| s.to_string())),
        a.channel.as_str().to_string(),
        a.subject.language.code().to_string(),
    ]
}

fn feedback_record(f: &FeedbackItem) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    vec![
        f.id.to_string(),
        f.survey_id.to_string(),
        f.created_at.to_string(),
        f.kind.as_str().to_string(),
        f.score.value().to_string(),
        opt(f.comment.clone()),
        f.themes.join(" "),
        f.priority.as_str().to_string(),
        f.status.as_str().to_string(),
        f.due_on.to_string(),
        opt(f.assignee.clone()),
        opt(f.contacted_at.map(|t| t.to_string())),
        opt(f.improvement_id.as_ref().map(|i| i.to_string())),
        f.client_id.to_string(),
        f.team.to_string(),
        opt(f.handler_id.as_ref().map(|h| h.to_string())),
        opt(f.step.as_ref().map(|s| s.to_string())),
        f.language.code().to_string(),
        opt(f.case_id.as_ref().map(|c| c.to_string())),
        opt(f.contact_id.as_ref().map(|c| c.to_string())),
    ]
}

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'` (OWASP's advice on CSV injection), so a
/// comment like `=HYPERLINK(…)` is shown, not followed. A number stays a number.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// CSV text for some records (with the header first when `header` is given); every
/// cell is [`spreadsheet_safe`].
pub fn csv_chunk(header: Option<&[&str]>, records: &[Vec<String>]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if let Some(h) = header {
        w.write_record(h)?;
    }
    for r in records {
        w.write_record(r.iter().map(|cell| spreadsheet_safe(cell).into_owned()))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

fn csv_response(filename: &str, body: Body) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnswersExport {
    /// `csat` (default) or `nps`.
    #[param(pattern = "^\\s*(nps|csat)?\\s*$")]
    pub kind: Option<String>,
    /// `YYYY-MM`; default 11 months before `to`.
    #[param(pattern = "^\\s*([0-9]{4}-[0-9]{2})?\\s*$")]
    pub from: Option<String>,
    /// `YYYY-MM`; default this month.
    #[param(pattern = "^\\s*([0-9]{4}-[0-9]{2})?\\s*$")]
    pub to: Option<String>,
    #[param(pattern = "^\\s*([A-Za-z0-9._:-]{1,128})?\\s*$")]
    pub team: Option<String>,
    /// Start with a UTF-8 byte order mark (for Excel).
    pub bom: Option<bool>,
}

/// Where an export stream is: which month, which page.
struct AnswerCursor {
    services: Services,
    kind: SurveyKind,
    months: Vec<Month>,
    month: usize,
    cursor: Option<String>,
    team: Option<TeamId>,
    started: bool,
    bom: bool,
}

/// Every answer of the months asked, as CSV, streamed (no contact data).
#[utoipa::path(
    get,
    path = "/api/v1/export/answers.csv",
    tag = "insight",
    params(AnswersExport),
    responses((status = 200, content_type = "text/csv", body = String), ApiErrors)
)]
pub async fn answers_csv(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<AnswersExport>,
) -> Result<Response, ApiError> {
    let team = scoped_team(&p, q.team.as_deref())?;
    let kind = SurveyKind::parse(q.kind.as_deref().unwrap_or("csat"))
        .ok_or_else(|| FieldError::new("kind", "csat or nps"))?;
    let (from, to) = super::reports::month_range(
        q.from.as_deref(),
        q.to.as_deref(),
        1,
        jiff::Timestamp::now(),
    )?;
    let months = from.through(to);
    let state0 = AnswerCursor {
        services: state.services.clone(),
        kind,
        months,
        month: 0,
        cursor: None,
        team,
        started: false,
        bom: q.bom == Some(true),
    };
    let stream = futures_util::stream::unfold(Some(state0), |st| async move {
        let mut st = st?;
        let mut out: Vec<u8> = Vec::new();
        if !st.started {
            st.started = true;
            if st.bom {
                out.extend_from_slice(BOM);
            }
            match csv_chunk(Some(&ANSWER_COLUMNS), &[]) {
                Ok(h) => out.extend(h),
                Err(e) => return Some((Err(std::io::Error::other(e)), None)),
            }
            return Some((Ok(Bytes::from(out)), Some(st)));
        }
        let m = *st.months.get(st.month)?;
        let page = match st
            .services
            .surveys
            .list_answers(
                st.kind,
                &m.to_string(),
                PageRequest {
                    cursor: st.cursor.take(),
                    limit: PAGE,
                },
            )
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "answers export stopped by a storage error");
                return Some((Err(std::io::Error::other(e)), None));
            }
        };
        let records: Vec<Vec<String>> = page
            .items
            .iter()
            .filter(|a| st.team.as_ref().is_none_or(|t| &a.subject.team == t))
            .map(answer_record)
            .collect();
        match page.next {
            Some(next) => st.cursor = Some(next),
            None => st.month += 1,
        }
        match csv_chunk(None, &records) {
            Ok(bytes) => Some((Ok(Bytes::from(bytes)), Some(st))),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    });
    Ok(csv_response(
        &format!("kundpuls-{}-answers-{from}-{to}.csv", kind.as_str()),
        Body::from_stream(stream),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackExport {
    #[param(pattern = "^\\s*(new|triaged|in_progress|resolved|dismissed)?\\s*$")]
    pub status: Option<String>,
    #[param(pattern = "^\\s*([A-Za-z0-9._:-]{1,128})?\\s*$")]
    pub team: Option<String>,
    /// Start with a UTF-8 byte order mark (for Excel).
    pub bom: Option<bool>,
}

/// The feedback items of a team (or every team, for admins), as CSV.
#[utoipa::path(
    get,
    path = "/api/v1/export/feedback.csv",
    tag = "insight",
    params(FeedbackExport),
    responses((status = 200, content_type = "text/csv", body = String), ApiErrors)
)]
pub async fn feedback_csv(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<FeedbackExport>,
) -> Result<Response, ApiError> {
    let team = scoped_team(&p, q.team.as_deref())?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(FeedbackStatus::parse(s).ok_or_else(|| {
            ApiError::from(FieldError::new(
                "status",
                "new, triaged, in_progress, resolved or dismissed",
            ))
        })?),
    };
    // Every item of a team (newest first), or of a status, or both.
    let scopes: Vec<FeedbackScope> = match (&team, status) {
        (Some(t), Some(s)) => vec![FeedbackScope::TeamStatus(t.clone(), s)],
        (Some(t), None) => vec![FeedbackScope::Team(t.clone())],
        (None, Some(s)) => vec![FeedbackScope::Status(s)],
        (None, None) => FeedbackStatus::ALL
            .iter()
            .copied()
            .map(FeedbackScope::Status)
            .collect(),
    };
    let services = state.services.clone();
    let bom = q.bom == Some(true);
    let init = (services, scopes, 0usize, None::<String>, false);
    let stream = futures_util::stream::unfold(Some(init), move |st| async move {
        let (services, scopes, i, cursor, started) = st?;
        if !started {
            let mut out = if bom { BOM.to_vec() } else { Vec::new() };
            match csv_chunk(Some(&FEEDBACK_COLUMNS), &[]) {
                Ok(h) => out.extend(h),
                Err(e) => return Some((Err(std::io::Error::other(e)), None)),
            }
            return Some((
                Ok(Bytes::from(out)),
                Some((services, scopes, i, cursor, true)),
            ));
        }
        let scope = scopes.get(i)?.clone();
        let page = match services
            .backlog
            .list_feedback(
                &FeedbackQuery {
                    scope,
                    due_before: None,
                },
                PageRequest {
                    cursor,
                    limit: PAGE,
                },
            )
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "feedback export stopped by a storage error");
                return Some((Err(std::io::Error::other(e)), None));
            }
        };
        let records: Vec<Vec<String>> = page.items.iter().map(feedback_record).collect();
        let (i, cursor) = match page.next {
            Some(next) => (i, Some(next)),
            None => (i + 1, None),
        };
        match csv_chunk(None, &records) {
            Ok(bytes) => Some((
                Ok(Bytes::from(bytes)),
                Some((services, scopes, i, cursor, true)),
            )),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    });
    Ok(csv_response(
        "kundpuls-feedback.csv",
        Body::from_stream(stream),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read back as a spreadsheet would get it: no cell starts a formula.
    #[test]
    fn cells_that_would_be_formulas_are_written_as_text() {
        let hostile = [
            "=HYPERLINK(\"http://evil.example\",\"click\")",
            "+1+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1:A2)",
            "\t=1",
            "\r=1",
        ];
        let records: Vec<Vec<String>> = hostile
            .iter()
            .map(|c| vec![c.to_string(), "-3.5".into(), "fine".into()])
            .collect();
        let bytes = csv_chunk(Some(&["comment", "trend", "other"]), &records).expect("csv");
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        for (row, original) in reader.records().zip(hostile) {
            let row = row.expect("a row");
            assert_eq!(&row[0], format!("'{original}"));
            assert!(!row[0].starts_with(['=', '+', '-', '@']));
            assert_eq!(&row[1], "-3.5", "numbers stay numbers");
            assert_eq!(&row[2], "fine");
        }
    }
}
