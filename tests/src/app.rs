//! `Services` wired for tests: on the embedded store with the file outbox, or on
//! DynamoDB with SNS and SES, all on moto.

use crate::{Backend, Harness};
use kundpuls::adapters::outbox::FileOutbox;
use kundpuls::adapters::ses::SesEmail;
use kundpuls::adapters::sns::{SnsAlerts, SnsSms};
use kundpuls::app::pacing::Pacing;
use kundpuls::app::{Services, SurveyConfig};
use kundpuls::domain::contact::ContactKeyer;
use kundpuls::domain::policy::SurveyPolicy;
use std::sync::Arc;

pub const SENDER: &str = "Nordkredit";
pub const BASE_URL: &str = "https://survey.nordkredit.se";
/// The SNS topic team-lead alerts go to on moto.
pub const ALERT_TOPIC: &str = "kundpuls-alerts";

pub fn config(policy: SurveyPolicy) -> Arc<SurveyConfig> {
    Arc::new(
        SurveyConfig::new(BASE_URL, SENDER, "Nordkredit AB", policy).expect("valid test config"),
    )
}

pub fn keyer() -> ContactKeyer {
    crate::fixtures::keyer()
}

/// Embedded store plus the file outbox (for both channels) in the harness's directory.
pub fn local(h: &Harness, policy: SurveyPolicy) -> (Services, FileOutbox) {
    let Backend::Embedded { store, dir } = &h.backend else {
        panic!("an embedded harness")
    };
    let outbox = FileOutbox::new(dir.path());
    let services = Services {
        surveys: Arc::new(store.clone()),
        contacts: Arc::new(store.clone()),
        stats: Arc::new(store.clone()),
        backlog: Arc::new(store.clone()),
        sms: Arc::new(outbox.clone()),
        email: Arc::new(outbox.clone()),
        keyer: keyer(),
        themes: Default::default(),
        clients: Default::default(),
        alerts: Some(Arc::new(outbox.clone())),
        config: config(policy),
        pacing: Arc::new(Pacing::new(Arc::new(store.clone()))),
    };
    (services, outbox)
}

/// DynamoDB, SNS and SES, all on moto; `from` is created as a verified SES identity.
pub async fn aws(h: &Harness, policy: SurveyPolicy, from: &str) -> Services {
    let Backend::Dynamo { store, .. } = &h.backend else {
        panic!("a DynamoDB harness")
    };
    let sdk = crate::sdk_config().await;
    let ses = kundpuls::adapters::ses::client(&sdk);
    ses.create_email_identity()
        .email_identity(from)
        .send()
        .await
        .expect("SES identity on moto");
    let sns = kundpuls::adapters::sns::client(&sdk);
    let topic = sns
        .create_topic()
        .name(ALERT_TOPIC)
        .send()
        .await
        .expect("SNS topic on moto")
        .topic_arn
        .expect("a topic ARN");
    Services {
        surveys: Arc::new(store.clone()),
        contacts: Arc::new(store.clone()),
        stats: Arc::new(store.clone()),
        backlog: Arc::new(store.clone()),
        sms: Arc::new(SnsSms::new(kundpuls::adapters::sns::client(&sdk), SENDER)),
        email: Arc::new(SesEmail::new(ses, "Nordkredit AB", from, None)),
        keyer: keyer(),
        themes: Default::default(),
        clients: Default::default(),
        alerts: Some(Arc::new(SnsAlerts::new(sns, topic))),
        config: config(policy),
        pacing: Arc::new(Pacing::new(Arc::new(store.clone()))),
    }
}
