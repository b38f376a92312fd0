use super::{Page, PageRequest, StoreError};
use crate::domain::contact::ContactKey;
use crate::domain::creditor::CreditorContact;
use crate::domain::ids::{ClientId, ContactId};
use crate::domain::wave::WaveProgress;
use async_trait::async_trait;
use jiff::Timestamp;

/// Opt-outs (kept under the contact's keyed hash, forever) and creditor contacts.
///
/// Contract:
/// - `opt_out` is idempotent: the first time is kept. `opt_in` undoes it.
/// - `upsert_creditor` replaces the contact with the same (client, contact id) and
///   keeps its wave index (month of its yearly NPS) consistent in the same write.
/// - `creditors_in_wave` pages through the contacts of one wave month (1–12) in a
///   stable order: no contact lost or repeated across pages.
#[async_trait]
pub trait ContactStore: Send + Sync {
    async fn opt_out(&self, contact: &ContactKey, at: Timestamp) -> Result<(), StoreError>;

    async fn opt_in(&self, contact: &ContactKey) -> Result<(), StoreError>;

    async fn opted_out_at(&self, contact: &ContactKey) -> Result<Option<Timestamp>, StoreError>;

    /// Mail to this address bounced for good or was reported as spam: it is never
    /// surveyed again. Keeps the first time; idempotent.
    async fn suppress(&self, contact: &ContactKey, at: Timestamp) -> Result<(), StoreError>;

    async fn suppressed_at(&self, contact: &ContactKey) -> Result<Option<Timestamp>, StoreError>;

    /// Remembers that a step of this person (by their person key) that happened at
    /// `at` carried a blocking flag. Keeps the latest such time; idempotent.
    async fn flag_person(&self, person: &ContactKey, at: Timestamp) -> Result<(), StoreError>;

    /// When a step of this person last carried a blocking flag.
    async fn person_flagged_at(&self, person: &ContactKey)
    -> Result<Option<Timestamp>, StoreError>;

    async fn upsert_creditor(&self, contact: &CreditorContact) -> Result<(), StoreError>;

    async fn get_creditor(
        &self,
        client: &ClientId,
        contact: &ContactId,
    ) -> Result<Option<CreditorContact>, StoreError>;

    async fn creditors_in_wave(
        &self,
        month: u8,
        page: PageRequest,
    ) -> Result<Page<CreditorContact>, StoreError>;

    /// Where one month's NPS wave stands (`YYYY-MM`), if it was started.
    async fn wave_progress(&self, month: &str) -> Result<Option<WaveProgress>, StoreError>;

    /// Saves `progress` (its `version` one above the stored one, or 1 for the
    /// first save) if the stored version is still `progress.version - 1`:
    /// `false` when another tick saved in between (that tick carries on).
    async fn save_wave_progress(&self, progress: &WaveProgress) -> Result<bool, StoreError>;

    /// The contact records of one person (by the keyed hash of their contact id),
    /// under every client that knows them.
    async fn creditors_of_person(
        &self,
        person: &ContactKey,
    ) -> Result<Vec<CreditorContact>, StoreError>;

    /// Deletes a contact record and its index entries (it leaves its wave).
    /// `false` if there was none.
    async fn erase_creditor(
        &self,
        client: &ClientId,
        contact: &ContactId,
    ) -> Result<bool, StoreError>;
}
