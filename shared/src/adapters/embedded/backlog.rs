//! [`BacklogStore`] on the embedded store.

use super::{EmbeddedStore, IndexQuery, Lookup, R, Writer};
use crate::adapters::keys::{self, Index, IndexKey, Key};
use crate::domain::backlog::{Activity, AlertRecord, FeedbackItem, Improvement, ImprovementStatus};
use crate::domain::client::ClientSettings;
use crate::domain::ids::{ClientId, FeedbackId, ImprovementId, TeamId};
use crate::domain::notice::NoticeRecord;
use crate::domain::themes::StoredLexicon;
use crate::ports::{
    BacklogStore, FeedbackQuery, Page, PageRequest, SaveOutcome, StoreError, VersionedWrite,
};
use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What the backlog's versioned record types share for their saves.
trait Versioned: Serialize + DeserializeOwned + Clone + Send + 'static {
    fn key(&self) -> Key;
    fn index(&self) -> Vec<IndexKey>;
    fn version(&self) -> u64;
    fn set_version(&mut self, v: u64);
}

impl Versioned for FeedbackItem {
    fn key(&self) -> Key {
        keys::feedback(&self.id)
    }
    fn index(&self) -> Vec<IndexKey> {
        keys::feedback_index(self)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, v: u64) {
        self.version = v;
    }
}

impl Versioned for Improvement {
    fn key(&self) -> Key {
        keys::improvement(&self.id)
    }
    fn index(&self) -> Vec<IndexKey> {
        keys::improvement_index(self)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, v: u64) {
        self.version = v;
    }
}

impl Versioned for ClientSettings {
    fn key(&self) -> Key {
        keys::client_settings(&self.client_id)
    }
    fn index(&self) -> Vec<IndexKey> {
        keys::client_settings_index(&self.client_id)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, v: u64) {
        self.version = v;
    }
}

impl Versioned for StoredLexicon {
    fn key(&self) -> Key {
        keys::lexicon()
    }
    fn index(&self) -> Vec<IndexKey> {
        Vec::new()
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, v: u64) {
        self.version = v;
    }
}

impl Versioned for AlertRecord {
    fn key(&self) -> Key {
        keys::alert(&self.feedback_id)
    }
    fn index(&self) -> Vec<IndexKey> {
        keys::alert_index(self)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, v: u64) {
        self.version = v;
    }
}

impl Versioned for NoticeRecord {
    fn key(&self) -> Key {
        keys::notice(&self.id)
    }
    fn index(&self) -> Vec<IndexKey> {
        keys::notice_index(self)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, v: u64) {
        self.version = v;
    }
}

/// A record without an activity log written at `expected + 1` if the stored
/// version is `expected` (0: none stored, which is how a claim is taken).
fn put_at_version_in<T: Versioned>(
    w: &mut Writer<'_>,
    mut item: T,
    expected: u64,
) -> R<SaveOutcome> {
    let key = item.key();
    let before = w.get::<T>(&key)?;
    let current = before.as_ref().map_or(0, Versioned::version);
    if current != expected {
        return Ok(match before {
            None => SaveOutcome::NotFound,
            Some(_) => SaveOutcome::Conflict { current },
        });
    }
    item.set_version(expected + 1);
    let old_index = before.as_ref().map(Versioned::index).unwrap_or_default();
    w.put(&key, &item)?;
    w.reindex(&key, &old_index, &item.index())?;
    Ok(SaveOutcome::Saved)
}

/// The version check of a save, without writing.
fn check<T: Versioned>(w: &mut Writer<'_>, item: &T, expected: u64) -> R<SaveOutcome> {
    Ok(match w.get::<T>(&item.key())? {
        None => SaveOutcome::NotFound,
        Some(current) if current.version() != expected => SaveOutcome::Conflict {
            current: current.version(),
        },
        Some(_) => SaveOutcome::Saved,
    })
}

fn create_in<T: Versioned>(w: &mut Writer<'_>, mut item: T, activity: &Activity) -> R<bool> {
    let key = item.key();
    if w.get::<T>(&key)?.is_some() {
        return Ok(false);
    }
    item.set_version(1);
    w.put(&key, &item)?;
    w.reindex(&key, &[], &item.index())?;
    w.put(&keys::activity(&key, 1), activity)?;
    Ok(true)
}

fn save_in<T: Versioned>(
    w: &mut Writer<'_>,
    mut item: T,
    expected: u64,
    activity: &Activity,
) -> R<SaveOutcome> {
    let key = item.key();
    let Some(current) = w.get::<T>(&key)? else {
        return Ok(SaveOutcome::NotFound);
    };
    if current.version() != expected {
        return Ok(SaveOutcome::Conflict {
            current: current.version(),
        });
    }
    item.set_version(expected + 1);
    w.put(&key, &item)?;
    w.reindex(&key, &current.index(), &item.index())?;
    w.put(&keys::activity(&key, expected + 1), activity)?;
    Ok(SaveOutcome::Saved)
}

#[async_trait]
impl BacklogStore for EmbeddedStore {
    async fn create_feedback(
        &self,
        item: &FeedbackItem,
        activity: &Activity,
    ) -> Result<bool, StoreError> {
        let (item, activity) = (item.clone(), activity.clone());
        self.write("create_feedback", move |w| create_in(w, item, &activity))
            .await
    }

    async fn get_feedback(&self, id: &FeedbackId) -> Result<Option<FeedbackItem>, StoreError> {
        let key = keys::feedback(id);
        self.read("get_feedback", move |r| r.get(&key)).await
    }

    async fn save_feedback(
        &self,
        item: &FeedbackItem,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError> {
        let (item, activity) = (item.clone(), activity.clone());
        self.write("save_feedback", move |w| {
            save_in(w, item, expected_version, &activity)
        })
        .await
    }

    async fn list_feedback(
        &self,
        query: &FeedbackQuery,
        page: PageRequest,
    ) -> Result<Page<FeedbackItem>, StoreError> {
        let listing = keys::feedback_listing(query);
        let q = IndexQuery {
            index: listing.index,
            pk: listing.pk,
            after: None,
            below: listing.below,
            reverse: listing.reverse,
            limit: page.clamped_limit(),
        };
        self.page("list_feedback", q, page.cursor.as_deref()).await
    }

    async fn feedback_activity(&self, id: &FeedbackId) -> Result<Vec<Activity>, StoreError> {
        let key = keys::feedback(id);
        self.read("feedback_activity", move |r| {
            r.items_with_prefix(&key.pk, keys::ACTIVITY_PREFIX)
        })
        .await
    }

    async fn erase_notes(&self, id: &FeedbackId) -> Result<usize, StoreError> {
        let key = keys::feedback(id);
        self.write("erase_notes", move |w| {
            let mut changed = 0;
            for (sk, entry) in
                w.keyed_items_with_prefix::<Activity>(&key.pk, keys::ACTIVITY_PREFIX)?
            {
                if let Some(redacted) = entry.without_note() {
                    let at = keys::Key {
                        pk: key.pk.clone(),
                        sk,
                    };
                    w.put(&at, &redacted)?;
                    changed += 1;
                }
            }
            Ok(changed)
        })
        .await
    }

    async fn create_improvement(
        &self,
        item: &Improvement,
        activity: &Activity,
    ) -> Result<bool, StoreError> {
        let (item, activity) = (item.clone(), activity.clone());
        self.write("create_improvement", move |w| create_in(w, item, &activity))
            .await
    }

    async fn get_improvement(&self, id: &ImprovementId) -> Result<Option<Improvement>, StoreError> {
        let key = keys::improvement(id);
        self.read("get_improvement", move |r| r.get(&key)).await
    }

    async fn save_improvement(
        &self,
        item: &Improvement,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError> {
        let (item, activity) = (item.clone(), activity.clone());
        self.write("save_improvement", move |w| {
            save_in(w, item, expected_version, &activity)
        })
        .await
    }

    async fn improvement_activity(&self, id: &ImprovementId) -> Result<Vec<Activity>, StoreError> {
        let key = keys::improvement(id);
        self.read("improvement_activity", move |r| {
            r.items_with_prefix(&key.pk, keys::ACTIVITY_PREFIX)
        })
        .await
    }

    async fn list_improvements(
        &self,
        status: ImprovementStatus,
        page: PageRequest,
    ) -> Result<Page<Improvement>, StoreError> {
        self.page_of(
            "list_improvements",
            Index::Gsi1,
            keys::improvement_status(status),
            page,
        )
        .await
    }

    async fn save_all(&self, writes: &[VersionedWrite]) -> Result<SaveOutcome, StoreError> {
        let writes = writes.to_vec();
        self.write("save_all", move |w| {
            // Every check first, so a conflict leaves nothing half-written.
            for write in &writes {
                let outcome = match write {
                    VersionedWrite::Feedback {
                        item,
                        expected_version,
                        ..
                    } => check(w, &**item, *expected_version)?,
                    VersionedWrite::Improvement {
                        item,
                        expected_version,
                        ..
                    } => check(w, item, *expected_version)?,
                };
                if outcome != SaveOutcome::Saved {
                    return Ok(outcome);
                }
            }
            for write in writes {
                match write {
                    VersionedWrite::Feedback {
                        item,
                        expected_version,
                        activity,
                    } => save_in(w, *item, expected_version, &activity)?,
                    VersionedWrite::Improvement {
                        item,
                        expected_version,
                        activity,
                    } => save_in(w, item, expected_version, &activity)?,
                };
            }
            Ok(SaveOutcome::Saved)
        })
        .await
    }

    async fn get_lexicon(&self) -> Result<Option<StoredLexicon>, StoreError> {
        self.read("get_lexicon", move |r| r.get(&keys::lexicon()))
            .await
    }

    async fn save_lexicon(
        &self,
        lexicon: &StoredLexicon,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError> {
        let (item, activity) = (lexicon.clone(), activity.clone());
        self.write("save_lexicon", move |w| {
            if expected_version == 0 {
                return Ok(if create_in(w, item, &activity)? {
                    SaveOutcome::Saved
                } else {
                    SaveOutcome::Conflict {
                        current: w
                            .get::<StoredLexicon>(&keys::lexicon())?
                            .map_or(0, |l| l.version),
                    }
                });
            }
            save_in(w, item, expected_version, &activity)
        })
        .await
    }

    async fn lexicon_activity(&self) -> Result<Vec<Activity>, StoreError> {
        let key = keys::lexicon();
        self.read("lexicon_activity", move |r| {
            r.items_with_prefix(&key.pk, keys::ACTIVITY_PREFIX)
        })
        .await
    }

    async fn get_client_settings(
        &self,
        client: &ClientId,
    ) -> Result<Option<ClientSettings>, StoreError> {
        let key = keys::client_settings(client);
        self.read("get_client_settings", move |r| r.get(&key)).await
    }

    async fn save_client_settings(
        &self,
        settings: &ClientSettings,
        expected_version: u64,
        activity: &Activity,
    ) -> Result<SaveOutcome, StoreError> {
        let (item, activity) = (settings.clone(), activity.clone());
        self.write("save_client_settings", move |w| {
            if expected_version == 0 {
                let key = item.key();
                return Ok(if create_in(w, item, &activity)? {
                    SaveOutcome::Saved
                } else {
                    SaveOutcome::Conflict {
                        current: w.get::<ClientSettings>(&key)?.map_or(0, |s| s.version),
                    }
                });
            }
            save_in(w, item, expected_version, &activity)
        })
        .await
    }

    async fn list_client_settings(
        &self,
        page: PageRequest,
    ) -> Result<Page<ClientSettings>, StoreError> {
        self.page_of(
            "list_client_settings",
            Index::Gsi1,
            keys::CLIENT_SETTINGS_LIST.into(),
            page,
        )
        .await
    }

    async fn client_settings_activity(
        &self,
        client: &ClientId,
    ) -> Result<Vec<Activity>, StoreError> {
        let key = keys::client_settings(client);
        self.read("client_settings_activity", move |r| {
            r.items_with_prefix(&key.pk, keys::ACTIVITY_PREFIX)
        })
        .await
    }

    async fn get_alert(&self, id: &FeedbackId) -> Result<Option<AlertRecord>, StoreError> {
        let key = keys::alert(id);
        self.read("get_alert", move |r| r.get(&key)).await
    }

    async fn save_alert(
        &self,
        alert: &AlertRecord,
        expected_version: u64,
    ) -> Result<SaveOutcome, StoreError> {
        let alert = alert.clone();
        self.write("save_alert", move |w| {
            put_at_version_in(w, alert, expected_version)
        })
        .await
    }

    async fn alerts_due(
        &self,
        until: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let q = IndexQuery {
            index: Index::Gsi1,
            pk: keys::ALERTS_DUE.into(),
            after: None,
            below: Some(keys::up_to(until)),
            reverse: false,
            limit: limit.clamp(1, 1000),
        };
        self.read("alerts_due", move |r| Ok(r.query::<AlertRecord>(&q)?.items))
            .await
    }

    async fn get_notice(&self, id: &str) -> Result<Option<NoticeRecord>, StoreError> {
        let key = keys::notice(id);
        self.read("get_notice", move |r| r.get(&key)).await
    }

    async fn save_notice(
        &self,
        notice: &NoticeRecord,
        expected_version: u64,
    ) -> Result<SaveOutcome, StoreError> {
        let notice = notice.clone();
        self.write("save_notice", move |w| {
            put_at_version_in(w, notice, expected_version)
        })
        .await
    }

    async fn recent_notices(
        &self,
        team: &TeamId,
        limit: usize,
    ) -> Result<Vec<NoticeRecord>, StoreError> {
        let q = IndexQuery {
            index: Index::Gsi2,
            pk: keys::notices_of_team(team),
            after: None,
            below: None,
            reverse: true,
            limit: limit.clamp(1, 1000),
        };
        self.read("recent_notices", move |r| {
            Ok(r.query::<NoticeRecord>(&q)?.items)
        })
        .await
    }

    async fn notices_due(
        &self,
        until: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<NoticeRecord>, StoreError> {
        let q = IndexQuery {
            index: Index::Gsi1,
            pk: keys::NOTICES_DUE.into(),
            after: None,
            below: Some(keys::up_to(until)),
            reverse: false,
            limit: limit.clamp(1, 1000),
        };
        self.read("notices_due", move |r| {
            Ok(r.query::<NoticeRecord>(&q)?.items)
        })
        .await
    }
}
