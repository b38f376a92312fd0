//! The weekly digest per team, once per ISO week for the week before: the team's
//! 30-day figures against targets, the week's new items and their top themes, the
//! overdue items, the improvements whose status moved and the week's early
//! warnings. Claimed and published like a warning (`NOTICE#digest:<team>:<week>`),
//! through the team's alert channel (the SNS topic its lead subscribes to by email;
//! the outbox locally).

use super::Services;
use super::reports::target;
use super::warnings::utc_date;
use crate::domain::backlog::{FeedbackStatus, ImprovementStatus};
use crate::domain::ids::TeamId;
use crate::domain::notice::{
    Delivery, Digest, DigestFigure, MovedImprovement, Notice, NoticeRecord,
};
use crate::domain::reports::headline;
use crate::domain::stats::{CounterField, Dimension};
use crate::domain::survey::SurveyKind;
use crate::ports::{FeedbackQuery, FeedbackScope, PageRequest, StoreError};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Items read per team for the week's themes, at most.
const WEEK_ITEMS: usize = 1000;

/// What one run of the digests did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DigestsSent {
    pub week: String,
    /// Teams whose digest was claimed now.
    pub composed: usize,
    pub published: usize,
}

/// The ISO week before the one `today` is in: (`2026-W49`, its Monday, its Sunday).
pub fn last_week(today: Date) -> (String, Date, Date) {
    let monday_now = today
        .checked_sub(jiff::Span::new().days(i32::from(today.weekday().to_monday_zero_offset())))
        .unwrap_or(today);
    let from = monday_now
        .checked_sub(jiff::Span::new().days(7))
        .unwrap_or(monday_now);
    let to = from.checked_add(jiff::Span::new().days(6)).unwrap_or(from);
    let iso = from.iso_week_date();
    (format!("{}-W{:02}", iso.year(), iso.week()), from, to)
}

impl Services {
    /// The digests of last week for every team with answers this month or last
    /// that has none yet (one read per team once sent).
    pub async fn weekly_digests(&self, now: Timestamp) -> Result<DigestsSent, StoreError> {
        let (week, from, to) = last_week(utc_date(now));
        let mut done = DigestsSent {
            week: week.clone(),
            ..DigestsSent::default()
        };
        let mut teams = BTreeSet::new();
        for kind in SurveyKind::ALL {
            teams.extend(self.teams_with_answers(*kind, now).await?);
        }
        for team in teams {
            let id = format!("digest:{team}:{week}");
            if self.backlog.get_notice(&id).await?.is_some() {
                continue;
            }
            let digest = self.digest(&team, &week, from, to, now).await?;
            let record = NoticeRecord {
                id: digest.id(),
                team: team.clone(),
                created_at: now,
                notice: Notice::Digest(digest),
                delivery: Delivery::claimed(now, now + super::routing::ALERT_LEASE, 1),
                version: 0,
            };
            let (claimed, published) = self.claim_and_publish(record, now).await?;
            done.composed += usize::from(claimed);
            done.published += usize::from(published);
        }
        if done.composed > 0 {
            tracing::info!(?done, "weekly digests");
        }
        Ok(done)
    }

    /// One team's digest of `from..=to`.
    pub async fn digest(
        &self,
        team: &TeamId,
        week: &str,
        from: Date,
        to: Date,
        now: Timestamp,
    ) -> Result<Digest, StoreError> {
        let mut figures = Vec::new();
        for kind in SurveyKind::ALL {
            let windows = self
                .watched_windows(*kind, team, Dimension::Team, to)
                .await?;
            let current = windows
                .get(team.as_str())
                .map(|w| w.current.clone())
                .unwrap_or_default();
            figures.push(DigestFigure {
                kind: *kind,
                figure: headline(*kind, &current),
                n: current.get(&CounterField::Answered),
                target: target(*kind),
            });
        }
        let (new_items, top_themes) = self.week_items(team, from, to).await?;
        let overdue = self.overdue(team, utc_date(now)).await?;
        let improvements_moved = self.improvements_moved(team, from, to).await?;
        let warnings = self
            .backlog
            .recent_notices(team, 50)
            .await?
            .into_iter()
            .filter(|n| {
                let day = utc_date(n.created_at);
                day >= from && day <= to
            })
            .filter_map(|n| match n.notice {
                Notice::Warning(w) => Some(format!(
                    "{} {}: {} ({})",
                    w.dimension.as_str(),
                    w.value,
                    w.figure_text(),
                    w.reasons_text()
                )),
                Notice::Digest(_) => None,
            })
            .collect();
        Ok(Digest {
            team: team.clone(),
            week: week.to_string(),
            from,
            to,
            figures,
            new_items,
            top_themes,
            overdue,
            improvements_moved,
            warnings,
        })
    }

    /// The week's new items and their five most frequent themes.
    async fn week_items(
        &self,
        team: &TeamId,
        from: Date,
        to: Date,
    ) -> Result<(usize, Vec<(String, usize)>), StoreError> {
        let query = FeedbackQuery {
            scope: FeedbackScope::Team(team.clone()),
            due_before: None,
        };
        let mut page = PageRequest::first(100);
        let (mut items, mut read) = (0, 0);
        let mut themes: BTreeMap<String, usize> = BTreeMap::new();
        'pages: loop {
            let listed = self.backlog.list_feedback(&query, page).await?;
            for item in &listed.items {
                read += 1;
                let day = utc_date(item.created_at);
                if day < from {
                    break 'pages;
                }
                if day > to || item.status == FeedbackStatus::Review {
                    continue;
                }
                items += 1;
                for theme in &item.themes {
                    *themes.entry(theme.clone()).or_insert(0) += 1;
                }
            }
            match listed.next {
                Some(cursor) if read < WEEK_ITEMS => page = PageRequest::after(cursor, 100),
                _ => break,
            }
        }
        let mut top: Vec<(String, usize)> = themes.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(5);
        Ok((items, top))
    }

    /// Open items of the team due before `today` (counted up to a thousand per status).
    async fn overdue(&self, team: &TeamId, today: Date) -> Result<usize, StoreError> {
        let mut count = 0;
        for status in [
            FeedbackStatus::New,
            FeedbackStatus::Triaged,
            FeedbackStatus::InProgress,
        ] {
            let query = FeedbackQuery {
                scope: FeedbackScope::TeamStatus(team.clone(), status),
                due_before: Some(today),
            };
            let mut page = PageRequest::first(100);
            for _ in 0..10 {
                let listed = self.backlog.list_feedback(&query, page).await?;
                count += listed.items.len();
                match listed.next {
                    Some(cursor) => page = PageRequest::after(cursor, 100),
                    None => break,
                }
            }
        }
        Ok(count)
    }

    /// The team's improvements proposed or moved on in `from..=to` (at most 100
    /// improvements read per status).
    async fn improvements_moved(
        &self,
        team: &TeamId,
        from: Date,
        to: Date,
    ) -> Result<Vec<MovedImprovement>, StoreError> {
        let mut moved = Vec::new();
        for status in ImprovementStatus::ALL {
            let listed = self
                .backlog
                .list_improvements(*status, PageRequest::first(100))
                .await?;
            for improvement in listed.items.into_iter().filter(|i| &i.team == team) {
                let activity = self.backlog.improvement_activity(&improvement.id).await?;
                let in_week = activity.iter().any(|a| {
                    let day = utc_date(a.at);
                    day >= from
                        && day <= to
                        && (a.action.starts_with("status:") || a.action == "proposed")
                });
                if in_week {
                    moved.push(MovedImprovement {
                        id: improvement.id.to_string(),
                        status: improvement.status.as_str().to_string(),
                    });
                }
            }
        }
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_week_is_the_iso_week_before_today() {
        let (week, from, to) = last_week(jiff::civil::date(2026, 12, 7));
        assert_eq!(week, "2026-W49");
        assert_eq!(from, jiff::civil::date(2026, 11, 30));
        assert_eq!(to, jiff::civil::date(2026, 12, 6));
        let (week, from, _) = last_week(jiff::civil::date(2026, 12, 13));
        assert_eq!(
            (week.as_str(), from),
            ("2026-W49", jiff::civil::date(2026, 11, 30))
        );
        let (week, _, _) = last_week(jiff::civil::date(2027, 1, 4));
        assert_eq!(week, "2026-W53");
    }
}
