//! One batch of records from the table's stream. Newly inserted answers are routed
//! (counted once, feedback item once, lead alerted once); every other change is
//! ignored. Records of a shard must be handled in order, so the first record that
//! fails is reported and the rest of the batch is left for the retry, which starts
//! from it (`ReportBatchItemFailures`). Everything already handled is idempotent, so
//! the retry, or a whole batch delivered again, changes nothing.

use crate::adapters::dynamo::stream::inserted_answer;
use crate::app::Services;
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

pub async fn handle(services: &Services, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        let outcome = match inserted_answer(
            &record.event_name,
            &record.change.keys,
            &record.change.new_image,
        ) {
            Ok(None) => continue,
            Ok(Some(answer)) => services.route_answer(&answer).await.map(|routed| {
                tracing::debug!(sequence = %sequence, ?routed, "answer routed");
            }),
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            tracing::error!(sequence = %sequence, error = %e, "stream record not routed; the batch resumes here");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence);
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}
