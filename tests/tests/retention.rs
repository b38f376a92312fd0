//! Retention: past the retention period answers, feedback items (with their
//! activity), closed surveys and their link pointers are removed — by a sweep on the
//! embedded store, by TTL (the `ttl` attribute) on DynamoDB — while the counters, and
//! so every report figure, stay.

#![allow(clippy::unwrap_used)]

use jiff::{SignedDuration, Timestamp};
use kundpuls::app::reports::{GroupBy, ReportQuery};
use kundpuls::domain::reports::Month;
use kundpuls::domain::stats::Dimension;
use kundpuls::domain::survey::SurveyKind;
use kundpuls_tests::answers::{always, answer};
use kundpuls_tests::{Backend, Harness, app};

async fn csat_n(services: &kundpuls::app::Services) -> u64 {
    services
        .report(&ReportQuery {
            kind: SurveyKind::Csat,
            group_by: GroupBy::Dimension(Dimension::Team),
            from: Month::parse("2026-11").unwrap(),
            to: Month::parse("2026-11").unwrap(),
            team: None,
            filter: None,
        })
        .await
        .unwrap()
        .total
        .n
}

#[tokio::test]
async fn the_embedded_sweep_removes_old_answers_and_feedback_but_keeps_the_figures() {
    let h = Harness::embedded().await;
    let Backend::Embedded { store, .. } = &h.backend else {
        unreachable!()
    };
    let (services, _) = app::local(&h, always());
    let a = answer(&h, &services, 1, 1, Some("Otrevlig"), false).await;
    services.route_answer(&a).await.unwrap();
    assert_eq!(csat_n(&services).await, 1);

    // A cutoff before everything removes nothing.
    let early: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(store.sweep_retention(early).await.unwrap().answers, 0);

    // A cutoff after the survey closed (7 days) removes the answer, the item with its
    // activity, the survey and its link.
    let late = a.answered_at + SignedDuration::from_hours(24 * 30);
    let report = store.sweep_retention(late).await.unwrap();
    assert_eq!(
        (report.answers, report.feedback_items, report.surveys),
        (1, 1, 1)
    );
    assert!(report.tokens >= 1);
    assert!(h.store.answer(&a.survey_id).await.unwrap().is_none());
    assert!(h.store.get(&a.survey_id).await.unwrap().is_none());
    assert!(
        h.store
            .get_feedback(&a.feedback_id())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        h.store
            .feedback_activity(&a.feedback_id())
            .await
            .unwrap()
            .is_empty()
    );
    // The counters stay: the report still counts the answer.
    assert_eq!(csat_n(&services).await, 1);
    // Sweeping again changes nothing.
    assert_eq!(
        store.sweep_retention(late).await.unwrap(),
        Default::default()
    );
}

#[tokio::test]
async fn on_dynamodb_answers_and_feedback_carry_a_ttl_counters_do_not() {
    let h = Harness::dynamodb().await;
    let Backend::Dynamo { store, sdk, .. } = &h.backend else {
        unreachable!()
    };
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    let a = answer(&h, &services, 2, 2, Some("Lång kö"), false).await;
    services.route_answer(&a).await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let items = client
        .scan()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let ttl_of = |pk_prefix: &str, sk: &str| -> Vec<Option<i64>> {
        items
            .iter()
            .filter(|i| {
                i["pk"].as_s().unwrap().starts_with(pk_prefix)
                    && i["sk"].as_s().unwrap().starts_with(sk)
            })
            .map(|i| i.get("ttl").map(|t| t.as_n().unwrap().parse().unwrap()))
            .collect()
    };
    // 400 days (the default retention) after the answer.
    let expected = a.answered_at.as_second() + 400 * 86_400;
    assert_eq!(ttl_of("SURVEY#", "ANSWER"), vec![Some(expected)]);
    assert_eq!(ttl_of("FEEDBACK#", "ITEM"), vec![Some(expected)]);
    assert_eq!(ttl_of("FEEDBACK#", "ACT#"), vec![Some(expected)]);
    let counters = ttl_of("STAT#", "V#");
    assert!(
        !counters.is_empty() && counters.iter().all(Option::is_none),
        "counters never expire"
    );
}

async fn erasure_removes_the_persons_data_and_keeps_the_figures(
    h: &Harness,
    services: &kundpuls::app::Services,
) {
    // Two surveys to one debtor (the example event's D-7781, two steps), answered
    // with comments, routed; and one survey to someone else.
    let a = answer(
        h,
        services,
        3,
        1,
        Some("Otrevlig, ring mig på 0701234567"),
        false,
    )
    .await;
    services.route_answer(&a).await.unwrap();
    let other = answer(h, services, 4, 2, Some("Lång kö"), false).await;
    services.route_answer(&other).await.unwrap();
    let before = csat_n(services).await;
    let debtor = "D-7781";
    assert_eq!(a.subject.person, Some(services.keyer.person_key(debtor)));

    let record = services
        .erase_person(debtor, "admin-1", Timestamp::now())
        .await
        .unwrap();
    // Both answers came from the same example debtor id; both are erased.
    assert_eq!(
        (record.surveys, record.answers, record.feedback_items),
        (2, 2, 2)
    );
    assert!(h.store.answer(&a.survey_id).await.unwrap().is_none());
    assert!(h.store.get(&a.survey_id).await.unwrap().is_none());
    let item = h
        .store
        .get_feedback(&a.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.comment, None, "the text is gone");
    let log = h.store.feedback_activity(&a.feedback_id()).await.unwrap();
    assert!(log.last().unwrap().action.contains("erased"));
    // The figures stay, and the erasure is on record under the keyed id only.
    assert_eq!(csat_n(services).await, before);
    let records = h
        .store
        .erasures(&services.keyer.person_key(debtor))
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert!(!serde_json::to_string(&records[0]).unwrap().contains(debtor));
    // Erasing again finds nothing more.
    let again = services
        .erase_person(debtor, "admin-1", Timestamp::now())
        .await
        .unwrap();
    assert_eq!(again.surveys, 0);
}

#[tokio::test]
async fn erasing_a_debtor_on_the_embedded_store() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    erasure_removes_the_persons_data_and_keeps_the_figures(&h, &services).await;
}

#[tokio::test]
async fn erasing_a_debtor_on_dynamodb() {
    let h = Harness::dynamodb().await;
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    erasure_removes_the_persons_data_and_keeps_the_figures(&h, &services).await;
}
