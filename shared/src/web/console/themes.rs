//! The themes page: the lexicon as text, a preview of how an edit would tag the
//! last 100 comments, and (admins) saving it as a new version.

use super::{Chrome, ConsolePage, ConsoleUser, OrPage, page, same_site};
use crate::app::themes::{LexiconEditError, PREVIEW_COMMENTS};
use crate::domain::ids::TeamId;
use crate::domain::lexicon_edit::{LexiconPreview, preview};
use crate::domain::themes::{Lexicon, StoredLexicon};
use crate::web::auth::{Principal, Role};
use crate::web::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "console_themes.html")]
struct ThemesPage {
    chrome: Option<Chrome>,
    admin: bool,
    stored: StoredLexicon,
    /// The text in the editor: the stored lexicon, or the edit being previewed.
    text: String,
    version: u64,
    team: String,
    problems: Vec<String>,
    preview: Option<PreviewView>,
    flash: Option<String>,
}

/// A preview, ready to show.
struct PreviewView {
    comments: usize,
    teams: String,
    rows: Vec<(String, usize, usize)>,
    changes: Vec<ChangeView>,
}

struct ChangeView {
    id: String,
    excerpt: String,
    added: String,
    removed: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ThemesQuery {
    saved: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ThemesForm {
    #[serde(default)]
    lexicon: String,
    #[serde(default)]
    version: u64,
    #[serde(default)]
    team: String,
    /// `preview` or `save`.
    #[serde(default)]
    action: String,
}

pub async fn themes(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    Query(q): Query<ThemesQuery>,
) -> Result<Response, ConsolePage> {
    let stored = state.services.stored_lexicon().await.or_page(&p)?;
    let flash = q
        .saved
        .map(|v| format!("Saved as version {v}: new answers are tagged with it."));
    let view = ThemesPage {
        chrome: Some(Chrome::of(&p, "themes")),
        admin: p.role == Role::Admin,
        text: stored.lexicon.to_text(),
        version: stored.version,
        stored,
        team: String::new(),
        problems: Vec::new(),
        preview: None,
        flash,
    };
    Ok(page(StatusCode::OK, view.render()))
}

pub async fn edit_themes(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    headers: HeaderMap,
    Form(form): Form<ThemesForm>,
) -> Result<Response, ConsolePage> {
    same_site(&headers)?;
    let saving = form.action == "save";
    if saving && p.role != Role::Admin {
        return Err(ConsolePage::error(
            &p,
            crate::web::error::ApiError::Forbidden,
        ));
    }
    let stored = state.services.stored_lexicon().await.or_page(&p)?;
    let mut view = ThemesPage {
        chrome: Some(Chrome::of(&p, "themes")),
        admin: p.role == Role::Admin,
        stored,
        text: form.lexicon.clone(),
        version: form.version,
        team: form.team.trim().to_string(),
        problems: Vec::new(),
        preview: None,
        flash: None,
    };
    let edited = match Lexicon::from_text(&form.lexicon).and_then(Lexicon::validated) {
        Ok(l) => l,
        Err(problems) => {
            view.problems = problems;
            return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, view.render()));
        }
    };
    if saving {
        return match state
            .services
            .update_lexicon(edited, form.version, &p.user, jiff::Timestamp::now())
            .await
        {
            Ok(saved) => Ok(
                Redirect::to(&format!("/console/themes?saved={}", saved.version)).into_response(),
            ),
            Err(LexiconEditError::Invalid(problems)) => {
                view.problems = problems;
                Ok(page(StatusCode::UNPROCESSABLE_ENTITY, view.render()))
            }
            Err(LexiconEditError::Conflict { current }) => {
                view.flash = Some(format!(
                    "Not saved: someone saved the lexicon first (now version {current}). Your text is kept below; open the page again to start from theirs."
                ));
                Ok(page(StatusCode::CONFLICT, view.render()))
            }
            Err(LexiconEditError::Store(e)) => Err(ConsolePage::error(&p, e)),
        };
    }
    let teams = preview_teams(&p, &view.team);
    let Some(teams) = teams else {
        view.problems = vec![format!("team: `{}` is not a team id", view.team)];
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, view.render()));
    };
    let items = state
        .services
        .recent_comments(&teams, PREVIEW_COMMENTS)
        .await
        .or_page(&p)?;
    let result = preview(&view.stored.lexicon, &edited, &items);
    view.text = edited.to_text();
    view.preview = Some(show(
        result,
        teams
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    Ok(page(StatusCode::OK, view.render()))
}

/// The teams a preview reads: the one named (an admin's choice; a lead only among
/// their own), else the user's own teams.
fn preview_teams(p: &Principal, named: &str) -> Option<Vec<TeamId>> {
    if named.is_empty() {
        return Some(p.teams.clone());
    }
    let team = TeamId::parse(named).ok()?;
    (p.role == Role::Admin || p.teams.contains(&team)).then(|| vec![team])
}

fn show(result: LexiconPreview, teams: String) -> PreviewView {
    let human = |v: &[String]| {
        v.iter()
            .map(|t| t.replace('_', " "))
            .collect::<Vec<_>>()
            .join(", ")
    };
    PreviewView {
        comments: result.comments,
        teams,
        rows: result
            .per_theme
            .into_iter()
            .map(|(t, (now, then))| (t.replace('_', " "), now, then))
            .collect(),
        changes: result
            .changes
            .into_iter()
            .map(|c| {
                let comment = c.item.comment.as_deref().unwrap_or_default();
                let mut excerpt: String = comment.chars().take(120).collect();
                if comment.chars().count() > 120 {
                    excerpt.push('…');
                }
                ChangeView {
                    id: c.item.id.to_string(),
                    excerpt,
                    added: human(&c.added),
                    removed: human(&c.removed),
                }
            })
            .collect(),
    }
}
