//! What one erasure costs on the embedded store as the file grows: the person's
//! records are deleted and the whole file is rewritten (see README, "Erasure and data
//! protection"). Prints figures; asserts nothing about speed. Bounded: fixed sizes.
//!
//! `cargo bench -p kundpuls-tests --bench erasure`

use jiff::{SignedDuration, Timestamp};
use kundpuls::adapters::embedded::DB_FILE;
use kundpuls::app::case_steps::StepOutcome;
use kundpuls::domain::score::{CsatScore, Score};
use kundpuls::domain::survey::{Answer, AnswerInput};
use kundpuls_tests::answers::always;
use kundpuls_tests::events::{event, example_json};
use kundpuls_tests::{Backend, Harness, app};
use std::time::Instant;

const SIZES: [usize; 2] = [5_000, 20_000];
const TASKS: usize = 16;

fn monday() -> Timestamp {
    "2026-11-23T09:00:00Z".parse().expect("valid")
}

/// Debtor `i`'s survey, sent and answered with a comment.
async fn answered(h: &Harness, services: &kundpuls::app::Services, i: usize) {
    let mut json = example_json(
        &format!("bench-{i}"),
        "call_completed",
        &format!("+4672{i:07}"),
    );
    json["debtor"]["debtor_id"] = format!("D-BENCH-{i}").into();
    let StepOutcome::Sent { survey_id } = services
        .handle_case_step(&event(&json), monday())
        .await
        .expect("handled")
    else {
        panic!("sent")
    };
    let survey = h
        .store
        .get(&survey_id)
        .await
        .expect("read")
        .expect("stored");
    let survey = kundpuls_tests::opened(h.store.as_ref(), &survey).await;
    let at = monday() + SignedDuration::from_mins(5);
    let answer = Answer::new(
        &survey,
        AnswerInput {
            score: Score::Csat(CsatScore::try_from(2u8).expect("score")),
            comment: Some(format!(
                "Svar nummer {i}: handläggaren var vänlig men det tog tid"
            )),
            resolved_first_contact: Some(true),
            suspect: vec![],
            answered_at: at,
        },
    );
    h.store
        .record_answer(&survey, answer, at)
        .await
        .expect("recorded");
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    println!("kundpuls erasure benchmark (embedded store, one erasure after N answered surveys)");
    for n in SIZES {
        let h = std::sync::Arc::new(Harness::embedded().await);
        let (services, _) = app::local(&h, always());
        let started = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let (h, services) = (h.clone(), services.clone());
            tasks.push(tokio::spawn(async move {
                for i in (t..n).step_by(TASKS) {
                    answered(&h, &services, i).await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let fill = started.elapsed().as_secs_f64();
        let Backend::Embedded { dir, .. } = &h.backend else {
            unreachable!()
        };
        let file = dir.path().join(DB_FILE);
        let before = std::fs::metadata(&file).expect("file").len();
        let started = Instant::now();
        let record = services
            .erase_person(&format!("D-BENCH-{}", n / 2), "bench", Timestamp::now())
            .await
            .expect("erased");
        let erase = started.elapsed().as_secs_f64() * 1000.0;
        let after = std::fs::metadata(&file).expect("file").len();
        println!(
            "{n:>6} surveys ({fill:.1} s to fill): erasure of one debtor ({} survey) {erase:.0} ms; file {:.1} MB before, {:.1} MB after",
            record.surveys,
            before as f64 / 1e6,
            after as f64 / 1e6
        );
    }
}
