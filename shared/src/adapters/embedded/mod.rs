//! The embedded store: one durable redb file under the data directory, implementing
//! every port with the same conditional semantics as the DynamoDB adapter.
//!
//! Layout: an `items` table keyed by `pk␟sk` (the keys of [`super::keys`]) holding
//! JSON, an `index` table keyed by `gsi␟pk␟sk` pointing at item keys, the
//! `answer_feed` (sequence → answer) and the consumers' committed cursors. redb runs
//! one write transaction at a time and commits durably, so every conditional check
//! and its write are atomic, and a committed write survives a crash.
//!
//! Group commit: every write goes to one writer thread, which runs the writes waiting
//! at that moment (up to [`MAX_BATCH`]) one after another inside a single transaction
//! and commits it durably once, then answers each caller. Each write still sees the
//! ones before it, so the conditional semantics are those of one-at-a-time writes;
//! only the fsync is shared. If one write in a batch fails (a storage fault or an
//! undecodable record), the whole batch is rolled back and every caller in it gets
//! `Unavailable`, which is retryable.

mod backlog;
mod contacts;
mod feed;
mod quota;
mod retention;
mod rewrite;
mod stats;
mod surveys;

pub use retention::SweepReport;

use super::cursor::CursorKey;
use super::keys::{Index, IndexKey, Key};
use crate::ports::{Page, StoreError};
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

/// Writes committed together at most.
pub const MAX_BATCH: usize = 256;

/// A write waiting for the writer thread: it runs inside the batch transaction and
/// returns what to tell its caller once the commit is known.
type Job = Box<dyn FnOnce(&mut Writer<'_>) -> Result<Done, ()> + Send>;
/// Tells one caller the outcome of the commit (`Some(reason)` if it failed).
type Done = Box<dyn FnOnce(Option<String>) + Send>;

/// The open file. Transactions share it; [`EmbeddedStore::compact`] takes it alone.
type Shared = Arc<std::sync::RwLock<Database>>;

fn shared(db: &Shared) -> std::sync::RwLockReadGuard<'_, Database> {
    db.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Inner {
    db: Shared,
    jobs: Option<tokio::sync::mpsc::UnboundedSender<Job>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    /// Closes the queue and waits for the writer to finish, so that the file is
    /// free to be opened again as soon as the last handle is gone.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The embedded store. Cheap to clone; safe to share between tasks.
#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    path: PathBuf,
    /// Seals the page cursors this store gives out.
    cursors: CursorKey,
    /// Sends per channel and second (see [`quota`]).
    slots: Arc<quota::SendSlots>,
}

fn open_tables(tx: &redb::WriteTransaction) -> R<Writer<'_>> {
    Ok(Writer {
        items: tx.open_table(ITEMS)?,
        index: tx.open_table(INDEX)?,
        feed: tx.open_table(FEED)?,
        cursors: tx.open_table(CURSORS)?,
    })
}

/// Runs one batch in one transaction and tells every caller how it ended.
fn run_batch(db: &Database, jobs: Vec<Job>) {
    let Ok(tx) = db.begin_write() else {
        return; // Dropping the jobs tells their callers the store is unavailable.
    };
    let mut done = Vec::with_capacity(jobs.len());
    let mut failed = false;
    {
        let Ok(mut w) = open_tables(&tx) else {
            return;
        };
        for job in jobs {
            match job(&mut w) {
                Ok(d) => done.push(d),
                Err(()) => {
                    failed = true;
                    break;
                }
            }
        }
    }
    if failed {
        let _ = tx.abort();
        for d in done {
            d(Some("another write in the same batch failed; retry".into()));
        }
        return;
    }
    let outcome = tx.commit().err().map(|e| e.to_string());
    for d in done {
        d(outcome.clone());
    }
}

fn writer_loop(db: Shared, mut jobs: tokio::sync::mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&shared(&db), batch);
    }
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
        // What an interrupted rewrite left; the file itself is as it was.
        let _ = std::fs::remove_file(path.with_extension("redb.rewrite"));
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
        let db = Arc::new(std::sync::RwLock::new(
            init().map_err(|f| f.into_store("open"))?,
        ));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let writer_db = db.clone();
        let writer = std::thread::Builder::new()
            .name("kundpuls-store-writer".into())
            .spawn(move || writer_loop(writer_db, rx))
            .map_err(|e| StoreError::unavailable("open", e))?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                jobs: Some(tx),
                writer: Some(writer),
            }),
            path,
            cursors: CursorKey::ephemeral(),
            slots: Default::default(),
        })
    }

    /// Seals page cursors with `key` instead of the random key [`Self::open`] draws,
    /// so cursors outlive a restart of the process (the local server's data
    /// directory key derives it).
    pub fn with_cursor_key(mut self, key: CursorKey) -> Self {
        self.cursors = key;
        self
    }

    /// Runs `f` inside the writer's next batch transaction and waits until that
    /// transaction is durably committed (or has failed).
    async fn write<T, F>(&self, operation: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer<'_>) -> R<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |w| match f(w) {
            Ok(value) => Ok(Box::new(move |failure: Option<String>| {
                let _ = reply.send(match failure {
                    None => Ok(value),
                    Some(reason) => Err(StoreError::unavailable(operation, reason)),
                });
            }) as Done),
            Err(fault) => {
                let _ = reply.send(Err(fault.into_store(operation)));
                Err(())
            }
        });
        let queue = self
            .inner
            .jobs
            .as_ref()
            .ok_or_else(|| StoreError::unavailable(operation, "the store is closing"))?;
        queue
            .send(job)
            .map_err(|_| StoreError::unavailable(operation, "the store's writer has stopped"))?;
        answer
            .await
            .map_err(|_| StoreError::unavailable(operation, "the write was not committed"))?
    }

    /// One page of an index partition, in sort-key order.
    async fn page_of<T>(
        &self,
        operation: &'static str,
        index: Index,
        pk: String,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<T>, StoreError>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let q = IndexQuery {
            index,
            pk,
            after: None,
            below: None,
            reverse: false,
            limit: page.clamped_limit(),
        };
        self.page(operation, q, page.cursor.as_deref()).await
    }

    /// One page of `q`, starting after `cursor` (which must be one this store sealed
    /// for the same listing), with the cursor of the next page sealed.
    async fn page<T>(
        &self,
        operation: &'static str,
        mut q: IndexQuery,
        cursor: Option<&str>,
    ) -> Result<Page<T>, StoreError>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let listing = q.listing();
        q.after = cursor
            .map(|c| {
                self.cursors
                    .open(&listing, c)
                    .and_then(|p| String::from_utf8(p).ok())
                    .ok_or(StoreError::InvalidCursor)
            })
            .transpose()?;
        let mut page = self.read(operation, move |r| r.query(&q)).await?;
        page.next = page
            .next
            .map(|sk| self.cursors.seal(&listing, sk.as_bytes()));
        Ok(page)
    }

    /// Runs `f` against a consistent read snapshot on a blocking thread.
    async fn read<T, F>(&self, operation: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Reader) -> R<T> + Send + 'static,
    {
        let db = self.inner.db.clone();
        tokio::task::spawn_blocking(move || -> R<T> {
            // The lock is held as long as the snapshot, so compaction waits for it.
            let db = shared(&db);
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

/// What a range over one index partition returns: item keys and, when more follow,
/// the last one's sort key (sealed into a cursor by [`EmbeddedStore::page`]).
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

impl IndexQuery {
    /// What a cursor of this query is bound to (see [`crate::adapters::cursor`]).
    fn listing(&self) -> String {
        listing(self.index, &self.pk, self.reverse)
    }
}

fn listing(index: Index, pk: &str, reverse: bool) -> String {
    let direction = if reverse { "rev" } else { "fwd" };
    format!("{}|{pk}|{direction}", index.name())
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
                .map(|(entry, _)| entry[prefix.len()..].to_string())
        } else {
            None
        };
        Ok(IndexRange {
            keys: rows.into_iter().map(|(_, k)| k).collect(),
            next,
        })
    }

    /// Items of one partition whose sort key starts with `sk_prefix`, in order.
    fn items_with_prefix<T: DeserializeOwned>(&self, pk: &str, sk_prefix: &str) -> R<Vec<T>> {
        Ok(self
            .keyed_items_with_prefix(pk, sk_prefix)?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    /// Items of partition `pk` whose sort key starts with `sk_prefix`, with their
    /// sort keys, in key order.
    fn keyed_items_with_prefix<T: DeserializeOwned>(
        &self,
        pk: &str,
        sk_prefix: &str,
    ) -> R<Vec<(String, T)>>;
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

            fn keyed_items_with_prefix<T: DeserializeOwned>(
                &self,
                pk: &str,
                sk_prefix: &str,
            ) -> R<Vec<(String, T)>> {
                let partition = format!("{pk}{SEP}");
                let lo = format!("{partition}{sk_prefix}");
                let mut out = Vec::new();
                for row in self.items.range::<&str>(lo.as_str()..)? {
                    let (k, v) = row?;
                    let key = k.value();
                    if !key.starts_with(&lo) {
                        break;
                    }
                    let sk = key[partition.len()..].to_string();
                    out.push((sk, serde_json::from_slice(v.value())?));
                }
                Ok(out)
            }
        }
    };
}
impl_lookup!(Writer<'_>);
impl_lookup!(Reader);

impl Writer<'_> {
    fn delete(&mut self, key: &Key) -> R<()> {
        self.items.remove(item_key(key).as_str())?;
        Ok(())
    }

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
