//! Importing creditor contacts (JSON or CSV rows with the contract's columns).

use super::Services;
use crate::domain::creditor::{CreditorContact, CreditorContactInput};
use crate::domain::error::InvalidInput;
use crate::ports::StoreError;
use serde::Serialize;

/// A row that was refused, and why. Rows count from 1 (the first data row); a CSV
/// row also names its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub upserted: usize,
    pub rejected: Vec<RowError>,
}

impl Services {
    /// Upserts every valid row; invalid or unreadable rows are reported, never
    /// half-written, and do not stop the others. `progress` is called after each
    /// row with the number of rows done.
    pub async fn import_contacts(
        &self,
        rows: Vec<ContactRow>,
        mut progress: impl FnMut(usize) + Send,
    ) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        for (i, row) in rows.into_iter().enumerate() {
            match row.fields.and_then(CreditorContact::parse) {
                Ok(contact) => {
                    self.contacts.upsert_creditor(&contact).await?;
                    report.upserted += 1;
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
}
