//! Helpers shared by the integration suites: a harness that opens a fresh store of
//! either kind (an embedded store in a temporary directory, or a new table on the
//! DynamoDB-compatible server named by `AWS_ENDPOINT_URL`), and fixtures.

pub mod answers;
pub mod app;
pub mod events;
pub mod faults;
pub mod fixtures;
pub mod generated;
pub mod idp;
pub mod journey;
pub mod lambda_events;
pub mod moto;
mod request_log;
pub mod stream;
pub mod template;

pub use request_log::RequestLog;

use kundpuls::adapters::aws::{SdkLimits, load_sdk_config_with};
use kundpuls::adapters::dynamo::{DynamoConfig, DynamoStore, schema};
use kundpuls::adapters::embedded::EmbeddedStore;
use kundpuls::ports::{BacklogStore, ContactStore, StatsStore, SurveyStore};
use std::sync::Arc;

/// Every store port at once, for the conformance suite.
pub trait Store: SurveyStore + ContactStore + StatsStore + BacklogStore {}
impl<T: SurveyStore + ContactStore + StatsStore + BacklogStore> Store for T {}

pub enum Backend {
    Embedded {
        store: EmbeddedStore,
        dir: tempfile::TempDir,
    },
    Dynamo {
        store: DynamoStore,
        requests: RequestLog,
        sdk: Box<aws_config::SdkConfig>,
        table: String,
    },
}

/// The SDK configuration the suites use against moto: generous time per attempt.
/// moto answers one request at a time, and under a parallel test run it can take
/// seconds; the functions' 3 s attempt timeout would then retry a request moto has
/// already carried out (a second SMS, "table already exists"), making the suites
/// flaky for a reason that is moto's, not the code's. Connection failures are still
/// retried, as in the functions.
pub async fn sdk_config() -> aws_config::SdkConfig {
    load_sdk_config_with(SdkLimits {
        connect: std::time::Duration::from_secs(5),
        attempt: std::time::Duration::from_secs(60),
        operation: std::time::Duration::from_secs(180),
        max_attempts: 3,
    })
    .await
}

/// An agency-wide CSAT counter field by its stored name (`skip_fatigue`), summed over the months from November 2026 (where the fixed-clock suites count)
/// through the current one (where the wall-clock suites do), each store being
/// fresh per test.
pub async fn csat_counter(store: &dyn Store, field: &str) -> u64 {
    use kundpuls::domain::reports::Month;
    use kundpuls::domain::stats::{CounterKey, Dimension};
    let field =
        kundpuls::domain::stats::CounterField::from_key(field).expect("a stored counter name");
    let first = Month::parse("2026-11").expect("a month");
    let mut total = 0;
    for month in first.through(Month::of(jiff::Timestamp::now()).max(first)) {
        let key = CounterKey::new(
            kundpuls::domain::survey::SurveyKind::Csat,
            &month.to_string(),
            Dimension::All,
            "all",
        );
        total += store
            .read(&key)
            .await
            .expect("counters readable")
            .get(&field);
    }
    total
}

/// The agency-wide counter of `kind` for November 2026.
pub async fn november(
    store: &dyn Store,
    kind: kundpuls::domain::survey::SurveyKind,
) -> kundpuls::domain::stats::Counter {
    use kundpuls::domain::stats::{CounterKey, Dimension};
    store
        .read(&CounterKey::new(kind, "2026-11", Dimension::All, "all"))
        .await
        .expect("counters readable")
}

/// One fresh store, of one kind, for one test.
pub struct Harness {
    pub store: Arc<dyn Store>,
    pub backend: Backend,
}

/// The key every test store seals its page cursors with, as every instance of one
/// deployment shares one.
/// What `survey`'s first link opens, as the respondent's page reads it.
pub async fn opened(
    store: &dyn Store,
    survey: &kundpuls::domain::survey::Survey,
) -> kundpuls::domain::survey::LinkedSurvey {
    store
        .find_by_token(&survey.token_hash)
        .await
        .expect("the store answers")
        .expect("the survey's first link opens it")
}

pub fn cursor_key() -> kundpuls::adapters::cursor::CursorKey {
    kundpuls::adapters::cursor::CursorKey::derive(b"kundpuls test page-cursor secret")
}

impl Harness {
    pub async fn embedded() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = EmbeddedStore::open(dir.path())
            .expect("embedded store opens")
            .with_cursor_key(cursor_key());
        Self {
            store: Arc::new(store.clone()),
            backend: Backend::Embedded { store, dir },
        }
    }

    /// A new table on the server at `AWS_ENDPOINT_URL`. Panics, never skips, when the
    /// server is not configured: the README test command starts one.
    pub async fn dynamodb() -> Self {
        Self::dynamodb_with(None).await
    }

    /// A new table whose store's client also carries `faults` (the table itself is
    /// created without them). [`Harness::clean_store`] reads the same table without.
    pub async fn dynamodb_with(faults: Option<faults::SdkFaults>) -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
        assert!(
            !endpoint.is_empty(),
            "AWS_ENDPOINT_URL is not set: the DynamoDB suites need a DynamoDB-compatible server. \
             Run ./scripts/test, which installs and starts moto on loopback."
        );
        let sdk = sdk_config().await;
        let requests = RequestLog::default();
        let table = format!("kundpuls-test-{}", uuid::Uuid::new_v4().simple());
        schema::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table)
            .await
            .unwrap_or_else(|e| panic!("creating table {table} at {endpoint}: {e:?}"));
        let mut config =
            aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(requests.clone());
        if let Some(f) = faults {
            // The standard retry, with its back-off from 10 ms rather than 1 s: a
            // fault run retries hundreds of times and the waits add nothing to it.
            config = config.interceptor(f).retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(std::time::Duration::from_millis(10)),
            );
        }
        let client = aws_sdk_dynamodb::Client::from_conf(config.build());
        let store = DynamoStore::new(client, DynamoConfig::new(table.clone()), cursor_key());
        Self {
            store: Arc::new(store.clone()),
            backend: Backend::Dynamo {
                store,
                requests,
                sdk: Box::new(sdk),
                table,
            },
        }
    }

    /// The same store read without injected faults, to see what really happened.
    pub fn clean_store(&self) -> Arc<dyn Store> {
        match &self.backend {
            Backend::Embedded { store, .. } => Arc::new(store.clone()),
            Backend::Dynamo { sdk, table, .. } => Arc::new(DynamoStore::new(
                aws_sdk_dynamodb::Client::new(sdk),
                DynamoConfig::new(table.clone()),
                cursor_key(),
            )),
        }
    }
}
