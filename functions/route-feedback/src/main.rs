//! Wires the routing function: configuration and clients once, then each wake-up
//! (a stream batch of answers, or the timer that retries alerts and applies the
//! retention ceiling).

mod handler;

use kundpuls::events::answers::{Wake, handle_wake};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (env, services) = kundpuls::wiring::aws::event_function().await?;
    if env.alert_topic_arn.is_none() {
        return Err("ALERT_TOPIC_ARN is required: routing alerts team leads".into());
    }
    let services = &services;
    run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let wake = Wake::from_payload(event.payload)?;
            Ok::<_, Error>(handle_wake(services, wake).await?)
        },
    ))
    .await
}
