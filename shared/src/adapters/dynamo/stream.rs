//! Reading the table's stream: which changes are newly recorded answers. The record
//! images are the items this adapter wrote, so they decode with the same serde
//! mapping.

use crate::adapters::keys;
use crate::domain::survey::Answer;
use crate::ports::StoreError;

/// The answer a stream record inserted, or `None` for every other change (surveys,
/// counters, feedback items, and any modification or removal, such as an expiry by
/// TTL or an erasure).
pub fn inserted_answer(
    event_name: &str,
    keys_item: &serde_dynamo::Item,
    new_image: &serde_dynamo::Item,
) -> Result<Option<Answer>, StoreError> {
    const OP: &str = "read_stream_record";
    if event_name != "INSERT" {
        return Ok(None);
    }
    let sk = match keys_item.get("sk") {
        Some(serde_dynamo::AttributeValue::S(sk)) => sk.as_str(),
        _ => return Err(StoreError::corrupt(OP, "stream record without a string sk")),
    };
    if sk != keys::ANSWER_SK {
        return Ok(None);
    }
    serde_dynamo::from_item(new_image.clone())
        .map(Some)
        .map_err(|e| StoreError::corrupt(OP, e))
}
