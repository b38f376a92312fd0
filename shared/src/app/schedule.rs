//! One tick of the survey schedule (every minute from EventBridge in AWS, a timer in
//! `kundpuls serve`): send what is due, expire what is over, send NPS reminders, and
//! walk the month's relationship-NPS wave (one pass a day, resumed tick after tick
//! within each tick's budget). Each part is bounded per tick; what is left waits for
//! the next one.

use super::delivery::Held;
use super::{Delivered, Services};
use crate::domain::contact::Recipient;
use crate::domain::creditor::CreditorContact;
use crate::domain::ids::SurveyId;
use crate::domain::policy::SurveyPolicy;
use crate::domain::rules::SkipReason;
use crate::domain::sending::{SendFacts, SurveyChange};
use crate::domain::stats::{CounterField, survey_increments};
use crate::domain::survey::{Channel, Claim, NewSurvey, SurveyKind, SurveyState, SurveySubject};
use crate::domain::token::SurveyToken;
use crate::domain::wave::WaveProgress;
use crate::ports::{
    CreateOutcome, FatigueGuard, PageRequest, StoreError, TransitionOutcome, WorkList,
};
use jiff::Timestamp;
use serde::Serialize;

/// Surveys handled per part per tick at most.
pub const BATCH: usize = 100;
/// Batches per part per tick at most.
const MAX_BATCHES: usize = 10;

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub sent: usize,
    pub failed: usize,
    pub retrying: usize,
    /// Outside the recipients' sending hours: put back until their window opens.
    pub waiting: usize,
    /// Outcome unknown (the channel's answer, or a claim that ran out).
    pub send_unknown: usize,
    /// Claimed by another sender between the listing and the claim.
    pub busy: usize,
    pub expired: usize,
    pub reminded: usize,
    /// This tick began the day's pass over the month's wave.
    pub nps_wave_started: bool,
    pub nps_created: usize,
    pub nps_skipped: usize,
    /// Contacts of last month's unfinished wave walked in this tick.
    pub nps_rolled_over: usize,
    /// The budget ran out with the wave's pass unfinished; the next tick resumes.
    pub wave_paused: bool,
    /// The tick's time ran out before its due sends, expiries or reminders were
    /// all done; they stay due, and the next tick takes them first.
    pub out_of_time: bool,
    /// Team-lead alerts tried again, and claims found run out.
    pub alerts: super::routing::AlertRetries,
}

impl TickReport {
    fn add(&mut self, d: &Delivered) {
        match d {
            Delivered::Sent => self.sent += 1,
            Delivered::Failed { .. } => self.failed += 1,
            Delivered::Retrying { .. } => self.retrying += 1,
            Delivered::Waiting { .. } => self.waiting += 1,
            Delivered::Unknown => self.send_unknown += 1,
            Delivered::Busy => self.busy += 1,
        }
    }
}

/// `nps:<client>:<contact>:<year>`: one relationship survey per contact per year.
pub fn nps_idempotency_key(contact: &CreditorContact, now: Timestamp) -> String {
    nps_key(contact, &now.strftime("%Y").to_string())
}

fn nps_key(contact: &CreditorContact, year: &str) -> String {
    format!("nps:{}:{}:{year}", contact.client_id, contact.contact_id)
}

/// How much of the NPS wave one tick may walk: until a deadline (in AWS, the
/// invocation's remaining time less a margin) and at most a number of contacts
/// (locally and in tests). What is left waits for the next tick.
#[derive(Debug, Clone, Copy, Default)]
pub struct TickBudget {
    pub deadline: Option<std::time::Instant>,
    pub contacts: Option<usize>,
}

impl TickBudget {
    /// No limit: the whole wave in one tick.
    pub fn unlimited() -> Self {
        Self::default()
    }

    /// The Lambda's deadline (Unix milliseconds) less `margin`, which must cover
    /// the slowest page (its SDK calls at their timeouts).
    pub fn until_deadline(deadline_ms: u64, margin: std::time::Duration) -> Self {
        let now_ms = u64::try_from(Timestamp::now().as_millisecond()).unwrap_or(0);
        let left = std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms))
            .saturating_sub(margin);
        Self {
            deadline: Some(std::time::Instant::now() + left),
            contacts: None,
        }
    }

    pub fn contacts(n: usize) -> Self {
        Self {
            deadline: None,
            contacts: Some(n),
        }
    }

    fn spent(&self, walked: usize) -> bool {
        self.out_of_time() || self.contacts.is_some_and(|n| walked >= n)
    }

    /// The deadline has passed: the rule for due sends, expiries and reminders,
    /// whose count the budget does not limit.
    fn out_of_time(&self) -> bool {
        self.deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
    }

    /// The next page's size: at most [`BATCH`], and no more than the contacts the
    /// budget has left.
    fn page_size(&self, walked: usize) -> usize {
        self.contacts
            .map_or(BATCH, |n| n.saturating_sub(walked).clamp(1, BATCH))
    }
}

impl Services {
    /// One tick with no budget: the whole wave at once (tests, small data).
    pub async fn run_schedule(&self, now: Timestamp) -> Result<TickReport, StoreError> {
        self.run_schedule_within(now, TickBudget::unlimited()).await
    }

    /// One tick: due sends, expiries and reminders until the budget's deadline,
    /// then the NPS wave as far as the budget allows. Whatever is left stays due
    /// for the next tick.
    pub async fn run_schedule_within(
        &self,
        now: Timestamp,
        budget: TickBudget,
    ) -> Result<TickReport, StoreError> {
        let mut report = TickReport::default();
        self.send_due(now, &budget, &mut report).await?;
        self.expire_due(now, &budget, &mut report).await?;
        self.remind_due(now, &budget, &mut report).await?;
        if report.out_of_time {
            tracing::info!(?report, "schedule tick out of time");
            return Ok(report);
        }
        report.alerts = self.retry_alerts(now).await?;
        self.nps_wave(now, &budget, &mut report).await?;
        tracing::info!(?report, "schedule tick");
        Ok(report)
    }

    /// Sends what is due and settles claims that ran out. Each survey is claimed
    /// first, so a send under way elsewhere (ingest, a replay, another tick) is never
    /// repeated; a retry moves the survey's due time on, so a failing send never
    /// blocks the ones behind it.
    async fn send_due(
        &self,
        now: Timestamp,
        budget: &TickBudget,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        for _ in 0..MAX_BATCHES {
            let due = self.surveys.due(WorkList::ToSend, now, BATCH).await?;
            let full = due.len() == BATCH;
            let mut progressed = false;
            for survey in due {
                if budget.out_of_time() {
                    report.out_of_time = true;
                    return Ok(());
                }
                let delivered = match survey.state {
                    SurveyState::Sending => {
                        if self.lapse(&survey, now).await? {
                            Delivered::Unknown
                        } else {
                            Delivered::Busy
                        }
                    }
                    _ => self.claim_and_send(&survey, now).await?.1,
                };
                progressed |= delivered != Delivered::Busy;
                report.add(&delivered);
            }
            if !full || !progressed {
                break;
            }
        }
        Ok(())
    }

    async fn expire_due(
        &self,
        now: Timestamp,
        budget: &TickBudget,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        for _ in 0..MAX_BATCHES {
            let due = self.surveys.due(WorkList::ToExpire, now, BATCH).await?;
            let full = due.len() == BATCH;
            for survey in due {
                if budget.out_of_time() {
                    report.out_of_time = true;
                    return Ok(());
                }
                if let TransitionOutcome::Done(_) = self
                    .surveys
                    .apply(&survey.id, SurveyChange::Expire { now })
                    .await?
                {
                    self.count(&survey, "expired", CounterField::Expired, now)
                        .await?;
                    report.expired += 1;
                }
            }
            if !full {
                break;
            }
        }
        Ok(())
    }

    async fn remind_due(
        &self,
        now: Timestamp,
        budget: &TickBudget,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        let cutoff = now - SurveyPolicy::days(self.config.policy.nps_reminder_after_days);
        let policy = &self.config.policy;
        for survey in self.surveys.due(WorkList::ToRemind, cutoff, BATCH).await? {
            if budget.out_of_time() {
                report.out_of_time = true;
                return Ok(());
            }
            if survey.kind != SurveyKind::Nps {
                continue;
            }
            // Reminders, like first sends, go out only inside the contact's sending
            // hours; outside them the survey waits for a later tick.
            let country = survey.subject.country.unwrap_or(policy.default_country);
            if policy.next_send_time(now, country) != Some(now) {
                continue;
            }
            let contact = &survey.contact_key;
            // Opted out, or the address bounced: no reminder, ever.
            if self.contacts.opted_out_at(contact).await?.is_some()
                || self.contacts.suppressed_at(contact).await?.is_some()
            {
                self.surveys
                    .apply(&survey.id, SurveyChange::Remind { at: now })
                    .await?;
                continue;
            }
            match self.remind(&survey, now).await? {
                Delivered::Sent => report.reminded += 1,
                // No send slot in time: still due, for the next tick.
                Delivered::Retrying { .. } => report.retrying += 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// The month's relationship-NPS wave, resumable: each day one pass walks the
    /// contacts whose wave month it is, a page at a time, saving where it stands
    /// after each page, for as long as the tick's budget lasts. A tick that runs
    /// out of time or fails leaves the rest to the next tick (a minute later), not
    /// the next day. A pass of last month still unfinished (the service was down,
    /// or every tick ran out of time) is finished first, counted as rolled over.
    async fn nps_wave(
        &self,
        now: Timestamp,
        budget: &TickBudget,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        let utc = now.to_zoned(jiff::tz::TimeZone::UTC);
        let month = now.strftime("%Y-%m").to_string();
        let previous = utc
            .first_of_month()
            .ok()
            .and_then(|first| first.yesterday().ok())
            .map(|d| d.strftime("%Y-%m").to_string());
        if let Some(previous) = previous
            && let Some(open) = self.contacts.wave_progress(&previous).await?
            && !open.done
        {
            let before = report.nps_created + report.nps_skipped;
            let finished = self.walk_wave(open, now, budget, report).await?;
            report.nps_rolled_over += report.nps_created + report.nps_skipped - before;
            if !finished {
                return Ok(());
            }
        }
        let day = now.strftime("%Y-%m-%d").to_string();
        let stored = self.contacts.wave_progress(&month).await?;
        let progress = match stored {
            Some(p) if p.pass_day == day && p.done => return Ok(()),
            Some(p) if p.pass_day == day => p,
            other => {
                report.nps_wave_started = true;
                WaveProgress::new_pass(&month, &day, other.as_ref())
            }
        };
        self.walk_wave(progress, now, budget, report).await?;
        Ok(())
    }

    /// Walks one pass of a wave from where it stands, a page at a time, saving the
    /// cursor after each page. `true` once the pass is done.
    async fn walk_wave(
        &self,
        mut progress: WaveProgress,
        now: Timestamp,
        budget: &TickBudget,
        report: &mut TickReport,
    ) -> Result<bool, StoreError> {
        let wave_month = progress.wave_month();
        loop {
            if budget.spent(report.nps_created + report.nps_skipped) {
                report.wave_paused = true;
                return Ok(false);
            }
            let page = self
                .contacts
                .creditors_in_wave(
                    wave_month,
                    PageRequest {
                        cursor: progress.cursor.clone(),
                        limit: budget.page_size(report.nps_created + report.nps_skipped),
                    },
                )
                .await?;
            for contact in &page.items {
                if self.start_nps(contact, progress.year(), now).await? {
                    report.nps_created += 1;
                    progress.created += 1;
                } else {
                    report.nps_skipped += 1;
                }
                progress.walked += 1;
            }
            progress.done = page.next.is_none();
            progress.cursor = page.next;
            progress.version += 1;
            if !self.contacts.save_wave_progress(&progress).await? {
                // Another tick saved this pass meanwhile and carries on with it.
                return Ok(false);
            }
            if progress.done {
                tracing::info!(month = %progress.month, walked = progress.walked, created = progress.created, "NPS wave pass done");
                return Ok(true);
            }
        }
    }

    /// Creates (and sends, inside the sending hours) one contact's yearly survey.
    /// `false` if it already exists or is skipped.
    async fn start_nps(
        &self,
        contact: &CreditorContact,
        year: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let key = nps_key(contact, year);
        // A later pass (or a resumed page) finds this year's survey at once.
        if self
            .surveys
            .get(&SurveyId::for_idempotency_key(&key))
            .await?
            .is_some()
        {
            return Ok(false);
        }
        let policy = &self.config.policy;
        let recipient = Recipient::Email(contact.email.clone());
        let contact_key = self.keyer.key_for(&recipient);
        let subject = SurveySubject {
            client_id: contact.client_id.clone(),
            team: contact.industry.clone(),
            handler_id: None,
            step: None,
            segment: None,
            case_id: None,
            contact_id: Some(contact.contact_id.clone()),
            language: contact.language,
            country: contact.country,
            person: Some(self.keyer.person_key(contact.contact_id.as_str())),
        };
        let count_skip = |reason: SkipReason| {
            let increments = survey_increments(
                SurveyKind::Nps,
                &subject,
                Channel::Email,
                now,
                &CounterField::Skipped(reason.code()),
            );
            let effect = decision_effect(&key);
            async move {
                self.stats
                    .apply_once(&effect, &increments)
                    .await
                    .map(|_| false)
            }
        };
        if !contact.active {
            return count_skip(SkipReason::ContactInactive).await;
        }
        if self.contacts.opted_out_at(&contact_key).await?.is_some() {
            return count_skip(SkipReason::OptedOut).await;
        }
        if self.contacts.suppressed_at(&contact_key).await?.is_some() {
            return count_skip(SkipReason::EmailSuppressed).await;
        }
        // In the contact's own office hours; no country means the agency's.
        let country = contact.country.unwrap_or(policy.default_country);
        let Some(send_at) = policy.next_send_time(now, country) else {
            return count_skip(SkipReason::NoSendWindow).await;
        };
        let send_now = send_at <= now;
        let token = SurveyToken::generate();
        let claim = send_now.then(|| Claim::new(now + policy.send_lease()));
        let new = NewSurvey {
            idempotency_key: key.clone(),
            kind: SurveyKind::Nps,
            channel: Channel::Email,
            token_hash: token.hash(),
            contact_key,
            recipient,
            subject: subject.clone(),
            created_at: now,
            send_at: (!send_now).then_some(send_at),
            expires_at: send_at + SurveyPolicy::days(policy.nps_link_days),
            event_at: None,
            claim: claim.clone(),
        };
        let guard = FatigueGuard {
            not_since: now - SurveyPolicy::days(policy.creditor_fatigue_days),
            surveyed_at: now,
        };
        let created = match self.surveys.create(new, Some(guard)).await? {
            CreateOutcome::Created(survey) => Some(survey),
            // Our own create, repeated by the store client after it had succeeded.
            CreateOutcome::Duplicate(existing)
                if claim
                    .as_ref()
                    .is_some_and(|c| existing.claimed_by(&c.attempt)) =>
            {
                Some(existing)
            }
            CreateOutcome::Duplicate(_) => None,
            CreateOutcome::Fatigued { .. } => return count_skip(SkipReason::Fatigue).await,
        };
        match created {
            Some(survey) => {
                let field = if send_now {
                    CounterField::DecidedSend
                } else {
                    CounterField::DecidedSchedule
                };
                let increments =
                    survey_increments(SurveyKind::Nps, &subject, Channel::Email, now, &field);
                self.stats
                    .apply_once(&decision_effect(&key), &increments)
                    .await?;
                if let Some(claim) = &claim {
                    // Just checked above: not opted out, not suppressed.
                    let facts = SendFacts {
                        opted_out: false,
                        suppressed: false,
                        flagged_at: None,
                    };
                    let held = Held {
                        attempt: &claim.attempt,
                        token: Some(&token),
                        facts: Some(facts),
                    };
                    self.send_claimed(&survey, held, now).await?;
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The effect id that counts one contact's yearly decision once. It names the
/// survey (a hash of the idempotency key), not the contact: effect records outlive
/// an erasure, and the contact id must not be in them.
fn decision_effect(key: &str) -> String {
    format!("decision:{}", SurveyId::for_idempotency_key(key))
}
