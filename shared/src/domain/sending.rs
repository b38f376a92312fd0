//! Sending a survey message at most once.
//!
//! A survey is sent only by the holder of a claim: `scheduled → sending` is one
//! conditional write that stores a random attempt id and a lease. Only that holder
//! calls the channel and records what came of it, and before it calls it asks the
//! one question of [`may_send`]. A call the provider certainly did not accept goes
//! back to `scheduled` with a back-off; a call whose outcome is unknown becomes
//! `send_unknown` and is never repeated; a claim whose lease runs out means its
//! holder died somewhere around the call, so that too is `send_unknown`.

use super::policy::SurveyPolicy;
use super::survey::{Claim, Survey, SurveyState};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One step of a survey's life from `scheduled` on (its send, then its expiry or
/// reminder), applied atomically by the stores. Each applies only from the state it
/// starts from; otherwise it changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum SurveyChange {
    /// `scheduled → sending`, if due at `now`: one more attempt, held by `claim`.
    Claim { claim: Claim, now: Timestamp },
    /// `sending → sent` by the holder: the provider accepted the message.
    Sent { attempt: String, at: Timestamp },
    /// `sending → scheduled` by the holder: nothing went out, try again at `at`.
    /// `refund` gives the attempt back when the channel was not called at all.
    Release {
        attempt: String,
        at: Timestamp,
        refund: bool,
    },
    /// `sending → failed` by the holder: refused for good, or it may not be sent.
    Fail { attempt: String, reason: String },
    /// `sending → send_unknown` by the holder: the channel may have taken it.
    Unknown { attempt: String, reason: String },
    /// `sending → send_unknown` by anyone, once the claim's lease has run out.
    Lapse { now: Timestamp },
    /// `scheduled → failed` before any claim (a later flag, for instance).
    Cancel { reason: String },
    /// `sent → expired`, once the link's lifetime is over at `now`.
    Expire { now: Timestamp },
    /// Notes the one reminder of a sent survey.
    Remind { at: Timestamp },
}

/// The failure reason of a survey whose claim ran out.
pub const LEASE_LAPSED: &str = "lease_lapsed";

impl SurveyChange {
    pub(crate) fn apply_to(&self, s: &mut Survey) -> bool {
        let held = |attempt: &str| s.claimed_by(attempt);
        match self {
            SurveyChange::Claim { claim, now } => {
                if s.state != SurveyState::Scheduled || s.send_at.is_some_and(|t| t > *now) {
                    return false;
                }
                s.state = SurveyState::Sending;
                s.attempts += 1;
                s.claim = Some(claim.clone());
            }
            SurveyChange::Sent { attempt, at } => {
                if !held(attempt) {
                    return false;
                }
                s.state = SurveyState::Sent;
                s.sent_at = Some(*at);
                s.recipient = None;
            }
            SurveyChange::Release {
                attempt,
                at,
                refund,
            } => {
                if !held(attempt) {
                    return false;
                }
                s.state = SurveyState::Scheduled;
                s.send_at = Some(*at);
                if *refund {
                    s.attempts = s.attempts.saturating_sub(1);
                }
            }
            SurveyChange::Fail { attempt, reason } => {
                if !held(attempt) {
                    return false;
                }
                close(s, SurveyState::Failed, reason);
            }
            SurveyChange::Unknown { attempt, reason } => {
                if !held(attempt) {
                    return false;
                }
                close(s, SurveyState::SendUnknown, reason);
            }
            SurveyChange::Lapse { now } => {
                let lapsed = s.claim.as_ref().is_some_and(|c| c.lease_until <= *now);
                if s.state != SurveyState::Sending || !lapsed {
                    return false;
                }
                close(s, SurveyState::SendUnknown, LEASE_LAPSED);
            }
            SurveyChange::Cancel { reason } => {
                if s.state != SurveyState::Scheduled {
                    return false;
                }
                close(s, SurveyState::Failed, reason);
            }
            SurveyChange::Expire { now } => {
                if s.state != SurveyState::Sent || !s.is_expired_at(*now) {
                    return false;
                }
                s.state = SurveyState::Expired;
            }
            SurveyChange::Remind { at } => {
                if s.state != SurveyState::Sent || s.reminded_at.is_some() {
                    return false;
                }
                s.reminded_at = Some(*at);
            }
        }
        true
    }
}

/// Ends a send: the recipient's address is no longer needed and is erased.
fn close(s: &mut Survey, state: SurveyState, reason: &str) {
    s.state = state;
    s.failure = Some(reason.to_string());
    s.recipient = None;
}

/// What is known about the person at the moment of sending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendFacts {
    pub opted_out: bool,
    /// Mail to the address bounced for good or was reported as spam.
    pub suppressed: bool,
    /// When a step of this person last carried a blocking flag.
    pub flagged_at: Option<Timestamp>,
}

/// Why a survey may not be sent, ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The link's lifetime ended before it could be sent.
    NotSentInTime,
    OptedOut,
    /// A step after the surveyed one flagged the person.
    CancelledFlagged,
    /// The surveyed step is older than the policy allows.
    StaleEvent,
    /// Every attempt the policy allows has been made.
    SendAttemptsExhausted,
    /// The policy leaves no sending hours in the week for the recipient's country.
    NoSendWindow,
    /// The address bounced for good or reported the mail as spam.
    EmailSuppressed,
}

impl Stop {
    /// The stable name, as counted (`skip_<code>`) and stored as the failure reason.
    pub fn code(self) -> &'static str {
        match self {
            Stop::NotSentInTime => "not_sent_in_time",
            Stop::OptedOut => "opted_out",
            Stop::CancelledFlagged => "cancelled_flagged",
            Stop::StaleEvent => "stale_event",
            Stop::SendAttemptsExhausted => "send_attempts_exhausted",
            Stop::NoSendWindow => "no_send_window",
            Stop::EmailSuppressed => "email_suppressed",
        }
    }
}

/// The answer to "may I send this survey now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Outside the recipient's sending hours: not before this moment.
    WaitUntil(Timestamp),
    Stop(Stop),
}

/// The one check before every channel call: the first send, every retry, the
/// schedule and every replay. `survey` is the claimed survey (its `attempts`
/// include the one about to be made). Fails closed: whatever is not known to be
/// fine stops or waits.
pub fn may_send(
    survey: &Survey,
    facts: &SendFacts,
    policy: &SurveyPolicy,
    now: Timestamp,
) -> Verdict {
    if survey.is_expired_at(now) {
        return Verdict::Stop(Stop::NotSentInTime);
    }
    if facts.opted_out {
        return Verdict::Stop(Stop::OptedOut);
    }
    if facts.suppressed {
        return Verdict::Stop(Stop::EmailSuppressed);
    }
    if let Some(flagged) = facts.flagged_at
        && survey.event_at.is_none_or(|event| flagged >= event)
    {
        return Verdict::Stop(Stop::CancelledFlagged);
    }
    if let Some(event) = survey.event_at
        && policy.is_stale(event, now)
    {
        return Verdict::Stop(Stop::StaleEvent);
    }
    if survey.attempts > policy.max_send_attempts.max(1) {
        return Verdict::Stop(Stop::SendAttemptsExhausted);
    }
    let country = survey.subject.country.unwrap_or(policy.default_country);
    match policy.next_send_time(now, country) {
        Some(t) if t <= now => Verdict::Go,
        Some(t) => Verdict::WaitUntil(t),
        None => Verdict::Stop(Stop::NoSendWindow),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::{ContactKey, PhoneNumber, Recipient};
    use crate::domain::ids::{ClientId, TeamId};
    use crate::domain::locale::{Country, Language};
    use crate::domain::survey::{Channel, NewSurvey, SurveyKind, SurveySubject};
    use crate::domain::token::SurveyToken;
    use jiff::SignedDuration;

    /// Monday 2026-11-23 10:00 in Stockholm.
    fn monday() -> Timestamp {
        "2026-11-23T09:00:00Z".parse().expect("valid")
    }

    fn survey(claim: Option<Claim>) -> Survey {
        Survey::from_new(NewSurvey {
            idempotency_key: "csat:evt-1".into(),
            kind: SurveyKind::Csat,
            channel: Channel::Sms,
            token_hash: SurveyToken::generate().hash(),
            contact_key: ContactKey::from_stored("k".into()),
            recipient: Recipient::Sms(PhoneNumber::parse("+46701234567").expect("valid")),
            subject: SurveySubject {
                client_id: ClientId::parse("acme").expect("valid"),
                team: TeamId::parse("energy").expect("valid"),
                handler_id: None,
                step: None,
                segment: None,
                case_id: None,
                contact_id: None,
                language: Language::Sv,
                country: Some(Country::parse("SE").expect("valid")),
                person: None,
            },
            created_at: monday(),
            send_at: None,
            expires_at: monday() + SurveyPolicy::days(7),
            event_at: Some(monday() - SignedDuration::from_hours(1)),
            claim,
        })
    }

    fn claim() -> Claim {
        Claim::new(monday() + SignedDuration::from_mins(5))
    }

    #[test]
    fn only_the_claim_holder_settles_and_only_once() {
        let c = claim();
        let mut s = survey(Some(c.clone()));
        assert_eq!((s.state, s.attempts), (SurveyState::Sending, 1));
        let other = SurveyChange::Sent {
            attempt: "someone-else".into(),
            at: monday(),
        };
        assert!(!s.apply(&other));
        let mine = SurveyChange::Sent {
            attempt: c.attempt.clone(),
            at: monday(),
        };
        assert!(s.apply(&mine));
        assert_eq!(s.state, SurveyState::Sent);
        assert_eq!(s.recipient, None);
        assert!(!s.apply(&mine), "a second settle changes nothing");
    }

    #[test]
    fn a_claimed_survey_cannot_be_claimed_again_until_released() {
        let mut s = survey(None);
        let first = claim();
        assert!(s.apply(&SurveyChange::Claim {
            claim: first.clone(),
            now: monday()
        }));
        assert!(!s.apply(&SurveyChange::Claim {
            claim: claim(),
            now: monday()
        }));
        let later = monday() + SignedDuration::from_mins(1);
        assert!(s.apply(&SurveyChange::Release {
            attempt: first.attempt,
            at: later,
            refund: false
        }));
        assert!(
            !s.apply(&SurveyChange::Claim {
                claim: claim(),
                now: monday()
            }),
            "not due before its retry time"
        );
        assert!(s.apply(&SurveyChange::Claim {
            claim: claim(),
            now: later
        }));
        assert_eq!(s.attempts, 2);
    }

    #[test]
    fn a_lapsed_claim_becomes_send_unknown_and_never_sending_again() {
        let mut s = survey(Some(claim()));
        assert!(
            !s.apply(&SurveyChange::Lapse { now: monday() }),
            "lease still holds"
        );
        let after = monday() + SignedDuration::from_mins(5);
        assert!(s.apply(&SurveyChange::Lapse { now: after }));
        assert_eq!(s.state, SurveyState::SendUnknown);
        assert_eq!(s.failure.as_deref(), Some(LEASE_LAPSED));
        assert!(!s.apply(&SurveyChange::Claim {
            claim: claim(),
            now: after
        }));
    }

    #[test]
    fn the_check_stops_for_every_reason_and_waits_outside_the_hours() {
        let policy = SurveyPolicy::default();
        let s = survey(Some(claim()));
        let ok = SendFacts::default();
        assert_eq!(may_send(&s, &ok, &policy, monday()), Verdict::Go);
        let expired = monday() + SurveyPolicy::days(7);
        assert_eq!(
            may_send(&s, &ok, &policy, expired),
            Verdict::Stop(Stop::NotSentInTime)
        );
        let opted = SendFacts {
            opted_out: true,
            ..ok
        };
        assert_eq!(
            may_send(&s, &opted, &policy, monday()),
            Verdict::Stop(Stop::OptedOut)
        );
        let flagged = SendFacts {
            flagged_at: Some(monday()),
            ..ok
        };
        assert_eq!(
            may_send(&s, &flagged, &policy, monday()),
            Verdict::Stop(Stop::CancelledFlagged)
        );
        let three_days = monday() + SignedDuration::from_hours(72);
        assert_eq!(
            may_send(&s, &ok, &policy, three_days),
            Verdict::Stop(Stop::StaleEvent)
        );
        let mut tired = s.clone();
        tired.attempts = 4;
        assert_eq!(
            may_send(&tired, &ok, &policy, monday()),
            Verdict::Stop(Stop::SendAttemptsExhausted)
        );
        // Monday 21:00 local: wait for Tuesday 09:00 local (08:00 UTC).
        let evening: Timestamp = "2026-11-23T20:00:00Z".parse().expect("valid");
        assert_eq!(
            may_send(&s, &ok, &policy, evening),
            Verdict::WaitUntil("2026-11-24T08:00:00Z".parse().expect("valid"))
        );
    }
}
