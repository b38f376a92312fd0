//! The local process's wiring: the embedded store and the file outbox under one data
//! directory, and the key that signs local tokens (and derives the contact-key
//! secret) kept beside them.

use crate::adapters::cursor::CursorKey;
use crate::adapters::embedded::EmbeddedStore;
use crate::adapters::outbox::FileOutbox;
use crate::app::pacing::Pacing;
use crate::app::{Services, SurveyConfig};
use crate::domain::contact::ContactKeyer;
use crate::ports::StoreError;
use crate::web::auth::LocalKey;
use std::path::Path;
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum LocalError {
    #[error("opening the store in {dir}")]
    Store {
        dir: String,
        #[source]
        source: StoreError,
    },
    #[error("reading or creating the key in {dir}")]
    Key {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

pub struct Local {
    pub services: Services,
    pub store: EmbeddedStore,
    pub outbox: FileOutbox,
    pub key: LocalKey,
}

/// The signing key of a data directory (created on first use).
pub fn key(data_dir: &Path) -> Result<LocalKey, LocalError> {
    LocalKey::load_or_create(data_dir).map_err(|source| LocalError::Key {
        dir: data_dir.display().to_string(),
        source,
    })
}

pub fn open(data_dir: &Path, config: SurveyConfig) -> Result<Local, LocalError> {
    let key = key(data_dir)?;
    let store = EmbeddedStore::open(data_dir)
        .map_err(|source| LocalError::Store {
            dir: data_dir.display().to_string(),
            source,
        })?
        .with_cursor_key(CursorKey::derive(&key.derive("page-cursors")));
    let outbox = FileOutbox::new(data_dir);
    let keyer = ContactKeyer::new(&key.derive("contact-key")).expect("a derived key has 32 bytes");
    let services = Services {
        surveys: Arc::new(store.clone()),
        contacts: Arc::new(store.clone()),
        stats: Arc::new(store.clone()),
        backlog: Arc::new(store.clone()),
        sms: Arc::new(outbox.clone()),
        email: Arc::new(outbox.clone()),
        keyer,
        themes: Default::default(),
        clients: Default::default(),
        alerts: Some(Arc::new(outbox.clone())),
        config: Arc::new(config),
        pacing: Arc::new(Pacing::new(Arc::new(store.clone()))),
    };
    Ok(Local {
        services,
        store,
        outbox,
        key,
    })
}
