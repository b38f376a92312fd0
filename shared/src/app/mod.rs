//! Use cases: what happens when a case step arrives, what the schedule does each
//! tick, importing contacts. They orchestrate the domain and the ports; every Lambda
//! function and the local server call these, so the logic exists once.

pub mod case_steps;
pub mod clients;
pub mod config;
pub mod contacts;
mod delivery;
pub mod digest;
pub mod erasure;
pub mod pacing;
pub mod reports;
pub mod retention;
pub mod routing;
pub mod schedule;
pub mod themes;
pub mod timer;
pub mod triage;
pub mod warnings;

pub use config::{ConfigError, PolicyError, SurveyConfig};
pub use delivery::Delivered;

use crate::domain::contact::ContactKeyer;
use crate::ports::{Alerter, BacklogStore, ContactStore, Notifier, StatsStore, SurveyStore};
use std::sync::Arc;

/// Everything a use case needs, built once at start-up and shared.
#[derive(Clone)]
pub struct Services {
    pub surveys: Arc<dyn SurveyStore>,
    pub contacts: Arc<dyn ContactStore>,
    pub stats: Arc<dyn StatsStore>,
    pub backlog: Arc<dyn BacklogStore>,
    pub sms: Arc<dyn Notifier>,
    pub email: Arc<dyn Notifier>,
    pub keyer: ContactKeyer,
    /// The theme lexicon in use, cached briefly (see [`themes`]).
    pub themes: themes::LexiconCache,
    /// Clients' settings, cached briefly (see [`clients`]).
    pub clients: clients::ClientCache,
    /// Alerts to team leads; routing needs them, the other functions do not.
    pub alerts: Option<Arc<dyn Alerter>>,
    /// Sends paced to the account's quotas (the policy's `sms_per_second`,
    /// `email_per_second`), shared by every sender of this process.
    pub pacing: Arc<pacing::Pacing>,
    pub config: Arc<SurveyConfig>,
}
