//! One SQS batch of case-step events. Each message is decided on its own; the ones
//! that could not be handled are reported as batch item failures, so SQS redelivers
//! only those (and, after the queue's maxReceiveCount, moves them to the DLQ). A
//! malformed message is one of them: it is never dropped silently.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use jiff::Timestamp;
use kundpuls::app::Services;
use kundpuls::domain::case_step::CaseStepEvent;

pub async fn handle(services: &Services, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let ok = match CaseStepEvent::from_json(
            record.body.as_deref().unwrap_or_default().as_bytes(),
        ) {
            Ok(step) => match services.handle_case_step(&step, now).await {
                Ok(outcome) => {
                    tracing::debug!(message_id = %id, ?outcome, "handled");
                    true
                }
                Err(e) => {
                    tracing::error!(message_id = %id, error = ?e, "case step not handled; SQS will redeliver");
                    false
                }
            },
            Err(invalid) => {
                let fields: Vec<&str> = invalid.0.iter().map(|f| f.field.as_str()).collect();
                tracing::warn!(message_id = %id, ?fields, "invalid case-step event; left for the DLQ");
                if let Err(e) = services.count_invalid_event(now, &id).await {
                    tracing::error!(message_id = %id, error = ?e, "counting an invalid event");
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use kundpuls::domain::policy::SurveyPolicy;
    use kundpuls_tests::{Harness, app};

    const BATCH: &str = include_str!("../fixtures/sqs-batch.json");

    fn monday() -> Timestamp {
        "2026-11-23T09:00:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn one_poison_message_among_nine_good_ones_fails_alone() {
        // GIVEN a real SQS batch: nine valid case steps and one malformed one
        let h = Harness::embedded().await;
        let (services, outbox) = app::local(&h, SurveyPolicy::default());
        let event: SqsEvent = serde_json::from_str(BATCH).unwrap();
        assert_eq!(event.records.len(), 10);
        // WHEN the function handles it
        let response = handle(&services, event, monday()).await;
        // THEN only the poison message is reported, and the nine got their SMS
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, vec!["msg-04"]);
        assert_eq!(outbox.read_all().unwrap().len(), 9);
    }

    #[tokio::test]
    async fn a_batch_delivered_twice_sends_nothing_twice() {
        let h = Harness::embedded().await;
        let (services, outbox) = app::local(&h, SurveyPolicy::default());
        for _ in 0..2 {
            let event: SqsEvent = serde_json::from_str(BATCH).unwrap();
            handle(&services, event, monday()).await;
        }
        assert_eq!(outbox.read_all().unwrap().len(), 9);
    }
}
