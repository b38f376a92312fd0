//! How many DynamoDB requests one survey costs, from creation to a counted answer,
//! counted by an SDK interceptor on every attempt sent. Writes to a survey the
//! caller has just read or written go without reading it again (conditional on
//! the revision of that copy). A change that adds requests
//! to this path fails here and must update the figure on purpose.

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use kundpuls::adapters::dynamo::cost::{self, StepCost};
use kundpuls::app::contacts::ContactRow;
use kundpuls::domain::creditor::CreditorContactInput;
use kundpuls::domain::sending::SurveyChange;
use kundpuls::domain::stats::{answer_effect_id, increments_for_answer};
use kundpuls::domain::survey::Claim;
use kundpuls::ports::{
    AnswerOutcome, ApplyOutcome, CreateOutcome, FatigueGuard, TransitionOutcome,
};
use kundpuls_tests::fixtures::{csat_answer, csat_survey, days, now};
use kundpuls_tests::journey::paced;
use kundpuls_tests::{Backend, Harness};

#[tokio::test]
async fn a_survey_from_creation_to_counted_answer_takes_six_requests() {
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
        h.store.apply_to(&survey, sent.clone()).await.unwrap(),
        TransitionOutcome::Done(_)
    ));
    steps.push(("mark sent", requests.by_operation()));
    requests.clear();

    // The respondent opens the link (the page view)…
    let page = h.store.find_by_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(page.id, survey.id);
    steps.push(("page view", requests.by_operation()));
    requests.clear();

    // …and submits: the POST resolves the link again and records the answer.
    let found = h.store.find_by_token(&token.hash()).await.unwrap().unwrap();
    let answer = csat_answer(&found, 2, Some("long wait"), now());
    let AnswerOutcome::Recorded(answer) =
        h.store.record_answer(&found, answer, now()).await.unwrap()
    else {
        panic!("recorded")
    };
    steps.push(("submit", requests.by_operation()));
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
    let ops = |i: usize| {
        steps[i]
            .1
            .iter()
            .map(|(op, n)| (op.as_str(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(ops(0), [("TransactWriteItems", 1)], "create");
    assert_eq!(
        ops(1),
        [("PutItem", 1)],
        "marking sent is one conditional put on the claimed copy, no read"
    );
    assert_eq!(
        ops(2),
        [("GetItem", 1)],
        "the page view reads the link's pointer only: it carries the page's copy"
    );
    assert_eq!(
        ops(3),
        [("GetItem", 1), ("TransactWriteItems", 1)],
        "the submit reads the pointer and writes the answer in one transaction, \
         reading no survey"
    );
    assert_eq!(ops(4), [("TransactWriteItems", 1)], "counting");
    assert_eq!(total, 6);
    assert!(matches!(
        h.store.apply(&survey.id, sent).await.unwrap(),
        TransitionOutcome::WrongState(_)
    ));
}

/// Requests and units of what `requests` logged since it was cleared.
fn measured(step: &'static str, requests: &kundpuls_tests::RequestLog) -> StepCost {
    let log = requests.requests();
    let (mut read_units, mut write_units) = (0, 0);
    for (op, items) in &log {
        let (r, w) = cost::units(op, *items);
        read_units += r;
        write_units += w;
    }
    println!("{step:<28} {log:?}");
    requests.clear();
    StepCost {
        step,
        requests: log.len() as u32,
        read_units,
        write_units,
    }
}

/// A surveyed step (a call) of one debtor.
fn debtor_step(event: &str, debtor: &str) -> serde_json::Value {
    let phone = format!(
        "+4670{}",
        1_000_000 + uuid::Uuid::new_v4().as_u128() % 1_000_000
    );
    let mut json = kundpuls_tests::events::recent_json(event, "call_completed", &phone);
    json["debtor"]["debtor_id"] = debtor.into();
    json
}

/// The one survey of a debtor (read without the request log's notice).
async fn survey_of(
    h: &Harness,
    services: &kundpuls::app::Services,
    debtor: &str,
) -> kundpuls::domain::survey::Survey {
    let person = services.keyer.person_key(debtor);
    let page = h
        .store
        .surveys_of_person(&person, kundpuls::ports::PageRequest::first(10))
        .await
        .unwrap();
    let Backend::Dynamo { requests, .. } = &h.backend else {
        unreachable!("a DynamoDB harness")
    };
    requests.clear();
    page.items.into_iter().next().unwrap()
}

/// A fresh table with the services on moto, and its request log.
async fn on_moto() -> (Harness, kundpuls::app::Services, kundpuls_tests::RequestLog) {
    let h = Harness::dynamodb().await;
    let from = format!("nps-{}@nordkredit.example", uuid::Uuid::new_v4().simple());
    let services = kundpuls_tests::app::aws(&h, paced(), &from).await;
    // A running function holds its clients' settings already (one read per client
    // per 30 s, whatever the number of surveys): the figures below are per survey.
    for client in ["acme-energy", "acme"] {
        let client = kundpuls::domain::ids::ClientId::parse(client).unwrap();
        services.client_settings(&client).await.unwrap();
    }
    let Backend::Dynamo { requests, .. } = &h.backend else {
        unreachable!("a DynamoDB harness")
    };
    let requests = requests.clone();
    requests.clear();
    (h, services, requests)
}

/// The creditor contacts `n` of one client whose wave is this month.
fn wave_contacts(n: usize) -> Vec<ContactRow> {
    let month = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).month() as u8;
    (0..)
        .map(|i| CreditorContactInput {
            client_id: Some("acme-energy".into()),
            contact_id: Some(format!("C-COST-{i}")),
            email: Some(format!("cost.{i}@acme.example")),
            name: Some("Kim".into()),
            industry: Some("energy".into()),
            ..Default::default()
        })
        .filter(|c| {
            kundpuls::domain::creditor::CreditorContact::parse(c.clone())
                .unwrap()
                .wave_month()
                == month
        })
        .take(n)
        .map(ContactRow::from)
        .collect()
}

/// The cost model's figures (README, "What a survey costs") are what the code does:
/// each step is run through the real use cases on moto and its requests counted.
#[tokio::test]
async fn the_cost_model_counts_what_each_step_sends() {
    let now = Timestamp::now();
    // A surveyed case step, SMS sent at once.
    let (h, services, requests) = on_moto().await;
    let json = debtor_step("evt-cost", "D-COST-1");
    services
        .handle_case_step(&kundpuls_tests::events::event(&json), now)
        .await
        .unwrap();
    let csat_send = measured(cost::CSAT_SEND.step, &requests);

    // The page view and the answer, as the survey pages make them.
    let link = survey_of(&h, &services, "D-COST-1").await.token_hash;
    let page = h.store.find_by_token(&link).await.unwrap().unwrap();
    let found = h.store.find_by_token(&link).await.unwrap().unwrap();
    assert_eq!(page.id, found.id);
    let AnswerOutcome::Recorded(low) = h
        .store
        .record_answer(&found, csat_answer(&found, 2, Some("lång kö"), now), now)
        .await
        .unwrap()
    else {
        panic!("recorded")
    };
    let answer = measured(cost::ANSWER.step, &requests);
    services.route_answer(&low).await.unwrap();
    let to_backlog = measured(cost::ROUTE_TO_BACKLOG.step, &requests);

    // An answer that needs no follow-up.
    let json = debtor_step("evt-cost-2", "D-COST-2");
    services
        .handle_case_step(&kundpuls_tests::events::event(&json), now)
        .await
        .unwrap();
    let found = kundpuls_tests::opened(
        h.store.as_ref(),
        &survey_of(&h, &services, "D-COST-2").await,
    )
    .await;
    let AnswerOutcome::Recorded(high) = h
        .store
        .record_answer(&found, csat_answer(&found, 5, None, now), now)
        .await
        .unwrap()
    else {
        panic!("recorded")
    };
    requests.clear();
    services.route_answer(&high).await.unwrap();
    let counted = measured(cost::ROUTE_COUNTED.step, &requests);

    // One contact more in the wave: the schedule's tick with two contacts less
    // the same tick with one is what each contact costs.
    let mut ticks = Vec::new();
    for n in [1, 2] {
        let (_h, services, requests) = on_moto().await;
        services
            .import_contacts(wave_contacts(n), now, |_| {})
            .await
            .unwrap();
        requests.clear();
        let report = services.run_schedule(now).await.unwrap();
        assert_eq!(report.nps_created, n, "{report:?}");
        ticks.push(measured("schedule tick", &requests));
    }
    let nps_send = StepCost {
        step: cost::NPS_SEND.step,
        requests: ticks[1].requests - ticks[0].requests,
        read_units: ticks[1].read_units - ticks[0].read_units,
        write_units: ticks[1].write_units - ticks[0].write_units,
    };

    let got = [csat_send, nps_send, answer, counted, to_backlog];
    for step in &got {
        println!("{step:?}");
    }
    assert_eq!(got, cost::ALL);
}

/// The answer is written without reading the survey, so it removes the survey's
/// work-list entries by name (`keys::ANSWERED_LEAVES`): whatever state accepted the
/// answer, an answered survey is listed nowhere else.
#[test]
fn an_answered_survey_keeps_no_index_entry_the_answer_does_not_remove() {
    use kundpuls::adapters::keys::{ANSWERED_LEAVES, survey_index};
    use kundpuls::domain::survey::{Survey, SurveyKind, SurveyState};
    for kind in [SurveyKind::Csat, SurveyKind::Nps] {
        for state in [
            SurveyState::Sent,
            SurveyState::Sending,
            SurveyState::SendUnknown,
        ] {
            let (mut new, _) = csat_survey("evt-index", 9);
            new.kind = kind;
            new.subject.person = Some(kundpuls_tests::app::keyer().person_key("D-INDEX"));
            let mut survey = Survey::from_new(new);
            survey.state = state;
            survey.sent_at = Some(now());
            let before = survey_index(&survey);
            assert!(
                survey.mark_answered(now(), now()),
                "{state:?} accepts an answer"
            );
            let after = survey_index(&survey);
            for entry in &after {
                assert!(
                    !ANSWERED_LEAVES.contains(&entry.index),
                    "{kind:?} {state:?}: {:?} would stay behind",
                    entry.index
                );
                assert!(before.contains(entry), "the answer adds no index entry");
            }
            assert!(!after.is_empty(), "the person's listing stays");
        }
    }
}

/// A link pointer written before pointers carried the page's copy (only the survey
/// id) still opens its survey: followed to the survey (two reads), answered
/// without a copy to update, and shown answered afterwards from the survey.
#[tokio::test]
async fn a_pointer_without_the_copy_is_followed_to_its_survey() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let h = Harness::dynamodb().await;
    let Backend::Dynamo {
        requests, store, ..
    } = &h.backend
    else {
        unreachable!("a DynamoDB harness")
    };
    let (new, token) = csat_survey("evt-old-pointer", 3);
    let CreateOutcome::Created(survey) = h.store.create(new, None).await.unwrap() else {
        panic!("created")
    };
    kundpuls_tests::fixtures::mark_sent(h.store.as_ref(), &survey.id, now()).await;
    let key = kundpuls::adapters::keys::token(&token.hash());
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S(key.pk))
        .item("sk", AttributeValue::S(key.sk))
        .item("survey_id", AttributeValue::S(survey.id.to_string()))
        .send()
        .await
        .unwrap();
    requests.clear();
    let link = h.store.find_by_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(requests.by_operation().get("GetItem"), Some(&2));
    assert_eq!((link.id.clone(), link.links.len()), (survey.id.clone(), 0));
    let at = now() + days(1);
    let answer = csat_answer(&link, 3, None, at);
    assert!(matches!(
        h.store.record_answer(&link, answer, at).await.unwrap(),
        AnswerOutcome::Recorded(_)
    ));
    let again = h.store.find_by_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(again.answered_at, Some(at));
}
