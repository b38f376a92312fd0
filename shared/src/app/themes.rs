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

/// How many recent comments an edit is previewed on.
pub const PREVIEW_COMMENTS: usize = 100;

impl Services {
    /// The newest feedback items with a comment, across `teams` (at most `limit`):
    /// what a lexicon edit is previewed on. One listing per team, newest first.
    pub async fn recent_comments(
        &self,
        teams: &[crate::domain::ids::TeamId],
        limit: usize,
    ) -> Result<Vec<crate::domain::backlog::FeedbackItem>, StoreError> {
        use crate::ports::{FeedbackQuery, FeedbackScope, PageRequest};
        let mut items = Vec::new();
        for team in teams {
            let query = FeedbackQuery {
                scope: FeedbackScope::Team(team.clone()),
                due_before: None,
            };
            let mut page = PageRequest::first(limit);
            let mut found = 0;
            // Items without a comment are skipped, so a team may need a few pages.
            for _ in 0..5 {
                let listed = self.backlog.list_feedback(&query, page).await?;
                let before = items.len();
                items.extend(listed.items.into_iter().filter(|i| i.comment.is_some()));
                found += items.len() - before;
                match listed.next {
                    Some(cursor) if found < limit => {
                        page = PageRequest {
                            cursor: Some(cursor),
                            limit,
                        }
                    }
                    _ => break,
                }
            }
        }
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        items.truncate(limit);
        Ok(items)
    }
}
