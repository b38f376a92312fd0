//! Sending one survey message (first send, retry, scheduled send or reminder) and
//! recording what came of it, at most once per survey: see
//! [`crate::domain::sending`] for the claim and the one check before every call.

use super::Services;
use crate::domain::contact::Recipient;
use crate::domain::messages::email::{NpsEmailInput, render_nps};
use crate::domain::messages::sms::csat_text;
use crate::domain::sending::{SendFacts, SurveyChange, Verdict, may_send};
use crate::domain::stats::{CounterField, survey_increments};
use crate::domain::survey::{Channel, Claim, Survey, SurveyKind, SurveyState};
use crate::domain::token::SurveyToken;
use crate::ports::{OutboundMessage, SendError, StoreError, TransitionOutcome};
use jiff::Timestamp;
use serde::Serialize;

/// What became of one attempt to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "delivery", rename_all = "snake_case")]
pub enum Delivered {
    Sent,
    /// Refused for good, or it may not be sent (opted out, flagged, stale…): the
    /// survey is `failed` with this reason.
    Failed {
        reason: String,
    },
    /// Certainly not sent this time (throttling, no connection): tried again at `at`.
    Retrying {
        at: Timestamp,
    },
    /// Outside the recipient's sending hours: it waits until `until`.
    Waiting {
        until: Timestamp,
    },
    /// The channel may have taken it: `send_unknown`, never sent again.
    Unknown,
    /// Another sender holds the claim (or it was settled meanwhile): nothing done.
    Busy,
}

/// Counter field for a survey that ended `send_unknown`; in the reports' skip table.
pub const SEND_UNKNOWN: &str = "send_unknown";

/// Attempts at recording a send's outcome after the channel call: losing that record
/// would leave the outcome unknown, so a passing store fault is tried again.
const SETTLE_TRIES: u32 = 3;

impl Services {
    /// Counts `field` once per (`effect`, survey) in the survey's counters.
    pub(crate) async fn count(
        &self,
        survey: &Survey,
        effect: &str,
        field: CounterField,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let increments =
            survey_increments(survey.kind, &survey.subject, survey.channel, at, &field);
        let effect = format!("{effect}:{}", survey.id);
        // Applied once whatever happens, so a passing fault is simply tried again:
        // an outcome that is not counted now would never be.
        let mut tries = 0;
        loop {
            tries += 1;
            match self.stats.apply_once(&effect, &increments).await {
                Ok(_) => return Ok(()),
                Err(e) if tries >= SETTLE_TRIES => return Err(e),
                Err(_) => continue,
            }
        }
    }

    /// Renders the message for `survey` with the link for `token`, or `None` with a
    /// reason when there is no one to send it to.
    async fn message(
        &self,
        survey: &Survey,
        token: &SurveyToken,
        reminder: bool,
    ) -> Result<Result<OutboundMessage, &'static str>, StoreError> {
        let link = self.config.link(token);
        let language = survey.subject.language;
        let client = self.client_settings(&survey.subject.client_id).await?;
        let message = match survey.kind {
            SurveyKind::Csat => {
                let Some(to @ Recipient::Sms(_)) = survey.recipient.clone() else {
                    return Ok(Err("no_recipient"));
                };
                OutboundMessage {
                    survey_id: survey.id.clone(),
                    channel: Channel::Sms,
                    to,
                    language,
                    subject: None,
                    text: csat_text(
                        language,
                        client
                            .as_deref()
                            .and_then(|c| c.sms_name())
                            .unwrap_or(self.config.sender_name()),
                        &link,
                    ),
                    html: None,
                    headers: vec![],
                    reply_to: None,
                    sender: client
                        .as_deref()
                        .and_then(|c| c.sms_sender.as_ref())
                        .map(|s| s.as_str().to_string()),
                    link,
                }
            }
            SurveyKind::Nps => {
                let Some(contact_id) = &survey.subject.contact_id else {
                    return Ok(Err("no_recipient"));
                };
                let Some(contact) = self
                    .contacts
                    .get_creditor(&survey.subject.client_id, contact_id)
                    .await?
                else {
                    return Ok(Err("contact_removed"));
                };
                if !contact.active {
                    return Ok(Err("contact_inactive"));
                }
                let email = render_nps(&NpsEmailInput {
                    language: contact.language,
                    agency: client
                        .as_deref()
                        .map_or(self.config.agency_name(), |c| c.display_name.as_str()),
                    controller: self.config.agency_name(),
                    privacy_url: self.config.privacy_url(),
                    contact_name: &contact.name,
                    account_manager: &contact.account_manager,
                    link: &link,
                    reminder,
                })
                .map_err(|e| StoreError::corrupt("render_email", e))?;
                OutboundMessage {
                    survey_id: survey.id.clone(),
                    channel: Channel::Email,
                    to: Recipient::Email(contact.email),
                    language: contact.language,
                    subject: Some(email.subject),
                    text: email.text,
                    html: Some(email.html),
                    headers: email.headers,
                    reply_to: contact
                        .account_manager_email
                        .as_ref()
                        .map(|e| e.as_str().to_string())
                        .or_else(|| {
                            client
                                .as_deref()
                                .and_then(|c| c.reply_to.as_ref())
                                .map(|e| e.as_str().to_string())
                        }),
                    sender: client.as_deref().map(|c| c.display_name.clone()),
                    link,
                }
            }
        };
        Ok(Ok(message))
    }

    /// Draws a fresh link token and stores its hash as another way into `survey`.
    pub(crate) async fn new_link_token(&self, survey: &Survey) -> Result<SurveyToken, StoreError> {
        let token = SurveyToken::generate();
        self.surveys.add_token(survey, &token.hash()).await?;
        Ok(token)
    }

    /// Applies `change` and tells whether it holds now: done by this call, or found
    /// already done (a store request repeated after it had succeeded).
    async fn settle(
        &self,
        survey: &Survey,
        change: SurveyChange,
        holds: impl Fn(&Survey) -> bool,
    ) -> Result<Option<Survey>, StoreError> {
        let mut last = None;
        for _ in 0..SETTLE_TRIES {
            match self.surveys.apply_to(survey, change.clone()).await {
                Ok(TransitionOutcome::Done(s)) => return Ok(Some(s)),
                Ok(TransitionOutcome::WrongState(s)) => return Ok(holds(&s).then_some(s)),
                Ok(TransitionOutcome::NotFound) => return Ok(None),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| StoreError::unavailable("settle", "no attempt made")))
    }

    /// Ends the held claim with `change` and counts `field` once for the survey.
    async fn close_send(
        &self,
        survey: &Survey,
        change: SurveyChange,
        effect: &str,
        field: CounterField,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let attempt = held_attempt(&change).map(str::to_string);
        let target = target_state(&change);
        let closed = self
            .settle(survey, change, |s| {
                s.state == target && s.claim.as_ref().map(|c| &c.attempt) == attempt.as_ref()
            })
            .await?;
        if closed.is_some() {
            self.count(survey, effect, field, now).await?;
        }
        Ok(closed.is_some())
    }

    /// Claims a due survey and sends it. If another sender holds it (or it moved
    /// on), nothing is done: `Busy`, with the survey as it stands.
    pub(crate) async fn claim_and_send(
        &self,
        survey: &Survey,
        now: Timestamp,
    ) -> Result<(Survey, Delivered), StoreError> {
        let claim = Claim::new(now + self.config.policy.send_lease());
        let change = SurveyChange::Claim {
            claim: claim.clone(),
            now,
        };
        let claimed = match self.surveys.apply(&survey.id, change).await? {
            TransitionOutcome::Done(claimed) => claimed,
            // Our own claim, repeated by the store client after it had succeeded.
            TransitionOutcome::WrongState(current) if current.claimed_by(&claim.attempt) => current,
            TransitionOutcome::WrongState(current) => return Ok((current, Delivered::Busy)),
            TransitionOutcome::NotFound => return Ok((survey.clone(), Delivered::Busy)),
        };
        let delivered = self
            .send_claimed(&claimed, Held::new(&claim.attempt), now)
            .await?;
        Ok((claimed, delivered))
    }

    /// What the one check needs to know about the recipient, read now.
    pub(crate) async fn send_facts(&self, survey: &Survey) -> Result<SendFacts, StoreError> {
        let person = survey.subject.person.clone();
        let (opted_out, flagged_at, suppressed) = tokio::try_join!(
            self.contacts.opted_out_at(&survey.contact_key),
            async {
                match (&person, survey.kind) {
                    (Some(p), SurveyKind::Csat) => self.contacts.person_flagged_at(p).await,
                    _ => Ok(None),
                }
            },
            async {
                match survey.kind {
                    SurveyKind::Nps => self.contacts.suppressed_at(&survey.contact_key).await,
                    SurveyKind::Csat => Ok(None),
                }
            }
        )?;
        Ok(SendFacts {
            opted_out: opted_out.is_some(),
            suppressed: suppressed.is_some(),
            flagged_at,
        })
    }

    /// Sends a survey this caller holds the claim of: asks [`may_send`], calls the
    /// channel once and records the outcome. Whatever goes wrong before the channel
    /// call gives the claim back; nothing is ever repeated after it.
    pub(crate) async fn send_claimed(
        &self,
        survey: &Survey,
        held: Held<'_>,
        now: Timestamp,
    ) -> Result<Delivered, StoreError> {
        let attempt = held.attempt;
        let prepared = self.prepare(survey, held, now).await;
        let message = match prepared {
            Ok(Prepared::Message(m)) => m,
            Ok(Prepared::Done(d)) => return Ok(d),
            Err(e) => {
                // Nothing went out: give the claim back for a later attempt.
                self.give_back(survey, attempt, now).await;
                return Err(e);
            }
        };
        let (notifier, per_second) = match survey.channel {
            Channel::Sms => (&self.sms, self.config.policy.sms_per_second),
            Channel::Email => (&self.email, self.config.policy.email_per_second),
        };
        let attempt = attempt.to_string();
        // The account's rate: wait for a slot, or give the claim back for later.
        match self.pacing.slot(survey.channel, per_second).await {
            Ok(true) => {}
            Ok(false) => {
                let at = now + self.config.policy.retry_delay(1);
                let change = SurveyChange::Release {
                    attempt,
                    at,
                    refund: true,
                };
                self.settle(survey, change, |s| s.send_at == Some(at))
                    .await?;
                tracing::info!(survey_id = %survey.id, retry_at = %at, "no send slot within the wait; will retry");
                return Ok(Delivered::Retrying { at });
            }
            Err(e) => {
                self.give_back(survey, &attempt, now).await;
                return Err(e);
            }
        }
        let sent = notifier.send(&message).await;
        self.pacing.heard(survey.channel, &sent);
        match sent {
            Ok(()) => {
                let change = SurveyChange::Sent {
                    attempt: attempt.clone(),
                    at: now,
                };
                let recorded = self
                    .settle(survey, change, |s| s.sent_at == Some(now))
                    .await;
                // It went out, whatever the record says: count it once.
                self.count(survey, "sent", CounterField::Sent, now).await?;
                if let Err(e) = recorded {
                    tracing::error!(survey_id = %survey.id, error = %e, "sent, but not recorded; the claim will lapse to send_unknown");
                }
                tracing::info!(survey_id = %survey.id, channel = survey.channel.as_str(), "survey sent");
                Ok(Delivered::Sent)
            }
            Err(SendError::Permanent { reason }) => {
                tracing::warn!(survey_id = %survey.id, reason, "survey refused by the channel");
                self.fail(survey, attempt, reason, now).await
            }
            Err(SendError::NotSent(e) | SendError::Throttled(e)) => {
                let policy = &self.config.policy;
                if survey.attempts >= policy.max_send_attempts.max(1) {
                    tracing::warn!(survey_id = %survey.id, error = %e, attempts = survey.attempts, "not sent; no attempts left");
                    let reason = "send_attempts_exhausted".to_string();
                    return self.fail(survey, attempt, reason, now).await;
                }
                let at = now + policy.retry_delay(survey.attempts);
                let change = SurveyChange::Release {
                    attempt,
                    at,
                    refund: false,
                };
                self.settle(survey, change, |s| s.send_at == Some(at))
                    .await?;
                tracing::warn!(survey_id = %survey.id, error = %e, attempts = survey.attempts, retry_at = %at, "not sent; will retry");
                Ok(Delivered::Retrying { at })
            }
            Err(SendError::Unknown(e)) => {
                let change = SurveyChange::Unknown {
                    attempt,
                    reason: SEND_UNKNOWN.into(),
                };
                self.close_send(
                    survey,
                    change,
                    "unknown",
                    CounterField::Skipped(SEND_UNKNOWN.into()),
                    now,
                )
                .await?;
                tracing::warn!(survey_id = %survey.id, error = %e, "send outcome unknown; never sent again");
                Ok(Delivered::Unknown)
            }
        }
    }

    /// Gives a held claim back after a fault before the channel call (nothing went
    /// out), so a later attempt may send; if even that fails, the claim lapses.
    async fn give_back(&self, survey: &Survey, attempt: &str, now: Timestamp) {
        let release = SurveyChange::Release {
            attempt: attempt.to_string(),
            at: now,
            refund: true,
        };
        if let Err(again) = self.surveys.apply(&survey.id, release).await {
            tracing::warn!(survey_id = %survey.id, error = %again, "claim not released; it will lapse");
        }
    }

    /// Ends the held claim as `failed` for good with `reason`, counted once as
    /// `failed_<reason>`.
    async fn fail(
        &self,
        survey: &Survey,
        attempt: String,
        reason: String,
        now: Timestamp,
    ) -> Result<Delivered, StoreError> {
        let field = CounterField::Failed(reason.clone());
        let change = SurveyChange::Fail {
            attempt,
            reason: reason.clone(),
        };
        self.close_send(survey, change, "failed", field, now)
            .await?;
        Ok(Delivered::Failed { reason })
    }

    /// The check, the link and the message, or what was decided instead.
    async fn prepare(
        &self,
        survey: &Survey,
        held: Held<'_>,
        now: Timestamp,
    ) -> Result<Prepared, StoreError> {
        let Held {
            attempt,
            token,
            facts,
        } = held;
        let facts = match facts {
            Some(f) => f,
            None => self.send_facts(survey).await?,
        };
        match may_send(survey, &facts, &self.config.policy, now) {
            Verdict::Go => {}
            Verdict::WaitUntil(until) => {
                let change = SurveyChange::Release {
                    attempt: attempt.to_string(),
                    at: until,
                    refund: true,
                };
                self.settle(survey, change, |s| s.send_at == Some(until))
                    .await?;
                return Ok(Prepared::Done(Delivered::Waiting { until }));
            }
            Verdict::Stop(stop) => {
                let change = SurveyChange::Fail {
                    attempt: attempt.to_string(),
                    reason: stop.code().to_string(),
                };
                self.close_send(
                    survey,
                    change,
                    "failed",
                    CounterField::Skipped(stop.code().into()),
                    now,
                )
                .await?;
                tracing::info!(survey_id = %survey.id, reason = stop.code(), "survey not sent");
                return Ok(Prepared::Done(Delivered::Failed {
                    reason: stop.code().to_string(),
                }));
            }
        }
        let token = match token {
            Some(t) => t.clone(),
            None => self.new_link_token(survey).await?,
        };
        match self.message(survey, &token, false).await? {
            Ok(m) => Ok(Prepared::Message(Box::new(m))),
            Err(reason) => {
                let failed = self
                    .fail(survey, attempt.to_string(), reason.to_string(), now)
                    .await?;
                Ok(Prepared::Done(failed))
            }
        }
    }

    /// Records `send_unknown` for a survey whose claim ran out (its holder died
    /// around the channel call), once. `true` if this call recorded it.
    pub(crate) async fn lapse(&self, survey: &Survey, now: Timestamp) -> Result<bool, StoreError> {
        let lapsed = match self
            .surveys
            .apply(&survey.id, SurveyChange::Lapse { now })
            .await?
        {
            TransitionOutcome::Done(s) => s,
            // Lapsed already: by this call (the store client repeated a request
            // that had succeeded) or by another tick. The count below is applied
            // once per survey, so counting again cannot count twice, and a lapse
            // whose answer was lost is still counted.
            TransitionOutcome::WrongState(s) if s.state == SurveyState::SendUnknown => {
                self.count(
                    &s,
                    "unknown",
                    CounterField::Skipped(SEND_UNKNOWN.into()),
                    now,
                )
                .await?;
                return Ok(false);
            }
            _ => return Ok(false),
        };
        self.count(
            &lapsed,
            "unknown",
            CounterField::Skipped(SEND_UNKNOWN.into()),
            now,
        )
        .await?;
        tracing::warn!(survey_id = %lapsed.id, "a send claim lapsed; outcome unknown, never sent again");
        Ok(true)
    }

    /// Sends the one NPS reminder with a fresh link token, at most once: the
    /// reminder is noted before the call, so a failed or unknown call is not repeated.
    pub(crate) async fn remind(
        &self,
        survey: &Survey,
        now: Timestamp,
    ) -> Result<Delivered, StoreError> {
        // The slot first: a reminder without one stays due for the next tick.
        let rate = self.config.policy.email_per_second;
        if !self.pacing.slot(Channel::Email, rate).await? {
            return Ok(Delivered::Retrying {
                at: now + self.config.policy.retry_delay(1),
            });
        }
        if !matches!(
            self.surveys
                .apply(&survey.id, SurveyChange::Remind { at: now })
                .await?,
            TransitionOutcome::Done(_)
        ) {
            return Ok(Delivered::Busy);
        }
        let token = self.new_link_token(survey).await?;
        let message = match self.message(survey, &token, true).await? {
            Ok(m) => m,
            Err(reason) => {
                return Ok(Delivered::Failed {
                    reason: reason.to_string(),
                });
            }
        };
        let sent = self.email.send(&message).await;
        self.pacing.heard(Channel::Email, &sent);
        match sent {
            Ok(()) => {
                self.count(survey, "reminded", CounterField::Reminded, now)
                    .await?;
                Ok(Delivered::Sent)
            }
            Err(SendError::Permanent { reason }) => Ok(Delivered::Failed { reason }),
            Err(e) => {
                tracing::warn!(survey_id = %survey.id, error = %e, "reminder not confirmed; not repeated");
                Ok(Delivered::Unknown)
            }
        }
    }
}

/// A claim this caller holds, and what it already has for the send.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Held<'a> {
    /// The claim's attempt id.
    pub attempt: &'a str,
    /// The link token, if the caller drew it; otherwise a fresh one is drawn.
    pub token: Option<&'a SurveyToken>,
    /// The facts for [`may_send`], if the caller has just read them.
    pub facts: Option<SendFacts>,
}

impl<'a> Held<'a> {
    pub fn new(attempt: &'a str) -> Self {
        Self {
            attempt,
            token: None,
            facts: None,
        }
    }
}

enum Prepared {
    Message(Box<OutboundMessage>),
    Done(Delivered),
}

fn held_attempt(change: &SurveyChange) -> Option<&str> {
    match change {
        SurveyChange::Sent { attempt, .. }
        | SurveyChange::Release { attempt, .. }
        | SurveyChange::Fail { attempt, .. }
        | SurveyChange::Unknown { attempt, .. } => Some(attempt),
        SurveyChange::Claim { claim, .. } => Some(&claim.attempt),
        SurveyChange::Lapse { .. }
        | SurveyChange::Cancel { .. }
        | SurveyChange::Expire { .. }
        | SurveyChange::Remind { .. } => None,
    }
}

fn target_state(change: &SurveyChange) -> SurveyState {
    match change {
        SurveyChange::Claim { .. } => SurveyState::Sending,
        SurveyChange::Sent { .. } => SurveyState::Sent,
        SurveyChange::Release { .. } => SurveyState::Scheduled,
        SurveyChange::Fail { .. } | SurveyChange::Cancel { .. } => SurveyState::Failed,
        SurveyChange::Unknown { .. } | SurveyChange::Lapse { .. } => SurveyState::SendUnknown,
        SurveyChange::Expire { .. } => SurveyState::Expired,
        SurveyChange::Remind { .. } => SurveyState::Sent,
    }
}
