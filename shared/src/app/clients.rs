//! Clients' settings: read wherever a message, a page or a figure names a client,
//! from a copy of all of them each process refreshes every 30 s; edited by
//! admins, versioned and logged.

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

/// How long a process keeps its copy of every client's settings: an edit made
/// elsewhere shows in messages and pages within this.
pub const CLIENT_SETTINGS_TTL: Duration = Duration::from_secs(30);

/// Clients read per page when the copy is refreshed.
const LIST_PAGE: usize = 1000;

/// Every client's settings, read in one listing (one `Query` per 1,000 clients)
/// at most once per [`CLIENT_SETTINGS_TTL`]: a message, a page or a report names
/// its client from this copy, whatever the number of clients or surveys.
#[derive(Clone)]
pub struct ClientCache {
    inner: Arc<RwLock<Option<Snapshot>>>,
    ttl: Duration,
}

struct Snapshot {
    clients: HashMap<ClientId, Arc<ClientSettings>>,
    read_at: Instant,
}

impl Default for ClientCache {
    fn default() -> Self {
        Self::keeping_for(CLIENT_SETTINGS_TTL)
    }
}

impl ClientCache {
    /// A copy kept for `ttl` (tests counting requests keep it for the whole run).
    pub fn keeping_for(ttl: Duration) -> Self {
        Self {
            inner: Arc::new(RwLock::new(None)),
            ttl,
        }
    }

    async fn fresh(&self) -> Option<HashMap<ClientId, Arc<ClientSettings>>> {
        let guard = self.inner.read().await;
        guard
            .as_ref()
            .filter(|s| s.read_at.elapsed() < self.ttl)
            .map(|s| s.clients.clone())
    }

    async fn set(&self, clients: HashMap<ClientId, Arc<ClientSettings>>) {
        *self.inner.write().await = Some(Snapshot {
            clients,
            read_at: Instant::now(),
        });
    }

    /// A save made by this process is seen by it at once.
    async fn put(&self, settings: ClientSettings) {
        if let Some(s) = self.inner.write().await.as_mut() {
            s.clients
                .insert(settings.client_id.clone(), Arc::new(settings));
        }
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
        Ok(self.all_client_settings().await?.get(client).cloned())
    }

    /// Every client's settings, from this process's copy (refreshed when stale).
    pub async fn all_client_settings(
        &self,
    ) -> Result<HashMap<ClientId, Arc<ClientSettings>>, StoreError> {
        if let Some(all) = self.clients.fresh().await {
            return Ok(all);
        }
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
        self.clients.set(all.clone()).await;
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
                self.clients.put(settings.clone()).await;
                Ok(settings)
            }
            SaveOutcome::Conflict { current } => Err(ClientEditError::Conflict { current }),
            SaveOutcome::NotFound => Err(ClientEditError::Conflict { current: 0 }),
        }
    }
}
