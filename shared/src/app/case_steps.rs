//! A case step arrives: decide, create the survey once, and send it now or at the
//! start of the next sending window. Replays of the same event change nothing.

use super::{Delivered, Services};
use crate::domain::case_step::CaseStepEvent;
use crate::domain::contact::Recipient;
use crate::domain::ids::SurveyId;
use crate::domain::policy::SurveyPolicy;
use crate::domain::rules::{DebtorFacts, Decision, SkipReason, decide, fatigue_cutoff};
use crate::domain::stats::{CounterIncrement, CounterKey, Dimension, survey_increments};
use crate::domain::survey::{Channel, NewSurvey, Survey, SurveyKind, SurveyState, SurveySubject};
use crate::domain::token::SurveyToken;
use crate::ports::{CreateOutcome, FatigueGuard, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// What happened to one case-step event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StepOutcome {
    Sent {
        survey_id: SurveyId,
    },
    Scheduled {
        survey_id: SurveyId,
        send_at: Timestamp,
    },
    Skipped {
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        survey_id: Option<SurveyId>,
    },
    Failed {
        survey_id: SurveyId,
        reason: String,
    },
    /// Created, but the provider did not take the message yet; the schedule retries.
    Retrying {
        survey_id: SurveyId,
    },
}

impl StepOutcome {
    fn skipped(reason: &SkipReason, survey_id: Option<SurveyId>) -> Self {
        StepOutcome::Skipped {
            reason: reason.code(),
            survey_id,
        }
    }

    fn from_delivery(survey_id: SurveyId, d: Delivered) -> Self {
        match d {
            Delivered::Sent => StepOutcome::Sent { survey_id },
            Delivered::Failed { reason } => StepOutcome::Failed { survey_id, reason },
            Delivered::Retrying => StepOutcome::Retrying { survey_id },
        }
    }
}

/// `csat:<event id>`: one survey per case-step event.
pub fn idempotency_key(event: &CaseStepEvent) -> String {
    format!("csat:{}", event.event_id)
}

fn subject_of(
    event: &CaseStepEvent,
    keyer: &crate::domain::contact::ContactKeyer,
) -> SurveySubject {
    SurveySubject {
        client_id: event.client_id.clone(),
        team: event.team.clone(),
        handler_id: Some(event.handler_id.clone()),
        step: Some(event.step.clone()),
        segment: event.segment.clone(),
        case_id: Some(event.case_id.clone()),
        contact_id: None,
        language: event.debtor.language,
        country: event.debtor.country,
        person: Some(keyer.person_key(event.debtor.debtor_id.as_str())),
    }
}

impl Services {
    pub async fn handle_case_step(
        &self,
        event: &CaseStepEvent,
        now: Timestamp,
    ) -> Result<StepOutcome, StoreError> {
        let policy = &self.config.policy;
        let subject = subject_of(event, &self.keyer);
        // The rules that need no stored facts come first: most steps stop here.
        let first = decide(event, &DebtorFacts::default(), policy, now);
        if let Decision::Skip { reason } = &first {
            self.count_decision(event, &subject, &first, now).await?;
            return Ok(StepOutcome::skipped(reason, None));
        }
        let key = idempotency_key(event);
        if let Some(existing) = self
            .surveys
            .get(&SurveyId::for_idempotency_key(&key))
            .await?
        {
            return self.resume(existing, now).await;
        }
        let Some(phone) = event.debtor.phone.clone() else {
            return Ok(StepOutcome::skipped(&SkipReason::NoPhone, None));
        };
        let recipient = Recipient::Sms(phone);
        let contact_key = self.keyer.key_for(&recipient);
        let facts = DebtorFacts {
            opted_out: self.contacts.opted_out_at(&contact_key).await?.is_some(),
            last_surveyed: self.surveys.last_surveyed(&contact_key).await?,
        };
        let decision = decide(event, &facts, policy, now);
        let send_at = match &decision {
            Decision::Skip { reason } => {
                self.count_decision(event, &subject, &decision, now).await?;
                return Ok(StepOutcome::skipped(reason, None));
            }
            Decision::SendNow => None,
            Decision::ScheduleAt { send_at } => Some(*send_at),
        };
        let token = SurveyToken::generate();
        let new = NewSurvey {
            idempotency_key: key,
            kind: SurveyKind::Csat,
            channel: Channel::Sms,
            token_hash: token.hash(),
            contact_key,
            recipient,
            subject: subject.clone(),
            created_at: now,
            send_at,
            expires_at: send_at.unwrap_or(now) + SurveyPolicy::days(policy.csat_link_days),
        };
        let guard = FatigueGuard {
            not_since: fatigue_cutoff(policy, now),
            surveyed_at: now,
        };
        match self.surveys.create(new, Some(guard)).await? {
            CreateOutcome::Created(survey) => {
                self.count_decision(event, &subject, &decision, now).await?;
                match send_at {
                    None => Ok(StepOutcome::from_delivery(
                        survey.id.clone(),
                        self.deliver(&survey, &token, now).await?,
                    )),
                    Some(send_at) => Ok(StepOutcome::Scheduled {
                        survey_id: survey.id,
                        send_at,
                    }),
                }
            }
            CreateOutcome::Duplicate(existing) => self.resume(existing, now).await,
            CreateOutcome::Fatigued { .. } => {
                let fatigue = Decision::Skip {
                    reason: SkipReason::Fatigue,
                };
                self.count_decision(event, &subject, &fatigue, now).await?;
                Ok(StepOutcome::skipped(&SkipReason::Fatigue, None))
            }
        }
    }

    /// A replay of an event already decided: finish a send that was interrupted
    /// (the survey is still due), otherwise report the duplicate.
    async fn resume(&self, survey: Survey, now: Timestamp) -> Result<StepOutcome, StoreError> {
        let due = survey.state == SurveyState::Scheduled && survey.send_at.is_none_or(|t| t <= now);
        if !due {
            return Ok(StepOutcome::skipped(
                &SkipReason::DuplicateEvent,
                Some(survey.id),
            ));
        }
        let token = self.new_link_token(&survey).await?;
        let delivered = self.deliver(&survey, &token, now).await?;
        Ok(StepOutcome::from_delivery(survey.id, delivered))
    }

    /// Counts a decision once per event, in every dimension of the step.
    async fn count_decision(
        &self,
        event: &CaseStepEvent,
        subject: &SurveySubject,
        decision: &Decision,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let increments = survey_increments(
            SurveyKind::Csat,
            subject,
            Channel::Sms,
            now,
            &decision.counter_field(),
        );
        self.stats
            .apply_once(&format!("decision:{}", idempotency_key(event)), &increments)
            .await?;
        tracing::info!(event_id = %event.event_id, decision = %decision.counter_field(), "case step decided");
        Ok(())
    }

    /// Counts an event that could not be parsed. It has no reliable id or dimensions,
    /// so it counts under `all`, once per `delivery` (a queue message id, or a fresh
    /// id per HTTP request).
    pub async fn count_invalid_event(
        &self,
        now: Timestamp,
        delivery: &str,
    ) -> Result<(), StoreError> {
        let month = now.strftime("%Y-%m").to_string();
        let increment = CounterIncrement {
            key: CounterKey::new(SurveyKind::Csat, &month, Dimension::All, "all"),
            fields: BTreeMap::from([(format!("skip_{}", SkipReason::InvalidEvent.code()), 1)]),
        };
        self.stats
            .apply_once(&format!("invalid:{delivery}"), &[increment])
            .await?;
        Ok(())
    }
}
