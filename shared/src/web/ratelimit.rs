//! A per-link request limit for the local server's survey pages: one respondent's
//! link gets at most `per_minute` requests a minute (a fixed window), more get a 429
//! page. In AWS, API Gateway's stage throttling does this job.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
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

    /// Counts one request for `key`; `false` if it is over the limit. The map is
    /// bounded: when it is full of live windows, a key it does not know waits.
    pub fn allow(&self, key: &str, now: Instant) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_TRACKED && !windows.contains_key(key) {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
            if windows.len() >= MAX_TRACKED {
                return false;
            }
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
    // The link as the router reads it (percent-decoded): another spelling of the
    // same token is the same key, and whatever is not a token shares one.
    let key = request
        .uri()
        .path()
        .strip_prefix("/s/")
        .and_then(|rest| rest.split('/').next())
        .map(|raw| {
            let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
            match crate::domain::token::SurveyToken::parse(&decoded) {
                Some(token) => token.hash().as_str().to_string(),
                None => "not-a-token".to_string(),
            }
        });
    if let Some(key) = key
        && !limit.allow(&key, Instant::now())
    {
        let mut r = super::survey::refusal_page(request.headers(), StatusCode::TOO_MANY_REQUESTS);
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
    fn the_map_stays_bounded_under_a_flood_of_links() {
        let limit = RateLimit::per_minute(1);
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED {
            assert!(limit.allow(&format!("k{i}"), t0));
        }
        // Full of live windows: a new link waits, a known one keeps its count.
        assert!(!limit.allow("newcomer", t0));
        assert!(!limit.allow("k1", t0));
        let len = limit.windows.lock().expect("the map").len();
        assert_eq!(len, MAX_TRACKED);
        // A minute later the old windows make room.
        assert!(limit.allow("newcomer", t0 + WINDOW));
    }

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
