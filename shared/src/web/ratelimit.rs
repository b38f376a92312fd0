//! A per-link request limit for the local server's survey pages: one respondent's
//! link gets at most `per_minute` requests a minute (a fixed window), more get a 429
//! page. In AWS, API Gateway's stage throttling does this job.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Windows kept at most; older ones are dropped first when it fills.
const MAX_TRACKED: usize = 100_000;

#[derive(Clone, Debug)]
pub struct RateLimit {
    per_minute: u32,
    windows: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl RateLimit {
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            windows: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Counts one request for `key`; `false` if it is over the limit.
    pub fn allow(&self, key: &str, now: Instant) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_TRACKED {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

/// Middleware for `/s/{token}…`: the token is the key.
pub async fn limit_survey_links(
    State(limit): State<RateLimit>,
    request: Request,
    next: Next,
) -> Response {
    let key = request
        .uri()
        .path()
        .strip_prefix("/s/")
        .and_then(|rest| rest.split('/').next())
        .map(str::to_string);
    if let Some(key) = key
        && !limit.allow(&key, Instant::now())
    {
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests for this link. Please wait a minute and try again.",
        )
            .into_response();
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("60"));
        return r;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_gets_its_quota_per_minute_and_others_are_unaffected() {
        let limit = RateLimit::per_minute(3);
        let t0 = Instant::now();
        assert!((0..3).all(|_| limit.allow("a", t0)));
        assert!(!limit.allow("a", t0));
        assert!(limit.allow("b", t0));
        assert!(limit.allow("a", t0 + WINDOW));
    }
}
