//! Importing creditor contacts (JSON or CSV rows with the contract's columns).

use super::Services;
use crate::domain::creditor::{CreditorContact, CreditorContactInput};
use crate::domain::error::InvalidInput;
use crate::domain::ids::{ClientId, ContactId};
use crate::domain::rules::SkipReason;
use crate::domain::sending::SurveyChange;
use crate::domain::stats::CounterField;
use crate::domain::survey::{SurveyKind, SurveyState};
use crate::ports::{PageRequest, StoreError, TransitionOutcome};
use jiff::Timestamp;
use serde::Serialize;

/// A row that was refused, and why. Rows count from 1 (the first data row); a CSV
/// row also names its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub errors: InvalidInput,
}

/// One row as it arrived: its fields, or why they could not be read (a CSV row
/// with the wrong number of columns, broken quoting, bytes that are not UTF-8).
#[derive(Debug, Clone)]
pub struct ContactRow {
    pub line: Option<u64>,
    pub fields: Result<CreditorContactInput, InvalidInput>,
}

impl From<CreditorContactInput> for ContactRow {
    fn from(input: CreditorContactInput) -> Self {
        Self {
            line: None,
            fields: Ok(input),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub upserted: usize,
    pub rejected: Vec<RowError>,
    /// Pending NPS surveys cancelled because their contact was marked inactive.
    pub cancelled: usize,
}

/// What deactivating one contact did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deactivated {
    /// Pending (not yet sent) NPS surveys of the contact that will not go out.
    pub cancelled: usize,
}

impl Services {
    /// Upserts every valid row; invalid or unreadable rows are reported, never
    /// half-written, and do not stop the others. `progress` is called after each
    /// row with the number of rows done.
    pub async fn import_contacts(
        &self,
        rows: Vec<ContactRow>,
        now: Timestamp,
        mut progress: impl FnMut(usize) + Send,
    ) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        for (i, row) in rows.into_iter().enumerate() {
            match row.fields.and_then(CreditorContact::parse) {
                Ok(mut contact) => {
                    contact.person = Some(self.keyer.person_key(contact.contact_id.as_str()));
                    self.contacts.upsert_creditor(&contact).await?;
                    report.upserted += 1;
                    if !contact.active {
                        report.cancelled += self.cancel_pending_nps(&contact, now).await?;
                    }
                }
                Err(errors) => report.rejected.push(RowError {
                    row: i + 1,
                    line: row.line,
                    errors,
                }),
            }
            progress(i + 1);
        }
        Ok(report)
    }

    /// Marks a contact as gone from the client: no new NPS survey, no reminder,
    /// and its pending surveys are cancelled (counted as `skip_contact_inactive`).
    /// `None` if there is no such contact. Importing the contact again with
    /// `active` true (or empty) brings it back.
    pub async fn deactivate_contact(
        &self,
        client: &ClientId,
        contact: &ContactId,
        now: Timestamp,
    ) -> Result<Option<Deactivated>, StoreError> {
        let Some(mut found) = self.contacts.get_creditor(client, contact).await? else {
            return Ok(None);
        };
        if found.active {
            found.active = false;
            found.person = Some(self.keyer.person_key(contact.as_str()));
            self.contacts.upsert_creditor(&found).await?;
            tracing::info!(client_id = %client, "creditor contact deactivated");
        }
        let cancelled = self.cancel_pending_nps(&found, now).await?;
        Ok(Some(Deactivated { cancelled }))
    }

    /// Cancels the contact's NPS surveys that are scheduled and not yet sent.
    async fn cancel_pending_nps(
        &self,
        contact: &CreditorContact,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let person = self.keyer.person_key(contact.contact_id.as_str());
        let reason = SkipReason::ContactInactive.code();
        let mut cancelled = 0;
        let mut cursor = None;
        loop {
            let page = self
                .surveys
                .surveys_of_person(&person, PageRequest { cursor, limit: 100 })
                .await?;
            for survey in &page.items {
                let pending = survey.kind == SurveyKind::Nps
                    && survey.state == SurveyState::Scheduled
                    && survey.subject.client_id == contact.client_id;
                if !pending {
                    continue;
                }
                let change = SurveyChange::Cancel {
                    reason: reason.clone(),
                };
                if let TransitionOutcome::Done(_) = self.surveys.apply(&survey.id, change).await? {
                    self.count(survey, "failed", CounterField::Skipped(reason.clone()), now)
                        .await?;
                    cancelled += 1;
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(cancelled),
            }
        }
    }
}
