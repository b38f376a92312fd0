//! What every handler shares, and the request extractor for the caller.

use super::auth::{LocalKey, Principal};
use super::error::ApiError;
use crate::adapters::outbox::FileOutbox;
use crate::app::Services;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// How callers are authenticated.
#[derive(Clone, Debug)]
pub enum Authenticator {
    /// Behind API Gateway's JWT authorizer: read the verified claims it passes on.
    ApiGateway,
    /// The local server: verify bearer tokens signed with the data directory's key.
    Local(LocalKey),
}

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub auth: Authenticator,
    /// Signs the render stamp in survey forms.
    pub stamp: super::stamp::StampKey,
    /// The local file outbox, shown at `/dev/outbox` (local server only).
    pub outbox: Option<FileOutbox>,
    /// Console sign-in through the identity provider's managed login; without it
    /// the console takes a pasted local token (or API Gateway's claims).
    pub sign_in: Option<std::sync::Arc<super::sign_in::SignIn>>,
    /// `kundpuls serve --demo`: `/dev/outbox` opens without a console session
    /// (still to a loopback `Host` only).
    pub demo: bool,
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let claims = match &state.auth {
            Authenticator::ApiGateway => match parts
                .extensions
                .get::<lambda_http::request::RequestContext>()
            {
                Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => ctx
                    .authorizer
                    .as_ref()
                    .and_then(|a| a.jwt.as_ref())
                    .map(|jwt| jwt.claims.clone()),
                _ => None,
            },
            Authenticator::Local(key) => parts
                .headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.strip_prefix("Bearer "))
                .and_then(|token| key.verify(token.trim())),
        };
        claims
            .as_ref()
            .and_then(Principal::from_claims)
            .ok_or(ApiError::Unauthorized)
    }
}
