//! The month's NPS wave always finishes: a pass walks the month's contacts a page
//! at a time, saves where it stands after each page, and stops when the tick's
//! budget runs out; the next tick resumes there. Proven with a simulated month of
//! 20,000 contacts on the embedded store (a fake clock, a budget per tick, a tick
//! that fails in the middle, last month's unfinished pass rolled over) and a few
//! hundred contacts on DynamoDB (moto) with the requests per contact counted.

#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use kundpuls::app::Services;
use kundpuls::app::schedule::TickBudget;
use kundpuls::domain::contact::ContactKey;
use kundpuls::domain::creditor::{CreditorContact, CreditorContactInput};
use kundpuls::domain::ids::{ClientId, ContactId};
use kundpuls::domain::survey::SurveyKind;
use kundpuls::domain::wave::WaveProgress;
use kundpuls::ports::{ContactStore, Page, PageRequest, StoreError};
use kundpuls_tests::journey::{always, paced};
use kundpuls_tests::{Backend, Harness, app};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn contact(i: usize) -> CreditorContact {
    CreditorContact::parse(CreditorContactInput {
        client_id: Some(format!("client-{}", i % 40)),
        contact_id: Some(format!("c-{i}")),
        email: Some(format!("contact{i}@acme.example")),
        name: Some("Karin".into()),
        industry: Some("energy".into()),
        ..Default::default()
    })
    .unwrap()
}

/// Stores `n` contacts, sixteen writers at a time; returns those of `month`'s wave.
async fn store_contacts(store: Arc<dyn ContactStore>, n: usize, month: u8) -> Vec<String> {
    store_some(store, n, |_| true).await;
    wave_of(n, month)
}

/// Stores those of contacts `0..n` that `keep` accepts, sixteen writers at a time.
async fn store_some(store: Arc<dyn ContactStore>, n: usize, keep: fn(&CreditorContact) -> bool) {
    let mut tasks = Vec::new();
    for t in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in (t..n).step_by(16) {
                let c = contact(i);
                if keep(&c) {
                    store.upsert_creditor(&c).await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// The addresses of `month`'s wave among contacts `0..n`.
fn wave_of(n: usize, month: u8) -> Vec<String> {
    (0..n)
        .map(contact)
        .filter(|c| c.wave_month() == month)
        .map(|c| c.email.as_str().to_string())
        .collect()
}

/// NPS emails in the outbox, by address.
fn emails(h: &Harness) -> BTreeMap<String, usize> {
    let Backend::Embedded { dir, .. } = &h.backend else {
        unreachable!()
    };
    let mut out = BTreeMap::new();
    for line in kundpuls::adapters::outbox::read_outbox(&dir.path().join("outbox.jsonl")).unwrap() {
        if line.channel == "email" {
            *out.entry(line.to).or_insert(0) += 1;
        }
    }
    out
}

/// A contact store whose listing of the wave fails once, at the `fail_at`-th call.
struct FailsOnce {
    inner: Arc<dyn ContactStore>,
    calls: AtomicUsize,
    fail_at: usize,
}

#[async_trait]
impl ContactStore for FailsOnce {
    async fn opt_out(&self, c: &ContactKey, at: Timestamp) -> Result<(), StoreError> {
        self.inner.opt_out(c, at).await
    }
    async fn opt_in(&self, c: &ContactKey) -> Result<(), StoreError> {
        self.inner.opt_in(c).await
    }
    async fn opted_out_at(&self, c: &ContactKey) -> Result<Option<Timestamp>, StoreError> {
        self.inner.opted_out_at(c).await
    }
    async fn suppress(&self, c: &ContactKey, at: Timestamp) -> Result<(), StoreError> {
        self.inner.suppress(c, at).await
    }
    async fn suppressed_at(&self, c: &ContactKey) -> Result<Option<Timestamp>, StoreError> {
        self.inner.suppressed_at(c).await
    }
    async fn flag_person(&self, p: &ContactKey, at: Timestamp) -> Result<(), StoreError> {
        self.inner.flag_person(p, at).await
    }
    async fn person_flagged_at(&self, p: &ContactKey) -> Result<Option<Timestamp>, StoreError> {
        self.inner.person_flagged_at(p).await
    }
    async fn upsert_creditor(&self, c: &CreditorContact) -> Result<(), StoreError> {
        self.inner.upsert_creditor(c).await
    }
    async fn get_creditor(
        &self,
        client: &ClientId,
        contact: &ContactId,
    ) -> Result<Option<CreditorContact>, StoreError> {
        self.inner.get_creditor(client, contact).await
    }
    async fn creditors_in_wave(
        &self,
        month: u8,
        page: PageRequest,
    ) -> Result<Page<CreditorContact>, StoreError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(StoreError::unavailable("creditors_in_wave", "injected"));
        }
        self.inner.creditors_in_wave(month, page).await
    }
    async fn wave_progress(&self, month: &str) -> Result<Option<WaveProgress>, StoreError> {
        self.inner.wave_progress(month).await
    }
    async fn save_wave_progress(&self, p: &WaveProgress) -> Result<bool, StoreError> {
        self.inner.save_wave_progress(p).await
    }
    async fn creditors_of_person(
        &self,
        p: &ContactKey,
    ) -> Result<Vec<CreditorContact>, StoreError> {
        self.inner.creditors_of_person(p).await
    }
    async fn erase_creditor(
        &self,
        client: &ClientId,
        contact: &ContactId,
    ) -> Result<bool, StoreError> {
        self.inner.erase_creditor(client, contact).await
    }
}

/// Ticks once a minute from `start` until the day's pass is done; the number of
/// ticks, and what each one walked.
async fn tick_until_done(
    services: &Services,
    start: Timestamp,
    budget: usize,
    limit: usize,
) -> (usize, Vec<usize>) {
    let mut walked = Vec::new();
    for n in 0..limit {
        let now = start + SignedDuration::from_mins(n as i64);
        match services
            .run_schedule_within(now, TickBudget::contacts(budget))
            .await
        {
            Ok(report) => {
                walked.push(report.nps_created + report.nps_skipped);
                if !report.wave_paused {
                    return (n + 1, walked);
                }
            }
            // The tick failed in the middle: the next one picks it up.
            Err(_) => walked.push(0),
        }
    }
    panic!("the pass did not finish in {limit} ticks: {walked:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_month_of_twenty_thousand_contacts_is_surveyed_once_each_on_its_first_business_day() {
    let h = Harness::embedded().await;
    let (mut services, _) = app::local(&h, always());
    let Backend::Embedded { store, .. } = &h.backend else {
        unreachable!()
    };
    let wave = store_contacts(Arc::new(store.clone()), 20_000, 11).await;
    assert!(
        wave.len() > 1_500,
        "{} contacts in November's wave",
        wave.len()
    );
    // The third listing call of the day fails (a storage fault in the middle of a
    // tick).
    services.contacts = Arc::new(FailsOnce {
        inner: Arc::new(store.clone()),
        calls: AtomicUsize::new(0),
        fail_at: 3,
    });
    // Monday 2 November 2026, 09:00 in Stockholm; 250 contacts per tick.
    let first_day = ts("2026-11-02T08:00:00Z");
    let (ticks, walked) = tick_until_done(&services, first_day, 250, 60).await;
    println!(
        "{} contacts in the wave, done in {ticks} ticks: {walked:?}",
        wave.len()
    );
    assert!(walked.contains(&0), "one tick failed: {walked:?}");

    // Every contact of the wave got exactly one email; nobody else got one.
    let sent = emails(&h);
    assert_eq!(sent.len(), wave.len());
    assert!(sent.values().all(|&n| n == 1));
    assert!(wave.iter().all(|e| sent.contains_key(e)));
    let progress = store.wave_progress("2026-11").await.unwrap().unwrap();
    assert!(progress.done);
    assert_eq!(progress.created as usize, wave.len());

    // The same day's later ticks walk nobody; the next day's pass finds every
    // survey already there and sends nothing more.
    let later = services
        .run_schedule_within(
            first_day + SignedDuration::from_hours(2),
            TickBudget::contacts(250),
        )
        .await
        .unwrap();
    assert_eq!(later.nps_created + later.nps_skipped, 0);
    let (_, next_day) = tick_until_done(&services, ts("2026-11-03T08:00:00Z"), 1_000, 10).await;
    assert_eq!(next_day.iter().sum::<usize>(), wave.len());
    assert_eq!(emails(&h), sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pass_left_unfinished_at_month_end_is_finished_first_next_month_and_counted() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    let Backend::Embedded { store, .. } = &h.backend else {
        unreachable!()
    };
    let november = store_contacts(Arc::new(store.clone()), 1_200, 11).await;
    let december: Vec<_> = (0..1_200)
        .map(contact)
        .filter(|c| c.wave_month() == 12)
        .map(|c| c.email.as_str().to_string())
        .collect();
    // The last tick of November walks 30 contacts and runs out of budget.
    let last = services
        .run_schedule_within(ts("2026-11-30T22:59:00Z"), TickBudget::contacts(30))
        .await
        .unwrap();
    assert!(last.wave_paused);
    assert_eq!(last.nps_created, 30);
    // December's first tick finishes November's pass first, and says so.
    let first = services
        .run_schedule_within(ts("2026-12-01T08:00:00Z"), TickBudget::unlimited())
        .await
        .unwrap();
    assert_eq!(first.nps_rolled_over, november.len() - 30);
    assert!(store.wave_progress("2026-11").await.unwrap().unwrap().done);
    let sent = emails(&h);
    assert_eq!(sent.len(), november.len() + december.len());
    assert!(sent.values().all(|&n| n == 1));
    assert!(
        november
            .iter()
            .chain(&december)
            .all(|e| sent.contains_key(e))
    );
    // And December's own pass ran in the same tick.
    assert!(store.wave_progress("2026-12").await.unwrap().unwrap().done);
}

#[tokio::test]
async fn on_dynamodb_a_wave_resumes_across_ticks_with_a_known_cost_per_contact() {
    let h = Harness::dynamodb().await;
    let from = format!("nps-{}@nordkredit.example", uuid::Uuid::new_v4().simple());
    let mut services = app::aws(&h, paced(), &from).await;
    // Each client's settings are read once for the whole run (in AWS: once per 30 s
    // per instance), so the count below is exact.
    services.clients =
        kundpuls::app::clients::ClientCache::keeping_for(std::time::Duration::from_secs(3600));
    let Backend::Dynamo {
        store, requests, ..
    } = &h.backend
    else {
        unreachable!()
    };
    // Only November's contacts are stored: the emulator answers one request at a
    // time and reads a whole table for every query, so other months' contacts
    // would only slow every other suite sharing it.
    store_some(Arc::new(store.clone()), 2_400, |c| c.wave_month() == 11).await;
    let wave = wave_of(2_400, 11);
    assert!(wave.len() > 150, "{}", wave.len());
    requests.clear();
    let first_day = ts("2026-11-02T08:00:00Z");
    let (ticks, walked) = tick_until_done(&services, first_day, 60, 20).await;
    let total = requests.total();
    let sent: usize = walked.iter().sum();
    assert_eq!(sent, wave.len());
    assert!(ticks > 3, "{ticks} ticks");
    let surveys = h
        .store
        .due(
            kundpuls::ports::WorkList::ToExpire,
            ts("2027-01-01T00:00:00Z"),
            1_000,
        )
        .await
        .unwrap();
    assert_eq!(
        surveys.iter().filter(|s| s.kind == SurveyKind::Nps).count(),
        wave.len()
    );
    // Per contact: the year's survey looked up, opt-out and suppression read, the
    // create, the decision counted, a read before sending, marked sent and counted
    // (see adapters/dynamo/cost.rs); per tick, the work lists, the wave's progress
    // read and each page's listing and save.
    // Each tick here walks one page of 60: three work lists, the alerts due for a
    // retry, last month's and this month's progress, the page and its save.
    println!(
        "{} contacts over {ticks} ticks: {total} requests, {:?}",
        wave.len(),
        requests.by_operation()
    );
    let per_contact = kundpuls::adapters::dynamo::cost::NPS_SEND.requests as usize;
    let clients: std::collections::BTreeSet<String> = (0..2_400)
        .map(contact)
        .filter(|c| c.wave_month() == 11)
        .map(|c| c.client_id.to_string())
        .collect();
    assert_eq!(total, wave.len() * per_contact + ticks * 8 + clients.len());
}
