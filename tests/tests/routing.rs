//! Routing recorded answers: counted once, and a feedback item exactly once for the
//! answers that need a human, however often the feed or stream delivers them.

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use kundpuls::app::routing::FEED_CONSUMER;
use kundpuls::domain::backlog::{FeedbackStatus, Priority};
use kundpuls::domain::ids::FeedbackId;
use kundpuls::domain::stats::{CounterField, CounterKey, Dimension};
use kundpuls::domain::survey::{Answer, SurveyKind};
use kundpuls::domain::themes::TREATMENT;
use kundpuls_tests::faults::Lead;
use kundpuls_tests::{Backend, Harness, app};

use kundpuls_tests::answers::{always, answer};

#[tokio::test]
async fn a_low_score_with_a_comment_becomes_one_tagged_high_priority_item_and_counts_once() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, always());
    let a = answer(
        &h,
        &services,
        1,
        1,
        Some("Handläggaren var otrevlig"),
        false,
    )
    .await;
    // The stream delivers the same answer three times.
    let first = services.route_answer(&a).await.unwrap();
    assert!(first.counted && first.feedback_created && first.alerted);
    for _ in 0..2 {
        let again = services.route_answer(&a).await.unwrap();
        assert!(!again.counted && !again.feedback_created && !again.alerted);
    }
    // The lead got one alert line in the outbox, without the comment or the number.
    let alerts: Vec<_> = outbox
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|l| l.channel == "alert")
        .collect();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].to, "lead:energy");
    assert!(
        alerts[0]
            .link
            .ends_with(&format!("/console/feedback/{}", a.feedback_id()))
    );
    assert!(!alerts[0].text.contains("otrevlig") && !alerts[0].text.contains("+4674"));
    let item = h
        .store
        .get_feedback(&a.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.priority, Priority::High);
    assert_eq!(item.themes, vec![TREATMENT.to_string()]);
    assert_eq!(
        item.theme_words.get(TREATMENT).map(Vec::as_slice),
        Some(&["otrevlig".to_string()][..]),
        "the word that made the theme is kept"
    );
    assert_eq!(item.status, FeedbackStatus::New);
    assert_eq!(item.case_id.as_ref().map(|c| c.as_str()), Some("C-100045"));
    // Monday + 1 business day.
    assert_eq!(item.due_on, jiff::civil::date(2026, 11, 24));
    let counter = h
        .store
        .read(&CounterKey::new(
            SurveyKind::Csat,
            "2026-11",
            Dimension::Team,
            "energy",
        ))
        .await
        .unwrap();
    assert_eq!(
        (
            counter.get(&CounterField::Answered),
            counter.get(&CounterField::Score(1)),
            counter.get(&CounterField::FcrNo)
        ),
        (1, 1, 1)
    );
    assert_eq!(h.store.feedback_activity(&item.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn good_scores_without_comments_make_no_items_and_suspect_ones_that_say_something_wait_for_review()
 {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, always());
    let happy = answer(&h, &services, 2, 5, None, false).await;
    let quiet_bot = answer(&h, &services, 4, 5, None, true).await;
    let bot = answer(&h, &services, 3, 1, Some("spam spam"), true).await;
    for a in [&happy, &quiet_bot, &bot] {
        services.route_answer(a).await.unwrap();
    }
    for a in [&happy, &quiet_bot] {
        assert!(
            h.store
                .get_feedback(&a.feedback_id())
                .await
                .unwrap()
                .is_none()
        );
    }
    // Nothing a person may have said is dropped: the suspect CSAT 1 with a comment
    // waits in review, without an alert, and out of the figures.
    let held = h
        .store
        .get_feedback(&bot.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((held.status, held.suspect), (FeedbackStatus::Review, true));
    assert!(
        outbox
            .read_all()
            .unwrap()
            .iter()
            .all(|l| l.channel != "alert")
    );
    let all = h
        .store
        .read(&CounterKey::new(
            SurveyKind::Csat,
            "2026-11",
            Dimension::All,
            "all",
        ))
        .await
        .unwrap();
    assert_eq!(
        (
            all.get(&CounterField::Answered),
            all.get(&CounterField::Suspect),
            all.get(&CounterField::Score(1))
        ),
        (1, 2, 0)
    );
}

/// A held answer a lead accepts is counted once from then on (and alerts); one
/// dismissed as automated never is, on both stores.
async fn held_answers_count_once_when_accepted_and_never_when_dismissed(
    h: &Harness,
    services: &kundpuls::app::Services,
) {
    let accepted = answer(h, services, 31, 1, Some("Otrevlig handläggare"), true).await;
    let dismissed = answer(h, services, 32, 2, Some("buy cheap watches"), true).await;
    for a in [&accepted, &dismissed] {
        services.route_answer(a).await.unwrap();
    }
    let counted =
        |field: &'static str| async move { kundpuls_tests::csat_counter(&*h.store, field).await };
    assert_eq!((counted("n").await, counted("suspect").await), (0, 2));
    let now = Timestamp::now();
    let move_to = |id, version, status| {
        let patch = kundpuls::app::triage::FeedbackPatch {
            status: Some(status),
            ..Default::default()
        };
        async move {
            services
                .update_feedback(&id, version, &patch, "lead-anna", now, &|_| true)
                .await
                .unwrap()
        }
    };
    // Accepted: counted once, as a real 1 with a comment, and marked accepted.
    let item = move_to(accepted.feedback_id(), 1, FeedbackStatus::New).await;
    assert_eq!(item.status, FeedbackStatus::New);
    // Later moves, and a dismissal reopened, never count it again.
    let item = move_to(item.id.clone(), item.version, FeedbackStatus::Dismissed).await;
    move_to(item.id.clone(), item.version, FeedbackStatus::Triaged).await;
    assert_eq!(
        (
            counted("n").await,
            counted("s1").await,
            counted("comments").await,
            counted("accepted").await
        ),
        (1, 1, 1, 1)
    );
    // Dismissed as automated: never counted; review is not a place to go back to.
    let gone = move_to(dismissed.feedback_id(), 1, FeedbackStatus::Dismissed).await;
    assert_eq!(gone.status, FeedbackStatus::Dismissed);
    assert!(!FeedbackStatus::Dismissed.can_move_to(FeedbackStatus::Review));
    assert_eq!((counted("n").await, counted("s2").await), (1, 0));
}

#[tokio::test]
async fn held_answers_on_the_embedded_store() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, always());
    held_answers_count_once_when_accepted_and_never_when_dismissed(&h, &services).await;
    // The accepted CSAT 1 alerted its lead once it was accepted.
    let alerts = outbox
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|l| l.channel == "alert")
        .count();
    assert_eq!(alerts, 1);
}

#[tokio::test]
async fn held_answers_on_dynamodb() {
    let h = Harness::dynamodb().await;
    let from = format!(
        "survey-{}@nordkredit.example",
        uuid::Uuid::new_v4().simple()
    );
    let services = app::aws(&h, always(), &from).await;
    held_answers_count_once_when_accepted_and_never_when_dismissed(&h, &services).await;
}

#[tokio::test]
async fn the_local_feed_is_drained_once_even_when_replayed() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    let Backend::Embedded { store, .. } = &h.backend else {
        unreachable!()
    };
    let a = answer(&h, &services, 4, 2, Some("Långa väntetider"), false).await;
    assert_eq!(
        services
            .drain_feed(store, FEED_CONSUMER, Timestamp::now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        services
            .drain_feed(store, FEED_CONSUMER, Timestamp::now())
            .await
            .unwrap(),
        0
    );
    // A second consumer reading from the start routes the same answer again: no change.
    assert_eq!(
        services
            .drain_feed(store, "replay", Timestamp::now())
            .await
            .unwrap(),
        1
    );
    let items = h
        .store
        .list_feedback(
            &kundpuls::ports::FeedbackQuery {
                scope: kundpuls::ports::FeedbackScope::Status(FeedbackStatus::New),
                due_before: None,
            },
            kundpuls::ports::PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(items.items.len(), 1);
    assert_eq!(items.items[0].id, FeedbackId::for_survey(&a.survey_id));
    assert_eq!(items.items[0].priority, Priority::Normal);
}

#[tokio::test]
async fn routing_on_dynamodb_is_exactly_once_too() {
    let h = Harness::dynamodb().await;
    let from = format!(
        "survey-{}@nordkredit.example",
        uuid::Uuid::new_v4().simple()
    );
    let services = app::aws(&h, always(), &from).await;
    let a = answer(&h, &services, 5, 1, Some("rude and threatening"), false).await;
    let results: Vec<_> = futures_join(&services, &a).await;
    assert_eq!(results.iter().filter(|r| r.feedback_created).count(), 1);
    assert_eq!(results.iter().filter(|r| r.counted).count(), 1);
    // The item says whom to call back: the case and the handler.
    let item = h
        .store
        .get_feedback(&a.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.case_id.as_ref().map(|c| c.as_str()), Some("C-100045"));
    assert_eq!(item.handler_id.as_ref().map(|c| c.as_str()), Some("h-anna"));
}

async fn futures_join(
    services: &kundpuls::app::Services,
    a: &Answer,
) -> Vec<kundpuls::app::routing::Routed> {
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (s, a) = (services.clone(), a.clone());
            tokio::spawn(async move { s.route_answer(&a).await.unwrap() })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Alerts follow priority: a complaint at CSAT 2 is high and alerts its lead once,
/// however often it is routed; a CSAT 2 about waiting is normal and does not.
#[tokio::test]
async fn a_complaint_at_any_score_is_high_and_alerts_once() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, always());
    let complaint = answer(
        &h,
        &services,
        41,
        2,
        Some("Handläggaren var otrevlig"),
        false,
    )
    .await;
    let waiting = answer(&h, &services, 42, 2, Some("Lång kö i telefon"), false).await;
    for _ in 0..3 {
        services.route_answer(&complaint).await.unwrap();
        services.route_answer(&waiting).await.unwrap();
    }
    let high = h
        .store
        .get_feedback(&complaint.feedback_id())
        .await
        .unwrap()
        .unwrap();
    let normal = h
        .store
        .get_feedback(&waiting.feedback_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (high.priority, normal.priority),
        (Priority::High, Priority::Normal)
    );
    let alerts: Vec<String> = outbox
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|l| l.channel == "alert")
        .map(|l| l.link)
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].ends_with(&complaint.feedback_id().to_string()));
}

/// An alert that did not go out is tried again once due and delivered once; one
/// whose outcome is unknown, or whose claim ran out, is never repeated.
async fn alerts_are_retried_from_a_durable_record_and_never_twice(
    h: &Harness,
    mut services: kundpuls::app::Services,
) {
    use kundpuls::domain::backlog::{AlertRecord, AlertState};
    let lead = Lead::answering(&["not_sent"]);
    services.alerts = Some(lead.clone());
    let a = answer(h, &services, 51, 1, Some("Otrevlig"), false).await;
    let routed = services.route_answer(&a).await.unwrap();
    assert!(!routed.alerted);
    let record = h.store.get_alert(&a.feedback_id()).await.unwrap().unwrap();
    assert_eq!((record.state, record.attempts), (AlertState::NotSent, 1));
    let now = Timestamp::now();
    // Not due yet; then due: published once; later ticks and replays do nothing.
    assert_eq!(services.retry_alerts(now).await.unwrap().retried, 0);
    let tick = services
        .retry_alerts(now + jiff::SignedDuration::from_mins(2))
        .await
        .unwrap();
    assert_eq!((tick.retried, tick.published), (1, 1));
    services
        .retry_alerts(now + jiff::SignedDuration::from_hours(2))
        .await
        .unwrap();
    services.route_answer(&a).await.unwrap();
    assert_eq!(
        *lead.delivered.lock().unwrap(),
        vec![a.feedback_id().to_string()]
    );
    let record = h.store.get_alert(&a.feedback_id()).await.unwrap().unwrap();
    assert_eq!((record.state, record.attempts), (AlertState::Published, 2));

    // Unknown: recorded, never repeated.
    let lead = Lead::answering(&["unknown"]);
    services.alerts = Some(lead.clone());
    let b = answer(h, &services, 52, 1, Some("Hotfull"), false).await;
    services.route_answer(&b).await.unwrap();
    services
        .retry_alerts(now + jiff::SignedDuration::from_hours(3))
        .await
        .unwrap();
    let record = h.store.get_alert(&b.feedback_id()).await.unwrap().unwrap();
    assert_eq!(record.state, AlertState::Unknown);
    assert!(lead.delivered.lock().unwrap().is_empty());

    // A claim whose holder died: recorded unknown once it runs out, never published.
    let c = answer(h, &services, 53, 1, Some("Otrevlig igen"), false).await;
    let held = AlertRecord {
        feedback_id: c.feedback_id(),
        state: AlertState::Claimed,
        attempt: "died".into(),
        lease_until: now - jiff::SignedDuration::from_secs(1),
        retry_at: None,
        attempts: 1,
        updated_at: now,
        version: 0,
    };
    assert_eq!(
        h.store.save_alert(&held, 0).await.unwrap(),
        kundpuls::ports::SaveOutcome::Saved
    );
    services.route_answer(&c).await.unwrap();
    let tick = services.retry_alerts(now).await.unwrap();
    assert_eq!(tick.unknown, 1);
    let record = h.store.get_alert(&c.feedback_id()).await.unwrap().unwrap();
    assert_eq!(record.state, AlertState::Unknown);
    assert!(lead.delivered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn alerts_retry_on_the_embedded_store() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    alerts_are_retried_from_a_durable_record_and_never_twice(&h, services).await;
}

#[tokio::test]
async fn alerts_retry_on_dynamodb() {
    let h = Harness::dynamodb().await;
    let from = format!(
        "survey-{}@nordkredit.example",
        uuid::Uuid::new_v4().simple()
    );
    let services = app::aws(&h, always(), &from).await;
    alerts_are_retried_from_a_durable_record_and_never_twice(&h, services).await;
}
