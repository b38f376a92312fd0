//! `kundpuls serve`: the ingest API, the outbox page and the survey schedule in one
//! process on 127.0.0.1, on the embedded store under the data directory.

use crate::{CliError, demo};
use clap::Args;
use kundpuls::app::SurveyConfig;
use kundpuls::app::config::load_policy;
use kundpuls::app::routing::FEED_CONSUMER;

/// Creditor contacts of the NPS wave one local tick walks at most.
const WAVE_CONTACTS_PER_TICK: usize = 1_000;
use kundpuls::domain::policy::WeekWindows;
use kundpuls::web::sign_in::{SignIn, SignInConfig};
use kundpuls::web::stamp::StampKey;
use kundpuls::web::{AppState, Authenticator, local_router};
use kundpuls::wiring::{local, logging};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
pub struct ServeArgs {
    /// Where the store, the outbox and the signing key live.
    #[arg(long, env = "KUNDPULS_DATA_DIR", default_value = ".kundpuls")]
    pub data_dir: PathBuf,
    /// The loopback address to listen on.
    #[arg(long, env = "KUNDPULS_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// A survey policy TOML file (`kundpuls policy defaults` prints one).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Answers and feedback older than this are removed every hour (counters stay).
    #[arg(long, env = "KUNDPULS_RETENTION_DAYS", default_value_t = 400)]
    pub retention_days: u32,
    /// Send at once, day or night (demos and tests only).
    #[arg(long)]
    pub ignore_send_windows: bool,
    /// Load demo contacts and case steps (idempotent: safe on every start).
    #[arg(long)]
    pub demo: bool,
    /// The SMS sender name (at most 11 letters, digits or spaces).
    #[arg(long, default_value = "Kundpuls")]
    pub sender: String,
    /// The agency's name in emails.
    #[arg(long, default_value = "Kundpuls Demo AB")]
    pub agency: String,
    /// The agency's privacy notice, linked from every survey page and email
    /// (https://…).
    #[arg(long, env = "PRIVACY_URL")]
    pub privacy_url: Option<String>,
    /// The agency's case system, e.g. https://cms.example/cases/{case_id}: each
    /// feedback item's case becomes a link on the console.
    #[arg(long, env = "CASE_LINK_TEMPLATE")]
    pub case_link_template: Option<String>,
    /// Sign team leads in to the console through an OpenID Connect provider's
    /// managed login (authorization code with PKCE), as on AWS: its issuer…
    #[arg(long, env = "SIGN_IN_ISSUER", requires_all = ["sign_in_url", "sign_in_client_id"])]
    pub sign_in_issuer: Option<String>,
    /// …the base URL of its `/oauth2/authorize`, `/oauth2/token` and `/logout`…
    #[arg(long, env = "SIGN_IN_URL")]
    pub sign_in_url: Option<String>,
    /// …and the console's client id there.
    #[arg(long, env = "SIGN_IN_CLIENT_ID")]
    pub sign_in_client_id: Option<String>,
    /// Seconds between schedule ticks.
    #[arg(long, default_value_t = 30)]
    pub tick_seconds: u64,
}

pub fn run(args: ServeArgs) -> Result<(), CliError> {
    logging::init_text();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<(), CliError> {
    if !args.addr.ip().is_loopback() {
        return Err(format!(
            "{} is not a loopback address: kundpuls serve listens on 127.0.0.1 or ::1 only",
            args.addr
        )
        .into());
    }
    let policy_text = match &args.policy {
        Some(p) => {
            Some(std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))?)
        }
        None => None,
    };
    let mut policy = load_policy(policy_text.as_deref(), std::env::vars())?;
    if args.ignore_send_windows {
        tracing::warn!(
            "--ignore-send-windows: surveys go out at any hour; use only for demos and tests"
        );
        policy.send_windows = WeekWindows::always();
        policy.country_windows.clear();
    }
    let base_url = format!("http://{}", args.addr);
    let config = SurveyConfig::new(&base_url, &args.sender, &args.agency, policy)?
        .with_privacy_url(args.privacy_url.as_deref().unwrap_or_default())?
        .with_case_link_template(args.case_link_template.as_deref().unwrap_or_default())?
        .with_retention_days(args.retention_days);
    let local = local::open(&args.data_dir, config)?;
    if args.demo {
        demo::load(&local.services).await?;
    }
    let state = AppState {
        services: local.services.clone(),
        auth: Authenticator::Local(local.key.clone()),
        stamp: StampKey::new(&local.key.derive("render-stamp")),
        outbox: Some(local.outbox.clone()),
        sign_in: match (
            &args.sign_in_issuer,
            &args.sign_in_url,
            &args.sign_in_client_id,
        ) {
            (Some(issuer), Some(login_url), Some(client_id)) => {
                Some(Arc::new(SignIn::new(SignInConfig {
                    issuer: issuer.clone(),
                    login_url: login_url.clone(),
                    client_id: client_id.clone(),
                    public_base_url: base_url.clone(),
                })?))
            }
            _ => None,
        },
        demo: args.demo,
    };
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("listening on {}: {e}", args.addr))?;
    println!(
        "Kundpuls is running at {base_url} (data in {})",
        args.data_dir.display()
    );
    if args.demo {
        println!("  outbox:        {base_url}/dev/outbox");
    } else {
        println!("  outbox:        {base_url}/dev/outbox (after signing in to the console)");
    }
    let dir = args.data_dir.display();
    println!(
        "  post an event: cargo run -q -p kundpuls-cli -- emit examples/case-step.json --dated-now --data-dir {dir}"
    );
    println!(
        "  a token:       cargo run -q -p kundpuls-cli -- token --data-dir {dir} --user <you> --role lead|admin|system [--team <team>]"
    );
    println!("Stop with Ctrl-C.");

    let services = local.services.clone();
    let tick = Duration::from_secs(args.tick_seconds.max(1));
    let scheduler = tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            // A tick walks at most this many wave contacts; the rest resumes on the
            // next tick.
            let budget = kundpuls::app::schedule::TickBudget::contacts(WAVE_CONTACTS_PER_TICK);
            if let Err(e) = services
                .run_schedule_within(jiff::Timestamp::now(), budget)
                .await
            {
                tracing::error!(error = %e, "schedule tick failed; trying again next tick");
            }
        }
    });
    // Routing: the answer feed is drained every second (the stream's stand-in).
    let (services, store) = (local.services.clone(), local.store.clone());
    let router_task = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        loop {
            interval.tick().await;
            if let Err(e) = services
                .drain_feed(&store, FEED_CONSUMER, jiff::Timestamp::now())
                .await
            {
                tracing::error!(error = %e, "routing answers failed; trying again");
            }
        }
    });
    // The lead timer (route-feedback's five-minute rule in AWS): alerts and notices
    // tried again, the day's early warnings, last week's digests.
    let services = local.services.clone();
    let lead_timer = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(300));
        loop {
            interval.tick().await;
            match services.lead_timer(jiff::Timestamp::now()).await {
                Ok(done) => tracing::debug!(?done, "lead timer"),
                Err(e) => {
                    tracing::error!(error = %e, "lead timer failed; trying again in five minutes")
                }
            }
        }
    });
    // Retention: what DynamoDB's TTL does in AWS, and the ceiling for items left
    // open, once an hour.
    let (store, services) = (local.store.clone(), local.services.clone());
    let retention = local.services.config.retention();
    let sweeper = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(3600));
        loop {
            interval.tick().await;
            let now = jiff::Timestamp::now();
            match store.sweep_retention(now - retention).await {
                Ok(report) => tracing::info!(?report, "retention sweep"),
                Err(e) => {
                    tracing::error!(error = %e, "retention sweep failed; trying again in an hour")
                }
            }
            if let Err(e) = services.retention_ceiling(now, retention).await {
                tracing::error!(error = %e, "retention ceiling failed; trying again in an hour");
            }
        }
    });
    axum::serve(listener, local_router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    scheduler.abort();
    router_task.abort();
    lead_timer.abort();
    sweeper.abort();
    println!("Kundpuls stopped.");
    Ok(())
}
