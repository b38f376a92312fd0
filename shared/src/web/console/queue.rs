//! The feedback queue: status tabs with counts, filters, and cursor pages.

use super::{Chrome, ConsolePage, ConsoleUser, OrPage, page};
use crate::domain::backlog::FeedbackItem;
use crate::domain::score::Score;
use crate::domain::themes::ALL_THEMES;
use crate::ports::{PageRequest, StoreError};
use crate::web::auth::Role;
use crate::web::console_api::{FeedbackListQuery, resolve_listing, today};
use crate::web::error::ApiError;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

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
    /// An open item whose comment text the retention ceiling removes within
    /// [`CEILING_NOTICE_DAYS`]: the date it goes.
    pub text_goes_on: Option<String>,
}

/// How far ahead the queue shows that an open item's text nears the ceiling.
pub const CEILING_NOTICE_DAYS: i64 = 30;

pub(super) fn score_label(score: Score) -> String {
    match score {
        Score::Nps(s) => format!("NPS {}", s.value()),
        Score::Csat(s) => format!("CSAT {}", s.value()),
    }
}

pub(super) fn human(s: &str) -> String {
    s.replace('_', " ")
}

pub(super) fn row(
    item: &FeedbackItem,
    today: jiff::civil::Date,
    retention: jiff::SignedDuration,
) -> Row {
    let text_goes_on = item
        .text_removed_on(retention, today, CEILING_NOTICE_DAYS)
        .map(|d| d.to_string());
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
        text_goes_on,
    }
}

pub struct Tab {
    pub status: &'static str,
    pub label: String,
    pub count: String,
    pub href: String,
    pub current: bool,
}

/// One early warning in the queue's banner.
pub struct WarningLine {
    pub team: String,
    /// `handler h-17`, `client acme-energy`, `team energy`.
    pub scope: String,
    pub figure: String,
    pub n: u64,
    pub target: String,
    pub previous: Option<String>,
    pub why: String,
    pub raised: String,
    /// The report that shows the scope's figures.
    pub href: String,
}

impl WarningLine {
    fn of(w: &crate::domain::warnings::Warning) -> Self {
        use crate::domain::warnings::format_figure;
        Self {
            team: w.team.to_string(),
            scope: format!("{} {}", w.dimension.as_str(), w.value),
            figure: w.figure_text(),
            n: w.n,
            target: format_figure(w.kind, w.target),
            previous: w.previous.map(|p| format_figure(w.kind, p)),
            why: w.reasons_text(),
            raised: w.window_end.to_string(),
            href: format!(
                "/console/reports{}",
                query_string(&[
                    ("kind", w.kind.as_str()),
                    ("group_by", w.dimension.as_str()),
                    ("team", w.team.as_str()),
                ])
            ),
        }
    }
}

/// The warnings of the last 30 days of the teams in view (the filtered team, or
/// every team of the user); a store that cannot be read leaves the banner out.
async fn warnings_in_view(
    state: &AppState,
    teams: &[crate::domain::ids::TeamId],
) -> Vec<WarningLine> {
    let now = jiff::Timestamp::now();
    let mut lines = Vec::new();
    for team in teams.iter().take(20) {
        match state.services.recent_warnings(team, now).await {
            Ok(warnings) => lines.extend(warnings.iter().map(WarningLine::of)),
            Err(e) => {
                tracing::warn!(error = %e, "early warnings unavailable; the banner is left out")
            }
        }
    }
    lines
}

#[derive(Template)]
#[template(path = "console_queue.html")]
struct QueuePage {
    chrome: Option<Chrome>,
    warnings: Vec<WarningLine>,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
    teams: Vec<String>,
    team: String,
    free_team: bool,
    status: String,
    priority: String,
    theme: String,
    /// The stored lexicon's themes (an admin may have added some).
    themes: Vec<(String, String)>,
    kind: String,
    overdue: bool,
    next_href: Option<String>,
    first_href: Option<String>,
}

/// `?k=v&…` for the pairs with a value, form-encoded; empty if none has one.
pub(super) fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<&(&str, &str)> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    match serde_urlencoded::to_string(kept) {
        Ok(q) if !q.is_empty() => format!("?{q}"),
        _ => String::new(),
    }
}

/// The queue's address with the same filters and no page cursor.
fn without_cursor(raw: Option<&str>) -> String {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| k != "cursor")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    format!("/console{}", query_string(&kept))
}

/// Every theme of the lexicon in use, in any language, for the filter; the
/// built-in ones if the lexicon cannot be read.
async fn lexicon_themes(state: &AppState) -> Vec<(String, String)> {
    let names: std::collections::BTreeSet<String> = match state.services.lexicon().await {
        Ok(lexicon) => lexicon.0.values().flat_map(|t| t.keys().cloned()).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "lexicon unavailable; the filter lists the built-in themes");
            ALL_THEMES.iter().map(|t| t.to_string()).collect()
        }
    };
    names
        .into_iter()
        .map(|t| {
            let label = human(&t);
            (t, label)
        })
        .collect()
}

pub async fn queue(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    Query(mut q): Query<FeedbackListQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsolePage> {
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
            return Err(ConsolePage::redirect("/console?status=new"));
        }
        Err(e) => return Err(ConsolePage::error(&p, e)),
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
        // A page link from another listing, or one signed before a key rotation:
        // the same view from its first page.
        Err(StoreError::InvalidCursor) => {
            return Err(ConsolePage::redirect(&without_cursor(raw.as_deref())));
        }
        other => other.or_page(&p)?,
    };
    let counts = services
        .count_feedback(listing.team.as_ref(), 1000)
        .await
        .or_page(&p)?;
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
        .map(|c| Tab {
            status: c.status.as_str(),
            label: human(c.status.as_str()),
            count: if c.more {
                format!("{}+", c.count)
            } else {
                c.count.to_string()
            },
            href: filters(c.status.as_str(), ""),
            current: c.status.as_str() == status,
        })
        .collect();
    let in_view = match &listing.team {
        Some(t) => vec![t.clone()],
        None => p.teams.clone(),
    };
    let body = QueuePage {
        chrome: Some(Chrome::of(&p, "queue")),
        warnings: warnings_in_view(&state, &in_view).await,
        tabs,
        rows: page_items
            .items
            .iter()
            .map(|i| row(i, today, state.services.config.retention()))
            .collect(),
        teams: p.teams.iter().map(|t| t.to_string()).collect(),
        free_team: p.role == Role::Admin,
        team: team.clone(),
        status: status.to_string(),
        priority: priority.clone(),
        theme: theme.clone(),
        themes: lexicon_themes(&state).await,
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
    Ok(page(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::without_cursor;

    #[test]
    fn a_refused_cursor_leads_to_the_same_view_from_its_first_page() {
        assert_eq!(
            without_cursor(Some("status=new&team=energy&cursor=abc.def&theme=tone")),
            "/console?status=new&team=energy&theme=tone"
        );
        assert_eq!(without_cursor(Some("cursor=abc")), "/console");
        assert_eq!(without_cursor(None), "/console");
    }
}
