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

mod assets;
mod banner;
mod board;
mod clients;
mod item;
mod login;
mod queue;
mod reports;
mod sign_in;
mod themes;

pub use assets::{script, stylesheet};
pub use board::{board, create_improvement, update_improvement};
pub use clients::{clients, save_client};
pub use item::{item, triage};
pub use login::{login, login_form, logout};
pub use queue::queue;
pub use reports::reports;
pub use sign_in::{callback, refresh, signed_out};
pub use themes::{edit_themes, themes};

use super::auth::{Principal, Role};
use super::error::ApiError;
use super::state::{AppState, Authenticator};
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

pub const CSS: &str = include_str!("../../../templates/console.css");
pub const JS: &str = include_str!("../../../templates/console.js");
/// Versioned asset paths: they change when the files do, so they cache forever.
pub const CSS_PATH: &str = "/console/assets/console-2.css";
pub const JS_PATH: &str = "/console/assets/console-2.js";
pub const SESSION_COOKIE: &str = "kp_console";
/// `state`, PKCE verifier and the page to come back to, during one sign-in.
pub const LOGIN_COOKIE: &str = "kp_login";
/// The managed login's refresh token.
pub const REFRESH_COOKIE: &str = "kp_refresh";
/// An ID token with less than this left is refreshed before a page is shown.
const REFRESH_BEFORE_SECONDS: i64 = 300;

fn page(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    crate::web::html::page(status, body, "console")
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
    CookieJar::from_headers(&parts.headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .filter(|_| parts.method == axum::http::Method::GET);
        let jar = CookieJar::from_headers(&parts.headers);
        let principal = match Principal::from_request_parts(parts, state).await {
            Ok(p) => Some(p),
            Err(_) => match (&state.sign_in, &state.auth) {
                (Some(sign_in), _) => {
                    let session = cookie_token(parts);
                    let refreshable = jar.get(REFRESH_COOKIE).is_some();
                    let claims = match &session {
                        Some(token) => sign_in.verify(token).await.ok(),
                        None => None,
                    };
                    let principal = claims.as_ref().and_then(Principal::from_claims);
                    // The verified `exp`: near its end, the session is renewed.
                    let ending = claims
                        .as_ref()
                        .and_then(|c| c.get("exp")?.parse::<i64>().ok())
                        .is_some_and(|exp| {
                            exp - jiff::Timestamp::now().as_second() < REFRESH_BEFORE_SECONDS
                        });
                    // Refreshed on the way to a page, before it runs out.
                    if refreshable && (principal.is_none() || ending) && here.is_some() {
                        let back = sign_in::safe_return(here.as_deref());
                        let to = format!(
                            "/console/auth/refresh{}",
                            queue::query_string(&[("return_to", &back)])
                        );
                        return Err(Redirect::to(&to).into_response());
                    }
                    principal
                }
                (None, Authenticator::Local(key)) => cookie_token(parts)
                    .and_then(|t| key.verify(&t))
                    .as_ref()
                    .and_then(Principal::from_claims),
                (None, Authenticator::ApiGateway) => None,
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
            None => {
                // Back to this page after signing in (an alert's link, for one).
                let back = sign_in::safe_return(here.as_deref());
                let to = format!(
                    "/console/login{}",
                    queue::query_string(&[("return_to", &back)])
                );
                Err(Redirect::to(&to).into_response())
            }
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

/// What a console handler shows instead of the page asked for: a refusal, an error
/// page, a redirect. Handlers return `Result<Response, ConsolePage>` and use `?`.
pub struct ConsolePage(Box<Response>);

impl IntoResponse for ConsolePage {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Response> for ConsolePage {
    fn from(page: Response) -> Self {
        Self(Box::new(page))
    }
}

impl ConsolePage {
    /// The error page for `e`, shown to `p`.
    fn error(p: &Principal, e: impl Into<ApiError>) -> Self {
        error_page(p, e.into()).into()
    }

    fn not_found(p: &Principal) -> Self {
        Self::error(p, ApiError::NotFound)
    }

    /// A form posted from another site.
    fn cross_site() -> Self {
        StatusCode::FORBIDDEN.into_response().into()
    }

    fn redirect(to: &str) -> Self {
        Redirect::to(to).into_response().into()
    }
}

/// `?` on a failed call shows the console's page for its error.
trait OrPage<T> {
    fn or_page(self, p: &Principal) -> Result<T, ConsolePage>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, p: &Principal) -> Result<T, ConsolePage> {
        self.map_err(|e| ConsolePage::error(p, e))
    }
}

/// Refuses a form posted from another site.
fn same_site(headers: &HeaderMap) -> Result<(), ConsolePage> {
    if crate::web::html::cross_site(headers) {
        return Err(ConsolePage::cross_site());
    }
    Ok(())
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
