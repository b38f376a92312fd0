//! Retention: past the retention period answers, closed feedback items (with their
//! activity, counted from the closing), closed surveys and their link pointers are
//! removed — by a sweep on the embedded store, by TTL (the `ttl` attribute) on
//! DynamoDB — while the counters, and so every report figure, stay. Open items stay
//! until closed; at the ceiling (twice the period) their comment text goes.

#![allow(clippy::unwrap_used)]

use jiff::{SignedDuration, Timestamp};
use kundpuls::app::reports::{GroupBy, ReportQuery};
use kundpuls::app::triage::FeedbackPatch;
use kundpuls::domain::backlog::FeedbackStatus;
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

async fn resolve(
    h: &Harness,
    services: &kundpuls::app::Services,
    id: &kundpuls::domain::ids::FeedbackId,
    at: Timestamp,
) {
    let item = h.store.get_feedback(id).await.unwrap().unwrap();
    let patch = FeedbackPatch {
        status: Some(FeedbackStatus::Resolved),
        ..Default::default()
    };
    services
        .update_feedback(id, item.version, &patch, "lead-1", at, &|_| true)
        .await
        .unwrap();
}

const DAY: SignedDuration = SignedDuration::from_hours(24);

#[tokio::test]
async fn the_embedded_sweep_removes_old_answers_and_closed_feedback_but_keeps_open_work_and_the_figures()
 {
    let h = Harness::embedded().await;
    let Backend::Embedded { store, .. } = &h.backend else {
        unreachable!()
    };
    let (services, _) = app::local(&h, always());
    let open = answer(&h, &services, 1, 1, Some("Otrevlig"), false).await;
    services.route_answer(&open).await.unwrap();
    let closed = answer(&h, &services, 5, 2, Some("Lång kö"), false).await;
    services.route_answer(&closed).await.unwrap();
    // Closed 40 days after the answer: retention counts from here.
    resolve(
        &h,
        &services,
        &closed.feedback_id(),
        closed.answered_at + DAY * 40,
    )
    .await;
    assert_eq!(csat_n(&services).await, 2);

    // A cutoff before everything removes nothing.
    let early: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(store.sweep_retention(early).await.unwrap().answers, 0);

    // A cutoff after the surveys closed (7 days) but before the item was closed
    // removes the answers, the surveys and their links, and no feedback item.
    let report = store
        .sweep_retention(open.answered_at + DAY * 30)
        .await
        .unwrap();
    assert_eq!(
        (report.answers, report.feedback_items, report.surveys),
        (2, 0, 2)
    );
    assert!(report.tokens >= 1);
    assert!(h.store.answer(&open.survey_id).await.unwrap().is_none());
    assert!(h.store.get(&open.survey_id).await.unwrap().is_none());

    // Past the closing: the closed item goes with its activity; the open one stays
    // with its comment, however old.
    let late = open.answered_at + DAY * 45;
    let report = store.sweep_retention(late).await.unwrap();
    assert_eq!(report.feedback_items, 1);
    assert!(
        h.store
            .get_feedback(&closed.feedback_id())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        h.store
            .feedback_activity(&closed.feedback_id())
            .await
            .unwrap()
            .is_empty()
    );
    let far = open.answered_at + DAY * 4_000;
    assert_eq!(
        store.sweep_retention(far).await.unwrap(),
        Default::default()
    );
    let kept = h
        .store
        .get_feedback(&open.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.comment.as_deref(), Some("Otrevlig"));
    // The counters stay: the report still counts both answers.
    assert_eq!(csat_n(&services).await, 2);
}

/// An item left open keeps its comment until twice the retention period after it
/// was made; then the ceiling removes the text (once) and the item stays open.
async fn the_ceiling_removes_the_text_of_items_left_open(
    h: &Harness,
    services: &kundpuls::app::Services,
) {
    let retention = DAY * 400;
    let a = answer(h, services, 6, 1, Some("Otrevlig ton i samtalet"), false).await;
    services.route_answer(&a).await.unwrap();
    let closed = answer(h, services, 7, 2, Some("Lång kö"), false).await;
    services.route_answer(&closed).await.unwrap();
    resolve(h, services, &closed.feedback_id(), closed.answered_at + DAY).await;
    let item = h
        .store
        .get_feedback(&a.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert!(item.has_text() && !item.theme_words.is_empty(), "{item:?}");
    let ceiling = item.text_ceiling(retention);
    assert_eq!(ceiling, item.created_at + DAY * 800);

    // A day before the ceiling: nothing changes.
    let report = services
        .retention_ceiling(ceiling - DAY, retention)
        .await
        .unwrap();
    assert_eq!(report.stripped, 0);
    assert_eq!(
        h.store
            .get_feedback(&a.feedback_id())
            .await
            .unwrap()
            .unwrap(),
        item
    );

    // Past it: the comment and the matched words go, the item stays open with its
    // case reference, and the log says why. The closed item is not the ceiling's.
    let report = services
        .retention_ceiling(ceiling + SignedDuration::from_secs(1), retention)
        .await
        .unwrap();
    assert_eq!((report.stripped, report.already_bare), (1, 0));
    let after = h
        .store
        .get_feedback(&a.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.comment, None);
    assert!(after.theme_words.is_empty());
    assert_eq!(after.status, item.status);
    assert_eq!(after.case_id, item.case_id);
    assert_eq!(after.version, item.version + 1);
    let log = h.store.feedback_activity(&a.feedback_id()).await.unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.actor, kundpuls::app::retention::CEILING_ACTOR);
    assert!(last.action.contains("retention ceiling"), "{}", last.action);
    let other = h
        .store
        .get_feedback(&closed.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.comment.as_deref(), Some("Lång kö"));

    // Again: nothing more to remove.
    let again = services
        .retention_ceiling(ceiling + DAY, retention)
        .await
        .unwrap();
    assert_eq!((again.stripped, again.already_bare), (0, 1));
}

#[tokio::test]
async fn the_retention_ceiling_on_the_embedded_store() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    the_ceiling_removes_the_text_of_items_left_open(&h, &services).await;
}

#[tokio::test]
async fn the_retention_ceiling_on_dynamodb() {
    let h = Harness::dynamodb().await;
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    the_ceiling_removes_the_text_of_items_left_open(&h, &services).await;
}

#[tokio::test]
async fn on_dynamodb_answers_and_closed_feedback_carry_a_ttl_open_items_and_counters_do_not() {
    let h = Harness::dynamodb().await;
    let Backend::Dynamo { store, sdk, .. } = &h.backend else {
        unreachable!()
    };
    let services = app::aws(&h, always(), "surveys@nordkredit.se").await;
    let a = answer(&h, &services, 2, 2, Some("Lång kö"), false).await;
    services.route_answer(&a).await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let scan = || async {
        client
            .scan()
            .table_name(store.table())
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default()
    };
    let ttl_of =
        |items: &[std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>],
         pk_prefix: &str,
         sk: &str|
         -> Vec<Option<i64>> {
            items
                .iter()
                .filter(|i| {
                    i["pk"].as_s().unwrap().starts_with(pk_prefix)
                        && i["sk"].as_s().unwrap().starts_with(sk)
                })
                .map(|i| i.get("ttl").map(|t| t.as_n().unwrap().parse().unwrap()))
                .collect()
        };
    let items = scan().await;
    // 400 days (the default retention) after the answer.
    let expected = a.answered_at.as_second() + 400 * 86_400;
    assert_eq!(ttl_of(&items, "SURVEY#", "ANSWER"), vec![Some(expected)]);
    // The open item has no TTL; its history expires at the ceiling (800 days).
    let item = h
        .store
        .get_feedback(&a.feedback_id())
        .await
        .unwrap()
        .unwrap();
    let ceiling = item.created_at.as_second() + 800 * 86_400;
    assert_eq!(ttl_of(&items, "FEEDBACK#", "ITEM"), vec![None]);
    assert_eq!(ttl_of(&items, "FEEDBACK#", "ACT#"), vec![Some(ceiling)]);
    let counters = ttl_of(&items, "STAT#", "V#");
    assert!(
        !counters.is_empty() && counters.iter().all(Option::is_none),
        "counters never expire"
    );

    // Resolved 10 days later: the item and its new log entry expire 400 days after
    // the closing.
    let closed_at = item.created_at + DAY * 10;
    resolve(&h, &services, &a.feedback_id(), closed_at).await;
    let items = scan().await;
    let expires = closed_at.as_second() + 400 * 86_400;
    assert_eq!(ttl_of(&items, "FEEDBACK#", "ITEM"), vec![Some(expires)]);
    let mut log = ttl_of(&items, "FEEDBACK#", "ACT#");
    log.sort();
    assert_eq!(log, vec![Some(expires), Some(ceiling)]);
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

#[test]
fn the_queue_warns_of_the_ceiling_thirty_days_ahead_for_open_items_with_text() {
    let retention = DAY * 400;
    let mut item = kundpuls_tests::fixtures::feedback(1, "team-a", 1);
    let ceiling = item
        .text_ceiling(retention)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let day = |n: i64| ceiling.checked_add(jiff::Span::new().days(n)).unwrap();
    assert_eq!(item.text_removed_on(retention, day(-31), 30), None);
    assert_eq!(item.text_removed_on(retention, day(-30), 30), Some(ceiling));
    assert_eq!(item.text_removed_on(retention, day(5), 30), Some(ceiling));
    item.status = FeedbackStatus::Resolved;
    assert_eq!(item.text_removed_on(retention, day(-1), 30), None, "closed");
    item.status = FeedbackStatus::InProgress;
    item.comment = None;
    assert_eq!(
        item.text_removed_on(retention, day(-1), 30),
        None,
        "no text"
    );
}
