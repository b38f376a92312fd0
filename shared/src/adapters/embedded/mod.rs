//! The embedded store: one durable redb file under the data directory, implementing
//! every port with the same conditional semantics as the DynamoDB adapter.
//!
//! Layout: an `items` table keyed by `pk␟sk` (the keys of [`super::keys`]) holding
//! JSON, an `index` table keyed by `gsi␟pk␟sk` pointing at item keys, the
//! `answer_feed` (sequence → answer) and the consumers' committed cursors. redb runs
//! one write transaction at a time and commits durably, so every conditional check
//! and its write are atomic, and a committed write survives a crash.

mod backlog;
mod contacts;
mod feed;
mod stats;
mod surveys;

use super::keys::{Index, IndexKey, Key};
use crate::ports::{Page, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
const INDEX: TableDefinition<&str, &str> = TableDefinition::new("index");
const FEED: TableDefinition<u64, &[u8]> = TableDefinition::new("answer_feed");
const CURSORS: TableDefinition<&str, u64> = TableDefinition::new("feed_cursors");

/// Separates key parts; below every character our keys may contain.
const SEP: char = '\u{1f}';
/// The character after [`SEP`]: an exclusive upper bound for a prefix.
const SEP_END: char = '\u{20}';

/// The embedded store. Cheap to clone; safe to share between tasks.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    path: PathBuf,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.path)
            .finish()
    }
}

/// Internal fault while running a transaction.
#[derive(Debug)]
enum Fault {
    Db(redb::Error),
    Decode(serde_json::Error),
    Cursor,
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Fault {
            fn from(e: $t) -> Self {
                Fault::Db(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<serde_json::Error> for Fault {
    fn from(e: serde_json::Error) -> Self {
        Fault::Decode(e)
    }
}

impl Fault {
    fn into_store(self, operation: &'static str) -> StoreError {
        match self {
            Fault::Db(e) => StoreError::unavailable(operation, e),
            Fault::Decode(e) => StoreError::corrupt(operation, e),
            Fault::Cursor => StoreError::InvalidCursor,
        }
    }
}

type R<T> = Result<T, Fault>;

/// The file name of the store inside the data directory.
pub const DB_FILE: &str = "kundpuls.redb";

impl EmbeddedStore {
    /// Opens (or creates) the store in `data_dir`, creating the directory if needed.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::unavailable("open", e))?;
        let path = data_dir.join(DB_FILE);
        let init = || -> R<Database> {
            let db = Database::create(&path)?;
            let tx = db.begin_write()?;
            tx.open_table(ITEMS)?;
            tx.open_table(INDEX)?;
            tx.open_table(FEED)?;
            tx.open_table(CURSORS)?;
            tx.commit()?;
            Ok(db)
        };
        let db = init().map_err(|f| f.into_store("open"))?;
        Ok(Self {
            db: Arc::new(db),
            path,
        })
    }

    /// Runs `f` in one write transaction on a blocking thread and commits it.
    async fn write<T, F>(&self, operation: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer<'_>) -> R<T> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || -> R<T> {
            let tx = db.begin_write()?;
            let out = {
                let mut w = Writer {
                    items: tx.open_table(ITEMS)?,
                    index: tx.open_table(INDEX)?,
                    feed: tx.open_table(FEED)?,
                    cursors: tx.open_table(CURSORS)?,
                };
                f(&mut w)?
            };
            tx.commit()?;
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::unavailable(operation, e))?
        .map_err(|f| f.into_store(operation))
    }

    /// Runs `f` against a consistent read snapshot on a blocking thread.
    async fn read<T, F>(&self, operation: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Reader) -> R<T> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || -> R<T> {
            let tx = db.begin_read()?;
            let r = Reader {
                items: tx.open_table(ITEMS)?,
                index: tx.open_table(INDEX)?,
                feed: tx.open_table(FEED)?,
                cursors: tx.open_table(CURSORS)?,
            };
            f(&r)
        })
        .await
        .map_err(|e| StoreError::unavailable(operation, e))?
        .map_err(|f| f.into_store(operation))
    }
}

fn item_key(k: &Key) -> String {
    format!("{}{SEP}{}", k.pk, k.sk)
}

fn index_prefix(index: Index, pk: &str) -> String {
    format!("{}{SEP}{pk}{SEP}", index.name())
}

fn index_entry(ik: &IndexKey) -> String {
    format!("{}{}", index_prefix(ik.index, &ik.pk), ik.sk)
}

/// What a range over one index partition returns: item keys and the cursor after.
struct IndexRange {
    keys: Vec<String>,
    next: Option<String>,
}

/// A query over one index partition, in sort-key order.
#[derive(Debug, Clone)]
struct IndexQuery {
    index: Index,
    pk: String,
    /// Exclusive lower bound on the sort key (upper, when `reverse`).
    after: Option<String>,
    /// Exclusive upper bound on the sort key.
    below: Option<String>,
    reverse: bool,
    limit: usize,
}

fn encode_cursor(sk: &str) -> String {
    URL_SAFE_NO_PAD.encode(sk)
}

fn decode_cursor(cursor: Option<&str>) -> R<Option<String>> {
    cursor
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(Fault::Cursor)
        })
        .transpose()
}

/// Tables of a write transaction.
struct Writer<'t> {
    items: redb::Table<'t, &'static str, &'static [u8]>,
    index: redb::Table<'t, &'static str, &'static str>,
    feed: redb::Table<'t, u64, &'static [u8]>,
    cursors: redb::Table<'t, &'static str, u64>,
}

/// Tables of a read snapshot.
struct Reader {
    items: redb::ReadOnlyTable<&'static str, &'static [u8]>,
    index: redb::ReadOnlyTable<&'static str, &'static str>,
    feed: redb::ReadOnlyTable<u64, &'static [u8]>,
    cursors: redb::ReadOnlyTable<&'static str, u64>,
}

/// Reads shared by [`Writer`] and [`Reader`].
trait Lookup {
    fn item_bytes(&self, key: &str) -> R<Option<Vec<u8>>>;
    fn index_range(
        &self,
        lo: Bound<&str>,
        hi: Bound<&str>,
        reverse: bool,
        limit: usize,
    ) -> R<Vec<(String, String)>>;

    fn get<T: DeserializeOwned>(&self, key: &Key) -> R<Option<T>> {
        self.get_raw(&item_key(key))
    }

    fn get_raw<T: DeserializeOwned>(&self, key: &str) -> R<Option<T>> {
        match self.item_bytes(key)? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Items referenced from one index partition, with the cursor for the next page.
    fn query<T: DeserializeOwned>(&self, q: &IndexQuery) -> R<Page<T>> {
        let range = self.range(q)?;
        let mut items = Vec::with_capacity(range.keys.len());
        for k in &range.keys {
            if let Some(v) = self.get_raw(k)? {
                items.push(v);
            }
        }
        Ok(Page {
            items,
            next: range.next,
        })
    }

    fn range(&self, q: &IndexQuery) -> R<IndexRange> {
        let prefix = index_prefix(q.index, &q.pk);
        let start = q.after.as_ref().map(|a| format!("{prefix}{a}"));
        let below = q.below.as_ref().map(|b| format!("{prefix}{b}"));
        let end = format!("{}{}{SEP_END}", q.index.name(), &format!("{SEP}{}", q.pk));
        let floor = prefix.clone();
        let (lo, hi) = if q.reverse {
            let hi = match (&start, &below) {
                (Some(s), _) => Bound::Excluded(s.as_str()),
                (None, Some(b)) => Bound::Excluded(b.as_str()),
                (None, None) => Bound::Excluded(end.as_str()),
            };
            (Bound::Included(floor.as_str()), hi)
        } else {
            let lo = match &start {
                Some(s) => Bound::Excluded(s.as_str()),
                None => Bound::Included(floor.as_str()),
            };
            let hi = match &below {
                Some(b) => Bound::Excluded(b.as_str()),
                None => Bound::Excluded(end.as_str()),
            };
            (lo, hi)
        };
        let mut rows = self.index_range(lo, hi, q.reverse, q.limit + 1)?;
        let more = rows.len() > q.limit;
        rows.truncate(q.limit);
        let next = if more {
            rows.last()
                .map(|(entry, _)| encode_cursor(&entry[prefix.len()..]))
        } else {
            None
        };
        Ok(IndexRange {
            keys: rows.into_iter().map(|(_, k)| k).collect(),
            next,
        })
    }

    /// Items of one partition whose sort key starts with `sk_prefix`, in order.
    fn items_with_prefix<T: DeserializeOwned>(&self, pk: &str, sk_prefix: &str) -> R<Vec<T>>;
}

macro_rules! impl_lookup {
    ($t:ty) => {
        impl Lookup for $t {
            fn item_bytes(&self, key: &str) -> R<Option<Vec<u8>>> {
                Ok(self.items.get(key)?.map(|g| g.value().to_vec()))
            }

            fn index_range(
                &self,
                lo: Bound<&str>,
                hi: Bound<&str>,
                reverse: bool,
                limit: usize,
            ) -> R<Vec<(String, String)>> {
                let iter = self.index.range::<&str>((lo, hi))?;
                let mut out = Vec::new();
                let mut push = |row: Result<
                    (
                        redb::AccessGuard<'_, &'static str>,
                        redb::AccessGuard<'_, &'static str>,
                    ),
                    redb::StorageError,
                >|
                 -> R<bool> {
                    let (k, v) = row?;
                    out.push((k.value().to_string(), v.value().to_string()));
                    Ok(out.len() >= limit)
                };
                if reverse {
                    for row in iter.rev() {
                        if push(row)? {
                            break;
                        }
                    }
                } else {
                    for row in iter {
                        if push(row)? {
                            break;
                        }
                    }
                }
                Ok(out)
            }

            fn items_with_prefix<T: DeserializeOwned>(
                &self,
                pk: &str,
                sk_prefix: &str,
            ) -> R<Vec<T>> {
                let lo = format!("{pk}{SEP}{sk_prefix}");
                let mut out = Vec::new();
                for row in self.items.range::<&str>(lo.as_str()..)? {
                    let (k, v) = row?;
                    if !k.value().starts_with(&lo) {
                        break;
                    }
                    out.push(serde_json::from_slice(v.value())?);
                }
                Ok(out)
            }
        }
    };
}
impl_lookup!(Writer<'_>);
impl_lookup!(Reader);

impl Writer<'_> {
    fn put<T: Serialize>(&mut self, key: &Key, value: &T) -> R<()> {
        let bytes = serde_json::to_vec(value)?;
        self.items
            .insert(item_key(key).as_str(), bytes.as_slice())?;
        Ok(())
    }

    /// Moves an item's index entries from `old` to `new`.
    fn reindex(&mut self, item: &Key, old: &[IndexKey], new: &[IndexKey]) -> R<()> {
        for o in old.iter().filter(|o| !new.contains(o)) {
            self.index.remove(index_entry(o).as_str())?;
        }
        let target = item_key(item);
        for n in new.iter().filter(|n| !old.contains(n)) {
            self.index
                .insert(index_entry(n).as_str(), target.as_str())?;
        }
        Ok(())
    }
}
