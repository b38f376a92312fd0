//! A case step arrives: decide, create the survey once, and send it now or at the
//! start of the next sending window. Replays of the same event change nothing but
//! finish a send that is due. A step that flags the debtor first cancels every
//! survey of theirs not yet sent.

use super::delivery::Held;
use super::{Delivered, Services};
use crate::domain::case_step::CaseStepEvent;
use crate::domain::case_step::DebtorFlag;
use crate::domain::contact::Recipient;
use crate::domain::ids::SurveyId;
use crate::domain::policy::SurveyPolicy;
use crate::domain::rules::{
    DebtorFacts, Decision, SkipReason, blocking_flag, decide, fatigue_cutoff,
};
use crate::domain::sending::{SendFacts, SurveyChange};
use crate::domain::stats::{
    CounterField, CounterIncrement, CounterKey, Dimension, survey_increments,
};
use crate::domain::survey::{
    Channel, Claim, NewSurvey, Survey, SurveyKind, SurveyState, SurveySubject,
};
use crate::domain::token::SurveyToken;
use crate::ports::{CreateOutcome, FatigueGuard, PageRequest, StoreError, TransitionOutcome};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// What happened to one case-step event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
        /// For a replay: where the survey of the first delivery stands now.
        #[serde(skip_serializing_if = "Option::is_none")]
        state: Option<SurveyState>,
    },
    Failed {
        survey_id: SurveyId,
        reason: String,
    },
    /// The provider certainly did not take the message; the schedule tries again
    /// from `retry_at`.
    Retrying {
        survey_id: SurveyId,
        retry_at: Timestamp,
    },
    /// The provider may have taken the message: it is never sent again.
    SendUnknown {
        survey_id: SurveyId,
    },
}

impl StepOutcome {
    fn skipped(reason: &SkipReason, survey_id: Option<SurveyId>) -> Self {
        StepOutcome::Skipped {
            reason: reason.code(),
            survey_id,
            state: None,
        }
    }

    /// A replay: the first delivery's survey, as it stands.
    fn duplicate(survey: &Survey) -> Self {
        StepOutcome::Skipped {
            reason: SkipReason::DuplicateEvent.code(),
            survey_id: Some(survey.id.clone()),
            state: Some(survey.state),
        }
    }

    fn from_delivery(survey: &Survey, d: Delivered) -> Self {
        let survey_id = survey.id.clone();
        match d {
            Delivered::Sent => StepOutcome::Sent { survey_id },
            Delivered::Failed { reason } => StepOutcome::Failed { survey_id, reason },
            Delivered::Retrying { at } => StepOutcome::Retrying {
                survey_id,
                retry_at: at,
            },
            Delivered::Waiting { until } => StepOutcome::Scheduled {
                survey_id,
                send_at: until,
            },
            Delivered::Unknown => StepOutcome::SendUnknown { survey_id },
            Delivered::Busy => StepOutcome::duplicate(survey),
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
        if let Some(flag) = blocking_flag(event) {
            self.protect_flagged(event, &subject, flag, now).await?;
        }
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
        let (opted_out, last_surveyed, flagged_at) = tokio::try_join!(
            self.contacts.opted_out_at(&contact_key),
            self.surveys.last_surveyed(&contact_key),
            async {
                match &subject.person {
                    Some(p) => self.contacts.person_flagged_at(p).await,
                    None => Ok(None),
                }
            },
        )?;
        let facts = DebtorFacts {
            opted_out: opted_out.is_some(),
            last_surveyed,
            flagged_at,
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
        // Sent at once: created already claimed, so no other sender (a replay, the
        // schedule) can call the channel for it.
        let claim = send_at
            .is_none()
            .then(|| Claim::new(now + policy.send_lease()));
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
            event_at: Some(event.occurred_at),
            claim: claim.clone(),
        };
        let guard = FatigueGuard {
            not_since: fatigue_cutoff(policy, now),
            surveyed_at: now,
        };
        let send_facts = SendFacts {
            opted_out: facts.opted_out,
            // Bounces are about email; a debtor is texted.
            suppressed: false,
            flagged_at: facts.flagged_at,
        };
        let created = match self.surveys.create(new, Some(guard)).await? {
            CreateOutcome::Created(survey) => survey,
            // Our own create, repeated by the store client after it had succeeded.
            CreateOutcome::Duplicate(existing)
                if claim
                    .as_ref()
                    .is_some_and(|c| existing.claimed_by(&c.attempt)) =>
            {
                existing
            }
            CreateOutcome::Duplicate(existing) => return self.resume(existing, now).await,
            CreateOutcome::Fatigued { .. } => {
                let fatigue = Decision::Skip {
                    reason: SkipReason::Fatigue,
                };
                self.count_decision(event, &subject, &fatigue, now).await?;
                return Ok(StepOutcome::skipped(&SkipReason::Fatigue, None));
            }
        };
        self.count_decision(event, &subject, &decision, now).await?;
        match (claim, send_at) {
            (Some(claim), _) => {
                let delivered = self
                    .send_claimed(
                        &created,
                        Held {
                            attempt: &claim.attempt,
                            token: Some(&token),
                            facts: Some(send_facts),
                        },
                        now,
                    )
                    .await?;
                Ok(StepOutcome::from_delivery(&created, delivered))
            }
            (None, send_at) => Ok(StepOutcome::Scheduled {
                survey_id: created.id,
                send_at: send_at.unwrap_or(now),
            }),
        }
    }

    /// A replay of an event already decided: if its survey is due, claim it and send
    /// it through the same check as every send; otherwise answer with where the
    /// first delivery's survey stands.
    async fn resume(&self, survey: Survey, now: Timestamp) -> Result<StepOutcome, StoreError> {
        let due = survey.state == SurveyState::Scheduled && survey.send_at.is_none_or(|t| t <= now);
        if !due {
            return Ok(StepOutcome::duplicate(&survey));
        }
        let (current, delivered) = self.claim_and_send(&survey, now).await?;
        Ok(StepOutcome::from_delivery(&current, delivered))
    }

    /// A step that carries a blocking flag protects the debtor before anything
    /// else: the flag's time is remembered under their person key (so a survey for an
    /// earlier step is never sent, whenever it arrives) and every survey of theirs
    /// still waiting to be sent is cancelled (`cancelled_flagged`).
    async fn protect_flagged(
        &self,
        event: &CaseStepEvent,
        subject: &SurveySubject,
        flag: &DebtorFlag,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if matches!(flag, DebtorFlag::Unknown(_)) {
            tracing::warn!(event_id = %event.event_id, flag = %flag.loggable(), "unknown debtor flag: the survey is blocked (flagged_unknown)");
        }
        let Some(person) = &subject.person else {
            return Ok(());
        };
        self.contacts.flag_person(person, event.occurred_at).await?;
        let mut cursor = None;
        loop {
            let page = self
                .surveys
                .surveys_of_person(person, PageRequest { cursor, limit: 100 })
                .await?;
            for survey in &page.items {
                let earlier = survey.event_at.is_none_or(|at| at <= event.occurred_at);
                if survey.kind != SurveyKind::Csat
                    || survey.state != SurveyState::Scheduled
                    || !earlier
                {
                    continue;
                }
                let reason = SkipReason::CancelledFlagged.code();
                let change = SurveyChange::Cancel {
                    reason: reason.clone(),
                };
                if let TransitionOutcome::Done(_) = self.surveys.apply(&survey.id, change).await? {
                    self.count(survey, "failed", CounterField::Skipped(reason), now)
                        .await?;
                    tracing::info!(survey_id = %survey.id, "pending survey cancelled by a flagged step");
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
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
    /// Counts an invalid event once, however often it is sent: `body` is the event
    /// as it came (see [`invalid_event_key`]).
    pub async fn count_invalid_event(&self, now: Timestamp, body: &str) -> Result<(), StoreError> {
        let delivery = invalid_event_key(body);
        let month = now.strftime("%Y-%m").to_string();
        let increment = CounterIncrement {
            key: CounterKey::new(SurveyKind::Csat, &month, Dimension::All, "all"),
            fields: BTreeMap::from([(
                CounterField::Skipped(SkipReason::InvalidEvent.code()).key(),
                1,
            )]),
        };
        self.stats
            .apply_once(&format!("invalid:{delivery}"), &[increment])
            .await?;
        Ok(())
    }
}

/// The same invalid event, sent again (by the API, or in another queue message),
/// is the same key: the SHA-256 of its JSON with the keys sorted, or of its text
/// when it is not JSON.
pub fn invalid_event_key(body: &str) -> String {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::from_str::<serde_json::Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| body.to_string());
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod invalid_key_tests {
    use super::invalid_event_key;

    #[test]
    fn the_same_event_in_another_spelling_is_the_same_key() {
        let a = invalid_event_key(r#"{"event_id": "e1", "step": "Bad Step"}"#);
        let b = invalid_event_key("{\"step\":\"Bad Step\",\n \"event_id\":\"e1\"}");
        assert_eq!(a, b);
        assert_ne!(
            a,
            invalid_event_key(r#"{"event_id": "e2", "step": "Bad Step"}"#)
        );
        assert_eq!(invalid_event_key("not json"), invalid_event_key("not json"));
    }
}
