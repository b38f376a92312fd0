//! Wires the SQS-triggered function: configuration and clients once, then the handler.

mod handler;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (_, services) = kundpuls::wiring::aws::event_function().await?;
    let services = &services;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(handler::handle(services, event.payload, jiff::Timestamp::now()).await)
    }))
    .await
}
