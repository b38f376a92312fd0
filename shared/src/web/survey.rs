//! The respondent's pages: `GET /s/{token}` shows the survey, only `POST` records,
//! and `/s/{token}/opt-out` stops all surveys to that contact. Server-rendered, no
//! JavaScript, no external requests, in the respondent's language. Unknown, expired
//! and answered links get a friendly page; nothing internal is shown.

use super::html::cross_site;
use super::state::AppState;
use crate::domain::locale::Language;
use crate::domain::messages::page::{PageTexts, csat_question, page_texts};
use crate::domain::score::{CsatScore, NpsScore, Score};
use crate::domain::survey::{Answer, AnswerInput, LinkedSurvey, SurveyKind, SuspectReason};
use crate::domain::token::SurveyToken;
use crate::ports::{AnswerOutcome, StoreError};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::HashMap;

/// Comments longer than this (in characters) are refused.
pub const MAX_COMMENT_CHARS: usize = 1000;

pub const CSS: &str = include_str!("../../templates/survey.css");
/// Where the stylesheet is served; the path changes when it does, so it caches forever.
pub const CSS_PATH: &str = "/assets/survey-2.css";

/// What frames a page about a known survey: the client's name and colour when it
/// has settings, and the line naming the agency as data controller.
#[derive(Debug, Default)]
struct Frame {
    /// The client's name above the page's heading.
    brand: Option<String>,
    /// The client's colour as its own stylesheet (the CSP allows no inline style).
    brand_css: Option<String>,
    privacy: Option<String>,
    privacy_url: Option<String>,
    privacy_notice: &'static str,
}

/// The stylesheet path of a brand colour (`#0b5394` → `/assets/brand/0b5394.css`).
pub fn brand_css_path(colour: &str) -> String {
    format!("{BRAND_CSS_PREFIX}{}.css", colour.trim_start_matches('#'))
}

const BRAND_CSS_PREFIX: &str = "/assets/brand/";

async fn frame(state: &AppState, survey: &LinkedSurvey) -> Frame {
    let config = &state.services.config;
    let t = page_texts(survey.subject.language);
    // A page without the client's name is better than no page.
    let client = match state
        .services
        .client_settings(&survey.subject.client_id)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "client settings unavailable; page shown in the agency's name");
            None
        }
    };
    Frame {
        brand: client.as_ref().map(|c| c.display_name.clone()),
        brand_css: client
            .as_ref()
            .and_then(|c| c.brand_colour.as_deref())
            .map(brand_css_path),
        privacy: Some(
            t.privacy_controller
                .replace("{controller}", config.agency_name()),
        ),
        privacy_url: config.privacy_url().map(str::to_string),
        privacy_notice: t.privacy_notice,
    }
}

/// `GET /assets/brand/{rrggbb}.css`: a client's colour on the buttons, chosen
/// scores and links. Only colours that keep white text readable are served.
pub async fn brand_stylesheet(Path(file): Path<String>) -> Response {
    let colour = file
        .strip_suffix(".css")
        .map(|hex| format!("#{}", hex.to_ascii_lowercase()))
        .filter(|c| {
            crate::domain::client::parse_colour(c).is_some_and(|rgb| {
                crate::domain::client::contrast_with_white(rgb)
                    >= crate::domain::client::MIN_CONTRAST
            })
        });
    let Some(c) = colour else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let css = format!(
        ".scale label,.yesno label{{border-color:{c};color:{c}}}\n\
         .scale input:checked+label,.yesno input:checked+label,button{{background:{c};color:#fff}}\n\
         a{{color:{c}}}\n"
    );
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        css,
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "survey_form.html")]
struct FormPage<'a> {
    lang: &'a str,
    frame: Frame,
    t: &'a PageTexts,
    css: &'a str,
    question: String,
    low: &'a str,
    high: &'a str,
    /// Each score and whether it is chosen.
    scores: Vec<(u8, bool)>,
    first: u8,
    last: u8,
    nps: bool,
    ask_fcr: bool,
    fcr: Option<bool>,
    comment: &'a str,
    stamp: String,
    error: Option<&'a str>,
    opt_out_href: String,
}

#[derive(Template)]
#[template(path = "survey_message.html")]
struct MessagePage<'a> {
    lang: &'a str,
    frame: Frame,
    css: &'a str,
    title: &'a str,
    body: &'a str,
    /// A one-button form: (action, hidden field name, value, label).
    button: Option<(String, &'a str, &'a str, &'a str)>,
    link: Option<(String, &'a str)>,
}

fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    super::html::page(status, body, "survey")
}

fn message(
    status: StatusCode,
    lang: Language,
    title: &str,
    body: &str,
    button: Option<(String, &str, &str, &str)>,
    link: Option<(String, &str)>,
) -> Response {
    framed_message(status, lang, title, body, button, link, Frame::default())
}

fn framed_message(
    status: StatusCode,
    lang: Language,
    title: &str,
    body: &str,
    button: Option<(String, &str, &str, &str)>,
    link: Option<(String, &str)>,
    frame: Frame,
) -> Response {
    html(
        status,
        MessagePage {
            lang: lang.code(),
            frame,
            css: CSS_PATH,
            title,
            body,
            button,
            link,
        }
        .render(),
    )
}

/// The language for pages about a link we cannot resolve: the browser's.
fn browser_language(headers: &HeaderMap) -> Language {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|part| Language::parse(part.split(';').next().unwrap_or_default().trim()))
        })
        .unwrap_or(Language::En)
}

fn not_found(headers: &HeaderMap) -> Response {
    not_found_in(browser_language(headers))
}

fn not_found_in(lang: Language) -> Response {
    let t = page_texts(lang);
    message(
        StatusCode::NOT_FOUND,
        lang,
        t.unknown_title,
        t.unknown_body,
        None,
        None,
    )
}

/// A refusal by the framework or the link limiter (a form field twice, a body too
/// large or of another type, too many requests) as a page in the browser's
/// language, not the framework's plain text.
pub fn refusal_page(headers: &HeaderMap, status: StatusCode) -> Response {
    let lang = browser_language(headers);
    if status == StatusCode::NOT_FOUND {
        return not_found_in(lang);
    }
    let t = page_texts(lang);
    message(status, lang, t.busy_title, t.busy_body, None, None)
}

/// Every non-page answer of the survey routes (4xx, 5xx) becomes a page.
pub async fn house_rules(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_page || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let mut page = refusal_page(&headers, status);
    for kept in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = response.headers().get(&kept) {
            page.headers_mut().insert(kept, v.clone());
        }
    }
    page
}

fn busy(lang: Language, e: &StoreError) -> Response {
    tracing::error!(error = %e, "survey page storage failure");
    let t = page_texts(lang);
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        lang,
        t.busy_title,
        t.busy_body,
        None,
        None,
    )
}

/// The survey behind `/s/{token}…`, resolved before the handler runs: an unknown
/// link gets the not-found page, a store failure the busy page, and a form posted
/// from another site is refused.
pub struct SurveyLink {
    token: String,
    survey: LinkedSurvey,
    /// The browser's language, for a page about a survey that has since gone.
    browser: Language,
}

impl FromRequestParts<AppState> for SurveyLink {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Path(token) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let survey = resolve(state, &token, &parts.headers).await?;
        if parts.method == Method::POST && cross_site(&parts.headers) {
            return Err(StatusCode::FORBIDDEN.into_response());
        }
        Ok(Self {
            token,
            survey,
            browser: browser_language(&parts.headers),
        })
    }
}

/// The survey behind a link, or the page to show instead.
async fn resolve(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
) -> Result<LinkedSurvey, Response> {
    let Some(token) = SurveyToken::parse(token) else {
        return Err(not_found(headers));
    };
    match state.services.surveys.find_by_token(&token.hash()).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(not_found(headers)),
        Err(e) => Err(busy(browser_language(headers), &e)),
    }
}

fn opt_out_href(token: &str) -> String {
    format!("/s/{token}/opt-out")
}

/// The pages that end a visit, each with the link to opt out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    Thanks,
    AlreadyAnswered,
    /// Expired, or never sent.
    Closed,
}

fn closing(kind: Closing, lang: Language, token: &str, frame: Frame) -> Response {
    let t = page_texts(lang);
    let (status, title, body) = match kind {
        Closing::Thanks => (StatusCode::OK, t.thanks_title, t.thanks_body),
        Closing::AlreadyAnswered => (StatusCode::OK, t.already_title, t.already_body),
        Closing::Closed => (StatusCode::GONE, t.expired_title, t.expired_body),
    };
    let link = Some((opt_out_href(token), t.opt_out_link));
    framed_message(status, lang, title, body, None, link, frame)
}

/// What the link's copy of the survey says before any write: answered, or past
/// its lifetime. The store decides again on the survey itself when answering.
fn closed_kind(survey: &LinkedSurvey, now: Timestamp) -> Option<Closing> {
    if survey.answered_at.is_some() {
        Some(Closing::AlreadyAnswered)
    } else if survey.is_expired_at(now) {
        Some(Closing::Closed)
    } else {
        None
    }
}

/// How the form was reached: the person's own link, or the email's hidden link that
/// only software follows (its answers are kept but flagged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reached {
    Link,
    Honeypot,
}

/// What the form shows besides the survey: the answer so far, and why it was sent back.
struct FormView<'a> {
    selected: Option<u8>,
    fcr: Option<bool>,
    comment: &'a str,
    reached: Reached,
    error: Option<&'a str>,
}

impl FormView<'_> {
    /// The form as a link opens it, with `selected` chosen (`?score=`).
    fn opened(selected: Option<u8>, reached: Reached) -> Self {
        FormView {
            selected,
            fcr: None,
            comment: "",
            reached,
            error: None,
        }
    }
}

fn form(
    state: &AppState,
    survey: &LinkedSurvey,
    token: &str,
    view: FormView<'_>,
    now: Timestamp,
    frame: Frame,
) -> Response {
    let FormView {
        selected,
        fcr,
        comment,
        reached,
        error,
    } = view;
    let lang = survey.subject.language;
    let t = page_texts(lang);
    let agency = frame
        .brand
        .clone()
        .unwrap_or_else(|| state.services.config.agency_name().to_string());
    let agency = agency.as_str();
    let nps = survey.kind == SurveyKind::Nps;
    let (question, low, high, first, last) = if nps {
        (
            t.nps_question.replace("{agency}", agency),
            t.nps_low,
            t.nps_high,
            0,
            10,
        )
    } else {
        let step = survey.subject.step.as_ref().map(|s| s.as_str());
        (
            csat_question(lang, step).replace("{agency}", agency),
            t.csat_low,
            t.csat_high,
            1,
            5,
        )
    };
    let scores = (first..=last).map(|s| (s, selected == Some(s))).collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        status,
        FormPage {
            lang: lang.code(),
            frame,
            t,
            css: CSS_PATH,
            question,
            low,
            high,
            scores,
            first,
            last,
            nps,
            ask_fcr: survey.subject.step.as_ref().is_some_and(|s| s.is_call()),
            fcr,
            comment,
            stamp: state.stamp.issue(
                &survey.id,
                now,
                reached == Reached::Honeypot,
                selected.is_some(),
            ),
            error,
            opt_out_href: opt_out_href(token),
        }
        .render(),
    )
}

fn score_for(kind: SurveyKind, value: u8) -> Option<Score> {
    match kind {
        SurveyKind::Nps => NpsScore::try_from(value).ok().map(Score::Nps),
        SurveyKind::Csat => CsatScore::try_from(value).ok().map(Score::Csat),
    }
}

pub async fn show(
    State(state): State<AppState>,
    SurveyLink { token, survey, .. }: SurveyLink,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Response> {
    let now = Timestamp::now();
    if let Some(kind) = closed_kind(&survey, now) {
        let frame = frame(&state, &survey).await;
        return Ok(closing(kind, survey.subject.language, &token, frame));
    }
    let selected = query
        .get("score")
        .and_then(|s| s.parse::<u8>().ok())
        .filter(|v| score_for(survey.kind, *v).is_some());
    let reached = if query.get("via").is_some_and(|v| v == "preview") {
        Reached::Honeypot
    } else {
        Reached::Link
    };
    let frame = frame(&state, &survey).await;
    Ok(form(
        &state,
        &survey,
        &token,
        FormView::opened(selected, reached),
        now,
        frame,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct AnswerForm {
    score: Option<String>,
    fcr: Option<String>,
    comment: Option<String>,
    stamp: Option<String>,
    /// Hidden from people; software that fills every field fills it.
    website: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    SurveyLink {
        token,
        survey,
        browser,
    }: SurveyLink,
    Form(input): Form<AnswerForm>,
) -> Result<Response, Response> {
    let now = Timestamp::now();
    let lang = survey.subject.language;
    let t = page_texts(lang);
    // Kept and counted as shown: no control characters or bidi overrides, NFC.
    let cleaned = crate::domain::text::clean(input.comment.as_deref().unwrap_or_default());
    let comment = cleaned.as_str();
    let fcr = match input.fcr.as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let selected = input
        .score
        .as_deref()
        .and_then(|s| s.trim().parse::<u8>().ok());
    let Some(score) = selected.and_then(|v| score_for(survey.kind, v)) else {
        if let Some(kind) = closed_kind(&survey, now) {
            let frame = frame(&state, &survey).await;
            return Ok(closing(kind, lang, &token, frame));
        }
        let view = FormView {
            selected: None,
            fcr,
            comment,
            reached: Reached::Link,
            error: Some(t.error_score),
        };
        return Ok(form(
            &state,
            &survey,
            &token,
            view,
            now,
            frame(&state, &survey).await,
        ));
    };
    if comment.chars().count() > MAX_COMMENT_CHARS {
        let view = FormView {
            selected,
            fcr,
            comment,
            reached: Reached::Link,
            error: Some(t.error_comment),
        };
        return Ok(form(
            &state,
            &survey,
            &token,
            view,
            now,
            frame(&state, &survey).await,
        ));
    }
    let mut suspect = state.stamp.check(&survey.id, input.stamp.as_deref(), now);
    if input
        .website
        .as_deref()
        .is_some_and(|w| !w.trim().is_empty())
        && !suspect.contains(&SuspectReason::Honeypot)
    {
        suspect.push(SuspectReason::Honeypot);
    }
    let answer = Answer::new(
        &survey,
        AnswerInput {
            score,
            comment: Some(comment.to_string()),
            resolved_first_contact: fcr
                .filter(|_| survey.subject.step.as_ref().is_some_and(|s| s.is_call())),
            suspect,
            answered_at: now,
        },
    );
    let outcome = state
        .services
        .surveys
        .record_answer(&survey, answer, now)
        .await
        .map_err(|e| busy(lang, &e))?;
    let frame = frame(&state, &survey).await;
    let closing_page = |kind| closing(kind, lang, &token, frame);
    Ok(match outcome {
        AnswerOutcome::Recorded(a) => {
            tracing::info!(survey_id = %survey.id, suspect = a.is_suspect(), "answer recorded");
            closing_page(Closing::Thanks)
        }
        AnswerOutcome::AlreadyAnswered(_) => closing_page(Closing::AlreadyAnswered),
        AnswerOutcome::NotOpen(_) => closing_page(Closing::Closed),
        AnswerOutcome::NotFound => not_found_in(browser),
    })
}

pub async fn opt_out_confirm(
    State(state): State<AppState>,
    SurveyLink { token, survey, .. }: SurveyLink,
) -> Result<Response, Response> {
    let lang = survey.subject.language;
    let t = page_texts(lang);
    Ok(framed_message(
        StatusCode::OK,
        lang,
        t.opt_out_title,
        t.opt_out_body,
        Some((opt_out_href(&token), "confirm", "1", t.opt_out_button)),
        None,
        frame(&state, &survey).await,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct OptOutForm {
    undo: Option<String>,
}

/// One step: a confirming POST, or the mail client's one-click
/// `List-Unsubscribe=One-Click`, opts out; `undo=1` opts back in.
pub async fn opt_out(
    State(state): State<AppState>,
    SurveyLink { token, survey, .. }: SurveyLink,
    Form(input): Form<OptOutForm>,
) -> Result<Response, Response> {
    let lang = survey.subject.language;
    let t = page_texts(lang);
    let contacts = &state.services.contacts;
    let unavailable = |e: StoreError| busy(lang, &e);
    if input.undo.as_deref() == Some("1") {
        contacts
            .opt_in(&survey.contact_key)
            .await
            .map_err(unavailable)?;
        return Ok(framed_message(
            StatusCode::OK,
            lang,
            t.opted_in_title,
            t.opted_in_body,
            None,
            None,
            frame(&state, &survey).await,
        ));
    }
    contacts
        .opt_out(&survey.contact_key, Timestamp::now())
        .await
        .map_err(unavailable)?;
    tracing::info!(survey_id = %survey.id, "contact opted out");
    Ok(framed_message(
        StatusCode::OK,
        lang,
        t.opted_out_title,
        t.opted_out_body,
        Some((opt_out_href(&token), "undo", "1", t.undo_button)),
        None,
        frame(&state, &survey).await,
    ))
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        CSS,
    )
        .into_response()
}
