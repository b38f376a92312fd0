//! Routing a recorded answer: count it once in the aggregates and, when it needs a
//! human (NPS 0–6, CSAT 1–2, or any comment), make exactly one feedback item, tagged
//! with themes, prioritized and given a due date in business days. Suspect answers
//! are counted as suspect only and never routed. The same code serves the DynamoDB
//! stream (AWS) and the embedded store's answer feed (local); both deliver at least
//! once, and everything here is idempotent.

use super::Services;
use crate::domain::backlog::{
    Activity, AlertRecord, AlertState, FeedbackItem, FeedbackStatus, Priority,
};
use crate::domain::ids::FeedbackId;
use crate::domain::score::{NpsGroup, Score};
use crate::domain::stats::{answer_effect_id, increments_for_accepted, increments_for_answer};
use crate::domain::survey::Answer;
use crate::domain::themes::COMPLAINT_THEMES;
use crate::domain::themes::Lexicon;
use crate::ports::{
    Alert, AlertAbout, Alerter, AnswerFeed, ApplyOutcome, FeedCursor, SaveOutcome, SendError,
    StoreError,
};
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use serde::Serialize;

/// What routing one answer did (a redelivery reports `false` for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Routed {
    pub counted: bool,
    pub feedback_created: bool,
    /// The team's lead was alerted now (a detractor or a CSAT 1, first delivery).
    pub alerted: bool,
}

/// `days` business days (Monday–Friday) after `from`.
pub fn add_business_days(from: Date, days: u32) -> Date {
    let mut date = from;
    let mut left = days;
    while left > 0 {
        date = date.tomorrow().unwrap_or(date);
        if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            left -= 1;
        }
    }
    date
}

/// The answers that hurt most: an NPS detractor or a CSAT 1.
fn severe(score: Score) -> bool {
    match score {
        Score::Nps(s) => s.group() == NpsGroup::Detractor,
        Score::Csat(s) => s.value() == 1,
    }
}

/// How long an alert's claim holds: far longer than one publish at its timeouts.
pub const ALERT_LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);
/// Publishes tried per alert at most.
pub const MAX_ALERT_ATTEMPTS: u32 = 5;

/// What one schedule tick did with alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AlertRetries {
    pub retried: usize,
    pub published: usize,
    /// Claims that ran out: recorded unknown, never repeated.
    pub unknown: usize,
}

/// The consumer name under which `kundpuls serve` commits its feed position.
pub const FEED_CONSUMER: &str = "route-feedback";

impl Services {
    pub fn feedback_item(&self, answer: &Answer, lexicon: &Lexicon) -> FeedbackItem {
        let tagged = answer
            .comment
            .as_deref()
            .map(|c| lexicon.tag(answer.subject.language, c))
            .unwrap_or_default();
        let themes: Vec<String> = tagged.keys().cloned().collect();
        let theme_words = tagged
            .into_iter()
            .map(|(theme, words)| (theme, words.into_iter().collect()))
            .collect();
        let complaint = themes
            .iter()
            .any(|t| COMPLAINT_THEMES.contains(&t.as_str()));
        // High: a detractor, a CSAT 1, or a complaint (treatment, wrong person) at
        // any score. Every high item alerts its lead, once.
        let priority = if severe(answer.score) || complaint {
            Priority::High
        } else {
            Priority::Normal
        };
        let policy = &self.config.policy;
        let days = match priority {
            Priority::High => policy.feedback_due_days_high,
            Priority::Normal => policy.feedback_due_days_normal,
        };
        let created = answer.answered_at.to_zoned(jiff::tz::TimeZone::UTC).date();
        FeedbackItem {
            id: answer.feedback_id(),
            survey_id: answer.survey_id.clone(),
            kind: answer.kind,
            channel: answer.channel,
            score: answer.score,
            comment: answer.comment.clone(),
            language: answer.subject.language,
            step: answer.subject.step.clone(),
            client_id: answer.subject.client_id.clone(),
            team: answer.subject.team.clone(),
            handler_id: answer.subject.handler_id.clone(),
            created_at: answer.answered_at,
            priority,
            due_on: add_business_days(created, days),
            themes,
            status: if answer.is_suspect() {
                FeedbackStatus::Review
            } else {
                FeedbackStatus::New
            },
            assignee: None,
            contacted_at: None,
            improvement_id: None,
            theme_words,
            case_id: answer.subject.case_id.clone(),
            contact_id: answer.subject.contact_id.clone(),
            suspect: answer.is_suspect(),
            closed_at: None,
            version: 1,
        }
    }

    pub async fn route_answer(&self, answer: &Answer) -> Result<Routed, StoreError> {
        let counted = self
            .stats
            .apply_once(&answer_effect_id(answer), &increments_for_answer(answer))
            .await?
            == ApplyOutcome::Applied;
        let mut feedback_created = false;
        let mut alerted = false;
        if answer.needs_follow_up() || answer.needs_review() {
            let lexicon = self.lexicon().await?;
            let item = self.feedback_item(answer, &lexicon);
            let action = if item.suspect {
                format!(
                    "held for review: a {} answer ({}) that looked automated ({})",
                    answer.kind.as_str(),
                    answer.score.value(),
                    answer
                        .suspect
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!(
                    "created from a {} answer ({})",
                    answer.kind.as_str(),
                    answer.score.value()
                )
            };
            let activity = Activity {
                at: answer.answered_at,
                actor: "system".into(),
                action,
            };
            feedback_created = self.backlog.create_feedback(&item, &activity).await?;
            if feedback_created {
                tracing::info!(feedback_id = %item.id, priority = ?item.priority, "feedback item created");
            }
            // A held answer alerts once a lead accepts it, not before.
            if item.priority == Priority::High && !item.suspect {
                alerted = self.alert_once(&item).await?;
            }
        }
        Ok(Routed {
            counted,
            feedback_created,
            alerted,
        })
    }

    /// A lead accepted a held answer as a person's: it is counted now, once (its
    /// own effect, whatever happens to the item later), and alerts like any other.
    /// An answer erased meanwhile is not counted.
    pub(crate) async fn accept_held(&self, item: &FeedbackItem) -> Result<bool, StoreError> {
        let Some(answer) = self.surveys.answer(&item.survey_id).await? else {
            tracing::info!(feedback_id = %item.id, "accepted, but its answer is gone (erased); nothing counted");
            return Ok(false);
        };
        let answer = answer.accepted();
        let counted = self
            .stats
            .apply_once(
                &format!("accepted:{}", answer.survey_id),
                &increments_for_accepted(&answer),
            )
            .await?
            == ApplyOutcome::Applied;
        if item.priority == Priority::High {
            let mut item = item.clone();
            item.suspect = false;
            self.alert_once(&item).await?;
        }
        Ok(counted)
    }

    /// The console page of a feedback item, for alerts.
    pub fn console_link(&self, id: &FeedbackId) -> String {
        format!("{}/console/feedback/{id}", self.config.base_url())
    }

    /// Alerts the item's team lead, at most once per item. The alert is claimed
    /// first (a conditional create of its record), so a redelivered or raced answer
    /// never alerts twice; what came of the publish is then recorded. A publish that
    /// certainly did not go out is retried by the schedule ([`Self::retry_alerts`]);
    /// one that may have gone out is never repeated.
    pub(crate) async fn alert_once(&self, item: &FeedbackItem) -> Result<bool, StoreError> {
        let Some(alerts) = &self.alerts else {
            return Ok(false);
        };
        let now = Timestamp::now();
        let mut claim = AlertRecord {
            feedback_id: item.id.clone(),
            state: AlertState::Claimed,
            attempt: uuid::Uuid::new_v4().to_string(),
            lease_until: now + ALERT_LEASE,
            retry_at: None,
            attempts: 1,
            updated_at: now,
            version: 0,
        };
        if self.backlog.save_alert(&claim, 0).await? != SaveOutcome::Saved {
            return Ok(false);
        }
        claim.version = 1;
        self.publish_claimed(alerts.as_ref(), item, claim, now)
            .await
    }

    /// Publishes an alert this caller holds the claim of, and records the outcome.
    async fn publish_claimed(
        &self,
        alerts: &dyn Alerter,
        item: &FeedbackItem,
        mut record: AlertRecord,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let link = self.console_link(&item.id);
        let (subject, text) = item.alert_text(&link);
        let alert = Alert {
            about: AlertAbout::Feedback {
                feedback_id: item.id.clone(),
                survey_id: item.survey_id.clone(),
            },
            team: item.team.clone(),
            subject,
            text,
            link,
        };
        let result = alerts.alert(&alert).await;
        let expected = record.version;
        record.updated_at = now;
        (record.state, record.retry_at) = self.publish_outcome(&result, record.attempts, now);
        match &result {
            Ok(()) => {
                tracing::info!(feedback_id = %item.id, team = %item.team, "team lead alerted")
            }
            Err(e) => {
                tracing::error!(feedback_id = %item.id, error = %e, state = ?record.state, attempts = record.attempts, "alerting the team lead did not succeed; the item waits in the queue")
            }
        }
        if let Err(e) = self.backlog.save_alert(&record, expected).await {
            // The claim stays and lapses: the schedule records the alert as unknown.
            tracing::error!(feedback_id = %item.id, error = %e, "the alert's outcome was not recorded");
        }
        Ok(result.is_ok())
    }

    /// What a publish to a team lead's channel leaves its record in: published;
    /// not sent, with the time of the next try (up to [`MAX_ALERT_ATTEMPTS`]);
    /// failed for good; or unknown, never repeated.
    pub(crate) fn publish_outcome(
        &self,
        result: &Result<(), SendError>,
        attempts: u32,
        now: Timestamp,
    ) -> (AlertState, Option<Timestamp>) {
        match result {
            Ok(()) => (AlertState::Published, None),
            Err(SendError::NotSent(_) | SendError::Throttled(_))
                if attempts < MAX_ALERT_ATTEMPTS =>
            {
                (
                    AlertState::NotSent,
                    Some(now + self.config.policy.retry_delay(attempts)),
                )
            }
            Err(SendError::NotSent(_) | SendError::Throttled(_) | SendError::Permanent { .. }) => {
                (AlertState::Failed, None)
            }
            Err(SendError::Unknown(_)) => (AlertState::Unknown, None),
        }
    }

    /// The schedule's part: alerts not sent are tried again once due (a new claim
    /// each time, up to [`MAX_ALERT_ATTEMPTS`]); a claim that ran out means its
    /// holder died around the publish, so the alert is recorded unknown and never
    /// repeated.
    pub async fn retry_alerts(&self, now: Timestamp) -> Result<AlertRetries, StoreError> {
        let mut report = AlertRetries::default();
        let Some(alerts) = &self.alerts else {
            return Ok(report);
        };
        for due in self.backlog.alerts_due(now, 100).await? {
            let mut next = due.clone();
            next.updated_at = now;
            match due.state {
                AlertState::Claimed if due.lease_until <= now => {
                    next.state = AlertState::Unknown;
                    if self.backlog.save_alert(&next, due.version).await? == SaveOutcome::Saved {
                        tracing::warn!(feedback_id = %due.feedback_id, "an alert's claim ran out; it may have gone out and is not repeated");
                        report.unknown += 1;
                    }
                }
                AlertState::NotSent if due.retry_at.is_some_and(|t| t <= now) => {
                    let Some(item) = self.backlog.get_feedback(&due.feedback_id).await? else {
                        next.state = AlertState::Failed;
                        self.backlog.save_alert(&next, due.version).await?;
                        continue;
                    };
                    next.state = AlertState::Claimed;
                    next.attempt = uuid::Uuid::new_v4().to_string();
                    next.lease_until = now + ALERT_LEASE;
                    next.retry_at = None;
                    next.attempts += 1;
                    if self.backlog.save_alert(&next, due.version).await? != SaveOutcome::Saved {
                        continue;
                    }
                    next.version = due.version + 1;
                    report.retried += 1;
                    if self
                        .publish_claimed(alerts.as_ref(), &item, next, now)
                        .await?
                    {
                        report.published += 1;
                    }
                }
                _ => {}
            }
        }
        Ok(report)
    }

    /// Routes everything in the answer feed after `consumer`'s committed position,
    /// committing after each page. Returns how many answers it routed.
    pub async fn drain_feed(
        &self,
        feed: &dyn AnswerFeed,
        consumer: &str,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let mut routed = 0;
        loop {
            let after: FeedCursor = feed.committed(consumer).await?;
            let entries = feed.read_after(after, 100).await?;
            let Some(last) = entries.last().map(|e| e.cursor) else {
                return Ok(routed);
            };
            for entry in &entries {
                self.route_answer(&entry.answer).await?;
                routed += 1;
            }
            feed.commit(consumer, last).await?;
            // The figures the page moved, read again; a failure leaves the routing
            // done (the day's check reads every team anyway).
            let answers: Vec<&Answer> = entries.iter().map(|e| &e.answer).collect();
            if let Err(e) = self
                .early_warnings(&super::warnings::touched(&answers), now)
                .await
            {
                tracing::error!(error = %e, "early warnings not checked after routing; the daily check will");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_days_skip_weekends() {
        let friday = jiff::civil::date(2026, 11, 27);
        assert_eq!(
            add_business_days(friday, 1),
            jiff::civil::date(2026, 11, 30)
        );
        assert_eq!(add_business_days(friday, 5), jiff::civil::date(2026, 12, 4));
        assert_eq!(add_business_days(friday, 0), friday);
    }
}
