//! The answer-survey function: the survey pages (public routes, throttled at API Gateway), served by `lambda_http` behind API Gateway.
//! Everything else is in `kundpuls::wiring::aws::serve_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kundpuls::wiring::aws::serve_http(kundpuls::web::lambda_survey_router).await
}
