//! Routing a recorded answer: count it once in the aggregates and, when it needs a
//! human (NPS 0–6, CSAT 1–2, or any comment), make exactly one feedback item, tagged
//! with themes, prioritized and given a due date in business days. Suspect answers
//! are counted as suspect only and never routed. The same code serves the DynamoDB
//! stream (AWS) and the embedded store's answer feed (local); both deliver at least
//! once, and everything here is idempotent.

use super::Services;
use crate::domain::backlog::{Activity, FeedbackItem, FeedbackStatus, Priority};
use crate::domain::ids::FeedbackId;
use crate::domain::score::{NpsGroup, Score};
use crate::domain::stats::{answer_effect_id, increments_for_accepted, increments_for_answer};
use crate::domain::survey::Answer;
use crate::domain::themes::COMPLAINT_THEMES;
use crate::domain::themes::Lexicon;
use crate::ports::{Alert, AnswerFeed, ApplyOutcome, FeedCursor, StoreError};
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

/// The consumer name under which `kundpuls serve` commits its feed position.
pub const FEED_CONSUMER: &str = "route-feedback";

impl Services {
    pub fn feedback_item(&self, answer: &Answer, lexicon: &Lexicon) -> FeedbackItem {
        let themes: Vec<String> = answer
            .comment
            .as_deref()
            .map(|c| {
                lexicon
                    .tag(answer.subject.language, c)
                    .into_keys()
                    .collect()
            })
            .unwrap_or_default();
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
            case_id: answer.subject.case_id.clone(),
            contact_id: answer.subject.contact_id.clone(),
            suspect: answer.is_suspect(),
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

    /// Alerts the item's team lead, at most once per item: the alert is claimed with
    /// a conditional write before it is published, so a redelivered or raced answer
    /// never alerts twice. If publishing then fails, the alert is not retried (that
    /// could alert twice); the failure is logged and the item waits in the queue with
    /// its priority and due date.
    pub(crate) async fn alert_once(&self, item: &FeedbackItem) -> Result<bool, StoreError> {
        let Some(alerts) = &self.alerts else {
            return Ok(false);
        };
        let claim = format!("alert:{}", item.id);
        if self.stats.apply_once(&claim, &[]).await? == ApplyOutcome::AlreadyApplied {
            return Ok(false);
        }
        let link = self.console_link(&item.id);
        let (subject, text) = item.alert_text(&link);
        let alert = Alert {
            feedback_id: item.id.clone(),
            survey_id: item.survey_id.clone(),
            team: item.team.clone(),
            subject,
            text,
            link,
        };
        match alerts.alert(&alert).await {
            Ok(()) => {
                tracing::info!(feedback_id = %item.id, team = %item.team, "team lead alerted");
                Ok(true)
            }
            Err(e) => {
                tracing::error!(feedback_id = %item.id, error = %e, "alerting the team lead failed; the item waits in the queue");
                Ok(false)
            }
        }
    }

    /// Routes everything in the answer feed after `consumer`'s committed position,
    /// committing after each page. Returns how many answers it routed.
    pub async fn drain_feed(
        &self,
        feed: &dyn AnswerFeed,
        consumer: &str,
        _now: Timestamp,
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
