//! One schedule tick per EventBridge event. A storage fault fails the invocation, so
//! EventBridge's retry and the next tick pick the work up again.

use crate::app::Services;
use crate::app::schedule::TickReport;
use crate::ports::StoreError;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use jiff::Timestamp;

pub async fn handle(
    services: &Services,
    event: EventBridgeEvent<serde_json::Value>,
    now: Timestamp,
) -> Result<TickReport, StoreError> {
    tracing::info!(detail_type = %event.detail_type, "schedule tick");
    services.run_schedule(now).await
}
