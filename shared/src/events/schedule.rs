//! One schedule tick per EventBridge event. A storage fault fails the invocation, so
//! EventBridge's retry and the next tick pick the work up again.

use crate::app::Services;
use crate::app::schedule::{TickBudget, TickReport};
use crate::ports::StoreError;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use jiff::Timestamp;

/// Time kept back from the invocation's deadline: the slowest page of the wave
/// (100 contacts at the SDK's 10 s operation timeout would be far more, but a page
/// that fails is simply redone by the next tick; this covers a normal slow page).
pub const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn handle(
    services: &Services,
    event: EventBridgeEvent<serde_json::Value>,
    now: Timestamp,
    budget: TickBudget,
) -> Result<TickReport, StoreError> {
    tracing::info!(detail_type = %event.detail_type, "schedule tick");
    services.run_schedule_within(now, budget).await
}
