//! Rewriting the store's file after an erasure, so no freed page keeps a deleted
//! record's bytes (see [`EmbeddedStore::rewrite`]).

use super::{CURSORS, EmbeddedStore, FEED, Fault, INDEX, ITEMS, R};
use crate::ports::StoreError;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

impl EmbeddedStore {
    /// Rewrites the file with only what it holds now, so that no freed page keeps
    /// the bytes of a deleted record (redb does not clear freed pages, and compacting
    /// in place leaves some of them standing in the middle of the file). The live
    /// tables are copied into a new file, which then takes the old one's name in one
    /// rename: a crash before it leaves the old file as it was. Reads and writes wait
    /// while it runs.
    pub async fn rewrite(&self) -> Result<(), StoreError> {
        let db = self.inner.db.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || -> R<()> {
            let mut db = db
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let fresh_path = path.with_extension("redb.rewrite");
            let _ = std::fs::remove_file(&fresh_path);
            let mut fresh = Database::create(&fresh_path)?;
            {
                let from = db.begin_read()?;
                let to = fresh.begin_write()?;
                copy_table(&from, &to, ITEMS)?;
                copy_table(&from, &to, INDEX)?;
                copy_table(&from, &to, FEED)?;
                copy_table(&from, &to, CURSORS)?;
                to.commit()?;
            }
            // The copy holds only live data; compacting it gives back the room the
            // bulk insert left, so the file does not grow with each erasure.
            fresh.compact().map_err(|e| Fault::Db(e.into()))?;
            drop(std::mem::replace(&mut *db, fresh));
            std::fs::rename(&fresh_path, &path).map_err(|e| Fault::Db(e.into()))?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| Fault::Db(e.into()))?;
            }
            Ok(())
        })
        .await
        .map_err(|e| StoreError::unavailable("rewrite", e))?
        .map_err(|f| f.into_store("rewrite"))
    }
}

/// Copies every row of one table from a snapshot into a write transaction.
fn copy_table<K, V>(
    from: &redb::ReadTransaction,
    to: &redb::WriteTransaction,
    table: TableDefinition<K, V>,
) -> R<()>
where
    K: redb::Key + 'static,
    V: redb::Value + 'static,
    for<'a> K::SelfType<'a>: std::borrow::Borrow<K::SelfType<'a>>,
{
    let source = from.open_table(table)?;
    let mut target = to.open_table(table)?;
    for row in source.iter()? {
        let (k, v) = row?;
        target.insert(k.value(), v.value())?;
    }
    Ok(())
}
