//! Surveys sent and answered through the real use cases, for the suites that start
//! from a recorded answer (routing, the stream function, the console).

#![allow(clippy::unwrap_used)]

use crate::Harness;
use crate::events::{event, example_json};
use jiff::{SignedDuration, Timestamp};
use kundpuls::app::case_steps::StepOutcome;
use kundpuls::domain::policy::{SurveyPolicy, WeekWindows};
use kundpuls::domain::score::{CsatScore, Score};
use kundpuls::domain::survey::{Answer, AnswerInput, SuspectReason};
use kundpuls::ports::AnswerOutcome;

/// Sends whenever asked: no send windows.
pub fn always() -> SurveyPolicy {
    SurveyPolicy {
        send_windows: WeekWindows::always(),
        ..SurveyPolicy::default()
    }
}

/// A CSAT survey for contact `n`, sent after a call and answered with `score`.
pub async fn answer(
    h: &Harness,
    services: &kundpuls::app::Services,
    n: u32,
    score: u8,
    comment: Option<&str>,
    suspect: bool,
) -> Answer {
    let now: Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
    let phone = format!("+4674{n:07}");
    let StepOutcome::Sent { survey_id } = services
        .handle_case_step(
            &event(&example_json(
                &format!("evt-r{n}"),
                "call_completed",
                &phone,
            )),
            now,
        )
        .await
        .unwrap()
    else {
        panic!("sent")
    };
    let survey = h.store.get(&survey_id).await.unwrap().unwrap();
    let survey = crate::opened(h.store.as_ref(), &survey).await;
    let a = Answer::new(
        &survey,
        AnswerInput {
            score: Score::Csat(CsatScore::try_from(score).unwrap()),
            comment: comment.map(str::to_string),
            resolved_first_contact: Some(false),
            suspect: if suspect {
                vec![SuspectReason::TooFast]
            } else {
                vec![]
            },
            answered_at: now + SignedDuration::from_mins(5),
        },
    );
    let AnswerOutcome::Recorded(a) = h
        .store
        .record_answer(&survey, a, now + SignedDuration::from_mins(5))
        .await
        .unwrap()
    else {
        panic!("recorded")
    };
    a
}
