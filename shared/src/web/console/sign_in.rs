//! The console's side of the managed login (see [`crate::web::sign_in`]): the
//! redirect out with `state` and a PKCE challenge, the callback that exchanges the
//! code and keeps the ID token in an HttpOnly cookie, the refresh before it
//! expires, and the way back to the page the lead asked for.

use super::{ConsolePage, LOGIN_COOKIE, REFRESH_COOKIE, SESSION_COOKIE, message};
use crate::web::auth::{Principal, Role};
use crate::web::sign_in::{Challenge, SignIn};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use std::sync::Arc;

/// Where the sign-in's cookies live: only the callback and refresh routes read the
/// login and refresh cookies; every console page reads the session.
const AUTH_PATH: &str = "/console/auth";
/// A refresh token is good for this long at most (the pool decides the rest).
const REFRESH_DAYS: i64 = 30;

/// Only a console path can be a place to come back to (no open redirect), in
/// characters a `Location` header and a cookie value can carry as they are.
pub fn safe_return(to: Option<&str>) -> String {
    match to {
        Some(p)
            if p.starts_with("/console")
                && !p.starts_with("/console/auth")
                && !p.contains("//")
                && p.len() <= 512
                && p.chars()
                    .all(|c| c.is_ascii_graphic() && !matches!(c, '\\' | ';' | ',' | '"')) =>
        {
            p.to_string()
        }
        _ => "/console".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return;

    #[test]
    fn only_a_plain_console_path_is_a_place_to_come_back_to() {
        for good in [
            "/console",
            "/console/feedback/fb-1",
            "/console?status=new&team=energy",
        ] {
            assert_eq!(safe_return(Some(good)), good);
        }
        for bad in [
            "https://evil.example/console",
            "//evil.example",
            "/console//evil.example",
            "/console/auth/callback?code=x",
            "/console\\..\\evil",
            "/console\nSet-Cookie: x=y",
            "/console\tx",
            "/console; x",
            "/console feedback",
            "/elsewhere",
        ] {
            assert_eq!(safe_return(Some(bad)), "/console", "{bad:?}");
        }
        assert_eq!(safe_return(None), "/console");
    }
}

fn cookie(name: &'static str, value: String, path: &'static str) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .path(path)
        .build()
}

fn gone(name: &'static str, path: &'static str) -> Cookie<'static> {
    Cookie::build(name)
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .path(path)
        .build()
}

/// Off to the managed login, remembering `state`, the PKCE verifier and where to
/// come back to.
pub fn start(sign_in: &SignIn, jar: CookieJar, return_to: Option<&str>) -> Response {
    let challenge = Challenge::new();
    let value = format!(
        "{}~{}~{}",
        challenge.state,
        challenge.verifier,
        safe_return(return_to)
    );
    let mut login = cookie(LOGIN_COOKIE, value, AUTH_PATH);
    login.set_max_age(time_minutes(10));
    (
        jar.add(login),
        Redirect::to(&sign_in.authorize_url(&challenge)),
    )
        .into_response()
}

fn time_minutes(minutes: i64) -> cookie::time::Duration {
    cookie::time::Duration::minutes(minutes)
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn refused(text: &str) -> ConsolePage {
    ConsolePage::from(message(
        None,
        StatusCode::UNAUTHORIZED,
        "Sign-in did not complete",
        text,
    ))
}

fn sign_in_of(state: &AppState) -> Result<&Arc<SignIn>, ConsolePage> {
    state
        .sign_in
        .as_ref()
        .ok_or_else(|| ConsolePage::from(StatusCode::NOT_FOUND.into_response()))
}

/// `GET /console/auth/callback`: the provider sends the browser back with a code.
pub async fn callback(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<Callback>,
) -> Result<Response, ConsolePage> {
    let sign_in = sign_in_of(&state)?;
    if q.error.is_some() {
        return Err(refused(
            "The sign-in page reported a problem. Please try again.",
        ));
    }
    let remembered = jar.get(LOGIN_COOKIE).map(|c| c.value().to_string());
    let mut parts = remembered.as_deref().unwrap_or_default().splitn(3, '~');
    let (Some(expected), Some(verifier), Some(return_to)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(refused(
            "This sign-in was not started here, or took too long. Please sign in again.",
        ));
    };
    let (Some(code), Some(given)) = (q.code.as_deref(), q.state.as_deref()) else {
        return Err(refused(
            "The sign-in page sent no code. Please sign in again.",
        ));
    };
    if given != expected {
        return Err(refused(
            "This sign-in was not started here. Please sign in again.",
        ));
    }
    let tokens = sign_in.exchange_code(code, verifier).await.map_err(|e| {
        tracing::warn!(error = %e, "console sign-in: code exchange failed");
        refused("The sign-in could not be completed. Please sign in again.")
    })?;
    let claims = sign_in.verify(&tokens.id_token).await.map_err(|e| {
        tracing::warn!(error = %e, "console sign-in: ID token refused");
        refused("The sign-in could not be verified. Please sign in again.")
    })?;
    let principal = Principal::from_claims(&claims);
    if !principal
        .as_ref()
        .is_some_and(|p| p.is(&[Role::Lead, Role::Admin]))
    {
        return Err(ConsolePage::from(message(
            None,
            StatusCode::FORBIDDEN,
            "Not for this account",
            "The console is for team leads and admins.",
        )));
    }
    tracing::info!("console sign-in completed");
    let mut jar = jar.remove(gone(LOGIN_COOKIE, AUTH_PATH)).add(cookie(
        SESSION_COOKIE,
        tokens.id_token,
        "/console",
    ));
    if let Some(refresh) = tokens.refresh_token {
        let mut c = cookie(REFRESH_COOKIE, refresh, AUTH_PATH);
        c.set_max_age(cookie::time::Duration::days(REFRESH_DAYS));
        jar = jar.add(c);
    }
    Ok((jar, Redirect::to(&safe_return(Some(return_to)))).into_response())
}

/// Where to go after signing in or refreshing.
#[derive(Debug, Deserialize)]
pub struct ReturnTo {
    pub return_to: Option<String>,
}

/// `GET /console/auth/refresh`: a new ID token before the old one runs out; if the
/// refresh token is no longer good, a new sign-in.
pub async fn refresh(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<ReturnTo>,
) -> Result<Response, ConsolePage> {
    let sign_in = sign_in_of(&state)?;
    let return_to = safe_return(q.return_to.as_deref());
    let Some(refresh_token) = jar.get(REFRESH_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(start(sign_in, jar, Some(&return_to)));
    };
    match sign_in.refresh(&refresh_token).await {
        Ok(tokens) if sign_in.verify(&tokens.id_token).await.is_ok() => Ok((
            jar.add(cookie(SESSION_COOKIE, tokens.id_token, "/console")),
            Redirect::to(&return_to),
        )
            .into_response()),
        Ok(_) | Err(_) => {
            let jar = jar
                .remove(gone(REFRESH_COOKIE, AUTH_PATH))
                .remove(gone(SESSION_COOKIE, "/console"));
            Ok(start(sign_in, jar, Some(&return_to)))
        }
    }
}

/// Signs out here, then on to the provider's logout through a page of our own:
/// the console's `form-action 'self'` would stop the sign-out form's post from
/// being redirected to another origin.
pub fn sign_out(jar: CookieJar) -> Response {
    let jar = jar
        .remove(gone(SESSION_COOKIE, "/console"))
        .remove(gone(REFRESH_COOKIE, AUTH_PATH));
    (jar, Redirect::to("/console/auth/signed-out")).into_response()
}

#[derive(Template)]
#[template(path = "console_signed_out.html")]
struct SignedOutPage {
    chrome: Option<super::Chrome>,
    logout_url: String,
}

/// `GET /console/auth/signed-out`: on to the provider's logout, which comes back
/// to the login page.
pub async fn signed_out(State(state): State<AppState>) -> Result<Response, ConsolePage> {
    let sign_in = sign_in_of(&state)?;
    Ok(super::page(
        StatusCode::OK,
        SignedOutPage {
            chrome: None,
            logout_url: sign_in.logout_url(),
        }
        .render(),
    ))
}
