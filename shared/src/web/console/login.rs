//! Signing in to the console: locally a pasted `kundpuls token`, kept in an
//! HttpOnly cookie; behind API Gateway the verified JWT claims.

use super::{Chrome, SESSION_COOKIE, page};
use crate::web::auth::{Principal, Role};
use crate::web::html::cross_site;
use crate::web::state::{AppState, Authenticator};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "console_login.html")]
struct LoginPage<'a> {
    chrome: Option<Chrome>,
    error: Option<&'a str>,
    local: bool,
}

/// With the managed login: straight there (and back to `return_to` after).
/// Locally: the form that takes a pasted token.
pub async fn login_form(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<super::sign_in::ReturnTo>,
) -> Response {
    if let Some(sign_in) = &state.sign_in {
        return super::sign_in::start(sign_in, jar, q.return_to.as_deref());
    }
    page(
        StatusCode::OK,
        LoginPage {
            chrome: None,
            error: None,
            local: matches!(state.auth, Authenticator::Local(_)),
        }
        .render(),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let Authenticator::Local(key) = &state.auth else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let token = form.token.trim();
    let principal = key
        .verify(token)
        .as_ref()
        .and_then(Principal::from_claims)
        .filter(|p| p.is(&[Role::Lead, Role::Admin]));
    if cross_site(&headers) || principal.is_none() {
        return page(
            StatusCode::UNAUTHORIZED,
            LoginPage {
                chrome: None,
                error: Some("That token is not valid here, or has expired. Make a new one with `kundpuls token --role lead --team <team>`."),
                local: true,
            }
            .render(),
        );
    }
    let session = Cookie::build((SESSION_COOKIE, token.to_string()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/console");
    (CookieJar::new().add(session), Redirect::to("/console")).into_response()
}

pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> Response {
    if state.sign_in.is_some() {
        return super::sign_in::sign_out(jar);
    }
    let ended = Cookie::build(SESSION_COOKIE)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/console");
    (jar.remove(ended), Redirect::to("/console/login")).into_response()
}
