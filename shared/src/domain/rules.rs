//! The survey rules: for each case step, send now, schedule for the next sending
//! window, or skip with a reason. Pure: the caller gathers the facts (opt-out, last
//! survey) and records the decision.

use super::case_step::{CaseStepEvent, DebtorFlag};
use super::policy::SurveyPolicy;
use super::stats::CounterField;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why no survey goes out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    StepNotSurveyed,
    OptedOut,
    /// The case system flagged the debtor (vulnerable, disputed, deceased,
    /// bankruptcy, no_survey, or any flag it does not know: `flagged_unknown`).
    Flagged(DebtorFlag),
    /// A later case step flagged the debtor: surveys for steps before it do not go.
    CancelledFlagged,
    /// The step happened longer ago than the policy's `max_event_age_hours`.
    StaleEvent,
    /// Surveyed inside the fatigue window.
    Fatigue,
    NoPhone,
    /// The event was seen before; its first decision stands.
    DuplicateEvent,
    InvalidEvent,
    /// The policy leaves no sending hours in the week for this country.
    NoSendWindow,
    /// The creditor contact left the client (deactivated).
    ContactInactive,
    /// Mail to the address bounced for good or was reported as spam.
    EmailSuppressed,
}

impl SkipReason {
    /// A stable, snake_case name for counters and logs: `flagged_vulnerable`.
    pub fn code(&self) -> String {
        match self {
            SkipReason::StepNotSurveyed => "step_not_surveyed".into(),
            SkipReason::OptedOut => "opted_out".into(),
            SkipReason::Flagged(flag) => format!("flagged_{}", flag.code()),
            SkipReason::CancelledFlagged => "cancelled_flagged".into(),
            SkipReason::StaleEvent => "stale_event".into(),
            SkipReason::Fatigue => "fatigue".into(),
            SkipReason::NoPhone => "no_phone".into(),
            SkipReason::DuplicateEvent => "duplicate_event".into(),
            SkipReason::InvalidEvent => "invalid_event".into(),
            SkipReason::NoSendWindow => "no_send_window".into(),
            SkipReason::ContactInactive => "contact_inactive".into(),
            SkipReason::EmailSuppressed => "email_suppressed".into(),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    SendNow,
    ScheduleAt { send_at: Timestamp },
    Skip { reason: SkipReason },
}

impl Decision {
    /// The counter field this decision adds one to.
    pub fn counter_field(&self) -> CounterField {
        match self {
            Decision::SendNow => CounterField::DecidedSend,
            Decision::ScheduleAt { .. } => CounterField::DecidedSchedule,
            Decision::Skip { reason } => CounterField::Skipped(reason.code()),
        }
    }
}

/// What the rules need to know about the debtor beyond the event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebtorFacts {
    pub opted_out: bool,
    pub last_surveyed: Option<Timestamp>,
    /// When a step of this debtor last carried a blocking flag (its `occurred_at`).
    pub flagged_at: Option<Timestamp>,
}

/// Decides for one case step. Checks run in this order, the first that applies
/// wins: flags, step not surveyed, dated in the future, stale event, flagged by a later step, no phone,
/// opted out, fatigue, sending hours. Flags come first because a flagged step also
/// cancels the debtor's pending surveys, surveyed step or not.
pub fn decide(
    event: &CaseStepEvent,
    facts: &DebtorFacts,
    policy: &SurveyPolicy,
    now: Timestamp,
) -> Decision {
    let skip = |reason| Decision::Skip { reason };
    if let Some(flag) = blocking_flag(event) {
        return skip(SkipReason::Flagged(flag.clone()));
    }
    if !policy.surveyed_steps.contains(event.step.as_str()) {
        return skip(SkipReason::StepNotSurveyed);
    }
    if event.occurred_at > now + super::policy::MAX_CLOCK_SKEW {
        return skip(SkipReason::InvalidEvent);
    }
    if policy.is_stale(event.occurred_at, now) {
        return skip(SkipReason::StaleEvent);
    }
    if facts
        .flagged_at
        .is_some_and(|flagged| flagged >= event.occurred_at)
    {
        return skip(SkipReason::CancelledFlagged);
    }
    if event.debtor.phone.is_none() {
        return skip(SkipReason::NoPhone);
    }
    if facts.opted_out {
        return skip(SkipReason::OptedOut);
    }
    if facts
        .last_surveyed
        .is_some_and(|last| last > fatigue_cutoff(policy, now))
    {
        return skip(SkipReason::Fatigue);
    }
    let country = event.debtor.country.unwrap_or(policy.default_country);
    match policy.next_send_time(now, country) {
        Some(t) if t <= now => Decision::SendNow,
        Some(send_at) => Decision::ScheduleAt { send_at },
        None => skip(SkipReason::NoSendWindow),
    }
}

/// The flag that blocks this event's survey: a known blocking flag first, else any
/// unknown one.
pub fn blocking_flag(event: &CaseStepEvent) -> Option<&DebtorFlag> {
    let flags = &event.debtor.flags;
    flags
        .iter()
        .find(|f| !matches!(f, DebtorFlag::Unknown(_)))
        .or_else(|| flags.iter().find(|f| f.blocks_surveys()))
}

/// A debtor surveyed after this moment is inside the fatigue window.
pub fn fatigue_cutoff(policy: &SurveyPolicy, now: Timestamp) -> Timestamp {
    now - SurveyPolicy::days(policy.debtor_fatigue_days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::case_step::CaseStepEvent;

    const EXAMPLE: &str = r#"{
      "event_id": "evt-000123", "occurred_at": "2026-11-22T09:14:00Z", "case_id": "C-100045",
      "client_id": "acme-energy", "step": "call_completed", "handler_id": "h-anna", "team": "energy",
      "debtor": {"debtor_id": "D-7781", "phone": "+46701234567", "language": "sv", "country": "SE", "flags": []}
    }"#;

    fn event(edit: impl FnOnce(&mut CaseStepEvent)) -> CaseStepEvent {
        let mut e = CaseStepEvent::from_json(EXAMPLE.as_bytes()).expect("valid example");
        edit(&mut e);
        e
    }

    /// Monday 2026-11-23 10:00 in Stockholm: inside the sending hours.
    fn monday_morning() -> Timestamp {
        "2026-11-23T09:00:00Z".parse().expect("valid")
    }

    fn decide_now(e: &CaseStepEvent, facts: &DebtorFacts) -> Decision {
        decide(e, facts, &SurveyPolicy::default(), monday_morning())
    }

    fn skipped(reason: SkipReason) -> Decision {
        Decision::Skip { reason }
    }

    #[test]
    fn a_surveyed_step_inside_the_window_is_sent_now() {
        assert_eq!(
            decide_now(&event(|_| {}), &DebtorFacts::default()),
            Decision::SendNow
        );
    }

    #[test]
    fn a_step_the_policy_does_not_survey_is_skipped() {
        let e = event(|e| {
            e.step = crate::domain::step::Step::parse("payment_received").expect("valid")
        });
        assert_eq!(
            decide_now(&e, &DebtorFacts::default()),
            skipped(SkipReason::StepNotSurveyed)
        );
    }

    #[test]
    fn every_blocking_flag_is_named_and_an_unknown_flag_blocks_too() {
        for flag in [
            DebtorFlag::Vulnerable,
            DebtorFlag::Disputed,
            DebtorFlag::Deceased,
            DebtorFlag::Bankruptcy,
            DebtorFlag::NoSurvey,
        ] {
            let e =
                event(|e| e.debtor.flags = vec![DebtorFlag::Unknown("vip".into()), flag.clone()]);
            assert_eq!(
                decide_now(&e, &DebtorFacts::default()),
                skipped(SkipReason::Flagged(flag.clone()))
            );
        }
        let e = event(|e| e.debtor.flags = vec![DebtorFlag::Unknown("vip".into())]);
        let d = decide_now(&e, &DebtorFacts::default());
        assert_eq!(
            d,
            skipped(SkipReason::Flagged(DebtorFlag::Unknown("vip".into())))
        );
        assert_eq!(d.counter_field().key(), "skip_flagged_unknown");
    }

    #[test]
    fn a_flagged_step_is_skipped_even_when_its_step_is_not_surveyed() {
        let e = event(|e| {
            e.step = crate::domain::step::Step::parse("payment_received").expect("valid");
            e.debtor.flags = vec![DebtorFlag::Deceased];
        });
        assert_eq!(
            decide_now(&e, &DebtorFacts::default()),
            skipped(SkipReason::Flagged(DebtorFlag::Deceased))
        );
    }

    #[test]
    fn a_step_older_than_the_maximum_age_is_stale() {
        let policy = SurveyPolicy::default();
        let edge = monday_morning() - jiff::SignedDuration::from_hours(72);
        let at_edge = event(|e| e.occurred_at = edge);
        assert_eq!(
            decide_now(&at_edge, &DebtorFacts::default()),
            Decision::SendNow
        );
        let older = event(|e| e.occurred_at = edge - jiff::SignedDuration::from_secs(1));
        assert_eq!(
            decide(&older, &DebtorFacts::default(), &policy, monday_morning()),
            skipped(SkipReason::StaleEvent)
        );
    }

    #[test]
    fn a_step_from_before_the_debtor_was_flagged_is_not_surveyed() {
        let e = event(|e| e.occurred_at = monday_morning() - jiff::SignedDuration::from_hours(2));
        let flagged_after = DebtorFacts {
            flagged_at: Some(monday_morning() - jiff::SignedDuration::from_hours(1)),
            ..DebtorFacts::default()
        };
        assert_eq!(
            decide_now(&e, &flagged_after),
            skipped(SkipReason::CancelledFlagged)
        );
        let flagged_before = DebtorFacts {
            flagged_at: Some(monday_morning() - jiff::SignedDuration::from_hours(3)),
            ..DebtorFacts::default()
        };
        assert_eq!(decide_now(&e, &flagged_before), Decision::SendNow);
    }

    #[test]
    fn no_phone_opt_out_and_fatigue_are_skips() {
        let e = event(|e| e.debtor.phone = None);
        assert_eq!(
            decide_now(&e, &DebtorFacts::default()),
            skipped(SkipReason::NoPhone)
        );
        let opted = DebtorFacts {
            opted_out: true,
            ..DebtorFacts::default()
        };
        assert_eq!(
            decide_now(&event(|_| {}), &opted),
            skipped(SkipReason::OptedOut)
        );
        let recent = DebtorFacts {
            last_surveyed: Some(monday_morning() - SurveyPolicy::days(13)),
            ..DebtorFacts::default()
        };
        assert_eq!(
            decide_now(&event(|_| {}), &recent),
            skipped(SkipReason::Fatigue)
        );
        let long_ago = DebtorFacts {
            last_surveyed: Some(monday_morning() - SurveyPolicy::days(15)),
            ..DebtorFacts::default()
        };
        assert_eq!(decide_now(&event(|_| {}), &long_ago), Decision::SendNow);
    }

    #[test]
    fn outside_the_window_the_survey_is_scheduled_for_the_next_one() {
        // Sunday 2026-11-22 10:14 local: no sending on Sundays → Monday 09:00 local.
        let sunday: Timestamp = "2026-11-22T09:14:00Z".parse().expect("valid");
        let d = decide(
            &event(|_| {}),
            &DebtorFacts::default(),
            &SurveyPolicy::default(),
            sunday,
        );
        assert_eq!(
            d,
            Decision::ScheduleAt {
                send_at: "2026-11-23T08:00:00Z".parse().expect("valid")
            }
        );
    }

    #[test]
    fn reasons_have_stable_codes() {
        assert_eq!(
            SkipReason::Flagged(DebtorFlag::NoSurvey).code(),
            "flagged_no_survey"
        );
        assert_eq!(
            Decision::Skip {
                reason: SkipReason::Fatigue
            }
            .counter_field()
            .key(),
            "skip_fatigue"
        );
    }
}
