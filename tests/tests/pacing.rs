//! Sends paced to the account's quota: 1,000 debtor SMS decided sixteen at a time
//! under a limit of 50/s, on fake time (tokio's paused clock, which moves only
//! while every task waits). The provider throttles every hundredth call anyway;
//! those surveys come back on a later schedule tick and go out once.
//!
//! On DynamoDB the per-second count is one conditional `UpdateItem`; the
//! conformance of both stores' `take_send_slot` is checked at the end.

#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use kundpuls::app::case_steps::StepOutcome;
use kundpuls::app::pacing::{PaceClock, Pacing};
use kundpuls::domain::ids::SurveyId;
use kundpuls::domain::policy::SurveyPolicy;
use kundpuls::domain::survey::Channel;
use kundpuls::ports::{Notifier, OutboundMessage, SendError, SendQuota};
use kundpuls_tests::events::{dated, event, example_json};
use kundpuls_tests::{Backend, Harness, app};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

const SENDS: usize = 1_000;
const LIMIT: u32 = 50;

fn start() -> Timestamp {
    // A Monday, 11:00 in Stockholm: inside the sending hours.
    "2026-11-23T10:00:00Z".parse().unwrap()
}

/// Records when each message reached the provider (on the pacer's clock) and
/// throttles every hundredth call, as SNS does when another sender shares the
/// account's quota.
struct Provider {
    inner: Arc<dyn Notifier>,
    clock: PaceClock,
    calls: Mutex<usize>,
    accepted: Mutex<Vec<(Timestamp, SurveyId)>>,
    throttled: Mutex<Vec<SurveyId>>,
}

#[async_trait]
impl Notifier for Provider {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        let at = self.clock.now();
        let call = {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        if call % 100 == 50 {
            self.throttled
                .lock()
                .unwrap()
                .push(message.survey_id.clone());
            return Err(SendError::Throttled("Throttling (provider)".into()));
        }
        self.inner.send(message).await?;
        self.accepted
            .lock()
            .unwrap()
            .push((at, message.survey_id.clone()));
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_thousand_sends_keep_to_fifty_a_second_and_throttled_ones_go_once_later() {
    let h = Harness::embedded().await;
    let Backend::Embedded { store, .. } = &h.backend else {
        unreachable!()
    };
    let policy = SurveyPolicy {
        sms_per_second: Some(LIMIT),
        ..SurveyPolicy::default()
    };
    let (mut services, _outbox) = app::local(&h, policy);
    let clock = PaceClock::tokio_from(start());
    services.pacing = Arc::new(Pacing::with_clock(Arc::new(store.clone()), clock.clone()));
    let provider = Arc::new(Provider {
        inner: services.sms.clone(),
        clock: clock.clone(),
        calls: Mutex::new(0),
        accepted: Mutex::new(Vec::new()),
        throttled: Mutex::new(Vec::new()),
    });
    services.sms = provider.clone();

    // WHEN 1,000 case steps are decided sixteen at a time
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let services = services.clone();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for i in (worker..SENDS).step_by(16) {
                let json = dated(
                    example_json(
                        &format!("evt-pace-{i}"),
                        "call_completed",
                        &format!("+4670{:07}", 1_000_000 + i),
                    ),
                    start() - SignedDuration::from_mins(1),
                );
                let mut json = json;
                json["debtor"]["debtor_id"] = format!("D-{i}").into();
                outcomes.push(
                    services
                        .handle_case_step(&event(&json), start())
                        .await
                        .unwrap(),
                );
            }
            outcomes
        }));
    }
    let mut retrying = BTreeSet::new();
    for t in tasks {
        for outcome in t.await.unwrap() {
            match outcome {
                StepOutcome::Sent { .. } => {}
                StepOutcome::Retrying { survey_id, .. } => {
                    retrying.insert(survey_id);
                }
                other => panic!("every step is surveyed: {other:?}"),
            }
        }
    }
    // THEN the provider throttled ten calls, and those surveys wait for a retry
    let throttled: BTreeSet<SurveyId> =
        provider.throttled.lock().unwrap().iter().cloned().collect();
    assert_eq!(throttled.len(), SENDS / 100);
    assert_eq!(retrying, throttled);

    // WHEN the schedule runs after the retry delay
    let tick = services
        .run_schedule(start() + SignedDuration::from_mins(2))
        .await
        .unwrap();
    assert_eq!(tick.sent, throttled.len(), "{tick:?}");

    // THEN every survey reached the provider once, the throttled ones later
    let accepted = provider.accepted.lock().unwrap().clone();
    let ids: BTreeSet<&SurveyId> = accepted.iter().map(|(_, id)| id).collect();
    assert_eq!((accepted.len(), ids.len()), (SENDS, SENDS));
    let first_retry = accepted
        .iter()
        .position(|(_, id)| throttled.contains(id))
        .unwrap();
    assert_eq!(
        first_retry,
        SENDS - throttled.len(),
        "retries come after the rest"
    );

    // AND no second, calendar or sliding, held more than fifty sends
    let times: Vec<Timestamp> = accepted.iter().map(|(t, _)| *t).collect();
    let mut per_second: BTreeMap<i64, u32> = BTreeMap::new();
    for t in &times {
        *per_second.entry(t.as_second()).or_default() += 1;
    }
    let busiest = per_second.values().max().copied().unwrap();
    assert!(busiest <= LIMIT, "{busiest} in one second");
    let mut sorted = times.clone();
    sorted.sort();
    for w in sorted.windows(LIMIT as usize + 1) {
        assert!(
            w[LIMIT as usize].duration_since(w[0]) >= SignedDuration::from_secs(1),
            "51 sends within a second: {} .. {}",
            w[0],
            w[LIMIT as usize]
        );
    }
    // AND the first thousand calls (throttled ones included) took at least 20 s
    let last_first_pass = accepted[SENDS - throttled.len() - 1].0;
    let elapsed = last_first_pass.duration_since(start());
    println!(
        "pacing: {} sends in {:.2} s of fake time, busiest second {busiest}, {} throttled and sent once later",
        SENDS,
        elapsed.as_secs_f64(),
        throttled.len()
    );
    assert!(
        elapsed
            >= SignedDuration::from_millis(
                ((SENDS - throttled.len()) as i64 * 1000) / i64::from(LIMIT)
            ),
        "{elapsed:?}"
    );
}

/// Both stores count a second's sends the same way: at most `limit`, even when
/// twenty callers ask at once.
async fn slots_are_counted_once_per_second(quota: Arc<dyn SendQuota>) {
    let second = Timestamp::now().as_second();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let quota = quota.clone();
        tasks.push(tokio::spawn(async move {
            quota
                .take_send_slot(Channel::Email, second, 7)
                .await
                .unwrap()
        }));
    }
    let mut taken = 0;
    for t in tasks {
        taken += usize::from(t.await.unwrap());
    }
    assert_eq!(taken, 7);
    // Another second and another channel count apart.
    assert!(
        quota
            .take_send_slot(Channel::Email, second + 1, 7)
            .await
            .unwrap()
    );
    assert!(quota.take_send_slot(Channel::Sms, second, 7).await.unwrap());
}

#[tokio::test]
async fn embedded_store_counts_send_slots() {
    let h = Harness::embedded().await;
    let Backend::Embedded { store, .. } = &h.backend else {
        unreachable!()
    };
    slots_are_counted_once_per_second(Arc::new(store.clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_counts_send_slots() {
    let h = Harness::dynamodb().await;
    let Backend::Dynamo { store, .. } = &h.backend else {
        unreachable!()
    };
    slots_are_counted_once_per_second(Arc::new(store.clone())).await;
}

/// Takes 20 ms of real time per message, like a provider far away.
struct Slow(Arc<dyn Notifier>);

#[async_trait]
impl Notifier for Slow {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.0.send(message).await
    }
}

/// Due sends keep to the tick's time budget like the wave does: a tick stops when
/// its deadline passes, says so, and the next tick sends the rest, each once.
#[tokio::test]
async fn due_sends_stop_at_the_ticks_deadline_and_the_next_tick_goes_on() {
    use kundpuls::app::schedule::TickBudget;
    let h = Harness::embedded().await;
    let (mut services, outbox) = app::local(&h, SurveyPolicy::default());
    services.sms = Arc::new(Slow(services.sms.clone()));
    // 30 steps at 07:00 in Stockholm, before the sending hours: scheduled for 09:00.
    let early: Timestamp = "2026-11-23T06:00:00Z".parse().unwrap();
    for i in 0..30 {
        let mut json = dated(
            example_json(
                &format!("evt-due-{i}"),
                "call_completed",
                &format!("+4670{:07}", 2_000_000 + i),
            ),
            early - SignedDuration::from_mins(1),
        );
        json["debtor"]["debtor_id"] = format!("D-due-{i}").into();
        let outcome = services
            .handle_case_step(&event(&json), early)
            .await
            .unwrap();
        assert!(
            matches!(outcome, StepOutcome::Scheduled { .. }),
            "{outcome:?}"
        );
    }
    let open: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
    // A tick whose time is already up sends nothing and says so.
    let spent = TickBudget {
        deadline: Some(std::time::Instant::now()),
        contacts: None,
    };
    let none = services.run_schedule_within(open, spent).await.unwrap();
    assert_eq!((none.sent, none.out_of_time), (0, true), "{none:?}");
    // Ticks of 150 ms each send part and leave the rest to the next.
    let mut ticks = Vec::new();
    while ticks.iter().sum::<usize>() < 30 && ticks.len() < 50 {
        let budget = TickBudget {
            deadline: Some(std::time::Instant::now() + std::time::Duration::from_millis(150)),
            contacts: None,
        };
        let report = services.run_schedule_within(open, budget).await.unwrap();
        assert!(report.sent > 0, "every tick gets somewhere: {report:?}");
        ticks.push(report.sent);
    }
    assert!(ticks.len() > 1, "one tick could not send all 30: {ticks:?}");
    let lines = kundpuls::adapters::outbox::read_outbox(outbox.path()).unwrap();
    let ids: BTreeSet<&str> = lines.iter().map(|l| l.survey_id.as_str()).collect();
    assert_eq!((lines.len(), ids.len()), (30, 30), "each survey once");
    println!(
        "due sends: 30 in {} ticks of 150 ms: {ticks:?}",
        ticks.len()
    );
}
