//! Report time against the number of answers behind it, on the embedded store:
//! 10,000 answers, then 1,000,000 (12 months, 4 clients, 2 teams, 5 handlers, 4
//! steps), each counted through the same `apply_once` the routing uses. Reports read
//! counters, so their time should stay flat. Prints figures; asserts nothing about
//! speed (these machines are shared and noisy). Bounded by the answer counts.
//!
//! `cargo bench -p kundpuls-tests --bench reports`
//! (`REPORT_BENCH_ANSWERS=10000,100000` to choose the sizes.)

use jiff::Timestamp;
use kundpuls::app::reports::{GroupBy, ReportQuery, report};
use kundpuls::domain::reports::Month;
use kundpuls::domain::stats::{Dimension, answer_effect_id, increments_for_answer};
use kundpuls::domain::survey::SurveyKind;
use kundpuls::ports::StatsStore;
use kundpuls_tests::Harness;
use kundpuls_tests::generated::{self, Lcg};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOADERS: u64 = 64;
const RUNS: usize = 30;

async fn load(stats: Arc<dyn StatsStore>, from: u64, to: u64) {
    let first: Timestamp = "2025-12-02T08:00:00Z".parse().expect("valid");
    let mut tasks = Vec::new();
    for t in 0..LOADERS {
        let stats = stats.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Lcg::new(t + from);
            let mut i = from + t;
            while i < to {
                let a = generated::answer(&mut rng, i, SurveyKind::Csat, first, 12);
                stats
                    .apply_once(&answer_effect_id(&a), &increments_for_answer(&a))
                    .await
                    .expect("counted");
                i += LOADERS;
            }
        }));
    }
    for t in tasks {
        t.await.expect("loader");
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn time_reports(stats: &dyn StatsStore) -> Vec<(String, Duration, Duration, usize)> {
    let month = |s: &str| Month::parse(s).expect("month");
    let queries = [
        (
            "by client, Sep–Nov 2026",
            GroupBy::Dimension(Dimension::Client),
            month("2026-09"),
            month("2026-11"),
            None,
        ),
        (
            "by handler, team energy, Nov 2026",
            GroupBy::Dimension(Dimension::Handler),
            month("2026-11"),
            month("2026-11"),
            Some("energy"),
        ),
        (
            "by month, Dec 2025–Nov 2026",
            GroupBy::Month,
            month("2025-12"),
            month("2026-11"),
            None,
        ),
    ];
    let mut out = Vec::new();
    for (label, group_by, from, to, team) in queries {
        let q = ReportQuery {
            kind: SurveyKind::Csat,
            group_by,
            from,
            to,
            team: team.map(|t| kundpuls::domain::ids::TeamId::parse(t).expect("team")),
            filter: None,
        };
        let mut times = Vec::new();
        let mut reads = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            let r = report(stats, &q).await.expect("report");
            times.push(started.elapsed());
            reads = r.group_reads;
        }
        times.sort();
        out.push((
            label.to_string(),
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            reads,
        ));
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<u64> = std::env::var("REPORT_BENCH_ANSWERS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 1_000_000]);
    let h = Harness::embedded().await;
    let stats: Arc<dyn StatsStore> = h.store.clone();
    let mut loaded = 0;
    println!(
        "report time on the embedded store (release, {RUNS} runs each; CSAT answers over 12 months)"
    );
    for size in sizes {
        let started = Instant::now();
        load(stats.clone(), loaded, size).await;
        let took = started.elapsed();
        println!(
            "\n{size} answers (loaded {} more in {:.1} s, {:.0} answers/s counted)",
            size - loaded,
            took.as_secs_f64(),
            (size - loaded) as f64 / took.as_secs_f64()
        );
        loaded = size;
        for (label, p50, p95, reads) in time_reports(&*stats).await {
            println!(
                "  {label:<36} p50 {:>7.2} ms  p95 {:>7.2} ms  {reads} group reads",
                p50.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3
            );
        }
    }
}
