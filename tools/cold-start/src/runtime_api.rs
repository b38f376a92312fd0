//! A stand-in for the Lambda runtime API on loopback: it hands one event to the
//! process it was set up for and notes when that process first asked for work and
//! when it answered. Later calls to `next` wait forever (the process is then killed,
//! as Lambda freezes it).

use crate::setup::Env;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// What one spawn measured.
pub struct Measured {
    pub init: Duration,
    pub first_response: Duration,
    /// The function's own `function initialised` line: each part of its start in
    /// microseconds (none for hello-world).
    pub phases: Vec<(String, f64)>,
}

/// The invocation being served.
#[derive(Default)]
struct Invocation {
    id: String,
    event: String,
    started: Option<Instant>,
    handed_out: bool,
    next_at: Option<Duration>,
    answered_at: Option<Duration>,
    failure: Option<String>,
}

#[derive(Clone, Default)]
struct Shared {
    current: Arc<Mutex<Invocation>>,
    done: Arc<Notify>,
}

pub struct RuntimeApi {
    address: SocketAddr,
    shared: Shared,
    counter: std::sync::atomic::AtomicU64,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let shared = Shared::default();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            shared,
            counter: Default::default(),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Spawns `bin`, serves it `event` once, and kills it after its answer.
    pub async fn spawn(
        &self,
        bin: &std::path::Path,
        name: &str,
        env: &Env,
        event: &str,
        limit: Duration,
    ) -> Result<Measured, String> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        {
            let mut current = lock(&self.shared.current);
            *current = Invocation {
                id: format!("cold-{n}"),
                event: event.to_string(),
                ..Default::default()
            };
        }
        let done = self.shared.done.notified();
        tokio::pin!(done);
        done.as_mut().enable();
        let mut command = tokio::process::Command::new(bin);
        command
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", self.address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "cold-start")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        lock(&self.shared.current).started = Some(started);
        let mut child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let outcome = tokio::select! {
            _ = &mut done => Ok(()),
            status = child.wait() => Err(format!("exited early: {status:?}")),
            _ = tokio::time::sleep(limit) => Err("no answer in time".to_string()),
        };
        let _ = child.start_kill();
        let stderr = match outcome {
            Ok(()) => String::new(),
            Err(_) => {
                use tokio::io::AsyncReadExt;
                let mut text = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), e.read_to_string(&mut text))
                            .await;
                }
                text
            }
        };
        let _ = child.wait().await;
        outcome.map_err(|e| format!("{e} {}", stderr.trim()))?;
        let phases = match child.stdout.take() {
            Some(mut out) => {
                use tokio::io::AsyncReadExt;
                let mut text = String::new();
                let _ = tokio::time::timeout(Duration::from_secs(1), out.read_to_string(&mut text))
                    .await;
                init_phases(&text)
            }
            None => Vec::new(),
        };
        let current = lock(&self.shared.current);
        if let Some(f) = &current.failure {
            return Err(f.clone());
        }
        match (current.next_at, current.answered_at) {
            (Some(init), Some(first_response)) => Ok(Measured {
                init,
                first_response,
                phases,
            }),
            _ => Err("no invocation seen".into()),
        }
    }
}

/// The parts of a start from the JSON log line `function initialised`
/// (`phases_us`: `logging=120 config=35 …`).
fn init_phases(log: &str) -> Vec<(String, f64)> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["message"] == "function initialised")
        .and_then(|v| v["fields"]["phases_us"].as_str().map(str::to_string))
        .map(|phases| {
            phases
                .split(' ')
                .filter_map(|p| p.split_once('='))
                .filter_map(|(name, us)| Some((name.to_string(), us.parse().ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn lock(m: &Mutex<Invocation>) -> std::sync::MutexGuard<'_, Invocation> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn since_start(current: &Invocation) -> Duration {
    current.started.map(|s| s.elapsed()).unwrap_or_default()
}

async fn next(State(shared): State<Shared>) -> Response {
    let handed = {
        let mut current = lock(&shared.current);
        if current.handed_out {
            None
        } else {
            current.handed_out = true;
            current.next_at = Some(since_start(&current));
            Some((current.id.clone(), current.event.clone()))
        }
    };
    let Some((id, event)) = handed else {
        // The next invocation never comes: Lambda would freeze the process here.
        return std::future::pending::<Response>().await;
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 30_000;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-north-1:123456789012:function:cold-start".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".into(),
    );
    set("content-type", "application/json".into());
    (StatusCode::OK, headers, event).into_response()
}

async fn response(State(shared): State<Shared>, Path(id): Path<String>) -> StatusCode {
    finish(&shared, &id, None)
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: String) -> StatusCode {
    finish(&shared, &id, Some(format!("the invocation failed: {body}")))
}

async fn init_error(State(shared): State<Shared>, body: String) -> StatusCode {
    let mut current = lock(&shared.current);
    current.failure = Some(format!("init failed: {body}"));
    current.answered_at = Some(since_start(&current));
    drop(current);
    shared.done.notify_waiters();
    StatusCode::ACCEPTED
}

fn finish(shared: &Shared, id: &str, failure: Option<String>) -> StatusCode {
    let mut current = lock(&shared.current);
    if current.id != id {
        return StatusCode::BAD_REQUEST;
    }
    current.answered_at = Some(since_start(&current));
    current.failure = failure;
    drop(current);
    shared.done.notify_waiters();
    StatusCode::ACCEPTED
}
