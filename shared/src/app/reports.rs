//! NPS and CSAT reports from the counters: one group read per month touched (the
//! report's months, the previous period and the rolling 12 months), whatever the
//! number of answers. A team scope reads that team's counters only.

use super::Services;
use crate::domain::client::ClientSettings;
use crate::domain::ids::{ClientId, TeamId};
use crate::domain::reports::{Month, ReportRow, previous_period, rolling_12};
use crate::domain::stats::{Counter, CounterKey, Dimension};
use crate::domain::survey::SurveyKind;
use crate::ports::{StatsStore, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Month,
    Dimension(Dimension),
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<Self> {
        if s == "month" {
            return Some(GroupBy::Month);
        }
        Dimension::parse(s).map(GroupBy::Dimension)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Month => "month",
            GroupBy::Dimension(d) => d.as_str(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub kind: SurveyKind,
    pub group_by: GroupBy,
    pub from: Month,
    pub to: Month,
    /// `None`: the whole agency; else one team's counters.
    pub team: Option<TeamId>,
    /// With `group_by=month`: one value of one dimension (e.g. a client's trend).
    pub filter: Option<(Dimension, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    pub kind: String,
    pub group_by: String,
    pub from: String,
    pub to: String,
    pub team: Option<TeamId>,
    pub filter: Option<(Dimension, String)>,
    /// The goal the figures are read against: NPS 40, CSAT 4.0, or the client's own
    /// when the report follows one client (rows grouped by client carry theirs).
    pub target: f64,
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
    /// Counter groups read to build it (the cost does not depend on answers).
    pub group_reads: usize,
}

/// Goals from the seeds: NPS above 40, CSAT above 4.0.
pub fn target(kind: SurveyKind) -> f64 {
    match kind {
        SurveyKind::Nps => 40.0,
        SurveyKind::Csat => 4.0,
    }
}

/// Counter groups read once per report.
struct Groups<'a> {
    stats: &'a dyn StatsStore,
    kind: SurveyKind,
    team: Option<TeamId>,
    cache: HashMap<(Month, Dimension), BTreeMap<String, Counter>>,
}

impl Groups<'_> {
    async fn get(
        &mut self,
        month: Month,
        dim: Dimension,
    ) -> Result<&BTreeMap<String, Counter>, StoreError> {
        if !self.cache.contains_key(&(month, dim)) {
            let group =
                CounterKey::group_of(self.kind, &month.to_string(), self.team.as_ref(), dim);
            let counters = self.stats.read_group(&group).await?;
            self.cache.insert((month, dim), counters);
        }
        Ok(&self.cache[&(month, dim)])
    }

    /// Every value's counters summed over `months`.
    async fn sum(
        &mut self,
        months: &[Month],
        dim: Dimension,
    ) -> Result<BTreeMap<String, Counter>, StoreError> {
        let mut out: BTreeMap<String, Counter> = BTreeMap::new();
        for m in months {
            for (value, c) in self.get(*m, dim).await? {
                out.entry(value.clone()).or_default().add(&c.fields);
            }
        }
        Ok(out)
    }

    /// One value's counters summed over `months`.
    async fn one(
        &mut self,
        months: &[Month],
        dim: Dimension,
        value: &str,
    ) -> Result<Counter, StoreError> {
        Ok(self
            .sum(months, dim)
            .await?
            .remove(value)
            .unwrap_or_default())
    }
}

impl Services {
    pub async fn report(&self, q: &ReportQuery) -> Result<Report, StoreError> {
        let mut report = report(&*self.stats, q).await?;
        if !report_names_clients(q) {
            return Ok(report);
        }
        // Grouped by client: one listing of every client's settings, not a read per
        // row; one client's months: that client's (cached) settings.
        let all = match q.group_by {
            GroupBy::Dimension(Dimension::Client) => Some(self.all_client_settings().await?),
            _ => None,
        };
        with_client_targets(&mut report, q, |c| {
            let all = all.as_ref().map(|a| a.get(&c).map(|s| (**s).clone()));
            async move {
                match all {
                    Some(found) => Ok(found),
                    None => Ok(self.client_settings(&c).await?.map(|s| (*s).clone())),
                }
            }
        })
        .await?;
        Ok(report)
    }
}

/// Whether a report's rows or whole follow clients (and so read their targets).
pub fn report_names_clients(q: &ReportQuery) -> bool {
    matches!(
        (&q.group_by, &q.filter),
        (GroupBy::Dimension(Dimension::Client), _) | (GroupBy::Month, Some((Dimension::Client, _)))
    )
}

/// A client's own target for `kind`, if it set one.
pub fn client_target(settings: &ClientSettings, kind: SurveyKind) -> Option<f64> {
    match kind {
        SurveyKind::Nps => settings.nps_target,
        SurveyKind::Csat => settings.csat_target,
    }
}

/// Reads each client's figures against its own goal: per row when grouped by
/// client, for the whole report when it follows one client's months.
pub async fn with_client_targets<F, Fut>(
    report: &mut Report,
    q: &ReportQuery,
    settings_of: F,
) -> Result<(), StoreError>
where
    F: Fn(ClientId) -> Fut,
    Fut: std::future::Future<Output = Result<Option<ClientSettings>, StoreError>>,
{
    let target_of = |s: Option<ClientSettings>| s.and_then(|s| client_target(&s, q.kind));
    match (&q.group_by, &q.filter) {
        (GroupBy::Dimension(Dimension::Client), _) => {
            for row in &mut report.rows {
                if let Ok(id) = ClientId::parse(&row.key) {
                    row.target = target_of(settings_of(id).await?);
                }
            }
        }
        (GroupBy::Month, Some((Dimension::Client, value))) => {
            if let Ok(id) = ClientId::parse(value)
                && let Some(t) = target_of(settings_of(id).await?)
            {
                report.target = t;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A report straight from a stats store (the CLI reads a DynamoDB table this way).
pub async fn report(stats: &dyn StatsStore, q: &ReportQuery) -> Result<Report, StoreError> {
    let mut groups = Groups {
        stats,
        kind: q.kind,
        team: q.team.clone(),
        cache: HashMap::new(),
    };
    let months = q.from.through(q.to);
    let (pf, pt) = previous_period(q.from, q.to);
    let previous = pf.through(pt);
    let (rf, rt) = rolling_12(q.to);
    let rolling = rf.through(rt);
    let (fd, fv) = q
        .filter
        .clone()
        .unwrap_or((Dimension::All, "all".to_string()));
    let mut rows = Vec::new();
    match q.group_by {
        GroupBy::Month => {
            for m in &months {
                let current = groups.one(&[*m], fd, &fv).await?;
                let before = groups.one(&[m.plus(-1)], fd, &fv).await?;
                let (r12f, r12t) = rolling_12(*m);
                let r12 = groups.one(&r12f.through(r12t), fd, &fv).await?;
                rows.push(ReportRow::from_counters(
                    q.kind,
                    m.to_string(),
                    &current,
                    Some(&before),
                    Some(&r12),
                ));
            }
        }
        GroupBy::Dimension(d) => {
            let current = groups.sum(&months, d).await?;
            let before = groups.sum(&previous, d).await?;
            let r12 = groups.sum(&rolling, d).await?;
            for (value, c) in &current {
                rows.push(ReportRow::from_counters(
                    q.kind,
                    value.clone(),
                    c,
                    before.get(value),
                    r12.get(value),
                ));
            }
            rows.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.key.cmp(&b.key)));
        }
    }
    let total = ReportRow::from_counters(
        q.kind,
        "total".into(),
        &groups.one(&months, fd, &fv).await?,
        Some(&groups.one(&previous, fd, &fv).await?),
        Some(&groups.one(&rolling, fd, &fv).await?),
    );
    Ok(Report {
        kind: q.kind.as_str().to_string(),
        group_by: q.group_by.as_str().to_string(),
        from: q.from.to_string(),
        to: q.to.to_string(),
        team: q.team.clone(),
        filter: q.filter.clone(),
        target: target(q.kind),
        rows,
        total,
        group_reads: groups.cache.len(),
    })
}
