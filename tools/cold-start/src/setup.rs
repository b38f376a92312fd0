//! What the functions need on the local AWS server before they can start: a table,
//! the contact-key secret and the alerts topic; and the environment the SAM
//! template gives them.

use kundpuls::adapters::aws::load_sdk_config;

/// The functions' environment (as the template sets it), beside the inherited
/// `AWS_*` variables that point the SDK at the local server.
pub type Env = Vec<(&'static str, String)>;

pub async fn prepare() -> Result<Env, Box<dyn std::error::Error>> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if endpoint.is_empty() {
        return Err(
            "AWS_ENDPOINT_URL is not set: run scripts/cold-start, which starts moto".into(),
        );
    }
    let sdk = load_sdk_config().await;
    let run = std::process::id();
    let table = format!("kundpuls-cold-start-{run}");
    kundpuls::adapters::dynamo::schema::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table)
        .await
        .map_err(|e| format!("creating the table: {e}"))?;
    let secret = format!("kundpuls-cold-start-{run}");
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&secret)
        .secret_string("a contact key of at least sixteen bytes")
        .send()
        .await
        .map_err(|e| format!("creating the secret: {e}"))?;
    let topic = aws_sdk_sns::Client::new(&sdk)
        .create_topic()
        .name(format!("kundpuls-alerts-{run}"))
        .send()
        .await
        .map_err(|e| format!("creating the topic: {e}"))?
        .topic_arn
        .ok_or("the topic has no ARN")?;
    Ok(vec![
        ("TABLE_NAME", table),
        ("PUBLIC_BASE_URL", "https://survey.nordkredit.se".into()),
        ("SMS_SENDER_NAME", "Nordkredit".into()),
        ("AGENCY_NAME", "Nordkredit AB".into()),
        ("SES_FROM_ADDRESS", "surveys@nordkredit.se".into()),
        ("CONTACT_KEY_SECRET_ID", secret),
        ("ALERT_TOPIC_ARN", topic),
        ("RUST_LOG", "info".into()),
    ])
}
