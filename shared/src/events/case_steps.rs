//! One SQS batch of case-step events. Each message is decided on its own; the ones
//! that could not be handled are reported as batch item failures, so SQS redelivers
//! only those (and, after the queue's maxReceiveCount, moves them to the DLQ). A
//! malformed message is one of them: it is never dropped silently.

use crate::app::Services;
use crate::domain::case_step::CaseStepEvent;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use jiff::Timestamp;

pub async fn handle(services: &Services, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let ok = match CaseStepEvent::from_json_at(
            record.body.as_deref().unwrap_or_default().as_bytes(),
            now,
        ) {
            Ok(step) => match services.handle_case_step(&step, now).await {
                Ok(outcome) => {
                    tracing::debug!(message_id = %id, ?outcome, "handled");
                    true
                }
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "case step not handled; SQS will redeliver");
                    false
                }
            },
            Err(invalid) => {
                let fields: Vec<&str> = invalid.0.iter().map(|f| f.field.as_str()).collect();
                tracing::warn!(message_id = %id, ?fields, "invalid case-step event; left for the DLQ");
                let body = record.body.as_deref().unwrap_or_default();
                if let Err(e) = services.count_invalid_event(now, body).await {
                    tracing::error!(message_id = %id, error = %e, "counting an invalid event");
                }
                false
            }
        };
        if !ok {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}
