//! The theme lexicon in use: the admin-edited one from the store, else the built-in
//! default. Each process keeps it for a short while so routing does not read it for
//! every answer; an edit made through this process is seen at once, one made
//! elsewhere within [`LEXICON_TTL`].

use super::Services;
use crate::domain::backlog::Activity;
use crate::domain::themes::{Lexicon, StoredLexicon};
use crate::ports::{SaveOutcome, StoreError};
use jiff::Timestamp;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

pub const LEXICON_TTL: Duration = Duration::from_secs(30);

/// The lexicon and when it was read.
type Cached = Option<(Arc<Lexicon>, Instant)>;

#[derive(Clone, Default)]
pub struct LexiconCache {
    inner: Arc<RwLock<Cached>>,
}

impl LexiconCache {
    async fn fresh(&self) -> Option<Arc<Lexicon>> {
        let guard = self.inner.read().await;
        guard
            .as_ref()
            .filter(|(_, at)| at.elapsed() < LEXICON_TTL)
            .map(|(l, _)| l.clone())
    }

    async fn set(&self, lexicon: Arc<Lexicon>) {
        *self.inner.write().await = Some((lexicon, Instant::now()));
    }
}

/// Why an edit was not saved.
#[derive(Debug, thiserror::Error)]
pub enum LexiconEditError {
    #[error("the lexicon is not valid")]
    Invalid(Vec<String>),
    #[error("someone saved the lexicon first (version {current})")]
    Conflict { current: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Services {
    /// The lexicon routing tags comments with.
    pub async fn lexicon(&self) -> Result<Arc<Lexicon>, StoreError> {
        if let Some(l) = self.themes.fresh().await {
            return Ok(l);
        }
        let lexicon = Arc::new(match self.backlog.get_lexicon().await? {
            Some(stored) => stored.lexicon,
            None => Lexicon::default(),
        });
        self.themes.set(lexicon.clone()).await;
        Ok(lexicon)
    }

    /// The stored lexicon with its version (0 while the built-in default is in use).
    pub async fn stored_lexicon(&self) -> Result<StoredLexicon, StoreError> {
        Ok(match self.backlog.get_lexicon().await? {
            Some(stored) => stored,
            None => StoredLexicon {
                lexicon: Lexicon::default(),
                version: 0,
                updated_at: Timestamp::UNIX_EPOCH,
                updated_by: "built-in".into(),
            },
        })
    }

    /// Replaces the lexicon if nobody saved since `expected_version`.
    pub async fn update_lexicon(
        &self,
        lexicon: Lexicon,
        expected_version: u64,
        actor: &str,
        now: Timestamp,
    ) -> Result<StoredLexicon, LexiconEditError> {
        let lexicon = lexicon.validated().map_err(LexiconEditError::Invalid)?;
        let stems: usize = lexicon
            .0
            .values()
            .flat_map(|themes| themes.values())
            .map(Vec::len)
            .sum();
        let stored = StoredLexicon {
            lexicon,
            version: expected_version + 1,
            updated_at: now,
            updated_by: actor.to_string(),
        };
        let activity = Activity::new(now, actor, format!("lexicon saved ({stems} stems)"));
        match self
            .backlog
            .save_lexicon(&stored, expected_version, &activity)
            .await?
        {
            SaveOutcome::Saved => {
                self.themes.set(Arc::new(stored.lexicon.clone())).await;
                Ok(stored)
            }
            SaveOutcome::Conflict { current } => Err(LexiconEditError::Conflict { current }),
            SaveOutcome::NotFound => Err(LexiconEditError::Conflict { current: 0 }),
        }
    }
}
