//! Wires the stream-triggered function: configuration and clients once, then the
//! handler.

mod handler;

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (env, services) = kundpuls::wiring::aws::event_function().await?;
    if env.alert_topic_arn.is_none() {
        return Err("ALERT_TOPIC_ARN is required: routing alerts team leads".into());
    }
    let services = &services;
    run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(handler::handle(services, event.payload).await)
    }))
    .await
}
