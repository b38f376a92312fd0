//! The lead-facing timer (route-feedback's five-minute EventBridge rule in AWS, a
//! five-minute task in `kundpuls serve`): alerts and notices that did not go out
//! are tried again, the day's early-warning check runs once, and last week's
//! digests go out once per team.

use super::Services;
use super::digest::DigestsSent;
use super::routing::AlertRetries;
use super::warnings::WarningsChecked;
use crate::ports::StoreError;
use jiff::Timestamp;
use serde::Serialize;

/// What one run of the timer did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LeadTimer {
    pub alerts: AlertRetries,
    pub notices: AlertRetries,
    /// The day's check of every team, when this run did it.
    pub daily_warnings: Option<WarningsChecked>,
    pub digests: DigestsSent,
}

impl Services {
    pub async fn lead_timer(&self, now: Timestamp) -> Result<LeadTimer, StoreError> {
        Ok(LeadTimer {
            alerts: self.retry_alerts(now).await?,
            notices: self.retry_notices(now).await?,
            daily_warnings: self.daily_warnings(now).await?,
            digests: self.weekly_digests(now).await?,
        })
    }
}
