//! Full respondent flows per second against `kundpuls serve` (release build, embedded
//! store, loopback): `GET /s/{token}` then `POST` the answer, a fresh token each,
//! at concurrency 16 and 64. Prints throughput, p50/p99 latency and page size.
//! Bounded: a fixed number of flows per run and a time limit; then it stops.
//!
//! `cargo bench -p kundpuls-cli --bench flows`
//!
//! Every answer is durably committed before its response (the store commits each
//! write transaction to disk). The load client submits at once, so the answers are
//! flagged "too fast" (suspect) — the same write path as any answer. After the runs
//! it prints the suspect share per channel from the reports API, once routing has
//! counted every answer: the share a machine submitting at once should get (all).

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kundpuls");
const FLOWS_PER_RUN: usize = 8_000;
const TIME_LIMIT: Duration = Duration::from_secs(60);

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(128)
        .build()
        .into()
}

/// Creates `n` sent surveys through the API; returns their links from the outbox.
fn token(data_dir: &std::path::Path, role: &str) -> String {
    String::from_utf8(
        Command::new(BIN)
            .args([
                "token",
                "--data-dir",
                data_dir.to_str().expect("utf-8 path"),
                "--user",
                "bench",
                "--role",
                role,
            ])
            .output()
            .expect("token")
            .stdout,
    )
    .expect("utf-8")
    .trim()
    .to_string()
}

/// The suspect share per channel of this month's CSAT answers, once routing has
/// counted `expected` submissions (waits at most 60 s).
fn suspect_shares(url: &str, data_dir: &std::path::Path, expected: u64) {
    let token = token(data_dir, "admin");
    let agent = agent();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = agent
            .get(&format!("{url}/api/v1/reports/csat?group_by=channel"))
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .expect("report")
            .body_mut()
            .read_to_string()
            .expect("report");
        let report: Value = serde_json::from_str(&body).expect("report JSON");
        let rows = report["rows"].as_array().cloned().unwrap_or_default();
        let counted: u64 = rows
            .iter()
            .map(|r| r["n"].as_u64().unwrap_or(0) + r["suspect"].as_u64().unwrap_or(0))
            .sum();
        if counted >= expected || Instant::now() > deadline {
            for r in &rows {
                println!(
                    "suspect share, channel {}: {:.1} % ({} of {} submissions held as suspect)",
                    r["key"].as_str().unwrap_or("?"),
                    r["suspect_share"].as_f64().unwrap_or(0.0) * 100.0,
                    r["suspect"],
                    r["n"].as_u64().unwrap_or(0) + r["suspect"].as_u64().unwrap_or(0),
                );
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn prepare(url: &str, data_dir: &std::path::Path, n: usize, offset: usize) -> Vec<String> {
    let token = token(data_dir, "system");
    let agent = agent();
    // The ingest API takes at most `MAX_EVENTS` events per request.
    let batch = kundpuls::web::ingest::MAX_EVENTS;
    for chunk_start in (0..n).step_by(batch) {
        let events: Vec<Value> = (chunk_start..(chunk_start + batch).min(n))
            .map(|i| {
                let i = i + offset;
                let language = ["sv", "pl", "en"][i % 3];
                json!({
                    "event_id": format!("bench-{i}"), "occurred_at": jiff::Timestamp::now().to_string(), "case_id": format!("C-{i}"),
                    "client_id": "acme-energy", "step": "call_completed", "handler_id": "h-anna", "team": "energy",
                    "debtor": {"debtor_id": format!("D-{i}"), "phone": format!("+4673{i:07}"), "language": language, "country": "SE", "flags": []}
                })
            })
            .collect();
        let status = agent
            .post(&format!("{url}/api/v1/case-steps"))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/json")
            .send(Value::Array(events).to_string())
            .expect("post events")
            .status();
        assert_eq!(status.as_u16(), 200);
    }
    let outbox = std::fs::read_to_string(data_dir.join("outbox.jsonl")).expect("outbox");
    outbox
        .lines()
        .skip(offset)
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["link"]
                .as_str()
                .expect("link")
                .to_string()
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs the flows; returns how many completed.
fn run(links: Vec<String>, concurrency: usize) -> usize {
    let queue = Arc::new(Mutex::new(links));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let page_bytes = Arc::new(Mutex::new(0usize));
    let failures = Arc::new(Mutex::new(0usize));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, latencies, page_bytes, failures) = (
                queue.clone(),
                latencies.clone(),
                page_bytes.clone(),
                failures.clone(),
            );
            std::thread::spawn(move || {
                let agent = agent();
                loop {
                    if start.elapsed() > TIME_LIMIT {
                        return;
                    }
                    let Some(link) = queue.lock().expect("queue").pop() else {
                        return;
                    };
                    let t = Instant::now();
                    let mut page = agent.get(&link).call().expect("GET");
                    let html = page.body_mut().read_to_string().expect("page");
                    *page_bytes.lock().expect("bytes") = html.len();
                    let stamp = html
                        .split("name=\"stamp\" value=\"")
                        .nth(1)
                        .and_then(|s| s.split('"').next())
                        .unwrap_or_default()
                        .to_string();
                    let host = link.split('/').nth(2).unwrap_or_default().to_string();
                    let mut reply = agent
                        .post(&link)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("origin", &format!("http://{host}"))
                        .send(format!("stamp={stamp}&score=4&fcr=yes&comment=Bra"))
                        .expect("POST");
                    let ok = reply.status().as_u16() == 200
                        && reply
                            .body_mut()
                            .read_to_string()
                            .is_ok_and(|b| !b.contains("<form method=\"post\" novalidate>"));
                    if !ok {
                        *failures.lock().expect("failures") += 1;
                    }
                    latencies.lock().expect("latencies").push(t.elapsed());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let secs = start.elapsed().as_secs_f64();
    let mut l = latencies.lock().expect("latencies").clone();
    l.sort();
    println!(
        "concurrency {concurrency:>3}: {:>6} flows in {secs:5.2} s = {:>6.0} flows/s; flow latency p50 {:>6.1} ms, p99 {:>6.1} ms; {} failed; page {} bytes",
        l.len(),
        l.len() as f64 / secs,
        percentile(&l, 0.50).as_secs_f64() * 1000.0,
        percentile(&l, 0.99).as_secs_f64() * 1000.0,
        failures.lock().expect("failures"),
        page_bytes.lock().expect("bytes"),
    );
    l.len()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(BIN)
            .args([
                "serve",
                "--data-dir",
                dir.path().to_str().expect("utf-8"),
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--ignore-send-windows",
                "--tick-seconds",
                "3600",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("kundpuls serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{url}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "kundpuls respondent flows, {} cores, release build, loopback",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let mut flows = 0;
    for (i, concurrency) in [16, 64].into_iter().enumerate() {
        let t = Instant::now();
        let links = prepare(&url, dir.path(), FLOWS_PER_RUN, i * FLOWS_PER_RUN);
        println!(
            "prepared {} surveys in {:.1} s",
            links.len(),
            t.elapsed().as_secs_f64()
        );
        flows += run(links, concurrency);
    }
    suspect_shares(&url, dir.path(), flows as u64);
}
