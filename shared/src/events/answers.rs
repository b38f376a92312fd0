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

/// What wakes the routing function: a batch of answers from the table's stream
/// (after which the early warnings of the teams it touched are checked), or its
/// five-minute timer (EventBridge), which runs [`Services::lead_timer`] (alerts and
/// notices tried again, the day's early warnings, last week's digests) and applies
/// the retention ceiling to items left open.
#[derive(Debug)]
pub enum Wake {
    Answers(Event),
    Timer,
}

impl Wake {
    /// Anything else is refused: the function does nothing it was not woken for.
    pub fn from_payload(payload: serde_json::Value) -> Result<Self, String> {
        if payload.get("Records").is_some() {
            return serde_json::from_value(payload)
                .map(Wake::Answers)
                .map_err(|e| format!("not a stream batch: {e}"));
        }
        let scheduled = payload.get("source").and_then(|s| s.as_str()) == Some("aws.events")
            && payload.get("detail-type").and_then(|s| s.as_str()) == Some("Scheduled Event");
        if scheduled {
            Ok(Wake::Timer)
        } else {
            Err("neither a stream batch nor the scheduled timer".into())
        }
    }
}

/// The function's whole work for one wake-up: the stream batch's response, or what
/// the timer did with alerts.
/// The timer also removes the comment text of items left open past twice the
/// configured retention period (see [`Services::retention_ceiling`]).
pub async fn handle_wake(
    services: &Services,
    wake: Wake,
) -> Result<serde_json::Value, crate::ports::StoreError> {
    let to_json = |v: serde_json::Result<serde_json::Value>| v.unwrap_or_default();
    Ok(match wake {
        Wake::Answers(event) => to_json(serde_json::to_value(handle(services, event).await)),
        Wake::Timer => {
            let now = jiff::Timestamp::now();
            let leads = services.lead_timer(now).await?;
            let ceiling = services
                .retention_ceiling(now, services.config.retention())
                .await?;
            tracing::info!(?leads, ?ceiling, "timer");
            let mut done = to_json(serde_json::to_value(leads));
            done["retention_ceiling"] = to_json(serde_json::to_value(ceiling));
            done
        }
    })
}

pub async fn handle(services: &Services, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    let mut routed = Vec::new();
    for record in event.records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        let outcome = match inserted_answer(
            &record.event_name,
            &record.change.keys,
            &record.change.new_image,
        ) {
            Ok(None) => continue,
            Ok(Some(answer)) => services.route_answer(&answer).await.map(|done| {
                tracing::debug!(sequence = %sequence, ?done, "answer routed");
                routed.push(answer);
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
    // The figures the batch moved, read again. A failure here leaves the batch
    // done: the day's check reads every team anyway.
    let answers: Vec<_> = routed.iter().collect();
    let touched = crate::app::warnings::touched(&answers);
    if let Err(e) = services
        .early_warnings(&touched, jiff::Timestamp::now())
        .await
    {
        tracing::error!(error = %e, "early warnings not checked after the batch; the daily check will");
    }
    response
}
