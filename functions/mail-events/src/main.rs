//! Wires the SNS-triggered function: configuration and clients once, then the
//! handler.

mod handler;

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (_, services) = kundpuls::wiring::aws::event_function().await?;
    let services = &services;
    run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        handler::handle(services, event.payload, jiff::Timestamp::now())
            .await
            .map(|_| ())
            .map_err(Error::from)
    }))
    .await
}
