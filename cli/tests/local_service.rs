//! The `kundpuls` binary as a newcomer uses it: start the server, post the DESIGN.md
//! example, read the outbox; then the link's token finds its survey in the store.

#![allow(clippy::unwrap_used)]

use kundpuls::adapters::embedded::EmbeddedStore;
use kundpuls::adapters::outbox::read_outbox;
use kundpuls::domain::token::SurveyToken;
use kundpuls::ports::SurveyStore;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kundpuls");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &std::path::Path, port: u16, extra: &[&str]) -> Server {
    let child = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if ureq::get(&format!("http://127.0.0.1:{port}/healthz"))
            .call()
            .is_ok()
        {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("kundpuls serve did not answer on port {port}");
}

fn kundpuls(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn posting_the_design_example_puts_one_sms_in_the_outbox_whose_link_finds_the_survey() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = start(dir.path(), port, &["--ignore-send-windows"]);
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/case-step.json");
    let url = format!("http://127.0.0.1:{port}");
    let data_dir = dir.path().to_str().unwrap();
    // Posted twice: the second is a duplicate.
    for _ in 0..2 {
        let (ok, out) = kundpuls(&[
            "emit",
            example,
            "--dated-now",
            "--data-dir",
            data_dir,
            "--url",
            &url,
        ]);
        assert!(ok, "{out}");
    }
    let lines = read_outbox(&dir.path().join("outbox.jsonl")).unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].channel, "sms");
    assert_eq!(lines[0].to, "+46701234567");
    assert!(lines[0].link.starts_with(&format!("{url}/s/")));
    // The outbox page shows it to someone signed in to the console, and to no one
    // else (it holds phone numbers).
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let anonymous = agent.get(&format!("{url}/dev/outbox")).call().unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);
    let (ok, lead) = kundpuls(&[
        "token",
        "--data-dir",
        data_dir,
        "--user",
        "anna",
        "--role",
        "lead",
        "--team",
        "energy",
    ]);
    assert!(ok);
    let page = agent
        .get(&format!("{url}/dev/outbox"))
        .header("cookie", &format!("kp_console={}", lead.trim()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(page.contains("Outbox: 1 message(s)") && page.contains(&lines[0].link));
    // A request that names another host gets nothing, session or not.
    let foreign = agent
        .get(&format!("{url}/dev/outbox"))
        .header("host", "survey.example.com")
        .header("cookie", &format!("kp_console={}", lead.trim()))
        .call()
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 404);
    // Stop the server (abruptly: every committed write must be on disk) and look up
    // the link's token in the store.
    drop(server);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let token = SurveyToken::parse(lines[0].link.rsplit('/').next().unwrap()).unwrap();
    let survey = store.find_by_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(survey.id.to_string(), lines[0].survey_id);
}

#[test]
fn a_request_without_a_token_is_refused_with_json() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = start(dir.path(), port, &[]);
    let mut response = ureq::post(&format!("http://127.0.0.1:{port}/api/v1/case-steps"))
        .header("content-type", "application/json")
        .config()
        .http_status_as_error(false)
        .build()
        .send("{}")
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[test]
fn tokens_for_the_data_dir_are_accepted_and_policy_defaults_print() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let (ok, token) = kundpuls(&[
        "token",
        "--data-dir",
        data_dir,
        "--user",
        "anna",
        "--team",
        "energy",
        "--role",
        "lead",
    ]);
    assert!(ok);
    assert_eq!(token.trim().split('.').count(), 3, "a JWT");
    let (ok, _) = kundpuls(&[
        "token",
        "--data-dir",
        data_dir,
        "--user",
        "anna",
        "--role",
        "lead",
    ]);
    assert!(!ok, "a lead needs a team");
    let (ok, policy) = kundpuls(&["policy", "defaults"]);
    assert!(
        ok && policy.contains("debtor_fatigue_days = 14"),
        "{policy}"
    );
    let (ok, help) = kundpuls(&["serve", "--help"]);
    assert!(ok && help.contains("--ignore-send-windows"));
}

#[test]
fn the_report_command_reads_the_servers_counters() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = start(dir.path(), port, &["--ignore-send-windows"]);
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/case-step.json");
    let url = format!("http://127.0.0.1:{port}");
    let data_dir = dir.path().to_str().unwrap();
    let (ok, out) = kundpuls(&[
        "emit",
        example,
        "--dated-now",
        "--data-dir",
        data_dir,
        "--url",
        &url,
    ]);
    assert!(ok, "{out}");
    // One survey sent to team energy this month, not yet answered.
    let args = [
        "report",
        "csat",
        "--group-by",
        "team",
        "--data-dir",
        data_dir,
        "--url",
        &url,
    ];
    let (ok, csv) = kundpuls(&[&args[..], &["--format", "csv"]].concat());
    assert!(ok, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "team,n,value,margin,top2_share,fcr_rate,response_rate,low_sample,trend,rolling_12,target"
    );
    assert!(lines[1].starts_with("energy,0,—,—,—,—,0.000,"), "{csv}");
    assert!(lines[2].starts_with("total,0,"), "{csv}");
    let (ok, table) = kundpuls(&args);
    assert!(ok && table.starts_with("CSAT by team"), "{table}");
    // A bad month is refused with the reason.
    let out = Command::new(BIN)
        .args([
            "report",
            "nps",
            "--from",
            "2026-13",
            "--data-dir",
            data_dir,
            "--url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("from"));
}

/// A stand-in for the stack's token endpoint (Cognito's `/oauth2/token`): it takes
/// the case system's client credentials and hands out an access token with the
/// scope asked for, signed with the server's key so the server accepts it.
async fn token_endpoint(
    key: kundpuls::web::auth::LocalKey,
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) -> String {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/oauth2/token",
        post(move |headers: HeaderMap, body: String| {
            let key = key.clone();
            let asked = asked.clone();
            async move {
                // base64("case-client:s3cret")
                let good = headers.get("authorization").and_then(|v| v.to_str().ok())
                    == Some("Basic Y2FzZS1jbGllbnQ6czNjcmV0");
                let form: std::collections::HashMap<String, String> = body
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.replace("%2F", "/")))
                    .collect();
                if !good || form.get("grant_type").map(String::as_str) != Some("client_credentials") {
                    return (StatusCode::BAD_REQUEST, r#"{"error":"invalid_client"}"#.to_string());
                }
                let scope = form.get("scope").cloned().unwrap_or_default();
                asked.lock().unwrap().push(scope.clone());
                let token = key
                    .sign_with_scope(
                        "case-client",
                        kundpuls::web::auth::Role::System,
                        &[],
                        Some(&scope),
                        1,
                    )
                    .unwrap();
                (
                    StatusCode::OK,
                    serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
                        .to_string(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oauth2/token", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_client_credentials_the_cli_signs_in_as_the_case_system() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = start(dir.path(), port, &["--ignore-send-windows"]);
    let key = kundpuls::web::auth::LocalKey::load_or_create(dir.path()).unwrap();
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let token_url = token_endpoint(key, asked.clone()).await;
    let url = format!("http://127.0.0.1:{port}");
    // Another data directory: the local key cannot be what signs these requests.
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |args: Vec<String>, secret: &'static str| {
        let token_url = token_url.clone();
        tokio::task::spawn_blocking(move || {
            let out = Command::new(BIN)
                .args(&args)
                .env("KUNDPULS_TOKEN_URL", token_url)
                .env("KUNDPULS_CLIENT_ID", "case-client")
                .env("KUNDPULS_CLIENT_SECRET", secret)
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        })
    };
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/case-step.json");
    let data_dir = elsewhere.path().to_str().unwrap().to_string();
    let emit = vec![
        "emit".to_string(),
        example.to_string(),
        "--dated-now".into(),
        "--data-dir".into(),
        data_dir.clone(),
        "--url".into(),
        url.clone(),
    ];
    // WHEN the case system emits an event with its client credentials
    let (ok, out) = run(emit.clone(), "s3cret").await.unwrap();
    // THEN it signed in for case steps only, and the server sent the SMS
    assert!(ok, "{out}");
    assert!(out.contains("\"outcome\": \"sent\""), "{out}");
    assert_eq!(
        asked.lock().unwrap().clone(),
        vec!["kundpuls/case-steps.write"]
    );
    // AND contacts ask for their own scope
    let contacts = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/contacts.csv");
    let (_, out) = run(
        vec![
            "contacts".into(),
            "import".into(),
            contacts.to_string(),
            "--data-dir".into(),
            data_dir.clone(),
            "--url".into(),
            url.clone(),
        ],
        "s3cret",
    )
    .await
    .unwrap();
    assert!(out.contains("3 contact(s) upserted"), "{out}");
    assert_eq!(
        asked.lock().unwrap().last().unwrap(),
        "kundpuls/contacts.write"
    );
    // AND a wrong secret fails with the endpoint's answer, never echoing the secret
    let (ok, out) = run(emit, "not-the-secret").await.unwrap();
    assert!(!ok && out.contains("invalid_client"), "{out}");
    assert!(!out.contains("not-the-secret"), "{out}");
}

/// The page's render stamp (`name="stamp" value="…"`).
fn stamp_of(html: &str) -> String {
    let marker = "name=\"stamp\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// kill -9 in the middle of answer load: every answer the server acknowledged is
/// stored, counted and routed exactly once after a restart on the same data.
#[test]
fn answers_acknowledged_before_a_kill_9_are_stored_counted_and_routed_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    const SURVEYS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_string();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = start(dir.path(), port, &["--ignore-send-windows"]);
    // GIVEN forty debtors texted after a call
    let now = jiff::Timestamp::now().to_string();
    let events: Vec<serde_json::Value> = (0..SURVEYS)
        .map(|i| {
            serde_json::json!({
                "event_id": format!("evt-kill-{i}"), "occurred_at": now, "case_id": format!("C-{i}"),
                "client_id": "acme-energy", "step": "call_completed", "handler_id": "h-anna",
                "team": "energy",
                "debtor": {"debtor_id": format!("D-{i}"), "phone": format!("+4670777{i:04}"), "language": "sv"}
            })
        })
        .collect();
    let file = dir.path().join("events.json");
    std::fs::write(&file, serde_json::to_string(&events).unwrap()).unwrap();
    let (ok, out) = kundpuls(&[
        "emit",
        file.to_str().unwrap(),
        "--data-dir",
        &data_dir,
        "--url",
        &url,
    ]);
    assert!(ok, "{out}");
    let links: Vec<String> = read_outbox(&dir.path().join("outbox.jsonl"))
        .unwrap()
        .into_iter()
        .map(|l| l.link)
        .collect();
    assert_eq!(links.len(), SURVEYS);
    // Each opens their page (as a person would, not too fast)…
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let forms: Vec<(String, String)> = links
        .iter()
        .map(|link| {
            let page = agent
                .get(link)
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap();
            (link.clone(), stamp_of(&page))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2100));
    // WHEN they answer CSAT 1 with a comment, eight at a time, and the server is
    // killed with SIGKILL once a dozen answers were acknowledged
    let acked = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let queue = Arc::new(Mutex::new(forms));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (acked, count, queue, agent) =
                (acked.clone(), count.clone(), queue.clone(), agent.clone());
            std::thread::spawn(move || {
                loop {
                    let Some((link, stamp)) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let body =
                        format!("score=1&comment=Ingen+ringde+tillbaka&stamp={stamp}&website=");
                    let answered = agent
                        .post(&link)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .send(body.as_str())
                        .ok()
                        .filter(|r| r.status().as_u16() == 200);
                    if answered.is_some() {
                        acked.lock().unwrap().push(link);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count.load(Ordering::SeqCst) < 12 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(server); // SIGKILL
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 12 && acked.len() < SURVEYS,
        "acknowledged {}",
        acked.len()
    );
    // THEN after a restart on the same data directory…
    let _server = start(dir.path(), port, &["--ignore-send-windows"]);
    let (_, admin) = kundpuls(&[
        "token",
        "--data-dir",
        &data_dir,
        "--user",
        "admin",
        "--role",
        "admin",
    ]);
    let api = |path: &str| -> serde_json::Value {
        let text = agent
            .get(&format!("{url}{path}"))
            .header("authorization", &format!("Bearer {}", admin.trim()))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    // …every acknowledged answer is stored (its link says so), and some that were
    // in flight may be too: the stored set is what the counters and backlog hold.
    let stored: Vec<&String> = links
        .iter()
        .filter(|link| {
            let page = agent
                .get(*link)
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap();
            page.contains("Redan besvarad")
        })
        .collect();
    for link in &acked {
        assert!(
            stored.contains(&link),
            "an acknowledged answer was lost: {link}"
        );
    }
    // Counted once each, and routed once each (the feed is drained every second).
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut counted, mut items) = (0, 0);
    while Instant::now() < deadline {
        let report = api("/api/v1/reports/csat?group_by=team");
        counted = report["total"]["n"].as_u64().unwrap_or(0);
        let page = api("/api/v1/feedback?team=energy&status=new&limit=200");
        let ids: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["survey_id"].as_str().unwrap())
            .collect();
        let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "an answer was routed twice");
        items = ids.len();
        if counted == stored.len() as u64 && items == stored.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(counted, stored.len() as u64, "answers counted");
    assert_eq!(items, stored.len(), "feedback items");
    println!(
        "# kill -9: {} acknowledged, {} stored, {} counted, {} routed",
        acked.len(),
        stored.len(),
        counted,
        items
    );
}
