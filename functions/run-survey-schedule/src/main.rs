//! Wires the scheduled function: configuration and clients once, then the handler.

mod handler;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (_, services) = kundpuls::wiring::aws::event_function().await?;
    let services = &services;
    run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
            let budget = kundpuls::app::schedule::TickBudget::until_deadline(
                event.context.deadline,
                kundpuls::events::schedule::DEADLINE_MARGIN,
            );
            handler::handle(services, event.payload, jiff::Timestamp::now(), budget)
                .await
                .map_err(Error::from)
        },
    ))
    .await
}
