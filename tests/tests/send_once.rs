//! At most one message per survey, and never one that may not go: concurrent
//! deliveries of one event, the schedule racing ingest, provider and store faults,
//! and the fail-closed checks. Each case runs on the embedded store with the file
//! outbox and on DynamoDB with SNS (moto); what a person received is read from the
//! outbox or from moto's record of SMS sent, never from the code's own account.

#![allow(clippy::unwrap_used)]

use aws_lambda_events::event::sqs::SqsEvent;
use axum::body::Body;
use axum::http::Request;
use jiff::{SignedDuration, Timestamp};
use kundpuls::app::Services;
use kundpuls::app::case_steps::StepOutcome;
use kundpuls::domain::contact::{PhoneNumber, Recipient};
use kundpuls::domain::ids::SurveyId;
use kundpuls::domain::locale::Country;
use kundpuls::domain::policy::SurveyPolicy;
use kundpuls::domain::sending::LEASE_LAPSED;
use kundpuls::domain::stats::Dimension;
use kundpuls::domain::survey::{Claim, SurveyKind, SurveyState};
use kundpuls::ports::{CreateOutcome, Notifier, SendError};
use kundpuls::web::auth::{LocalKey, Role};
use kundpuls::web::{AppState, Authenticator, local_router};
use kundpuls_tests::answers::always;
use kundpuls_tests::events::{dated, event, example_json, recent_json};
use kundpuls_tests::faults::{FaultyNotifier, NotifierFaults, Protocol, SdkFaults, SimClock};
use kundpuls_tests::{Backend, Harness, app, lambda_events, moto};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tower::ServiceExt;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Monday 2026-11-23, 10:00 in Stockholm.
fn monday() -> Timestamp {
    ts("2026-11-23T09:00:00Z")
}

/// One test's world: a store, the services on it, and phone numbers of its own (moto
/// keeps every SMS of the run, so each test reads only its own numbers).
struct World {
    h: Harness,
    services: Services,
    /// Phone numbers of this test start with this.
    prefix: String,
    /// The same randomness for event and debtor ids.
    tag: String,
    _keys: tempfile::TempDir,
}

impl World {
    async fn new(h: Harness, policy: SurveyPolicy) -> Self {
        let services = match &h.backend {
            Backend::Embedded { .. } => app::local(&h, policy).0,
            Backend::Dynamo { .. } => {
                let from = format!(
                    "survey-{}@nordkredit.example",
                    uuid::Uuid::new_v4().simple()
                );
                app::aws(&h, policy, &from).await
            }
        };
        // The suites share one moto and its SMS list: this suite's numbers start
        // +4679, which no other suite uses, then a tag of its own per test (one in
        // a million), so no other test's SMS is counted here.
        let tag = format!("{:06}", uuid::Uuid::new_v4().as_u128() % 1_000_000);
        Self {
            h,
            services,
            prefix: format!("+4679{tag}"),
            tag,
            _keys: tempfile::tempdir().unwrap(),
        }
    }

    fn phone(&self, i: usize) -> String {
        format!("{}{i:04}", self.prefix)
    }

    /// SMS received, by phone number, as the channel recorded them.
    fn messages(&self) -> BTreeMap<String, usize> {
        let phones: Vec<String> = match &self.h.backend {
            Backend::Embedded { dir, .. } => {
                kundpuls::adapters::outbox::read_outbox(&dir.path().join("outbox.jsonl"))
                    .unwrap()
                    .into_iter()
                    .filter(|l| l.channel == "sms")
                    .map(|l| l.to)
                    .collect()
            }
            Backend::Dynamo { .. } => moto::messages()["sns"]["SMS"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["phone_number"].as_str().map(str::to_string))
                .collect(),
        };
        let mut out = BTreeMap::new();
        for p in phones.into_iter().filter(|p| p.starts_with(&self.prefix)) {
            *out.entry(p).or_insert(0) += 1;
        }
        out
    }

    async fn counter(&self, field: &str) -> u64 {
        kundpuls_tests::csat_counter(self.h.clean_store().as_ref(), field).await
    }

    async fn survey_of(&self, event_id: &str) -> Option<kundpuls::domain::survey::Survey> {
        self.h
            .clean_store()
            .get(&SurveyId::for_idempotency_key(&format!("csat:{event_id}")))
            .await
            .unwrap()
    }

    /// The local router on these services, and a token for the case system.
    fn router(&self) -> (axum::Router, String) {
        let key = LocalKey::load_or_create(self._keys.path()).unwrap();
        let token = key.sign("case-system", Role::System, &[], 1).unwrap();
        let router = local_router(AppState {
            services: self.services.clone(),
            auth: Authenticator::Local(key.clone()),
            stamp: kundpuls::web::stamp::StampKey::new(&key.derive("render-stamp")),
            outbox: None,
            sign_in: None,
            demo: false,
        });
        (router, token)
    }
}

macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(kundpuls_tests::Harness::embedded().await).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(kundpuls_tests::Harness::dynamodb().await).await;
                }
            )*
        }
    };
}

both_stores!(
    one_event_posted_10_and_100_times_at_once_sends_one_sms,
    an_sqs_batch_delivered_three_times_at_once_sends_each_message_once,
    the_schedule_racing_ingest_sends_nothing_twice,
    every_accepted_flag_spelling_and_any_unknown_flag_block_the_survey,
    stale_and_future_steps_are_not_surveyed,
    a_replay_after_opt_out_sends_nothing,
    a_later_flagged_step_cancels_the_surveys_not_yet_sent,
    an_unknown_outcome_is_never_sent_again,
    a_send_not_taken_is_retried_with_back_off_inside_the_hours_and_then_given_up,
    a_claim_that_runs_out_is_recorded_as_send_unknown_and_never_sent,
);

async fn one_event_posted_10_and_100_times_at_once_sends_one_sms(h: Harness) {
    // GIVEN the ingest route, open every hour (it runs on the wall clock)
    let world = World::new(h, always()).await;
    let (router, token) = world.router();
    for (n, copies) in [10usize, 100].into_iter().enumerate() {
        let id = format!("evt-burst-{}-{n}", uuid::Uuid::new_v4().simple());
        let body = recent_json(&id, "call_completed", &world.phone(n)).to_string();
        // WHEN an upstream retrying after timeouts posts the same event `copies` times at once
        let posts = (0..copies).map(|_| {
            let request = Request::post("/api/v1/case-steps")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .unwrap();
            let router = router.clone();
            tokio::spawn(async move {
                let response = router.oneshot(request).await.unwrap();
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .unwrap();
                (status, serde_json::from_slice::<Value>(&bytes).unwrap())
            })
        });
        let mut outcomes = BTreeMap::new();
        for post in posts.collect::<Vec<_>>() {
            let (status, body) = post.await.unwrap();
            assert_eq!(status, 200, "{body}");
            *outcomes
                .entry(body["outcome"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
        // THEN one survey, one SMS; every other post answers with that survey
        assert_eq!(
            outcomes.get("sent"),
            Some(&1),
            "{copies} posts: {outcomes:?}"
        );
        assert_eq!(outcomes.get("skipped"), Some(&(copies - 1)), "{outcomes:?}");
        let survey = world.survey_of(&id).await.unwrap();
        assert_eq!(survey.state, SurveyState::Sent);
        assert_eq!(survey.attempts, 1);
        assert_eq!(
            world.messages().get(&world.phone(n)),
            Some(&1),
            "{copies} concurrent posts"
        );
    }
    assert_eq!(world.counter("sent").await, 2);
}

async fn an_sqs_batch_delivered_three_times_at_once_sends_each_message_once(h: Harness) {
    let world = World::new(h, SurveyPolicy::default()).await;
    let bodies: Vec<(String, String)> = (0..10)
        .map(|i| {
            let id = format!("evt-sqs-{}-{i}", world.tag);
            let mut v = example_json(&id, "call_completed", &world.phone(i));
            v["debtor"]["debtor_id"] = format!("D-sqs-{i}").into();
            (format!("msg-{i}"), v.to_string())
        })
        .collect();
    let pairs: Vec<(&str, &str)> = bodies
        .iter()
        .map(|(id, b)| (id.as_str(), b.as_str()))
        .collect();
    let batch = lambda_events::sqs(&pairs);
    // WHEN SQS hands the same batch to three instances of send-debtor-surveys at once
    let runs = (0..3).map(|_| {
        let services = world.services.clone();
        let event: SqsEvent = serde_json::from_value(batch.clone()).unwrap();
        tokio::spawn(async move {
            kundpuls::events::case_steps::handle(&services, event, monday()).await
        })
    });
    for run in runs.collect::<Vec<_>>() {
        let response = run.await.unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
    // THEN ten phones got one SMS each
    let messages = world.messages();
    assert_eq!(messages.len(), 10, "{messages:?}");
    assert!(messages.values().all(|n| *n == 1), "{messages:?}");
    assert_eq!(world.counter("sent").await, 10);
}

async fn the_schedule_racing_ingest_sends_nothing_twice(h: Harness) {
    // GIVEN steps from Sunday, scheduled for Monday 09:00, and steps on Monday
    let embedded = matches!(h.backend, Backend::Embedded { .. });
    let n = if embedded { 400 } else { 60 };
    let world = Arc::new(World::new(h, SurveyPolicy::default()).await);
    let sunday = ts("2026-11-22T12:00:00Z");
    let monday_nine = ts("2026-11-23T08:00:00Z");
    let events: Vec<Value> = (0..n)
        .map(|i| {
            let at = if i % 2 == 0 { sunday } else { monday_nine };
            let mut v = dated(
                example_json(
                    &format!("evt-race-{}-{i}", world.tag),
                    "call_completed",
                    &world.phone(i),
                ),
                at,
            );
            v["debtor"]["debtor_id"] = format!("D-race-{i}").into();
            v
        })
        .collect();
    for v in events.iter().step_by(2) {
        let outcome = world
            .services
            .handle_case_step(&event(v), sunday)
            .await
            .unwrap();
        assert!(
            matches!(outcome, StepOutcome::Scheduled { .. }),
            "{outcome:?}"
        );
    }
    // WHEN on Monday four ingest tasks each post every event (replays of Sunday's
    // included) while the schedule ticks every 10 ms
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let (world, done) = (world.clone(), done.clone());
        tokio::spawn(async move {
            let mut ticks = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) && ticks < 5000 {
                world.services.run_schedule(monday_nine).await.unwrap();
                ticks += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            ticks
        })
    };
    let ingest = (0..4).map(|t| {
        let (world, events) = (world.clone(), events.clone());
        tokio::spawn(async move {
            let order: Vec<&Value> = if t % 2 == 0 {
                events.iter().collect()
            } else {
                events.iter().rev().collect()
            };
            for v in order {
                world
                    .services
                    .handle_case_step(&event(v), monday_nine)
                    .await
                    .unwrap();
            }
        })
    });
    for task in ingest.collect::<Vec<_>>() {
        task.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let ticks = ticker.await.unwrap();
    world.services.run_schedule(monday_nine).await.unwrap();
    // THEN every debtor got exactly one SMS
    let messages = world.messages();
    let twice: Vec<_> = messages.iter().filter(|(_, n)| **n > 1).collect();
    println!(
        "{n} events, {ticks} ticks during ingest: {} phones reached, {} twice",
        messages.len(),
        twice.len()
    );
    assert!(twice.is_empty(), "{twice:?}");
    assert_eq!(messages.len(), n);
    assert_eq!(world.counter("sent").await, n as u64);
}

async fn every_accepted_flag_spelling_and_any_unknown_flag_block_the_survey(h: Harness) {
    let world = World::new(h, SurveyPolicy::default()).await;
    let spellings = [
        ("VULNERABLE_CUSTOMER", "flagged_vulnerable"),
        ("vulnerable", "flagged_vulnerable"),
        ("Dispute", "flagged_disputed"),
        ("disputed", "flagged_disputed"),
        ("Deceased estate", "flagged_deceased"),
        ("deceased", "flagged_deceased"),
        ("insolvency", "flagged_bankruptcy"),
        ("Bankruptcy", "flagged_bankruptcy"),
        ("no-survey", "flagged_no_survey"),
        ("Do not contact", "flagged_no_survey"),
        ("needs_interpreter", "flagged_unknown"),
        ("VIP", "flagged_unknown"),
    ];
    for (i, (flag, reason)) in spellings.iter().enumerate() {
        let mut v = example_json(
            &format!("evt-flag-{}-{i}", world.tag),
            "call_completed",
            &world.phone(i),
        );
        v["debtor"]["debtor_id"] = format!("D-flag-{}-{i}", world.tag).into();
        v["debtor"]["flags"] = serde_json::json!([flag]);
        let outcome = world
            .services
            .handle_case_step(&event(&v), monday())
            .await
            .unwrap();
        assert!(
            matches!(&outcome, StepOutcome::Skipped { reason: r, .. } if r == reason),
            "{flag}: {outcome:?}"
        );
    }
    assert!(world.messages().is_empty());
    assert_eq!(world.counter("skip_flagged_unknown").await, 2);
    assert_eq!(world.counter("skip_flagged_vulnerable").await, 2);
    // AND the reports' skip table shows the unknown flags
    let report = world
        .services
        .report(&kundpuls::app::reports::ReportQuery {
            kind: SurveyKind::Csat,
            group_by: kundpuls::app::reports::GroupBy::Dimension(Dimension::Client),
            from: kundpuls::domain::reports::Month::parse("2026-11").unwrap(),
            to: kundpuls::domain::reports::Month::parse("2026-11").unwrap(),
            team: None,
            filter: None,
        })
        .await
        .unwrap();
    assert_eq!(
        report.total.skipped.get("flagged_unknown"),
        Some(&2),
        "{:?}",
        report.total.skipped
    );
}

async fn stale_and_future_steps_are_not_surveyed(h: Harness) {
    let world = World::new(h, SurveyPolicy::default()).await;
    let old = dated(
        example_json(
            &format!("evt-old-{}", world.tag),
            "call_completed",
            &world.phone(1),
        ),
        monday() - SignedDuration::from_hours(73),
    );
    let outcome = world
        .services
        .handle_case_step(&event(&old), monday())
        .await
        .unwrap();
    assert!(
        matches!(&outcome, StepOutcome::Skipped { reason, .. } if reason == "stale_event"),
        "{outcome:?}"
    );
    let ahead = dated(
        example_json(
            &format!("evt-ahead-{}", world.tag),
            "call_completed",
            &world.phone(2),
        ),
        monday() + SignedDuration::from_mins(11),
    );
    // At the edge the event is refused, naming the field.
    let refused = kundpuls::domain::case_step::CaseStepEvent::from_json_at(
        ahead.to_string().as_bytes(),
        monday(),
    )
    .unwrap_err();
    assert_eq!(refused.0[0].field, "occurred_at");
    // And should it get past the edge, it is not surveyed.
    let outcome = world
        .services
        .handle_case_step(&event(&ahead), monday())
        .await
        .unwrap();
    assert!(
        matches!(&outcome, StepOutcome::Skipped { reason, .. } if reason == "invalid_event"),
        "{outcome:?}"
    );
    // Five minutes ahead is clock skew, not an error.
    let skewed = dated(
        example_json(
            &format!("evt-skew-{}", world.tag),
            "call_completed",
            &world.phone(3),
        ),
        monday() + SignedDuration::from_mins(5),
    );
    let outcome = world
        .services
        .handle_case_step(&event(&skewed), monday())
        .await
        .unwrap();
    assert!(matches!(outcome, StepOutcome::Sent { .. }), "{outcome:?}");
    assert_eq!(world.counter("skip_stale_event").await, 1);
    assert_eq!(world.messages().len(), 1);
}

async fn a_replay_after_opt_out_sends_nothing(h: Harness) {
    // GIVEN a Sunday step, scheduled for Monday 09:00
    let world = World::new(h, SurveyPolicy::default()).await;
    let sunday = ts("2026-11-22T12:00:00Z");
    let v = dated(
        example_json(
            &format!("evt-opt-{}", world.tag),
            "call_completed",
            &world.phone(1),
        ),
        sunday,
    );
    let first = world
        .services
        .handle_case_step(&event(&v), sunday)
        .await
        .unwrap();
    assert!(matches!(first, StepOutcome::Scheduled { .. }), "{first:?}");
    // WHEN the debtor opts out (through an earlier survey's link) and the event is replayed on Monday
    let contact = app::keyer().key_for(&Recipient::Sms(
        PhoneNumber::parse(&world.phone(1)).unwrap(),
    ));
    world.h.store.opt_out(&contact, sunday).await.unwrap();
    let replay = world
        .services
        .handle_case_step(&event(&v), monday())
        .await
        .unwrap();
    // THEN nothing is sent, now or by the schedule
    assert!(
        matches!(&replay, StepOutcome::Failed { reason, .. } if reason == "opted_out"),
        "{replay:?}"
    );
    world.services.run_schedule(monday()).await.unwrap();
    assert!(world.messages().is_empty());
    let survey = world
        .survey_of(&format!("evt-opt-{}", world.tag))
        .await
        .unwrap();
    assert_eq!(survey.state, SurveyState::Failed);
    assert_eq!(survey.recipient, None);
    assert_eq!(world.counter("skip_opted_out").await, 1);
}

async fn a_later_flagged_step_cancels_the_surveys_not_yet_sent(h: Harness) {
    let world = World::new(h, SurveyPolicy::default()).await;
    let sunday = ts("2026-11-22T12:00:00Z");
    let debtor = format!("D-later-{}", world.tag);
    let call = {
        let mut v = dated(
            example_json(
                &format!("evt-call-{}", world.tag),
                "call_completed",
                &world.phone(1),
            ),
            sunday,
        );
        v["debtor"]["debtor_id"] = debtor.clone().into();
        v
    };
    assert!(matches!(
        world
            .services
            .handle_case_step(&event(&call), sunday)
            .await
            .unwrap(),
        StepOutcome::Scheduled { .. }
    ));
    // WHEN a later step of the same debtor (not itself surveyed) says they are deceased
    let mut later = dated(
        example_json(
            &format!("evt-paid-{}", world.tag),
            "payment_received",
            &world.phone(1),
        ),
        sunday + SignedDuration::from_hours(1),
    );
    later["debtor"]["debtor_id"] = debtor.clone().into();
    later["debtor"]["flags"] = serde_json::json!(["deceased"]);
    let outcome = world
        .services
        .handle_case_step(&event(&later), sunday + SignedDuration::from_hours(1))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, StepOutcome::Skipped { reason, .. } if reason == "flagged_deceased"),
        "{outcome:?}"
    );
    // THEN the waiting survey is cancelled, and Monday's schedule sends nothing
    let survey = world
        .survey_of(&format!("evt-call-{}", world.tag))
        .await
        .unwrap();
    assert_eq!(
        (survey.state, survey.failure.as_deref()),
        (SurveyState::Failed, Some("cancelled_flagged"))
    );
    world.services.run_schedule(monday()).await.unwrap();
    // AND a late delivery of an even earlier step of theirs is not surveyed either
    let mut earlier = dated(
        example_json(
            &format!("evt-early-{}", world.tag),
            "reminder_sent",
            &world.phone(2),
        ),
        sunday - SignedDuration::from_hours(1),
    );
    earlier["debtor"]["debtor_id"] = debtor.into();
    let outcome = world
        .services
        .handle_case_step(&event(&earlier), monday())
        .await
        .unwrap();
    assert!(
        matches!(&outcome, StepOutcome::Skipped { reason, .. } if reason == "cancelled_flagged"),
        "{outcome:?}"
    );
    assert!(world.messages().is_empty());
    assert_eq!(world.counter("skip_cancelled_flagged").await, 2);
}

/// A notifier that hands the message to the real channel and then reports
/// `error` (an SMS provider that took the message and then timed out).
struct AcceptsThen {
    inner: Arc<dyn Notifier>,
    error: fn() -> SendError,
}

#[async_trait::async_trait]
impl Notifier for AcceptsThen {
    async fn send(&self, message: &kundpuls::ports::OutboundMessage) -> Result<(), SendError> {
        self.inner.send(message).await?;
        Err((self.error)())
    }
}

/// Refuses every message before it is taken (throttling).
struct Throttled;

#[async_trait::async_trait]
impl Notifier for Throttled {
    async fn send(&self, _message: &kundpuls::ports::OutboundMessage) -> Result<(), SendError> {
        Err(SendError::NotSent("Throttling (test)".into()))
    }
}

async fn an_unknown_outcome_is_never_sent_again(mut_h: Harness) {
    let mut world = World::new(mut_h, SurveyPolicy::default()).await;
    world.services.sms = Arc::new(AcceptsThen {
        inner: world.services.sms.clone(),
        error: || SendError::Unknown("timed out after the request was written".into()),
    });
    let id = format!("evt-unknown-{}", world.tag);
    let v = example_json(&id, "call_completed", &world.phone(1));
    let outcome = world
        .services
        .handle_case_step(&event(&v), monday())
        .await
        .unwrap();
    assert!(
        matches!(outcome, StepOutcome::SendUnknown { .. }),
        "{outcome:?}"
    );
    // WHEN the schedule ticks every minute for two hours and the event is replayed
    for minute in 0..120 {
        let at = monday() + SignedDuration::from_mins(minute);
        world.services.run_schedule(at).await.unwrap();
        if minute % 30 == 0 {
            world
                .services
                .handle_case_step(&event(&v), at)
                .await
                .unwrap();
        }
    }
    // THEN the one message the channel took is the only one
    assert_eq!(world.messages().get(&world.phone(1)), Some(&1));
    let survey = world.survey_of(&id).await.unwrap();
    assert_eq!(
        (survey.state, survey.attempts),
        (SurveyState::SendUnknown, 1)
    );
    assert_eq!(survey.recipient, None);
    assert_eq!(world.counter("skip_send_unknown").await, 1);
    assert_eq!(world.counter("sent").await, 0);
}

async fn a_send_not_taken_is_retried_with_back_off_inside_the_hours_and_then_given_up(h: Harness) {
    let mut world = World::new(h, SurveyPolicy::default()).await;
    let real = world.services.sms.clone();
    world.services.sms = Arc::new(Throttled);
    // GIVEN a step at 19:58 local on Monday; the provider throttles
    let evening = ts("2026-11-23T18:58:00Z");
    let id = format!("evt-throttle-{}", world.tag);
    let v = dated(
        example_json(&id, "call_completed", &world.phone(1)),
        evening,
    );
    let outcome = world
        .services
        .handle_case_step(&event(&v), evening)
        .await
        .unwrap();
    let StepOutcome::Retrying { retry_at, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(retry_at, evening + SignedDuration::from_mins(1));
    // WHEN the schedule ticks at 19:59 (throttled again: next try in 5 minutes) and
    // at 20:04, after the sending hours
    let second = world.services.run_schedule(retry_at).await.unwrap();
    assert_eq!(second.retrying, 1);
    let after_hours = retry_at + SignedDuration::from_mins(5);
    world.services.sms = real;
    let third = world.services.run_schedule(after_hours).await.unwrap();
    // THEN it waits for Tuesday 09:00 local without using an attempt, and is sent then
    assert_eq!((third.waiting, third.sent), (1, 0));
    let survey = world.survey_of(&id).await.unwrap();
    let tuesday = ts("2026-11-24T08:00:00Z");
    assert_eq!(
        (survey.state, survey.attempts, survey.send_at),
        (SurveyState::Scheduled, 2, Some(tuesday))
    );
    assert!(world.messages().is_empty());
    // A third refusal gives up: three attempts is the policy's maximum.
    world.services.sms = Arc::new(Throttled);
    let last = world.services.run_schedule(tuesday).await.unwrap();
    assert_eq!(last.failed, 1);
    let survey = world.survey_of(&id).await.unwrap();
    assert_eq!(
        (survey.state, survey.failure.as_deref()),
        (SurveyState::Failed, Some("send_attempts_exhausted"))
    );
    assert_eq!(world.counter("failed_send_attempts_exhausted").await, 1);
    assert!(world.messages().is_empty());
}

async fn a_claim_that_runs_out_is_recorded_as_send_unknown_and_never_sent(h: Harness) {
    // GIVEN a survey claimed by a sender that then died (its Lambda timed out)
    let world = World::new(h, SurveyPolicy::default()).await;
    let (mut new, _) =
        kundpuls_tests::fixtures::csat_survey(&format!("evt-lapse-{}", world.tag), 1);
    new.recipient = Recipient::Sms(PhoneNumber::parse(&world.phone(1)).unwrap());
    new.created_at = monday();
    new.expires_at = monday() + SignedDuration::from_hours(24 * 7);
    new.event_at = Some(monday());
    new.subject.country = Some(Country::parse("SE").unwrap());
    let lease = world.services.config.policy.send_lease();
    new.claim = Some(Claim::new(monday() + lease));
    let survey = match world.h.store.create(new, None).await.unwrap() {
        CreateOutcome::Created(s) => s,
        other => panic!("{other:?}"),
    };
    // WHEN the schedule ticks while the claim holds, and after it ran out
    let during = world
        .services
        .run_schedule(monday() + lease - SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        (during.sent, during.send_unknown),
        (0, 0),
        "invisible while claimed"
    );
    let after = world.services.run_schedule(monday() + lease).await.unwrap();
    let again = world
        .services
        .run_schedule(monday() + lease + SignedDuration::from_mins(1))
        .await
        .unwrap();
    // THEN it is send_unknown once, counted once, and no message goes out
    assert_eq!((after.send_unknown, again.send_unknown), (1, 0));
    let stored = world.h.store.get(&survey.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.failure.as_deref()),
        (SurveyState::SendUnknown, Some(LEASE_LAPSED))
    );
    assert_eq!(stored.recipient, None);
    assert_eq!(world.counter("skip_send_unknown").await, 1);
    assert!(world.messages().is_empty());
}

/// A creditor contact of this test whose yearly wave is November.
fn november_contact(world: &World) -> kundpuls::domain::creditor::CreditorContact {
    (0..)
        .map(|i| {
            kundpuls::domain::creditor::CreditorContact::parse(
                kundpuls::domain::creditor::CreditorContactInput {
                    client_id: Some("acme-energy".into()),
                    contact_id: Some(format!("c-{}-{i}", world.tag)),
                    email: Some(format!(
                        "contact-{}-{i}-{}@acme.example",
                        world.tag,
                        uuid::Uuid::new_v4().simple()
                    )),
                    name: Some("Karin".into()),
                    language: Some("sv".into()),
                    industry: Some("energy".into()),
                    account_manager: Some("Anna Lind".into()),
                    ..Default::default()
                },
            )
            .unwrap()
        })
        .find(|c| c.wave_month() == 11)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_nps_email_that_ses_took_but_answered_500_is_never_sent_again() {
    // GIVEN SES on moto, whose answer to every SendEmail is replaced by a 500 after
    // moto has carried it out (the message went out; the caller cannot know)
    let h = Harness::dynamodb().await;
    let mut world = World::new(h, SurveyPolicy::default()).await;
    let Backend::Dynamo { sdk, .. } = &world.h.backend else {
        unreachable!()
    };
    let from = format!(
        "survey-{}@nordkredit.example",
        uuid::Uuid::new_v4().simple()
    );
    let clean = kundpuls::adapters::ses::client(sdk);
    clean
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .unwrap();
    let faults = kundpuls_tests::faults::SdkFaults::of_kind(
        1,
        100,
        kundpuls_tests::faults::FaultKind::AfterSend,
        Protocol::RestJson,
    );
    let ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&kundpuls::adapters::aws::without_retries(sdk))
            .interceptor(faults.clone())
            .build(),
    );
    world.services.email = Arc::new(kundpuls::adapters::ses::SesEmail::new(
        ses,
        "Nordkredit AB",
        &from,
        None,
    ));
    let contact = november_contact(&world);
    world.h.store.upsert_creditor(&contact).await.unwrap();
    // WHEN the month's wave runs, and the schedule ticks every minute for an hour,
    // then on the following days (when the reminder would be due)
    let first = world.services.run_schedule(monday()).await.unwrap();
    assert_eq!(
        (first.nps_created, first.sent, first.send_unknown),
        (1, 0, 0),
        "{first:?}"
    );
    for minute in 1..=60 {
        world
            .services
            .run_schedule(monday() + SignedDuration::from_mins(minute))
            .await
            .unwrap();
    }
    for day in 1..=7 {
        world
            .services
            .run_schedule(monday() + SignedDuration::from_hours(24 * day))
            .await
            .unwrap();
    }
    // THEN moto holds exactly one email to the contact, and the survey is send_unknown
    assert_eq!(moto::emails_to(contact.email.as_str()).len(), 1);
    let survey = world
        .h
        .clean_store()
        .get(&SurveyId::for_idempotency_key(
            &kundpuls::app::schedule::nps_idempotency_key(&contact, monday()),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (survey.state, survey.attempts),
        (SurveyState::SendUnknown, 1)
    );
    assert_eq!(
        faults
            .counts
            .failed_after_send
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

// ---------------------------------------------------------------------------------
// The fault run: the case-step → send → schedule chain under injected faults.

/// Where each event ended, and what people received.
#[derive(Debug, Default)]
struct Ledger {
    states: BTreeMap<String, usize>,
    events: usize,
    deliveries: usize,
    phones_twice: usize,
    outside_hours: usize,
    dlq: usize,
}

impl Ledger {
    fn print(&self, title: &str) {
        println!("\n{title}");
        println!("  {:<40} {:>6}", "final state", "events");
        for (state, n) in &self.states {
            println!("  {state:<40} {n:>6}");
        }
        println!("  {:<40} {:>6}", "total", self.events);
        println!(
            "  messages delivered                       {:>6}",
            self.deliveries
        );
        println!(
            "  phones that got two or more              {:>6}",
            self.phones_twice
        );
        println!(
            "  calls to the channel outside the hours   {:>6}",
            self.outside_hours
        );
        println!("  events in the DLQ (5 receives)           {:>6}", self.dlq);
    }
}

/// Runs `n` events through the SQS handler in batches of ten (failed records are
/// redelivered; the fifth failure sends one to the DLQ) from Monday 19:50 local, with
/// the schedule ticking each simulated minute until 21:30 local and again on Tuesday
/// morning, then accounts for every event.
async fn fault_run(world: &World, notifier: &FaultyNotifier, clock: &SimClock, n: usize) -> Ledger {
    // 19:50 local: the sending hours end ten minutes in, so later steps and retries
    // wait for Tuesday 09:00.
    let start = ts("2026-11-23T18:50:00Z");
    let mut flagged = 0u64;
    let mut stale = 0u64;
    let mut queue: std::collections::VecDeque<(String, String, u32)> = (0..n)
        .map(|i| {
            let id = format!("evt-chaos-{}-{i}", world.tag);
            let at = start + SignedDuration::from_secs(i as i64);
            let mut v = dated(example_json(&id, "call_completed", &world.phone(i)), at);
            v["debtor"]["debtor_id"] = format!("D-chaos-{}-{i}", world.tag).into();
            if i % 50 == 7 {
                v["debtor"]["flags"] = serde_json::json!(["Vulnerable customer"]);
                flagged += 1;
            } else if i % 97 == 3 {
                v["occurred_at"] = (at - SignedDuration::from_hours(80)).to_string().into();
                stale += 1;
            }
            (format!("msg-{i}"), v.to_string(), 0)
        })
        .collect();
    let mut dlq = BTreeSet::new();
    let mut now = start;
    let mut batches = 0;
    while !queue.is_empty() {
        let batch: Vec<(String, String, u32)> = (0..10).filter_map(|_| queue.pop_front()).collect();
        let pairs: Vec<(&str, &str)> = batch
            .iter()
            .map(|(m, b, _)| (m.as_str(), b.as_str()))
            .collect();
        let event: SqsEvent = serde_json::from_value(lambda_events::sqs(&pairs)).unwrap();
        clock.set(now);
        let response = kundpuls::events::case_steps::handle(&world.services, event, now).await;
        let failed: BTreeSet<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        for (msg, body, receives) in batch {
            if failed.contains(&msg) {
                if receives + 1 >= 5 {
                    dlq.insert(msg);
                } else {
                    queue.push_back((msg, body, receives + 1));
                }
            }
        }
        batches += 1;
        now += SignedDuration::from_secs(10);
        if batches % 6 == 0 {
            clock.set(now);
            tick(world, now).await;
        }
    }
    // The schedule every minute until 21:30 local, then Tuesday 08:55–10:00 local.
    let evening_end = ts("2026-11-23T20:30:00Z");
    while now < evening_end {
        now += SignedDuration::from_mins(1);
        clock.set(now);
        tick(world, now).await;
    }
    let mut morning = ts("2026-11-24T07:55:00Z");
    while morning < ts("2026-11-24T09:00:00Z") {
        clock.set(morning);
        tick(world, morning).await;
        morning += SignedDuration::from_mins(1);
    }
    // Account for every event.
    let mut ledger = Ledger {
        events: n,
        dlq: dlq.len(),
        ..Ledger::default()
    };
    for i in 0..n {
        let id = format!("evt-chaos-{}-{i}", world.tag);
        let state = match world.survey_of(&id).await {
            Some(s) => match s.state {
                SurveyState::Failed | SurveyState::SendUnknown => format!(
                    "{}: {}",
                    if s.state == SurveyState::Failed {
                        "failed"
                    } else {
                        "send_unknown"
                    },
                    s.failure.unwrap_or_default()
                ),
                other => serde_json::to_value(other)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
            },
            None if dlq.contains(&format!("msg-{i}")) => "dlq (no survey)".into(),
            None => "skipped (decided, counted)".into(),
        };
        *ledger.states.entry(state).or_insert(0) += 1;
    }
    let messages = world.messages();
    ledger.deliveries = messages.values().sum();
    ledger.phones_twice = messages.values().filter(|n| **n > 1).count();
    let policy = &world.services.config.policy;
    let se = Country::parse("SE").unwrap();
    ledger.outside_hours = notifier
        .deliveries()
        .iter()
        .filter(|d| policy.next_send_time(d.at, se) != Some(d.at))
        .count();
    // What was decided was counted exactly once.
    assert_eq!(world.counter("skip_flagged_vulnerable").await, flagged);
    assert_eq!(world.counter("skip_stale_event").await, stale);
    let sent = ledger.states.get("sent").copied().unwrap_or(0) as u64;
    assert_eq!(world.counter("sent").await, sent, "sent counted once each");
    let unknown: usize = ledger
        .states
        .iter()
        .filter(|(k, _)| k.starts_with("send_unknown"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(world.counter("skip_send_unknown").await, unknown as u64);
    ledger
}

async fn tick(world: &World, now: Timestamp) {
    // A tick that meets a store fault ends early; the next one carries on.
    if let Err(e) = world.services.run_schedule(now).await {
        println!("tick at {now}: {e}");
    }
}

fn assert_ledger(ledger: &Ledger) {
    let accounted: usize = ledger.states.values().sum();
    assert_eq!(
        accounted, ledger.events,
        "every event ends in exactly one state"
    );
    assert_eq!(ledger.phones_twice, 0, "no phone gets two messages");
    assert_eq!(ledger.outside_hours, 0, "no call outside the sending hours");
    assert!(
        !ledger.states.keys().any(|k| k == "sending"),
        "no claim left open: {:?}",
        ledger.states
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_events_through_a_faulty_provider_leave_a_clean_ledger_on_the_embedded_store() {
    let h = Harness::embedded().await;
    let mut world = World::new(h, SurveyPolicy::default()).await;
    let clock = SimClock::new(monday());
    let faults = NotifierFaults {
        throttle: 8,
        accept_then_fail: 6,
        accept_then_time_out: 6,
    };
    let notifier = Arc::new(FaultyNotifier::new(
        world.services.sms.clone(),
        faults,
        11,
        clock.clone(),
    ));
    world.services.sms = notifier.clone();
    let ledger = fault_run(&world, &notifier, &clock, 1000).await;
    ledger.print("fault run, embedded store, provider faults on 20 % of calls (8 % throttled, 6 % accepted then 500, 6 % accepted then timed out)");
    assert_ledger(&ledger);
    assert!(
        notifier
            .throttled
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    assert!(
        ledger
            .states
            .get("send_unknown: send_unknown")
            .is_some_and(|n| *n > 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_through_faulty_dynamodb_and_sns_leave_a_clean_ledger() {
    let dynamo_faults = SdkFaults::new(21, 20, Protocol::Json);
    let h = Harness::dynamodb_with(Some(dynamo_faults.clone())).await;
    let mut world = World::new(h, SurveyPolicy::default()).await;
    let Backend::Dynamo { sdk, .. } = &world.h.backend else {
        unreachable!()
    };
    let sns_faults = SdkFaults::new(22, 20, Protocol::Query);
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&kundpuls::adapters::aws::without_retries(sdk))
            .interceptor(sns_faults.clone())
            .build(),
    );
    let clock = SimClock::new(monday());
    let none = NotifierFaults {
        throttle: 0,
        accept_then_fail: 0,
        accept_then_time_out: 0,
    };
    let real: Arc<dyn Notifier> = Arc::new(kundpuls::adapters::sns::SnsSms::new(sns, app::SENDER));
    let recorder = Arc::new(FaultyNotifier::new(real, none, 0, clock.clone()));
    world.services.sms = recorder.clone();
    let n: usize = std::env::var("KUNDPULS_FAULT_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let started = std::time::Instant::now();
    let ledger = fault_run(&world, &recorder, &clock, n).await;
    let c = |f: &SdkFaults| {
        use std::sync::atomic::Ordering::Relaxed;
        (
            f.counts.requests.load(Relaxed),
            f.counts.refused_before_send.load(Relaxed),
            f.counts.failed_after_send.load(Relaxed),
        )
    };
    ledger.print(&format!(
        "fault run, DynamoDB and SNS on moto, 20 % of requests faulted, {n} events in {:.0?}\n  DynamoDB requests/refused before send/500 after send: {:?}\n  SNS requests/refused before send/500 after send: {:?}",
        started.elapsed(),
        c(&dynamo_faults),
        c(&sns_faults)
    ));
    assert_ledger(&ledger);
}
