//! Retention that respects work in progress. A closed feedback item expires the
//! retention period after it was closed (DynamoDB's TTL in AWS, the hourly sweep
//! locally); an open item is kept until it is closed. An item left open past the
//! hard ceiling, twice the retention period after it was made, keeps its place in
//! the queue but loses its comment text and the words matched in it: what a person
//! wrote is never kept indefinitely because nobody closed the item.

use super::Services;
use crate::domain::backlog::FeedbackStatus;
use crate::ports::{FeedbackQuery, FeedbackScope, PageRequest, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// Items read per page, and pages per status at most in one run: a backlog of
/// items older than the ceiling is worked through over several runs.
const PAGE: usize = 100;
const MAX_PAGES: usize = 20;

/// Who the activity log names for the ceiling's removals.
pub const CEILING_ACTOR: &str = "retention";

/// What one run of the ceiling did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CeilingReport {
    /// Open items past the ceiling whose comment text was removed now.
    pub stripped: usize,
    /// Open items past the ceiling already without text.
    pub already_bare: usize,
}

impl Services {
    /// Removes the comment text of every open item made more than twice
    /// `retention` before `now`. Idempotent: run it as often as wanted.
    pub async fn retention_ceiling(
        &self,
        now: Timestamp,
        retention: SignedDuration,
    ) -> Result<CeilingReport, StoreError> {
        let mut report = CeilingReport::default();
        let cutoff = now.checked_sub(retention * 2).unwrap_or(Timestamp::MIN);
        // An item is due a few business days after it was made, so every item made
        // before the cutoff is due before the cutoff's date plus this margin; the
        // listing is by due date, and the creation time decides.
        let margin = SignedDuration::from_hours(60 * 24);
        let due_before = cutoff
            .checked_add(margin)
            .unwrap_or(Timestamp::MAX)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        for status in FeedbackStatus::ALL.iter().filter(|s| s.is_open()) {
            let query = FeedbackQuery {
                scope: FeedbackScope::Status(*status),
                due_before: Some(due_before),
            };
            let mut page = PageRequest::first(PAGE);
            for _ in 0..MAX_PAGES {
                let listed = self.backlog.list_feedback(&query, page).await?;
                for item in listed.items.iter().filter(|i| i.created_at < cutoff) {
                    if !item.has_text() {
                        report.already_bare += 1;
                    } else if self.strip_text(&item.id, cutoff, now).await? {
                        report.stripped += 1;
                    }
                }
                match listed.next {
                    Some(cursor) => {
                        page = PageRequest {
                            cursor: Some(cursor),
                            limit: PAGE,
                        }
                    }
                    None => break,
                }
            }
        }
        if report.stripped > 0 {
            tracing::info!(
                ?report,
                "comment text removed from items open past the retention ceiling"
            );
        }
        Ok(report)
    }

    /// One item's text removed under its version check.
    async fn strip_text(
        &self,
        id: &crate::domain::ids::FeedbackId,
        cutoff: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.change_feedback(
            "retention_ceiling",
            id,
            CEILING_ACTOR,
            "comment text removed: the item stayed open past the retention ceiling",
            now,
            |item| {
                if !item.status.is_open() || item.created_at >= cutoff || !item.has_text() {
                    return false;
                }
                item.comment = None;
                item.theme_words.clear();
                true
            },
        )
        .await
        .map(|changed| changed == super::triage::Changed::Saved)
    }
}
