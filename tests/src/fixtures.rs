//! Test data: surveys, answers and backlog items with sensible defaults.

use jiff::{SignedDuration, Timestamp};
use kundpuls::domain::backlog::{Activity, FeedbackItem, FeedbackStatus, Priority};
use kundpuls::domain::contact::{ContactKeyer, PhoneNumber, Recipient};
use kundpuls::domain::ids::{ClientId, FeedbackId, HandlerId, SurveyId, TeamId};
use kundpuls::domain::locale::Language;
use kundpuls::domain::score::{CsatScore, Score};
use kundpuls::domain::step::Step;
use kundpuls::domain::survey::{
    Answer, AnswerInput, Channel, NewSurvey, SurveyKind, SurveySubject,
};
use kundpuls::domain::token::SurveyToken;

pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("valid timestamp")
}

pub fn now() -> Timestamp {
    ts("2026-11-22T09:14:00Z")
}

pub fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

pub fn keyer() -> ContactKeyer {
    ContactKeyer::new(b"test-secret-0123456789abcdef").expect("long enough")
}

pub fn phone(n: u32) -> Recipient {
    Recipient::Sms(PhoneNumber::parse(&format!("+4670{n:07}")).expect("valid phone"))
}

pub fn subject() -> SurveySubject {
    SurveySubject {
        client_id: ClientId::parse("acme-energy").expect("valid"),
        team: TeamId::parse("energy").expect("valid"),
        handler_id: Some(HandlerId::parse("h-anna").expect("valid")),
        step: Some(Step::parse("call_completed").expect("valid")),
        segment: None,
        case_id: None,
        contact_id: None,
        language: Language::Sv,
        country: None,
        person: None,
    }
}

/// A CSAT survey for event `event` to debtor phone number `contact`, created at
/// [`now`], sent at once, open for 7 days. Returns the token too.
pub fn csat_survey(event: &str, contact: u32) -> (NewSurvey, SurveyToken) {
    let token = SurveyToken::generate();
    let recipient = phone(contact);
    let new = NewSurvey {
        idempotency_key: format!("csat:{event}"),
        kind: SurveyKind::Csat,
        channel: Channel::Sms,
        token_hash: token.hash(),
        contact_key: keyer().key_for(&recipient),
        recipient,
        subject: subject(),
        created_at: now(),
        send_at: None,
        expires_at: now() + days(7),
        event_at: Some(now()),
        claim: None,
    };
    (new, token)
}

pub fn csat_answer(
    survey: &kundpuls::domain::survey::LinkedSurvey,
    score: u8,
    comment: Option<&str>,
    at: Timestamp,
) -> Answer {
    Answer::new(
        survey,
        AnswerInput {
            score: Score::Csat(CsatScore::try_from(score).expect("valid score")),
            comment: comment.map(str::to_string),
            resolved_first_contact: Some(true),
            suspect: vec![],
            answered_at: at,
        },
    )
}

pub fn feedback(n: u32, team: &str, due_day: u32) -> FeedbackItem {
    let survey = SurveyId::for_idempotency_key(&format!("fb-fixture-{n}"));
    FeedbackItem {
        id: FeedbackId::for_survey(&survey),
        survey_id: survey,
        kind: SurveyKind::Csat,
        channel: Channel::Sms,
        score: Score::Csat(CsatScore::try_from(1).expect("valid")),
        comment: Some(format!("comment {n}")),
        language: Language::Sv,
        step: Some(Step::parse("call_completed").expect("valid")),
        client_id: ClientId::parse("acme-energy").expect("valid"),
        team: TeamId::parse(team).expect("valid"),
        handler_id: None,
        created_at: now() + SignedDuration::from_secs(i64::from(n)),
        priority: Priority::High,
        due_on: jiff::civil::date(2026, 12, 1 + (due_day % 28) as i8),
        themes: vec!["treatment".into()],
        status: FeedbackStatus::New,
        assignee: None,
        contacted_at: None,
        improvement_id: None,
        theme_words: Default::default(),
        case_id: None,
        contact_id: None,
        suspect: false,
        closed_at: None,
        version: 1,
    }
}

pub fn activity(action: &str) -> Activity {
    Activity {
        at: now(),
        actor: "lead-1".into(),
        action: action.into(),
    }
}

/// Claims a due survey and records it sent at `at`, as a sender would: the stores'
/// only way to `sent`.
pub async fn mark_sent<S: kundpuls::ports::SurveyStore + ?Sized>(
    store: &S,
    id: &kundpuls::domain::ids::SurveyId,
    at: Timestamp,
) -> kundpuls::ports::TransitionOutcome {
    use kundpuls::domain::sending::SurveyChange;
    use kundpuls::domain::survey::Claim;
    use kundpuls::ports::TransitionOutcome;
    let claim = Claim::new(at + jiff::SignedDuration::from_mins(5));
    let claimed = store
        .apply(
            id,
            SurveyChange::Claim {
                claim: claim.clone(),
                now: at,
            },
        )
        .await
        .expect("claim");
    if !matches!(claimed, TransitionOutcome::Done(_)) {
        return claimed;
    }
    store
        .apply(
            id,
            SurveyChange::Sent {
                attempt: claim.attempt,
                at,
            },
        )
        .await
        .expect("settle")
}
