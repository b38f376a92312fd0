//! The functions' configuration and clients, from the environment set by the SAM
//! template.

use super::init_clock::InitClock;
use crate::adapters::aws::load_sdk_config;
use crate::adapters::cursor::CursorKey;
use crate::adapters::dynamo::{DynamoConfig, DynamoStore};
#[cfg(any(feature = "ses", feature = "sns"))]
use crate::adapters::lazy::Lazy;
#[cfg(feature = "ses")]
use crate::adapters::ses::SesEmail;
#[cfg(feature = "sns")]
use crate::adapters::sns::{SnsAlerts, SnsSms};
#[cfg(not(all(feature = "ses", feature = "sns")))]
use crate::adapters::unlinked::Unlinked;
use crate::app::config::{ConfigError, PolicyError, load_policy};
use crate::app::pacing::Pacing;
use crate::app::{Services, SurveyConfig};
use crate::domain::contact::ContactKeyer;
use crate::ports::Alerter;
use crate::ports::Notifier;
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum EnvError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

fn var(name: &'static str) -> Result<String, EnvError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(EnvError::Missing(name))
}

fn number(name: &'static str, default: u32) -> Result<u32, EnvError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| EnvError::Invalid {
            name,
            reason: "not a whole number".into(),
        }),
        _ => Ok(default),
    }
}

/// What a function runs on: the services and the key of the survey forms' render
/// stamps.
pub struct Wired {
    pub services: Services,
    pub stamp: crate::web::stamp::StampKey,
}

/// The contact-key secret from Secrets Manager (at least 16 bytes). Read once per
/// process: it stays out of the environment and out of the function configuration.
pub async fn contact_key(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<String, EnvError> {
    let invalid = |reason: String| EnvError::Invalid {
        name: "CONTACT_KEY_SECRET_ID",
        reason,
    };
    let secret = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            invalid(format!(
                "the secret could not be read: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
        })?
        .secret_string
        .ok_or_else(|| invalid("the secret has no string value".into()))?;
    if secret.len() < 16 {
        return Err(invalid("the secret must be at least 16 bytes".into()));
    }
    Ok(secret)
}

/// The key that signs survey forms' render stamps, derived from the contact-key
/// secret under its own label.
fn stamp_key(secret: &str) -> crate::web::stamp::StampKey {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(b"render-stamp");
    crate::web::stamp::StampKey::new(&mac.finalize().into_bytes())
}

/// Everything the functions read, checked at once.
#[derive(Debug, Clone)]
pub struct FunctionEnv {
    pub table_name: String,
    pub ses_from: String,
    pub ses_configuration_set: Option<String>,
    /// `CONTACT_KEY_SECRET_ID`: the Secrets Manager secret (name or ARN) that keys
    /// opt-outs and fatigue; read once at init, never put in the environment.
    pub contact_key_secret_id: String,
    pub counter_shards: u32,
    pub retention_days: u32,
    /// `ALERT_TOPIC_ARN`: where alerts to team leads go (route-feedback needs it).
    pub alert_topic_arn: Option<String>,
    pub survey: SurveyConfig,
}

impl FunctionEnv {
    /// `TABLE_NAME`, `PUBLIC_BASE_URL`, `SMS_SENDER_NAME`, `AGENCY_NAME`,
    /// `SES_FROM_ADDRESS`, `CONTACT_KEY_SECRET_ID` are required;
    /// `SES_CONFIGURATION_SET`, `COUNTER_SHARDS` (8), `RETENTION_DAYS` (400),
    /// `ALERT_TOPIC_ARN`, `PRIVACY_URL`, `CASE_LINK_TEMPLATE`,
    /// `SURVEY_POLICY` (TOML) and `KUNDPULS_POLICY_*` overrides are optional.
    pub fn from_env() -> Result<Self, EnvError> {
        let policy_text = std::env::var("SURVEY_POLICY")
            .ok()
            .filter(|s| !s.trim().is_empty());
        let policy = load_policy(policy_text.as_deref(), std::env::vars())?;
        let retention_days = number("RETENTION_DAYS", 400)?;
        let survey = SurveyConfig::new(
            &var("PUBLIC_BASE_URL")?,
            &var("SMS_SENDER_NAME")?,
            &var("AGENCY_NAME")?,
            policy,
        )?
        .with_privacy_url(&std::env::var("PRIVACY_URL").unwrap_or_default())?
        .with_case_link_template(&std::env::var("CASE_LINK_TEMPLATE").unwrap_or_default())?
        .with_retention_days(retention_days);
        Ok(Self {
            table_name: var("TABLE_NAME")?,
            ses_from: var("SES_FROM_ADDRESS")?,
            ses_configuration_set: std::env::var("SES_CONFIGURATION_SET")
                .ok()
                .filter(|s| !s.is_empty()),
            contact_key_secret_id: var("CONTACT_KEY_SECRET_ID")?,
            counter_shards: number("COUNTER_SHARDS", 8)?,
            retention_days,
            alert_topic_arn: std::env::var("ALERT_TOPIC_ARN")
                .ok()
                .filter(|s| !s.trim().is_empty()),
            survey,
        })
    }

    /// Builds the SDK clients once, reads the contact-key secret, and builds the
    /// services on them.
    pub async fn services(&self) -> Result<Wired, EnvError> {
        self.services_timed(&mut InitClock::start()).await
    }

    /// [`FunctionEnv::services`], each part a lap of `clock`: the SDK's
    /// configuration (`sdk`); the secret's read with the DynamoDB connection opened
    /// beside it (`secret_and_warm`: two first requests at once, so a start waits
    /// for the slower one, not both); the store (`store`); the channel clients and
    /// the services (`notifiers`).
    pub async fn services_timed(&self, clock: &mut InitClock) -> Result<Wired, EnvError> {
        let sdk = load_sdk_config().await;
        clock.lap("sdk");
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
        let (secret, ()) = tokio::join!(
            contact_key(&secrets, &self.contact_key_secret_id),
            crate::adapters::dynamo::warm(&dynamo, &self.table_name),
        );
        let secret = secret?;
        clock.lap("secret_and_warm");
        let mut dynamo_config = DynamoConfig::new(&self.table_name);
        dynamo_config.counter_shards = self.counter_shards.max(1);
        dynamo_config.retention_days = self.retention_days;
        let store = DynamoStore::new(dynamo, dynamo_config, CursorKey::derive(secret.as_bytes()));
        let keyer = ContactKeyer::new(secret.as_bytes()).map_err(|reason| EnvError::Invalid {
            name: "CONTACT_KEY_SECRET_ID",
            reason,
        })?;
        clock.lap("store");
        let services = Services {
            surveys: Arc::new(store.clone()),
            contacts: Arc::new(store.clone()),
            stats: Arc::new(store.clone()),
            backlog: Arc::new(store.clone()),
            sms: self.sms(&sdk),
            email: self.email(&sdk),
            keyer,
            themes: Default::default(),
            clients: Default::default(),
            alerts: self.alerts(&sdk),
            config: Arc::new(self.survey.clone()),
            pacing: Arc::new(Pacing::new(Arc::new(store.clone()))),
        };
        let stamp = stamp_key(&secret);
        clock.lap("notifiers");
        Ok(Wired { services, stamp })
    }

    /// The SMS client, built on the first send (see [`crate::adapters::lazy`]).
    #[cfg(feature = "sns")]
    fn sms(&self, sdk: &aws_config::SdkConfig) -> Arc<dyn Notifier> {
        let (sdk, sender) = (sdk.clone(), self.survey.sender_name().to_string());
        Arc::new(Lazy::new(move || {
            Arc::new(SnsSms::new(
                crate::adapters::sns::client(&sdk),
                sender.clone(),
            )) as Arc<dyn Notifier>
        }))
    }

    #[cfg(not(feature = "sns"))]
    fn sms(&self, _sdk: &aws_config::SdkConfig) -> Arc<dyn Notifier> {
        Arc::new(Unlinked { channel: "sms" })
    }

    /// The email client, built on the first send.
    #[cfg(feature = "ses")]
    fn email(&self, sdk: &aws_config::SdkConfig) -> Arc<dyn Notifier> {
        let sdk = sdk.clone();
        let agency = self.survey.agency_name().to_string();
        let (from, configuration_set) = (self.ses_from.clone(), self.ses_configuration_set.clone());
        Arc::new(Lazy::new(move || {
            Arc::new(SesEmail::new(
                crate::adapters::ses::client(&sdk),
                &agency,
                &from,
                configuration_set.clone(),
            )) as Arc<dyn Notifier>
        }))
    }

    #[cfg(not(feature = "ses"))]
    fn email(&self, _sdk: &aws_config::SdkConfig) -> Arc<dyn Notifier> {
        Arc::new(Unlinked { channel: "email" })
    }

    /// The alerts' client, built on the first alert.
    #[cfg(feature = "sns")]
    fn alerts(&self, sdk: &aws_config::SdkConfig) -> Option<Arc<dyn Alerter>> {
        self.alert_topic_arn.as_ref().map(|arn| {
            let (sdk, arn) = (sdk.clone(), arn.clone());
            Arc::new(Lazy::new(move || {
                Arc::new(SnsAlerts::new(crate::adapters::sns::client(&sdk), &arn))
                    as Arc<dyn Alerter>
            })) as Arc<dyn Alerter>
        })
    }

    /// Without SNS a function routes nothing, so it has no alerts to send.
    #[cfg(not(feature = "sns"))]
    fn alerts(&self, _sdk: &aws_config::SdkConfig) -> Option<Arc<dyn Alerter>> {
        None
    }
}

/// The whole `main` of an HTTP function: JSON logs, configuration and clients once,
/// the DynamoDB connection opened during init (people wait on these functions, so
/// the first request should not pay for it; see [`FunctionEnv::services_timed`]),
/// then `router` served by `lambda_http` behind API Gateway, which verifies the JWT
/// and hands over its claims.
pub async fn serve_http(
    router: fn(crate::web::AppState) -> axum::Router,
) -> Result<(), lambda_http::Error> {
    let mut clock = InitClock::start();
    super::logging::init_json();
    clock.lap("logging");
    let env = FunctionEnv::from_env()?;
    clock.lap("config");
    let Wired { services, stamp } = env.services_timed(&mut clock).await?;
    // The console function signs team leads in itself (SIGN_IN_* variables).
    let sign_in = crate::web::sign_in::SignInConfig::from_env()
        .map(crate::web::sign_in::SignIn::new)
        .transpose()?
        .map(Arc::new);
    clock.lap("sign_in");
    let app = router(crate::web::AppState {
        services,
        auth: crate::web::Authenticator::ApiGateway,
        stamp,
        outbox: None,
        sign_in,
        demo: false,
    });
    clock.lap("router");
    clock.log();
    lambda_http::run(app).await
}

/// The event functions' start: JSON logs, then configuration and clients once, the
/// DynamoDB connection opened beside the secret's read (the event that started the
/// instance waits on it otherwise).
pub async fn event_function() -> Result<(FunctionEnv, Services), EnvError> {
    let mut clock = InitClock::start();
    super::logging::init_json();
    clock.lap("logging");
    let env = FunctionEnv::from_env()?;
    clock.lap("config");
    let services = env.services_timed(&mut clock).await?.services;
    clock.log();
    Ok((env, services))
}
