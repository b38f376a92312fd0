//! The table definition, in one place: the tests create their tables from it and the
//! SAM template is checked against it.

use crate::adapters::keys::Index;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, SseSpecification, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use serde_json::{Value, json};

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";
/// Epoch seconds after which DynamoDB removes the item (retention).
pub const TTL_ATTRIBUTE: &str = "ttl";

/// The table as CloudFormation `AWS::DynamoDB::Table` properties (without its name):
/// the form the SAM template must match.
pub fn cloudformation_properties() -> Value {
    let mut attrs = vec![PARTITION_KEY, SORT_KEY];
    for i in Index::ALL {
        attrs.push(i.pk_attr());
        attrs.push(i.sk_attr());
    }
    json!({
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": attrs.iter().map(|a| json!({"AttributeName": a, "AttributeType": "S"})).collect::<Vec<_>>(),
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"}
        ],
        "GlobalSecondaryIndexes": Index::ALL.iter().map(|i| json!({
            "IndexName": i.name(),
            "KeySchema": [
                {"AttributeName": i.pk_attr(), "KeyType": "HASH"},
                {"AttributeName": i.sk_attr(), "KeyType": "RANGE"}
            ],
            "Projection": {"ProjectionType": "ALL"}
        })).collect::<Vec<_>>(),
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": true},
        "SSESpecification": {"SSEEnabled": true},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}
    })
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn key(attr: &str, kind: KeyType) -> Result<KeySchemaElement, BoxError> {
    Ok(KeySchemaElement::builder()
        .attribute_name(attr)
        .key_type(kind)
        .build()?)
}

/// Creates the table (for tests and local tooling; in AWS the template does it) and
/// turns on TTL.
pub async fn create_table(client: &Client, name: &str) -> Result<(), BoxError> {
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(SORT_KEY, KeyType::Range)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()?,
        )
        .sse_specification(SseSpecification::builder().enabled(true).build());
    let mut attrs = vec![PARTITION_KEY, SORT_KEY];
    for i in Index::ALL {
        attrs.push(i.pk_attr());
        attrs.push(i.sk_attr());
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(i.name())
                .key_schema(key(i.pk_attr(), KeyType::Hash)?)
                .key_schema(key(i.sk_attr(), KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        );
    }
    for a in attrs {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(a)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        );
    }
    req.send().await?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}
