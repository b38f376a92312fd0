//! Twelve months of generated demo answers for `serve --demo`, routed through the
//! real use case (counters, feedback items with their themes), so a newcomer sees a
//! populated queue, board and reports page on first start.
//!
//! Everything is labelled: survey ids derive from `demo-history:…`, case ids are
//! `DEMO-…`, every comment begins with "Demo:". The data is deterministic (fixed
//! score cycles, no randomness) and tells one story the early warnings pick up:
//! over the last 30 days handler `h-bo` (team energy) fell from CSAT 4.3 to 3.5
//! while `h-anna` rose from 4.1 to 4.9, so the team and its clients hold steady and
//! exactly one warning is raised. Items older than two weeks were worked and
//! resolved; the newer ones wait in the queue.
//!
//! Loaded once per data directory (an applied-once mark); a restart changes nothing.

use jiff::{SignedDuration, Timestamp};
use kundpuls::app::Services;
use kundpuls::app::triage::FeedbackPatch;
use kundpuls::domain::backlog::FeedbackStatus;
use kundpuls::domain::ids::{CaseId, ClientId, ContactId, FeedbackId, HandlerId, SurveyId, TeamId};
use kundpuls::domain::locale::Language;
use kundpuls::domain::score::{CsatScore, NpsScore, Score};
use kundpuls::domain::stats::{CounterField, survey_increments};
use kundpuls::domain::step::Step;
use kundpuls::domain::survey::{Answer, Channel, SurveyKind, SurveySubject};
use kundpuls::ports::{ApplyOutcome, StoreError};
use std::collections::BTreeSet;

/// The mark that the history is loaded.
const MARK: &str = "demo-history:v1";
const DAYS: i64 = 365;
const CSAT_PER_DAY: i64 = 7;
/// One NPS answer every this many days.
const NPS_EVERY_DAYS: i64 = 2;
/// Surveys sent per answer (a response rate of one in three).
const SENT_PER_ANSWER: u64 = 3;
/// Items newer than this stay open in the queue.
const OPEN_DAYS: i64 = 14;

const CLIENTS: [&str; 3] = ["acme-energy", "nordtel", "vasa-bank"];
const STEPS: [&str; 4] = [
    "call_completed",
    "reminder_sent",
    "payment_plan_agreed",
    "case_closed",
];

/// Score cycles of ten (their means: 4.3, 3.5, 4.1, 4.9, 4.5).
const STEADY_43: [u8; 10] = [5, 4, 5, 4, 4, 5, 4, 5, 3, 4];
const FALLEN_35: [u8; 10] = [4, 3, 4, 3, 2, 4, 3, 4, 3, 5];
const BEFORE_41: [u8; 10] = [4, 4, 5, 3, 4, 5, 4, 4, 3, 5];
const RISEN_49: [u8; 10] = [5, 5, 5, 5, 4, 5, 5, 5, 5, 5];
const STEADY_45: [u8; 10] = [5, 4, 5, 5, 4, 3, 5, 4, 5, 5];
/// NPS 60 over a cycle.
const NPS_CYCLE: [u8; 10] = [10, 9, 8, 10, 7, 9, 10, 10, 9, 3];

/// Comments people might write, each with a theme's word in it.
const COMMENTS: [(&str, Language); 8] = [
    ("Demo: handläggaren var vänlig och tydlig", Language::Sv),
    ("Demo: lång kö innan jag kom fram", Language::Sv),
    ("Demo: the payment plan was easy to set up", Language::En),
    ("Demo: rude tone on the phone", Language::En),
    ("Demo: fakturan var svår att förstå", Language::Sv),
    ("Demo: I was never told the case was closed", Language::En),
    ("Demo: bra bemötande, snabb hjälp", Language::Sv),
    ("Demo: wrong person, I have no such debt", Language::En),
];

/// What loading did.
#[derive(Debug, Default)]
pub struct Loaded {
    pub answers: usize,
    pub items: usize,
    pub resolved: usize,
    pub warnings: usize,
}

pub async fn load(
    services: &Services,
    now: Timestamp,
) -> Result<Option<Loaded>, Box<dyn std::error::Error>> {
    if services.stats.apply_once(MARK, &[]).await? != ApplyOutcome::Applied {
        return Ok(None);
    }
    // History is routed without alerting: a year of alerts is not news. The one
    // warning at the end goes out through the real channel.
    let mut quiet = services.clone();
    quiet.alerts = None;
    let answers = generate(now);
    let progress = indicatif::ProgressBar::new(answers.len() as u64).with_message("demo history");
    let mut loaded = Loaded::default();
    let mut teams = BTreeSet::new();
    for answer in &answers {
        let routed = quiet.route_answer(answer).await?;
        count_sends(services, answer).await?;
        loaded.answers += 1;
        if routed.feedback_created {
            loaded.items += 1;
            if answer.answered_at < now - SignedDuration::from_hours(24 * OPEN_DAYS) {
                loaded.resolved += usize::from(resolve(services, answer, now).await?);
            }
        }
        teams.insert((answer.kind, answer.subject.team.clone()));
        progress.inc(1);
    }
    progress.finish_and_clear();
    loaded.warnings = services.early_warnings(&teams, now).await?.raised;
    Ok(Some(loaded))
}

/// How long after its send a demo answer comes: SMS within the hour, email the
/// next day.
fn answered_after(channel: Channel) -> SignedDuration {
    match channel {
        Channel::Sms => SignedDuration::from_mins(40),
        Channel::Email => SignedDuration::from_hours(26),
    }
}

/// The sends behind the answers, so the reports show a response rate.
async fn count_sends(services: &Services, answer: &Answer) -> Result<(), StoreError> {
    let sent_at = answer.answered_at - answered_after(answer.channel);
    let mut increments = survey_increments(
        answer.kind,
        &answer.subject,
        answer.channel,
        sent_at,
        &CounterField::Sent,
    );
    for inc in &mut increments {
        for v in inc.fields.values_mut() {
            *v = SENT_PER_ANSWER;
        }
    }
    services
        .stats
        .apply_once(&format!("demo-sent:{}", answer.survey_id), &increments)
        .await?;
    Ok(())
}

/// An older item was worked: contacted and resolved on its due day.
async fn resolve(
    services: &Services,
    answer: &Answer,
    now: Timestamp,
) -> Result<bool, Box<dyn std::error::Error>> {
    let id = FeedbackId::for_survey(&answer.survey_id);
    let Some(item) = services.backlog.get_feedback(&id).await? else {
        return Ok(false);
    };
    if item.status != FeedbackStatus::New {
        return Ok(false);
    }
    let patch = FeedbackPatch {
        status: Some(FeedbackStatus::Resolved),
        contacted: Some(true),
        note: Some("Demo: called back and resolved.".into()),
        ..Default::default()
    };
    let at = (answer.answered_at + SignedDuration::from_hours(48)).min(now);
    services
        .update_feedback(&id, item.version, &patch, "demo-lead", at, &|_| true)
        .await
        .map_err(|e| format!("resolving a demo item: {e}"))?;
    Ok(true)
}

fn ident<T>(parse: fn(&str) -> Result<T, String>, s: &str) -> T {
    parse(s).expect("a fixed demo id")
}

/// Every answer of the year before `now`, oldest first.
pub fn generate(now: Timestamp) -> Vec<Answer> {
    let mut out = Vec::new();
    let recent_from = now - SignedDuration::from_hours(24 * 29 + 12);
    let (mut anna, mut bo, mut telecom) = (0usize, 0usize, 0usize);
    for day in (0..DAYS).rev() {
        let day_start = now - SignedDuration::from_hours(24 * day + 20);
        for k in 0..CSAT_PER_DAY {
            let at = day_start + SignedDuration::from_mins(60 * k + 7);
            if at > now {
                continue;
            }
            let recent = at >= recent_from;
            let i = out.len();
            // Energy gets two of every three answers, alternating its handlers, so
            // each client sees both handlers alike.
            let (team, handler, score) = if i % 3 == 2 {
                telecom += 1;
                let h = if telecom % 2 == 0 {
                    "h-cecilia"
                } else {
                    "h-david"
                };
                ("telecom", h, STEADY_45[telecom % 10])
            } else if (i / 3 + i % 3) % 2 == 0 {
                anna += 1;
                let cycle = if recent { RISEN_49 } else { BEFORE_41 };
                ("energy", "h-anna", cycle[anna % 10])
            } else {
                bo += 1;
                let cycle = if recent { FALLEN_35 } else { STEADY_43 };
                ("energy", "h-bo", cycle[bo % 10])
            };
            let client = CLIENTS[(i / 6) % 3];
            let comment = (i % 11 == 4).then(|| COMMENTS[(i / 11) % COMMENTS.len()]);
            let step = STEPS[i % 4];
            out.push(Answer {
                survey_id: SurveyId::for_idempotency_key(&format!("demo-history:csat:{i}")),
                kind: SurveyKind::Csat,
                channel: Channel::Sms,
                score: Score::Csat(CsatScore::try_from(score).expect("1-5")),
                comment: comment.map(|(c, _)| c.to_string()),
                resolved_first_contact: (step == "call_completed").then_some(i % 4 != 0),
                suspect: vec![],
                answered_at: at,
                subject: SurveySubject {
                    client_id: ident(ClientId::parse, client),
                    team: ident(TeamId::parse, team),
                    handler_id: Some(ident(HandlerId::parse, handler)),
                    step: Some(ident(Step::parse, step)),
                    segment: None,
                    case_id: Some(ident(CaseId::parse, &format!("DEMO-{:05}", i + 1))),
                    contact_id: None,
                    language: comment.map_or(Language::Sv, |(_, l)| l),
                    country: None,
                    person: None,
                },
            });
        }
        if day % NPS_EVERY_DAYS == 0 {
            let at = day_start + SignedDuration::from_hours(9);
            if at > now {
                continue;
            }
            let j = (DAYS - day) as usize;
            let client = CLIENTS[j % 3];
            let comment = (j % 5 == 3).then(|| COMMENTS[(j / 5) % COMMENTS.len()]);
            out.push(Answer {
                survey_id: SurveyId::for_idempotency_key(&format!("demo-history:nps:{j}")),
                kind: SurveyKind::Nps,
                channel: Channel::Email,
                score: Score::Nps(NpsScore::try_from(NPS_CYCLE[j % 10]).expect("0-10")),
                comment: comment.map(|(c, _)| c.to_string()),
                resolved_first_contact: None,
                suspect: vec![],
                answered_at: at,
                subject: SurveySubject {
                    client_id: ident(ClientId::parse, client),
                    team: ident(TeamId::parse, if j % 3 == 1 { "telecom" } else { "energy" }),
                    handler_id: None,
                    step: None,
                    segment: None,
                    case_id: None,
                    contact_id: Some(ident(ContactId::parse, &format!("demo-c{}", j % 24 + 1))),
                    language: comment.map_or(Language::Sv, |(_, l)| l),
                    country: None,
                    person: None,
                },
            });
        }
    }
    out.sort_by_key(|a| a.answered_at);
    out
}
