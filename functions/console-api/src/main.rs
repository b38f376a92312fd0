//! The console-api function: the console (JSON API and pages), served by `lambda_http` behind API Gateway.
//! Everything else is in `kundpuls::wiring::aws::serve_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kundpuls::wiring::aws::serve_http(kundpuls::web::lambda_console_router).await
}
