//! The ingest-api function: the ingest API (case steps and contacts), served by `lambda_http` behind API Gateway.
//! Everything else is in `kundpuls::wiring::aws::serve_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kundpuls::wiring::aws::serve_http(kundpuls::web::lambda_ingest_router).await
}
