//! How many DynamoDB requests one survey costs, from creation to a counted answer,
//! counted by an SDK interceptor on every attempt sent. A change that adds requests
//! to this path fails here and must update the figure on purpose.

#![allow(clippy::unwrap_used)]

use kundpuls::domain::sending::SurveyChange;
use kundpuls::domain::stats::{answer_effect_id, increments_for_answer};
use kundpuls::domain::survey::Claim;
use kundpuls::ports::{
    AnswerOutcome, ApplyOutcome, CreateOutcome, FatigueGuard, TransitionOutcome,
};
use kundpuls_tests::fixtures::{csat_answer, csat_survey, days, now};
use kundpuls_tests::{Backend, Harness};

#[tokio::test]
async fn a_survey_from_creation_to_counted_answer_takes_eight_requests() {
    let h = Harness::dynamodb().await;
    let Backend::Dynamo { requests, .. } = &h.backend else {
        unreachable!("a DynamoDB harness")
    };
    let mut steps = Vec::new();

    // Create (with the fatigue guard), claimed for sending at once, as the
    // case-step handler does.
    let (mut new, token) = csat_survey("evt-requests", 1);
    let claim = Claim::new(now() + jiff::SignedDuration::from_mins(5));
    new.claim = Some(claim.clone());
    let guard = FatigueGuard {
        not_since: now() - days(14),
        surveyed_at: now(),
    };
    let CreateOutcome::Created(survey) = h.store.create(new, Some(guard)).await.unwrap() else {
        panic!("created")
    };
    steps.push(("create", requests.by_operation()));
    requests.clear();

    let sent = SurveyChange::Sent {
        attempt: claim.attempt.clone(),
        at: now(),
    };
    assert!(matches!(
        h.store.apply(&survey.id, sent.clone()).await.unwrap(),
        TransitionOutcome::Done(_)
    ));
    steps.push(("mark sent", requests.by_operation()));
    requests.clear();

    // The respondent opens the link and submits.
    let found = h.store.find_by_token(&token.hash()).await.unwrap().unwrap();
    let answer = csat_answer(&found, 2, Some("long wait"), now());
    let AnswerOutcome::Recorded(answer) = h
        .store
        .record_answer(&found.id, answer, now())
        .await
        .unwrap()
    else {
        panic!("recorded")
    };
    steps.push(("find by token + record answer", requests.by_operation()));
    requests.clear();

    // Routing counts it.
    let outcome = h
        .store
        .apply_once(&answer_effect_id(&answer), &increments_for_answer(&answer))
        .await
        .unwrap();
    assert_eq!(outcome, ApplyOutcome::Applied);
    steps.push(("count", requests.by_operation()));
    requests.clear();

    let mut total = 0;
    for (step, ops) in &steps {
        let n: usize = ops.values().sum();
        total += n;
        println!("{step:<32} {n} request(s): {ops:?}");
    }
    println!("{:<32} {total} request(s)", "total");
    let count = |i: usize| steps[i].1.values().sum::<usize>();
    assert_eq!(count(0), 1, "create is one TransactWriteItems");
    assert_eq!(count(1), 2, "a transition is a read and a conditional put");
    assert_eq!(
        count(2),
        4,
        "token pointer, survey, survey read, one transaction"
    );
    assert_eq!(count(3), 1, "counting is one TransactWriteItems");
    assert_eq!(total, 8);
    assert!(matches!(
        h.store.apply(&survey.id, sent).await.unwrap(),
        TransitionOutcome::WrongState(_)
    ));
}
