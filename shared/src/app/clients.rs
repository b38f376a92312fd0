//! Clients' settings: read wherever a message, a page or a figure names a client
//! (each client at most once per 30 s per process); edited by admins, versioned
//! and logged.

use super::Services;
use crate::domain::backlog::Activity;
use crate::domain::client::{ClientSettings, ClientSettingsInput};
use crate::domain::error::InvalidInput;
use crate::domain::ids::ClientId;
use crate::ports::{Page, PageRequest, SaveOutcome, StoreError};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// How long a process keeps a client's settings: an edit made elsewhere shows in
/// messages and pages within this.
pub const CLIENT_SETTINGS_TTL: Duration = Duration::from_secs(30);

/// Clients read per page when every client is listed (reports).
const LIST_PAGE: usize = 1000;

/// Each client's settings as last read (one `GetItem`, kept for
/// [`CLIENT_SETTINGS_TTL`]): a function that sends or shows surveys reads a client
/// once per 30 s whatever the number of surveys, and needs no index to do it.
#[derive(Clone)]
pub struct ClientCache {
    inner: Arc<RwLock<HashMap<ClientId, Entry>>>,
    ttl: Duration,
}

type Entry = (Option<Arc<ClientSettings>>, Instant);

impl Default for ClientCache {
    fn default() -> Self {
        Self::keeping_for(CLIENT_SETTINGS_TTL)
    }
}

impl ClientCache {
    /// Settings kept for `ttl` (tests counting requests keep them for the run).
    pub fn keeping_for(ttl: Duration) -> Self {
        Self {
            inner: Arc::new(RwLock::new(HashMap::new())),
            ttl,
        }
    }

    async fn fresh(&self, client: &ClientId) -> Option<Option<Arc<ClientSettings>>> {
        let map = self.inner.read().await;
        map.get(client)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(s, _)| s.clone())
    }

    async fn set(&self, client: ClientId, settings: Option<Arc<ClientSettings>>) {
        let mut map = self.inner.write().await;
        if map.len() > 10_000 {
            let ttl = self.ttl;
            map.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        map.insert(client, (settings, Instant::now()));
    }
}

/// Why an edit was not saved.
#[derive(Debug, thiserror::Error)]
pub enum ClientEditError {
    #[error(transparent)]
    Invalid(InvalidInput),
    #[error("someone saved the client's settings first (version {current})")]
    Conflict { current: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Services {
    /// The client's settings, if an admin saved any.
    pub async fn client_settings(
        &self,
        client: &ClientId,
    ) -> Result<Option<Arc<ClientSettings>>, StoreError> {
        if let Some(cached) = self.clients.fresh(client).await {
            return Ok(cached);
        }
        let settings = self
            .backlog
            .get_client_settings(client)
            .await?
            .map(Arc::new);
        self.clients.set(client.clone(), settings.clone()).await;
        Ok(settings)
    }

    /// Every client's settings, listed now (reports: one `Query` per 1,000 clients).
    pub async fn all_client_settings(
        &self,
    ) -> Result<HashMap<ClientId, Arc<ClientSettings>>, StoreError> {
        let mut all = HashMap::new();
        let mut cursor = None;
        loop {
            let page = self
                .backlog
                .list_client_settings(PageRequest {
                    cursor,
                    limit: LIST_PAGE,
                })
                .await?;
            for s in page.items {
                all.insert(s.client_id.clone(), Arc::new(s));
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(all)
    }

    pub async fn list_client_settings(
        &self,
        page: PageRequest,
    ) -> Result<Page<ClientSettings>, StoreError> {
        self.backlog.list_client_settings(page).await
    }

    /// Saves a client's settings if nobody saved since `expected_version` (0: the
    /// client has none yet).
    pub async fn update_client_settings(
        &self,
        client: ClientId,
        input: ClientSettingsInput,
        expected_version: u64,
        actor: &str,
        now: Timestamp,
    ) -> Result<ClientSettings, ClientEditError> {
        let settings = input
            .validate(client, expected_version + 1, now, actor)
            .map_err(ClientEditError::Invalid)?;
        let activity = Activity::new(
            now,
            actor,
            format!("settings saved (version {})", expected_version + 1),
        );
        match self
            .backlog
            .save_client_settings(&settings, expected_version, &activity)
            .await?
        {
            SaveOutcome::Saved => {
                self.clients
                    .set(settings.client_id.clone(), Some(Arc::new(settings.clone())))
                    .await;
                Ok(settings)
            }
            SaveOutcome::Conflict { current } => Err(ClientEditError::Conflict { current }),
            SaveOutcome::NotFound => Err(ClientEditError::Conflict { current: 0 }),
        }
    }
}
