//! Wires the answer-survey function: configuration and clients once, then the survey
//! pages' axum router served by `lambda_http` behind API Gateway (public routes,
//! throttled there).

use kundpuls::web::{AppState, Authenticator, lambda_survey_router};
use kundpuls::wiring::aws::FunctionEnv;
use kundpuls::wiring::logging;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    logging::init_json();
    let env = FunctionEnv::from_env()?;
    let (services, store) = env.services().await?;
    // Users wait on these functions: connect during init, not on the first request.
    store.warm().await;
    let router = lambda_survey_router(AppState {
        services,
        auth: Authenticator::ApiGateway,
        stamp: env.stamp_key(),
        outbox: None,
    });
    lambda_http::run(router).await
}
