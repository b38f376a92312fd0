//! Early warnings, raised and published once. After each routing batch the teams
//! (and kinds) it touched are read again; once a day every team with answers this
//! month or last is. A team's three watched dimensions (the team, its handlers, its
//! clients) cost one counter-group read per dimension and month touched: nine reads
//! per team and kind, whatever the number of answers. A client is read against its
//! own target when it set one ([`super::reports::client_target`]).
//!
//! A warning's record is its claim (`NOTICE#warning:<kind>:<team>:<dimension>:
//! <value>:<month>`, created only if absent), so a scope warns at most once a month
//! however many batches see it below target; the publish and its outcome follow the
//! alerts' rule ([`Services::publish_notice`]).

use super::Services;
use super::reports::{client_target, target};
use super::routing::ALERT_LEASE;
use crate::domain::backlog::AlertState;
use crate::domain::ids::{ClientId, TeamId};
use crate::domain::notice::{Delivery, Notice, NoticeRecord};
use crate::domain::stats::{CounterKey, Dimension, WATCHED, daily_group};
use crate::domain::survey::{Answer, SurveyKind};
use crate::domain::warnings::{Scope, Warning, Windows, add_month, assess, window_months};
use crate::ports::{Alert, AlertAbout, SaveOutcome, SendError, StoreError};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What a check of the early warnings did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WarningsChecked {
    /// Teams (per kind) whose figures were read.
    pub teams: usize,
    /// Warnings raised now (claimed for the first time this month).
    pub raised: usize,
    /// Of those, published to the team's channel.
    pub published: usize,
}

impl WarningsChecked {
    fn add(&mut self, other: &WarningsChecked) {
        self.teams += other.teams;
        self.raised += other.raised;
        self.published += other.published;
    }
}

/// The (kind, team) pairs a batch of answers touched: the ones whose figures moved.
pub fn touched(answers: &[&Answer]) -> BTreeSet<(SurveyKind, TeamId)> {
    answers
        .iter()
        .filter(|a| !a.is_suspect())
        .map(|a| (a.kind, a.subject.team.clone()))
        .collect()
}

pub fn utc_date(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

impl Services {
    /// Every value's two windows (the last 30 days and the 30 before) of one watched
    /// dimension in a team, as of `today`.
    pub async fn watched_windows(
        &self,
        kind: SurveyKind,
        team: &TeamId,
        dimension: Dimension,
        today: Date,
    ) -> Result<BTreeMap<String, Windows>, StoreError> {
        let mut windows = BTreeMap::new();
        for month in window_months(today) {
            let group = daily_group(kind, &month.strftime("%Y-%m").to_string(), team, dimension);
            let counters = self.stats.read_group(&group).await?;
            add_month(&mut windows, month, &counters, today);
        }
        Ok(windows)
    }

    /// Reads one team's watched figures for `kind` and raises what warns.
    pub async fn check_team(
        &self,
        kind: SurveyKind,
        team: &TeamId,
        now: Timestamp,
    ) -> Result<WarningsChecked, StoreError> {
        let today = utc_date(now);
        let mut checked = WarningsChecked {
            teams: 1,
            ..WarningsChecked::default()
        };
        for dimension in WATCHED {
            let windows = self.watched_windows(kind, team, dimension, today).await?;
            for (value, w) in windows {
                let scope = Scope {
                    kind,
                    team: team.clone(),
                    dimension,
                    value,
                };
                let goal = self.goal_of(&scope).await?;
                if let Some(warning) = assess(&scope, &w, goal, today) {
                    let (raised, published) = self.raise(warning, now).await?;
                    checked.raised += usize::from(raised);
                    checked.published += usize::from(published);
                }
            }
        }
        Ok(checked)
    }

    /// The target a scope is read against: the client's own, or the agency's.
    async fn goal_of(&self, scope: &Scope) -> Result<f64, StoreError> {
        if scope.dimension == Dimension::Client
            && let Ok(client) = ClientId::parse(&scope.value)
            && let Some(settings) = self.client_settings(&client).await?
            && let Some(own) = client_target(&settings, scope.kind)
        {
            return Ok(own);
        }
        Ok(target(scope.kind))
    }

    /// After a routing batch: the teams and kinds its answers touched.
    pub async fn early_warnings(
        &self,
        touched: &BTreeSet<(SurveyKind, TeamId)>,
        now: Timestamp,
    ) -> Result<WarningsChecked, StoreError> {
        let mut checked = WarningsChecked::default();
        for (kind, team) in touched {
            checked.add(&self.check_team(*kind, team, now).await?);
        }
        if checked.raised > 0 {
            tracing::info!(?checked, "early warnings raised");
        }
        Ok(checked)
    }

    /// Once a day (the first call of a UTC day does it; the day's mark is an
    /// applied-once effect): every team with answers this month or last, so a
    /// figure that slips without new answers still warns. `None`: already done.
    pub async fn daily_warnings(
        &self,
        now: Timestamp,
    ) -> Result<Option<WarningsChecked>, StoreError> {
        let mark = format!("early-warnings:{}", utc_date(now));
        if self.stats.apply_once(&mark, &[]).await? != crate::ports::ApplyOutcome::Applied {
            return Ok(None);
        }
        let mut touched = BTreeSet::new();
        for kind in SurveyKind::ALL {
            for team in self.teams_with_answers(*kind, now).await? {
                touched.insert((*kind, team));
            }
        }
        self.early_warnings(&touched, now).await.map(Some)
    }

    /// Teams counted in `kind`'s agency-wide team group this month or last.
    pub async fn teams_with_answers(
        &self,
        kind: SurveyKind,
        now: Timestamp,
    ) -> Result<BTreeSet<TeamId>, StoreError> {
        let month = crate::domain::reports::Month::of(now);
        let mut teams = BTreeSet::new();
        for m in [month.plus(-1), month] {
            let group = CounterKey::group_of(kind, &m.to_string(), None, Dimension::Team);
            for value in self.stats.read_group(&group).await?.keys() {
                if let Ok(team) = TeamId::parse(value) {
                    teams.insert(team);
                }
            }
        }
        Ok(teams)
    }

    /// Claims a warning (its record, created only if absent) and publishes it.
    /// Returns (raised now, published now).
    async fn raise(&self, warning: Warning, now: Timestamp) -> Result<(bool, bool), StoreError> {
        let record = NoticeRecord {
            id: warning.id(),
            team: warning.team.clone(),
            created_at: now,
            notice: Notice::Warning(warning),
            delivery: Delivery::claimed(now, now + ALERT_LEASE, 1),
            version: 0,
        };
        self.claim_and_publish(record, now).await
    }

    /// Creates `record` if no notice with its id exists, then publishes it.
    /// Returns (claimed now, published now).
    pub(crate) async fn claim_and_publish(
        &self,
        mut record: NoticeRecord,
        now: Timestamp,
    ) -> Result<(bool, bool), StoreError> {
        if self.backlog.save_notice(&record, 0).await? != SaveOutcome::Saved {
            return Ok((false, false));
        }
        record.version = 1;
        let published = self.publish_notice(record, now).await?;
        Ok((true, published))
    }

    /// Publishes a notice this caller holds the claim of, and records the outcome
    /// (the alerts' rule: not sent → retried later; maybe sent → never repeated).
    async fn publish_notice(
        &self,
        mut record: NoticeRecord,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = match &self.alerts {
            Some(alerts) => alerts.alert(&self.notice_alert(&record)).await,
            None => Err(SendError::Permanent {
                reason: "no alert channel".into(),
            }),
        };
        let expected = record.version;
        let (state, retry_at) = self.publish_outcome(&result, record.delivery.attempts, now);
        record.delivery.state = state;
        record.delivery.retry_at = retry_at;
        record.delivery.updated_at = now;
        match &result {
            Ok(()) => tracing::info!(notice = %record.id, "notice published to the team lead"),
            Err(e) => {
                tracing::error!(notice = %record.id, error = %e, state = ?state, "the notice did not go out; it shows in the console")
            }
        }
        if let Err(e) = self.backlog.save_notice(&record, expected).await {
            // The claim stays and lapses: the timer records the notice as unknown.
            tracing::error!(notice = %record.id, error = %e, "the notice's outcome was not recorded");
        }
        Ok(result.is_ok())
    }

    fn notice_alert(&self, record: &NoticeRecord) -> Alert {
        let base = self.config.base_url();
        let (link, (subject, text)) = match &record.notice {
            Notice::Warning(w) => {
                let link = format!("{base}/console/reports");
                let text = w.alert_text(&link);
                (link, text)
            }
            Notice::Digest(d) => {
                let link = format!("{base}/console");
                let text = d.text(&link);
                (link, text)
            }
        };
        Alert {
            about: AlertAbout::Notice {
                kind: record.notice.kind(),
                id: record.id.clone(),
            },
            team: record.team.clone(),
            subject,
            text,
            link,
        }
    }

    /// The timer's part: notices not sent are tried again once due (a new claim
    /// each time); a claim that ran out is recorded unknown and never repeated.
    pub async fn retry_notices(
        &self,
        now: Timestamp,
    ) -> Result<super::routing::AlertRetries, StoreError> {
        let mut report = super::routing::AlertRetries::default();
        for due in self.backlog.notices_due(now, 100).await? {
            let mut next = due.clone();
            next.delivery.updated_at = now;
            match due.delivery.state {
                AlertState::Claimed if due.delivery.lease_until <= now => {
                    next.delivery.state = AlertState::Unknown;
                    if self.backlog.save_notice(&next, due.version).await? == SaveOutcome::Saved {
                        tracing::warn!(notice = %due.id, "a notice's claim ran out; it may have gone out and is not repeated");
                        report.unknown += 1;
                    }
                }
                AlertState::NotSent if due.delivery.retry_at.is_some_and(|t| t <= now) => {
                    next.delivery =
                        Delivery::claimed(now, now + ALERT_LEASE, due.delivery.attempts + 1);
                    if self.backlog.save_notice(&next, due.version).await? != SaveOutcome::Saved {
                        continue;
                    }
                    next.version = due.version + 1;
                    report.retried += 1;
                    if self.publish_notice(next, now).await? {
                        report.published += 1;
                    }
                }
                _ => {}
            }
        }
        Ok(report)
    }

    /// A team's warnings of the last 30 days, newest first, for the console.
    pub async fn recent_warnings(
        &self,
        team: &TeamId,
        now: Timestamp,
    ) -> Result<Vec<Warning>, StoreError> {
        let since = now - jiff::SignedDuration::from_hours(24 * 30);
        Ok(self
            .backlog
            .recent_notices(team, 50)
            .await?
            .into_iter()
            .filter(|n| n.created_at >= since)
            .filter_map(|n| match n.notice {
                Notice::Warning(w) => Some(w),
                Notice::Digest(_) => None,
            })
            .collect())
    }
}
