//! Wires the console: configuration and clients once, then the console router (JSON
//! API and pages) served by `lambda_http` behind API Gateway (which verifies the JWT
//! and hands over its claims).

use kundpuls::web::{AppState, Authenticator, lambda_console_router};
use kundpuls::wiring::aws::FunctionEnv;
use kundpuls::wiring::logging;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    logging::init_json();
    let env = FunctionEnv::from_env()?;
    let (services, store) = env.services().await?;
    // Users wait on these functions: connect during init, not on the first request.
    store.warm().await;
    let router = lambda_console_router(AppState {
        services,
        auth: Authenticator::ApiGateway,
        stamp: env.stamp_key(),
        outbox: None,
    });
    lambda_http::run(router).await
}
