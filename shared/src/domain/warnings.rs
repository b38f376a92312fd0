//! Early warnings: a team's, handler's or client's rolling 30-day figure read
//! against its target and against the 30 days before. Pure: day-by-day counters in,
//! a warning (or none) out. A warning is raised when, with at least
//! [`MIN_WARNING_N`] answers in the window, the figure is below target, or it fell
//! by more than its 95 % margin of error (NPS: the normal approximation of the
//! trinomial; CSAT: of the mean), the previous window also holding
//! [`MIN_WARNING_N`] answers.

use super::ids::TeamId;
use super::metrics::LOW_SAMPLE_N;
use super::reports::headline;
use super::stats::{Counter, CounterField, Dimension, daily_value};
use super::survey::SurveyKind;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Answers a window needs before its figure can warn.
pub const MIN_WARNING_N: u64 = LOW_SAMPLE_N;
/// Days in a rolling window.
pub const WINDOW_DAYS: i32 = 30;

/// Why a figure warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningReason {
    /// Below its target.
    BelowTarget,
    /// Down on the previous 30 days by more than the margin of error.
    Dropped,
}

/// One scope's figure over the last 30 days that needs a lead's eye.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Warning {
    pub kind: SurveyKind,
    pub team: TeamId,
    /// `team`, `handler` or `client`.
    pub dimension: Dimension,
    /// The team, handler or client id (pseudonymous references, never a name).
    pub value: String,
    /// The month the warning belongs to (`YYYY-MM`): one per scope and month.
    pub period: String,
    /// The window's last day.
    #[schema(value_type = String, format = Date)]
    pub window_end: Date,
    /// NPS (−100…100) or the CSAT mean (1…5) over the window.
    pub figure: f64,
    pub n: u64,
    pub target: f64,
    /// The 30 days before, when they had answers.
    pub previous: Option<f64>,
    pub previous_n: u64,
    /// The 95 % margin of error of `figure`.
    pub margin: f64,
    pub reasons: Vec<WarningReason>,
}

impl Warning {
    /// `warning:<kind>:<team>:<dimension>:<value>:<period>`: the same scope and
    /// month always make the same id, so a warning is claimed once.
    pub fn id(&self) -> String {
        format!(
            "warning:{}:{}:{}:{}:{}",
            self.kind.as_str(),
            self.team,
            self.dimension.as_str(),
            self.value,
            self.period
        )
    }

    /// "CSAT 3.6" or "NPS 12".
    pub fn figure_text(&self) -> String {
        format_figure(self.kind, self.figure)
    }

    /// The alert's subject and text: scope, figure, target and the trend. No
    /// personal data: ids only.
    pub fn alert_text(&self, link: &str) -> (String, String) {
        let scope = format!("{} {}", self.dimension.as_str(), self.value);
        let subject = format!(
            "Early warning: {scope}, {} over 30 days (target {})",
            self.figure_text(),
            format_number(self.kind, self.target)
        );
        let mut text = format!(
            "Early warning for team {} — {scope}.\n\n{} over the 30 days to {} (n = {}, margin ±{}); target {}.\n",
            self.team,
            self.figure_text(),
            self.window_end,
            self.n,
            format_number(self.kind, self.margin),
            format_number(self.kind, self.target),
        );
        if let Some(previous) = self.previous {
            text.push_str(&format!(
                "The 30 days before: {} (n = {}).\n",
                format_figure(self.kind, previous),
                self.previous_n
            ));
        }
        text.push_str(&format!(
            "Why: {}.\n\nReports: {link}\n",
            self.reasons_text()
        ));
        (subject, text)
    }

    pub fn reasons_text(&self) -> String {
        self.reasons
            .iter()
            .map(|r| match r {
                WarningReason::BelowTarget => "below target",
                WarningReason::Dropped => "fell by more than the margin of error",
            })
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

pub fn format_figure(kind: SurveyKind, value: f64) -> String {
    format!(
        "{} {}",
        kind.as_str().to_uppercase(),
        format_number(kind, value)
    )
}

fn format_number(kind: SurveyKind, value: f64) -> String {
    match kind {
        SurveyKind::Nps => format!("{value:.0}"),
        SurveyKind::Csat => format!("{value:.1}"),
    }
}

/// The 95 % margin of error of a window's headline figure.
pub fn margin(kind: SurveyKind, c: &Counter) -> Option<f64> {
    match kind {
        SurveyKind::Nps => c.nps_histogram().summary().map(|s| s.margin),
        SurveyKind::Csat => {
            let h = c.csat_histogram();
            let n = h.n();
            if n < 2 {
                return None;
            }
            let mean = h.summary()?.mean;
            let sum_sq: f64 =
                h.0.iter()
                    .zip(1u32..)
                    .map(|(count, score)| *count as f64 * (f64::from(score) - mean).powi(2))
                    .sum();
            let variance = sum_sq / (n - 1) as f64;
            Some(1.96 * (variance / n as f64).sqrt())
        }
    }
}

/// One scope's two windows: the last 30 days and the 30 before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Windows {
    pub current: Counter,
    pub previous: Counter,
}

/// The scope a figure is read for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub kind: SurveyKind,
    pub team: TeamId,
    pub dimension: Dimension,
    pub value: String,
}

/// Whether a scope's windows warn, read on `today` against `target`.
pub fn assess(scope: &Scope, windows: &Windows, target: f64, today: Date) -> Option<Warning> {
    let n = windows.current.get(&CounterField::Answered);
    if n < MIN_WARNING_N {
        return None;
    }
    let figure = headline(scope.kind, &windows.current)?;
    let margin = margin(scope.kind, &windows.current).unwrap_or(0.0);
    let previous_n = windows.previous.get(&CounterField::Answered);
    let previous = headline(scope.kind, &windows.previous);
    let mut reasons = Vec::new();
    if figure < target {
        reasons.push(WarningReason::BelowTarget);
    }
    if let Some(before) = previous
        && previous_n >= MIN_WARNING_N
        && before - figure > margin
    {
        reasons.push(WarningReason::Dropped);
    }
    if reasons.is_empty() {
        return None;
    }
    Some(Warning {
        kind: scope.kind,
        team: scope.team.clone(),
        dimension: scope.dimension,
        value: scope.value.clone(),
        period: today.strftime("%Y-%m").to_string(),
        window_end: today,
        figure,
        n,
        target,
        previous,
        previous_n,
        margin,
        reasons,
    })
}

/// The first day of the current window and of the previous one.
pub fn window_starts(today: Date) -> (Date, Date) {
    let back = |days: i32| {
        today
            .checked_sub(jiff::Span::new().days(days))
            .unwrap_or(today)
    };
    (back(WINDOW_DAYS - 1), back(2 * WINDOW_DAYS - 1))
}

/// The months whose daily groups hold both windows, oldest first.
pub fn window_months(today: Date) -> Vec<Date> {
    let (_, oldest) = window_starts(today);
    let mut months = Vec::new();
    let mut m = oldest.first_of_month();
    while m <= today && months.len() < 4 {
        months.push(m);
        m = m
            .checked_add(jiff::Span::new().months(1))
            .unwrap_or(today.tomorrow().unwrap_or(today));
    }
    months
}

/// Adds one month's daily group (`value@dd` → counter) into each value's windows;
/// days after `today` or before the previous window are left out.
pub fn add_month(
    windows: &mut BTreeMap<String, Windows>,
    month: Date,
    group: &BTreeMap<String, Counter>,
    today: Date,
) {
    let (current_start, previous_start) = window_starts(today);
    for (stored, counter) in group {
        let Some((value, day)) = daily_value(stored) else {
            continue;
        };
        let Ok(date) = Date::new(month.year(), month.month(), day) else {
            continue;
        };
        if date > today || date < previous_start {
            continue;
        }
        let w = windows.entry(value.to_string()).or_default();
        if date >= current_start {
            w.current.add(&counter.fields);
        } else {
            w.previous.add(&counter.fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csat(scores: &[(u8, u64)]) -> Counter {
        let mut c = Counter::default();
        for (s, k) in scores {
            c.fields.insert(CounterField::Score(*s).key(), *k);
            *c.fields.entry(CounterField::Answered.key()).or_insert(0) += k;
        }
        c
    }

    fn scope() -> Scope {
        Scope {
            kind: SurveyKind::Csat,
            team: TeamId::parse("energy").expect("team"),
            dimension: Dimension::Handler,
            value: "h-17".into(),
        }
    }

    const TODAY: Date = jiff::civil::date(2026, 12, 7);

    #[test]
    fn a_handler_falling_from_4_4_to_3_6_with_40_answers_warns_for_both_reasons() {
        let w = Windows {
            previous: csat(&[(4, 24), (5, 16)]),
            current: csat(&[(3, 16), (4, 24)]),
        };
        let warning = assess(&scope(), &w, 4.0, TODAY).expect("a warning");
        assert!((warning.figure - 3.6).abs() < 1e-9);
        assert_eq!(warning.previous.map(|p| (p * 10.0).round()), Some(44.0));
        assert_eq!(
            warning.reasons,
            vec![WarningReason::BelowTarget, WarningReason::Dropped]
        );
        assert_eq!(warning.id(), "warning:csat:energy:handler:h-17:2026-12");
        let (subject, text) = warning.alert_text("https://k.example/console/reports");
        assert_eq!(
            subject,
            "Early warning: handler h-17, CSAT 3.6 over 30 days (target 4.0)"
        );
        assert!(text.contains("(n = 40"), "{text}");
        assert!(text.contains("CSAT 4.4 (n = 40)"), "{text}");
    }

    #[test]
    fn twelve_answers_never_warn_however_low() {
        let w = Windows {
            previous: csat(&[(5, 40)]),
            current: csat(&[(1, 12)]),
        };
        assert_eq!(assess(&scope(), &w, 4.0, TODAY), None);
    }

    #[test]
    fn a_drop_within_the_margin_above_target_does_not_warn_but_one_beyond_it_does() {
        let steady = Windows {
            previous: csat(&[(4, 20), (5, 20)]),
            current: csat(&[(4, 22), (5, 18)]),
        };
        assert_eq!(assess(&scope(), &steady, 4.0, TODAY), None);
        let fallen = Windows {
            previous: csat(&[(5, 40)]),
            current: csat(&[(4, 30), (5, 10)]),
        };
        let w = assess(&scope(), &fallen, 4.0, TODAY).expect("a drop");
        assert_eq!(w.reasons, vec![WarningReason::Dropped]);
    }

    #[test]
    fn nps_below_target_warns() {
        let mut c = Counter::default();
        for (s, k) in [(10u8, 15u64), (7, 10), (3, 10)] {
            c.fields.insert(CounterField::Score(s).key(), k);
        }
        c.fields.insert(CounterField::Answered.key(), 35);
        let s = Scope {
            kind: SurveyKind::Nps,
            ..scope()
        };
        let w = assess(
            &s,
            &Windows {
                current: c,
                previous: Counter::default(),
            },
            40.0,
            TODAY,
        )
        .expect("NPS 14 is below 40");
        assert_eq!(w.reasons, vec![WarningReason::BelowTarget]);
        assert_eq!(w.figure_text(), "NPS 14");
    }

    #[test]
    fn days_fall_into_their_window_and_older_or_future_days_into_none() {
        let months = window_months(TODAY);
        assert_eq!(
            months,
            vec![
                jiff::civil::date(2026, 10, 1),
                jiff::civil::date(2026, 11, 1),
                jiff::civil::date(2026, 12, 1)
            ]
        );
        let one = csat(&[(5, 1)]);
        let mut windows = BTreeMap::new();
        let nov: BTreeMap<String, Counter> = [
            ("h-1@07".to_string(), one.clone()), // 30 days before: previous
            ("h-1@08".to_string(), one.clone()), // 29 days before: current
        ]
        .into();
        let oct: BTreeMap<String, Counter> = [
            ("h-1@09".to_string(), one.clone()), // 59 days before: previous
            ("h-1@08".to_string(), one.clone()), // 60: outside
        ]
        .into();
        let dec: BTreeMap<String, Counter> = [
            ("h-1@07".to_string(), one.clone()),
            ("h-1@08".to_string(), one.clone()), // tomorrow
            ("broken".to_string(), one.clone()),
        ]
        .into();
        add_month(&mut windows, months[0], &oct, TODAY);
        add_month(&mut windows, months[1], &nov, TODAY);
        add_month(&mut windows, months[2], &dec, TODAY);
        let w = &windows["h-1"];
        assert_eq!(w.current.get(&CounterField::Answered), 2);
        assert_eq!(w.previous.get(&CounterField::Answered), 2);
    }
}
