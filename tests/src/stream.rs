//! The table's DynamoDB stream, read through the DynamoDB Streams API on moto and
//! shaped into the event Lambda hands a stream-triggered function: the records are
//! the API's own JSON, with the fields Lambda's event source mapping adds.

use serde_json::{Value, json};

fn call(target: &str, body: Value) -> Value {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL (moto)");
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-north-1".into());
    // moto reads the service from the credential scope and the target header; it
    // does not check the signature.
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=test/20260101/{region}/dynamodb/aws4_request, \
         SignedHeaders=host, Signature=0"
    );
    let response = ureq::post(&endpoint)
        .header("X-Amz-Target", format!("DynamoDBStreams_20120810.{target}"))
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("Authorization", auth)
        .send(body.to_string())
        .unwrap_or_else(|e| panic!("Streams API {target}: {e}"))
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .unwrap_or_else(|e| panic!("Streams API {target}: {e}"));
    serde_json::from_str(&response).unwrap_or_else(|e| panic!("Streams API {target}: {e}"))
}

/// Every record on `table`'s stream from the trim horizon, as one Lambda event
/// (`{"Records": [...]}`) with `eventSourceARN` and `awsRegion` set as Lambda does.
pub fn lambda_event(table: &str) -> Value {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-north-1".into());
    let streams = call("ListStreams", json!({"TableName": table}));
    let arn = streams["Streams"][0]["StreamArn"]
        .as_str()
        .unwrap_or_else(|| panic!("no stream on {table}: {streams}"))
        .to_string();
    let description = call("DescribeStream", json!({"StreamArn": arn}));
    let mut records = Vec::new();
    for shard in description["StreamDescription"]["Shards"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let iterator = call(
            "GetShardIterator",
            json!({"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
        );
        let mut next = iterator["ShardIterator"].as_str().map(str::to_string);
        // Bounded: a test table holds a few hundred records at most.
        for _ in 0..100 {
            let Some(current) = next.take() else { break };
            let page = call(
                "GetRecords",
                json!({"ShardIterator": current, "Limit": 1000}),
            );
            let batch = page["Records"].as_array().cloned().unwrap_or_default();
            if batch.is_empty() {
                break;
            }
            for mut record in batch {
                record["eventSourceARN"] = json!(arn);
                record["awsRegion"] = json!(region);
                records.push(record);
            }
            next = page["NextShardIterator"].as_str().map(str::to_string);
        }
    }
    json!({ "Records": records })
}
