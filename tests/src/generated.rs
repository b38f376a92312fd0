//! Generated answers for the report suites and benchmarks: deterministic (a seeded
//! linear congruential generator), spread over months, clients, teams, handlers,
//! steps, channels and languages, with suspect answers, comments and first-contact
//! answers mixed in.

use jiff::{SignedDuration, Timestamp};
use kundpuls::domain::ids::{ClientId, HandlerId, SegmentId, SurveyId, TeamId};
use kundpuls::domain::locale::Language;
use kundpuls::domain::score::{CsatScore, NpsScore, Score};
use kundpuls::domain::step::Step;
use kundpuls::domain::survey::{Answer, Channel, SurveyKind, SurveySubject, SuspectReason};

pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(6364136223846793005).wrapping_add(1))
    }

    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

pub const CLIENTS: [&str; 4] = ["acme-energy", "nordtel", "bostad-ab", "elbolaget"];
pub const TEAMS: [&str; 2] = ["energy", "telecom"];
pub const HANDLERS: [&str; 5] = ["h-anna", "h-bo", "h-cecilia", "h-david", "h-eva"];
pub const STEPS: [&str; 4] = [
    "call_completed",
    "reminder_sent",
    "payment_plan_agreed",
    "case_closed",
];

/// Answer `i` of a generated set: `kind`, answered in one of the `months` months
/// starting at `first` (a timestamp inside the first month).
pub fn answer(rng: &mut Lcg, i: u64, kind: SurveyKind, first: Timestamp, months: i64) -> Answer {
    let client = CLIENTS[rng.next(CLIENTS.len() as u64) as usize];
    let team = TEAMS[rng.next(TEAMS.len() as u64) as usize];
    let handler = HANDLERS[rng.next(HANDLERS.len() as u64) as usize];
    let step = STEPS[rng.next(STEPS.len() as u64) as usize];
    let month = rng.next(months as u64) as i64;
    let at = first + SignedDuration::from_hours(24 * 31 * month + rng.next(24 * 20) as i64);
    let score = match kind {
        // Skewed towards high scores, as real answers are.
        SurveyKind::Csat => Score::Csat(
            CsatScore::try_from([1, 2, 3, 4, 4, 5, 5, 5][rng.next(8) as usize] as u8).expect("1-5"),
        ),
        SurveyKind::Nps => Score::Nps(
            NpsScore::try_from([0, 3, 6, 7, 8, 9, 9, 10, 10, 10][rng.next(10) as usize] as u8)
                .expect("0-10"),
        ),
    };
    let csat = kind == SurveyKind::Csat;
    Answer {
        survey_id: SurveyId::for_idempotency_key(&format!("gen-{}-{i}", kind.as_str())),
        kind,
        channel: if csat { Channel::Sms } else { Channel::Email },
        score,
        comment: (rng.next(4) == 0).then(|| "kommentar".to_string()),
        resolved_first_contact: (csat && step == "call_completed").then(|| rng.next(3) > 0),
        suspect: if rng.next(20) == 0 {
            vec![SuspectReason::TooFast]
        } else {
            vec![]
        },
        answered_at: at,
        subject: SurveySubject {
            client_id: ClientId::parse(client).expect("id"),
            team: TeamId::parse(team).expect("id"),
            handler_id: Some(HandlerId::parse(handler).expect("id")),
            step: csat.then(|| Step::parse(step).expect("step")),
            segment: (rng.next(2) == 0).then(|| SegmentId::parse("first_time_late").expect("id")),
            case_id: None,
            contact_id: None,
            language: [Language::Sv, Language::En, Language::Fi][rng.next(3) as usize],
            country: None,
            person: None,
        },
    }
}

/// A CSAT answer of `handler` in `team` (client `acme-energy`), `days_ago` days and
/// an hour before `now`.
pub fn csat_for(
    team: &TeamId,
    handler: &str,
    i: usize,
    score: u8,
    days_ago: i64,
    now: Timestamp,
) -> Answer {
    let at = now - SignedDuration::from_hours(24 * days_ago + 1);
    Answer {
        survey_id: SurveyId::for_idempotency_key(&format!("warn-{team}-{handler}-{i}-{days_ago}")),
        kind: SurveyKind::Csat,
        channel: Channel::Sms,
        score: Score::Csat(CsatScore::try_from(score).expect("1-5")),
        comment: None,
        resolved_first_contact: None,
        suspect: vec![],
        answered_at: at,
        subject: SurveySubject {
            client_id: ClientId::parse("acme-energy").expect("id"),
            team: team.clone(),
            handler_id: Some(HandlerId::parse(handler).expect("id")),
            step: Some(Step::parse("call_completed").expect("step")),
            segment: None,
            case_id: None,
            contact_id: None,
            language: Language::Sv,
            country: None,
            person: None,
        },
    }
}

/// `counts` CSAT answers per score, spread over the 29 days of the window that
/// ends `end_days_ago` days before `now` (0: the last 30 days; 30: the 30 before).
pub fn csat_window(
    team: &TeamId,
    handler: &str,
    counts: &[(u8, usize)],
    end_days_ago: i64,
    now: Timestamp,
) -> Vec<Answer> {
    let mut out = Vec::new();
    for (score, count) in counts {
        for i in 0..*count {
            let days_ago = end_days_ago + (out.len() as i64 % 29);
            out.push(csat_for(
                team,
                handler,
                out.len() + i * 1000,
                *score,
                days_ago,
                now,
            ));
        }
    }
    out
}
