//! The security headers of each family of pages, set by tower-http on the family's
//! router, so every response it gives carries them (pages, redirects, refusals)
//! and no handler can forget them.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// What a family of pages allows.
pub struct PagePolicy {
    pub content_security_policy: &'static str,
    pub referrer_policy: &'static str,
}

/// Respondent pages: no script, no foreign content, no framing, and no referrer
/// (the token is in the URL).
pub const SURVEY_PAGES: PagePolicy = PagePolicy {
    content_security_policy: "default-src 'none'; style-src 'self'; form-action 'self'; \
                              base-uri 'none'; frame-ancestors 'none'",
    referrer_policy: "no-referrer",
};

/// Console pages: only same-origin style, script and requests.
pub const CONSOLE_PAGES: PagePolicy = PagePolicy {
    content_security_policy: "default-src 'none'; style-src 'self'; script-src 'self'; \
                              connect-src 'self'; img-src 'self'; form-action 'self'; \
                              base-uri 'none'; frame-ancestors 'none'",
    referrer_policy: "same-origin",
};

/// `router` with `policy`'s headers on every response. Responses stay out of
/// caches unless their handler says otherwise (the versioned assets do).
pub fn secured<S>(router: Router<S>, policy: &PagePolicy) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let always = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(always(
            header::CONTENT_SECURITY_POLICY,
            policy.content_security_policy,
        ))
        .layer(always(header::REFERRER_POLICY, policy.referrer_policy))
        .layer(always(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(always(header::X_FRAME_OPTIONS, "DENY"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
