//! One feedback item: its survey context, activity log and the triage form.

use super::queue::{Row, human, query_string, row, score_label};
use super::{Chrome, ConsolePage, ConsoleUser, OrPage, page, same_site};
use crate::app::triage::FeedbackPatch;
use crate::domain::backlog::{Activity, FeedbackStatus, ImprovementStatus};
use crate::domain::ids::{FeedbackId, ImprovementId};
use crate::web::console_api::{apply_feedback_patch, improvement_board, today, visible_feedback};
use crate::web::error::ApiError;
use crate::web::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

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
    /// The comment in pieces, each marked if it is a word a theme matched.
    comment: Option<Vec<(String, bool)>>,
    comment_lang: &'static str,
    /// Each theme with the words that matched it.
    why: Vec<(String, String)>,
    context: Vec<(&'static str, String)>,
    /// (value, label, selected) for the status select: the current status and the
    /// moves the workflow allows.
    statuses: Vec<(&'static str, String, bool)>,
    /// Held for review: the page says what accepting and dismissing do.
    review: bool,
    /// Whom to call back: (label, element key, the reference, its case-system link).
    refs: Vec<(&'static str, &'static str, String, Option<String>)>,
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
) -> Result<Response, ConsolePage> {
    let id = FeedbackId::parse(&id).map_err(|_| ConsolePage::not_found(&p))?;
    let view = visible_feedback(&state, &p, &id).await.or_page(&p)?;
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
    let review = item.status == FeedbackStatus::Review;
    let statuses = FeedbackStatus::ALL
        .iter()
        .copied()
        .filter(|s| *s == item.status || item.status.can_move_to(*s))
        .map(|s| {
            let label = match (review, s) {
                (true, FeedbackStatus::New) => "new: a person wrote it (count it)".to_string(),
                (true, FeedbackStatus::Dismissed) => "dismissed: automated".to_string(),
                _ => human(s.as_str()),
            };
            (s.as_str(), label, s == item.status)
        })
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
    let config = &state.services.config;
    let mut refs = Vec::new();
    if let Some(case) = &item.case_id {
        refs.push(("Case", "case", case.to_string(), config.case_link(case)));
    }
    if let Some(contact) = &item.contact_id {
        refs.push(("Contact", "contact", contact.to_string(), None));
    }
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
    } else if let Some(code) = q.error {
        (Some(super::banner::banner(&code).to_string()), true)
    } else {
        (None, false)
    };
    let body = ItemPage {
        chrome: Some(Chrome::of(&p, "queue")),
        row: row(item, today(), state.services.config.retention()),
        team: item.team.to_string(),
        version: item.version,
        title: format!("{}{step}", score_label(item.score)),
        comment: item
            .comment
            .as_deref()
            .map(|c| highlighted(c, &item.theme_words)),
        comment_lang: item.language.code(),
        why: item
            .theme_words
            .iter()
            .map(|(theme, words)| (human(theme), words.join(", ")))
            .collect(),
        context,
        statuses,
        review,
        refs,
        contacted: item.contacted_at.is_some(),
        improvements,
        activity: view.activity.iter().map(activity_line).collect(),
        flash,
        flash_error,
    }
    .render();
    Ok(page(StatusCode::OK, body))
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
) -> Result<Response, ConsolePage> {
    same_site(&headers)?;
    let id = FeedbackId::parse(&id).map_err(|_| ConsolePage::not_found(&p))?;
    let back = format!("/console/feedback/{id}");
    let status = match form.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => match FeedbackStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                return Err(ConsolePage::redirect(&format!(
                    "{back}?error=unknown_status"
                )));
            }
        },
        None => None,
    };
    let improvement_id = match form.improvement_id.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(s) => match ImprovementId::parse(s) {
            Ok(i) => Some(Some(i)),
            Err(_) => {
                return Err(ConsolePage::redirect(&format!(
                    "{back}?error=unknown_improvement"
                )));
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
        return Ok(match result {
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
        });
    }
    Ok(match result {
        Ok(_) => Redirect::to(&format!("{back}?saved=1")).into_response(),
        Err(ApiError::Conflict { current }) => {
            Redirect::to(&format!("{back}?conflict={current}")).into_response()
        }
        Err(ApiError::Invalid(invalid)) => {
            let field = invalid.0.first().map_or("", |f| f.field.as_str());
            let code = super::banner::invalid(field);
            Redirect::to(&format!("{back}{}", query_string(&[("error", &code)]))).into_response()
        }
        Err(e) => return Err(ConsolePage::error(&p, e)),
    })
}

/// The comment cut into runs of letters and digits and what lies between them; a
/// run is marked when, lower-cased, it is one of the words a theme matched (a
/// phrase stem is listed beside the themes instead).
fn highlighted(
    comment: &str,
    theme_words: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<(String, bool)> {
    let matched: std::collections::BTreeSet<&str> =
        theme_words.values().flatten().map(String::as_str).collect();
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut word = String::new();
    let mut gap = String::new();
    let flush_word = |word: &mut String, out: &mut Vec<(String, bool)>| {
        if !word.is_empty() {
            let hit = matched.contains(word.to_lowercase().as_str());
            out.push((std::mem::take(word), hit));
        }
    };
    for c in comment.chars() {
        if c.is_alphanumeric() {
            if !gap.is_empty() {
                out.push((std::mem::take(&mut gap), false));
            }
            word.push(c);
        } else {
            flush_word(&mut word, &mut out);
            gap.push(c);
        }
    }
    flush_word(&mut word, &mut out);
    if !gap.is_empty() {
        out.push((gap, false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::highlighted;

    #[test]
    fn the_words_a_theme_matched_are_marked_whatever_their_case() {
        let words = [("treatment".to_string(), vec!["otrevlig".to_string()])]
            .into_iter()
            .collect();
        let pieces = highlighted("Han var OTREVLIG, otrevligt!", &words);
        let marked: Vec<&str> = pieces
            .iter()
            .filter(|(_, hit)| *hit)
            .map(|(t, _)| t.as_str())
            .collect();
        assert_eq!(marked, ["OTREVLIG"]);
        let whole: String = pieces.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(whole, "Han var OTREVLIG, otrevligt!");
    }
}
