//! [`ContactStore`] on DynamoDB.

use super::{DynamoStore, IndexQuery, key_item, n};
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
impl ContactStore for DynamoStore {
    /// `if_not_exists` keeps the first opt-out time: idempotent in one request.
    async fn opt_out(&self, contact: &ContactKey, at: Timestamp) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::contact_state(contact))))
            .update_expression("SET opted_out_ms = if_not_exists(opted_out_ms, :at)")
            .expression_attribute_values(":at", n(at.as_millisecond()))
            .send()
            .await
            .map_err(|e| StoreError::unavailable("opt_out", e))?;
        Ok(())
    }

    async fn opt_in(&self, contact: &ContactKey) -> Result<(), StoreError> {
        // Opting in a contact we never heard of changes nothing.
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::contact_state(contact))))
            .update_expression("REMOVE opted_out_ms")
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        super::unless_already("opt_in", result)
    }

    async fn suppress(&self, contact: &ContactKey, at: Timestamp) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::contact_state(contact))))
            .update_expression("SET suppressed_ms = if_not_exists(suppressed_ms, :at)")
            .expression_attribute_values(":at", n(at.as_millisecond()))
            .send()
            .await
            .map_err(|e| StoreError::unavailable("suppress", e))?;
        Ok(())
    }

    async fn suppressed_at(&self, contact: &ContactKey) -> Result<Option<Timestamp>, StoreError> {
        let state: Option<ContactState> = self
            .get("suppressed_at", &keys::contact_state(contact))
            .await?;
        Ok(state.and_then(|s| s.suppressed()))
    }

    async fn opted_out_at(&self, contact: &ContactKey) -> Result<Option<Timestamp>, StoreError> {
        let state: Option<ContactState> = self
            .get("opted_out_at", &keys::contact_state(contact))
            .await?;
        Ok(state.and_then(|s| s.opted_out()))
    }

    /// Keeps the latest flagged time in one conditional update; an older or equal
    /// time fails the condition and changes nothing.
    async fn flag_person(&self, person: &ContactKey, at: Timestamp) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::contact_state(person))))
            .update_expression("SET flagged_ms = :at")
            .condition_expression("attribute_not_exists(flagged_ms) OR flagged_ms < :at")
            .expression_attribute_values(":at", n(at.as_millisecond()))
            .send()
            .await;
        super::unless_already("flag_person", result)
    }

    async fn person_flagged_at(
        &self,
        person: &ContactKey,
    ) -> Result<Option<Timestamp>, StoreError> {
        let state: Option<ContactState> = self
            .get("person_flagged_at", &keys::contact_state(person))
            .await?;
        Ok(state.and_then(|s| s.flagged()))
    }

    /// A full put: the wave index attributes are rewritten with the item.
    async fn upsert_creditor(&self, contact: &CreditorContact) -> Result<(), StoreError> {
        let key = keys::creditor(&contact.client_id, &contact.contact_id);
        self.put_record(
            "upsert_creditor",
            &key,
            contact,
            &keys::creditor_index(contact),
        )
        .await
    }

    async fn get_creditor(
        &self,
        client: &ClientId,
        contact: &ContactId,
    ) -> Result<Option<CreditorContact>, StoreError> {
        self.get("get_creditor", &keys::creditor(client, contact))
            .await
    }

    async fn creditors_in_wave(
        &self,
        month: u8,
        page: PageRequest,
    ) -> Result<Page<CreditorContact>, StoreError> {
        self.query_index(
            "creditors_in_wave",
            IndexQuery {
                index: Index::Gsi1,
                pk: keys::wave(month),
                below: None,
                reverse: false,
                limit: page.clamped_limit(),
                cursor: page.cursor,
            },
        )
        .await
    }

    async fn creditors_of_person(
        &self,
        person: &ContactKey,
    ) -> Result<Vec<CreditorContact>, StoreError> {
        let page = self
            .query_index(
                "creditors_of_person",
                IndexQuery {
                    index: Index::Gsi3,
                    pk: keys::person_contacts(person),
                    below: None,
                    reverse: false,
                    limit: 100,
                    cursor: None,
                },
            )
            .await?;
        Ok(page.items)
    }

    /// One `DeleteItem`; the index attributes go with the item.
    async fn erase_creditor(
        &self,
        client: &ClientId,
        contact: &ContactId,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::creditor(client, contact))))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| StoreError::unavailable("erase_creditor", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn wave_progress(&self, month: &str) -> Result<Option<WaveProgress>, StoreError> {
        self.get("wave_progress", &keys::wave_progress(month)).await
    }

    /// One conditional put on the stored version.
    async fn save_wave_progress(&self, progress: &WaveProgress) -> Result<bool, StoreError> {
        const OP: &str = "save_wave_progress";
        let item = super::record(OP, &keys::wave_progress(&progress.month), progress, &[])?;
        let condition = if progress.version <= 1 {
            "attribute_not_exists(pk)"
        } else {
            "#v = :before"
        };
        let mut req = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression(condition);
        if progress.version > 1 {
            req = req
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":before", n(progress.version - 1));
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::unavailable(OP, e)),
        }
    }
}
