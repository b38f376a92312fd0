//! Importing creditor contacts (JSON or CSV rows with the contract's columns).

use super::Services;
use crate::domain::creditor::{CreditorContact, CreditorContactInput};
use crate::domain::error::InvalidInput;
use crate::ports::StoreError;
use serde::Serialize;

/// A row that was refused, and why. Rows count from 1 (the first data row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub errors: InvalidInput,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub upserted: usize,
    pub rejected: Vec<RowError>,
}

impl Services {
    /// Upserts every valid row; invalid rows are reported, never half-written.
    /// `progress` is called after each row with the number of rows done.
    pub async fn import_contacts(
        &self,
        rows: Vec<CreditorContactInput>,
        mut progress: impl FnMut(usize) + Send,
    ) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        for (i, row) in rows.into_iter().enumerate() {
            match CreditorContact::parse(row) {
                Ok(contact) => {
                    self.contacts.upsert_creditor(&contact).await?;
                    report.upserted += 1;
                }
                Err(errors) => report.rejected.push(RowError { row: i + 1, errors }),
            }
            progress(i + 1);
        }
        Ok(report)
    }
}
