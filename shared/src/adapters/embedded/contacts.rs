//! [`ContactStore`] on the embedded store.

use super::{EmbeddedStore, Lookup};
use crate::adapters::keys::{self, Index};
use crate::adapters::records::ContactState;
use crate::domain::contact::ContactKey;
use crate::domain::creditor::CreditorContact;
use crate::domain::ids::{ClientId, ContactId};
use crate::domain::wave::WaveProgress;
use crate::ports::{ContactStore, Page, PageRequest, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;

#[async_trait]
impl ContactStore for EmbeddedStore {
    async fn opt_out(&self, contact: &ContactKey, at: Timestamp) -> Result<(), StoreError> {
        let key = keys::contact_state(contact);
        self.write("opt_out", move |w| {
            let mut state = w.get::<ContactState>(&key)?.unwrap_or_default();
            if state.opted_out_ms.is_none() {
                state.opted_out_ms = Some(at.as_millisecond());
                w.put(&key, &state)?;
            }
            Ok(())
        })
        .await
    }

    async fn opt_in(&self, contact: &ContactKey) -> Result<(), StoreError> {
        let key = keys::contact_state(contact);
        self.write("opt_in", move |w| {
            if let Some(mut state) = w.get::<ContactState>(&key)? {
                state.opted_out_ms = None;
                w.put(&key, &state)?;
            }
            Ok(())
        })
        .await
    }

    async fn suppress(&self, contact: &ContactKey, at: Timestamp) -> Result<(), StoreError> {
        let key = keys::contact_state(contact);
        self.write("suppress", move |w| {
            let mut state = w.get::<ContactState>(&key)?.unwrap_or_default();
            if state.suppressed_ms.is_none() {
                state.suppressed_ms = Some(at.as_millisecond());
                w.put(&key, &state)?;
            }
            Ok(())
        })
        .await
    }

    async fn suppressed_at(&self, contact: &ContactKey) -> Result<Option<Timestamp>, StoreError> {
        let key = keys::contact_state(contact);
        self.read("suppressed_at", move |r| {
            Ok(r.get::<ContactState>(&key)?.and_then(|s| s.suppressed()))
        })
        .await
    }

    async fn opted_out_at(&self, contact: &ContactKey) -> Result<Option<Timestamp>, StoreError> {
        let key = keys::contact_state(contact);
        self.read("opted_out_at", move |r| {
            Ok(r.get::<ContactState>(&key)?.and_then(|s| s.opted_out()))
        })
        .await
    }

    async fn flag_person(&self, person: &ContactKey, at: Timestamp) -> Result<(), StoreError> {
        let key = keys::contact_state(person);
        let ms = at.as_millisecond();
        self.write("flag_person", move |w| {
            let mut state = w.get::<ContactState>(&key)?.unwrap_or_default();
            if state.flagged_ms.is_none_or(|old| old < ms) {
                state.flagged_ms = Some(ms);
                w.put(&key, &state)?;
            }
            Ok(())
        })
        .await
    }

    async fn person_flagged_at(
        &self,
        person: &ContactKey,
    ) -> Result<Option<Timestamp>, StoreError> {
        let key = keys::contact_state(person);
        self.read("person_flagged_at", move |r| {
            Ok(r.get::<ContactState>(&key)?.and_then(|s| s.flagged()))
        })
        .await
    }

    async fn upsert_creditor(&self, contact: &CreditorContact) -> Result<(), StoreError> {
        let contact = contact.clone();
        self.write("upsert_creditor", move |w| {
            let key = keys::creditor(&contact.client_id, &contact.contact_id);
            let before = w
                .get::<CreditorContact>(&key)?
                .map(|old| keys::creditor_index(&old))
                .unwrap_or_default();
            w.put(&key, &contact)?;
            w.reindex(&key, &before, &keys::creditor_index(&contact))?;
            Ok(())
        })
        .await
    }

    async fn get_creditor(
        &self,
        client: &ClientId,
        contact: &ContactId,
    ) -> Result<Option<CreditorContact>, StoreError> {
        let key = keys::creditor(client, contact);
        self.read("get_creditor", move |r| r.get(&key)).await
    }

    async fn creditors_in_wave(
        &self,
        month: u8,
        page: PageRequest,
    ) -> Result<Page<CreditorContact>, StoreError> {
        self.page_of("creditors_in_wave", Index::Gsi1, keys::wave(month), page)
            .await
    }

    async fn creditors_of_person(
        &self,
        person: &ContactKey,
    ) -> Result<Vec<CreditorContact>, StoreError> {
        let pk = keys::person_contacts(person);
        let page = self
            .page_of(
                "creditors_of_person",
                Index::Gsi3,
                pk,
                PageRequest::first(100),
            )
            .await?;
        Ok(page.items)
    }

    async fn erase_creditor(
        &self,
        client: &ClientId,
        contact: &ContactId,
    ) -> Result<bool, StoreError> {
        let key = keys::creditor(client, contact);
        self.write("erase_creditor", move |w| {
            let Some(old) = w.get::<CreditorContact>(&key)? else {
                return Ok(false);
            };
            w.reindex(&key, &keys::creditor_index(&old), &[])?;
            w.delete(&key)?;
            Ok(true)
        })
        .await
    }

    async fn wave_progress(&self, month: &str) -> Result<Option<WaveProgress>, StoreError> {
        let key = keys::wave_progress(month);
        self.read("wave_progress", move |r| r.get(&key)).await
    }

    async fn save_wave_progress(&self, progress: &WaveProgress) -> Result<bool, StoreError> {
        let progress = progress.clone();
        self.write("save_wave_progress", move |w| {
            let key = keys::wave_progress(&progress.month);
            let stored = w.get::<WaveProgress>(&key)?.map_or(0, |p| p.version);
            if stored + 1 != progress.version {
                return Ok(false);
            }
            w.put(&key, &progress)?;
            Ok(true)
        })
        .await
    }
}
