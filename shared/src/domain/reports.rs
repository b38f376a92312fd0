//! Report figures from counters: the months a report covers, and one row's NPS (with
//! its 95 % margin) or CSAT (mean, top-2-box, first-contact resolution), response
//! rate, low-sample flag, trend against the previous period and the rolling 12
//! months. Pure: the counters come in, numbers go out.

use super::metrics::{CsatSummary, LOW_SAMPLE_N, NpsSummary, response_rate};
use super::stats::{Counter, CounterField};
use super::survey::SurveyKind;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A calendar month, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(Date);

impl Month {
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let date = jiff::civil::Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok()?;
        Some(Self(date))
    }

    pub fn of(t: jiff::Timestamp) -> Self {
        let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
        Self(d.first_of_month())
    }

    /// `n` months later (earlier for negative `n`).
    pub fn plus(self, n: i32) -> Self {
        Self(
            self.0
                .checked_add(jiff::Span::new().months(n))
                .unwrap_or(self.0),
        )
    }

    /// Every month from `self` to `to`, both included (empty if `to` is earlier).
    pub fn through(self, to: Month) -> Vec<Month> {
        let mut out = Vec::new();
        let mut m = self;
        while m <= to && out.len() < 1200 {
            out.push(m);
            m = m.plus(1);
        }
        out
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.strftime("%Y-%m"))
    }
}

/// The period of the same length just before `from..=to`.
pub fn previous_period(from: Month, to: Month) -> (Month, Month) {
    let len = from.through(to).len() as i32;
    (from.plus(-len), from.plus(-1))
}

/// The 12 months ending with `to`.
pub fn rolling_12(to: Month) -> (Month, Month) {
    (to.plus(-11), to)
}

/// The figure a report leads with: NPS (−100…100) or the CSAT mean (1…5).
pub fn headline(kind: SurveyKind, c: &Counter) -> Option<f64> {
    match kind {
        SurveyKind::Nps => c.nps_histogram().summary().map(|s| s.nps),
        SurveyKind::Csat => c.csat_histogram().summary().map(|s| s.mean),
    }
}

/// Yes ÷ (yes + no) to "was it resolved in this contact?" (asked after calls).
pub fn fcr_rate(c: &Counter) -> Option<f64> {
    let (yes, no) = (c.get(&CounterField::FcrYes), c.get(&CounterField::FcrNo));
    (yes + no > 0).then(|| yes as f64 / (yes + no) as f64)
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportRow {
    /// The dimension's value, or the month.
    pub key: String,
    /// Answers counted (suspect ones excluded).
    pub n: u64,
    pub suspect: u64,
    /// Of all answers submitted, the share held as suspect (by channel, this shows
    /// how much of the email's traffic is mail scanners).
    pub suspect_share: Option<f64>,
    pub comments: u64,
    pub sent: u64,
    pub response_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nps: Option<NpsSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csat: Option<CsatSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fcr_rate: Option<f64>,
    pub low_sample: bool,
    /// The headline figure in the previous period, and this period's minus it.
    pub previous: Option<f64>,
    pub trend: Option<f64>,
    /// The headline figure over the 12 months ending with the report's last month.
    pub rolling_12: Option<f64>,
    pub rolling_12_n: u64,
    /// Surveys not sent, by reason (`fatigue`, `opted_out`…).
    #[serde(default)]
    pub skipped: std::collections::BTreeMap<String, u64>,
    /// The row's own goal, where it differs from the report's: a client's target
    /// when grouped by client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
}

/// Suspect submissions over all submissions; an accepted one is in both `n` and
/// `suspect`, so it is taken out of `n` once.
fn suspect_share(n: u64, suspect: u64, accepted: u64) -> Option<f64> {
    let submitted = n.saturating_sub(accepted) + suspect;
    (submitted > 0).then(|| suspect as f64 / submitted as f64)
}

impl ReportRow {
    pub fn from_counters(
        kind: SurveyKind,
        key: String,
        current: &Counter,
        previous: Option<&Counter>,
        rolling: Option<&Counter>,
    ) -> Self {
        let n = current.get(&CounterField::Answered);
        let now = headline(kind, current);
        let before = previous.and_then(|p| headline(kind, p));
        Self {
            key,
            n,
            suspect: current.get(&CounterField::Suspect),
            suspect_share: suspect_share(
                n,
                current.get(&CounterField::Suspect),
                current.get(&CounterField::Accepted),
            ),
            comments: current.get(&CounterField::Comments),
            sent: current.get(&CounterField::Sent),
            response_rate: response_rate(n, current.get(&CounterField::Sent)),
            nps: match kind {
                SurveyKind::Nps => current.nps_histogram().summary(),
                SurveyKind::Csat => None,
            },
            csat: match kind {
                SurveyKind::Csat => current.csat_histogram().summary(),
                SurveyKind::Nps => None,
            },
            fcr_rate: match kind {
                SurveyKind::Csat => fcr_rate(current),
                SurveyKind::Nps => None,
            },
            low_sample: n < LOW_SAMPLE_N,
            previous: before,
            trend: now.zip(before).map(|(a, b)| a - b),
            rolling_12: rolling.and_then(|r| headline(kind, r)),
            rolling_12_n: rolling.map_or(0, |r| r.get(&CounterField::Answered)),
            skipped: current.skipped(),
            target: None,
        }
    }

    /// This row's headline figure.
    pub fn value(&self) -> Option<f64> {
        self.nps.map(|s| s.nps).or(self.csat.map(|s| s.mean))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn m(s: &str) -> Month {
        Month::parse(s).expect("a month")
    }

    #[test]
    fn months_count_across_a_year_end() {
        let months: Vec<String> = m("2025-11")
            .through(m("2026-02"))
            .iter()
            .map(|m| m.to_string())
            .collect();
        assert_eq!(months, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(
            previous_period(m("2026-01"), m("2026-03")),
            (m("2025-10"), m("2025-12"))
        );
        assert_eq!(rolling_12(m("2026-03")), (m("2025-04"), m("2026-03")));
        assert!(Month::parse("2026-13").is_none() && Month::parse("26-01").is_none());
    }

    #[test]
    fn a_row_carries_every_figure() {
        // 10 CSAT answers: 5×5, 3×4, 2×1; 20 sent; fcr 3 yes 1 no; previous mean 3.0
        let counter = Counter {
            fields: BTreeMap::from([
                ("n".into(), 10),
                ("s5".into(), 5),
                ("s4".into(), 3),
                ("s1".into(), 2),
                ("sent".into(), 20),
                ("fcr_yes".into(), 3),
                ("fcr_no".into(), 1),
            ]),
        };
        let previous = Counter {
            fields: BTreeMap::from([("n".into(), 2), ("s3".into(), 2)]),
        };
        let row = ReportRow::from_counters(
            SurveyKind::Csat,
            "energy".into(),
            &counter,
            Some(&previous),
            None,
        );
        let csat = row.csat.expect("csat");
        assert!((csat.mean - 3.9).abs() < 1e-9);
        assert!((csat.top2_share - 0.8).abs() < 1e-9);
        assert_eq!(row.response_rate, Some(0.5));
        assert_eq!(row.fcr_rate, Some(0.75));
        assert!(row.low_sample);
        assert!((row.trend.expect("trend") - 0.9).abs() < 1e-9);
        assert_eq!(row.rolling_12, None);
    }
}
