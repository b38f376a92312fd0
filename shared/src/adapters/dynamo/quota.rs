//! [`SendQuota`] on DynamoDB: one item per channel and second, counted up by a
//! conditional `UpdateItem` (`n < limit`), so every instance of every sending
//! function shares one count. A new partition each second keeps any one item far
//! below a partition's 1,000 writes/s; the items leave by TTL a day later.

use super::{DynamoStore, key_item, n};
use crate::adapters::keys;
use crate::domain::survey::Channel;
use crate::ports::{SendQuota, StoreError};
use async_trait::async_trait;

/// How long a second's count is kept (TTL), for a look at past peaks.
const KEEP_SECONDS: i64 = 86_400;

#[async_trait]
impl SendQuota for DynamoStore {
    async fn take_send_slot(
        &self,
        channel: Channel,
        second: i64,
        limit: u32,
    ) -> Result<bool, StoreError> {
        const OP: &str = "take_send_slot";
        let out = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::send_slots(channel, second))))
            .update_expression("ADD #n :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#n) OR #n < :limit")
            .expression_attribute_names("#n", "n")
            .expression_attribute_names("#ttl", super::schema::TTL_ATTRIBUTE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":ttl", n(second + KEEP_SECONDS))
            .send()
            .await;
        match out {
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
