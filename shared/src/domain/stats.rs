//! Pre-aggregated counters. Every answer adds one to a handful of named fields in a
//! counter per (kind, month, scope, dimension, value); reports read counters, never
//! answers, so their cost does not grow with the number of answers.
//!
//! The scope is `all` (the whole agency) or one team: each answer, send and skip is
//! counted in both, so a team lead's report by handler or client reads only their
//! team's counters. The counters of one (kind, month, scope, dimension) form a
//! *group*, stored together so one read returns every value of that dimension.

use super::ids::TeamId;
use super::metrics::{CsatHistogram, NpsHistogram};
use super::score::Score;
use super::survey::{Answer, Channel, SurveyKind, SurveySubject};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The dimensions a report can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::VariantArray, strum::EnumString, utoipa::ToSchema)]
#[strum(serialize_all = "snake_case")]
pub enum Dimension {
    /// Everything, one row.
    All,
    Client,
    Team,
    Handler,
    Step,
    Segment,
    Channel,
    Language,
}

impl Dimension {
    /// Every value, in declaration order.
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// `<kind>|<yyyy-mm>|<dimension>|<value>`, e.g. `csat|2026-11|team|energy`.
/// One counter: its group (`kind|month|scope|dimension`) and the dimension's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CounterKey {
    group: String,
    value: String,
}

/// The scope of a counter group: `None` is the whole agency.
pub fn scope_str(team: Option<&TeamId>) -> String {
    match team {
        None => "all".to_string(),
        Some(t) => format!("team:{t}"),
    }
}

impl CounterKey {
    /// An agency-wide counter.
    pub fn new(kind: SurveyKind, month: &str, dimension: Dimension, value: &str) -> Self {
        Self::scoped(kind, month, None, dimension, value)
    }

    pub fn scoped(
        kind: SurveyKind,
        month: &str,
        team: Option<&TeamId>,
        dimension: Dimension,
        value: &str,
    ) -> Self {
        Self {
            group: Self::group_of(kind, month, team, dimension),
            value: value.to_string(),
        }
    }

    /// The group every value of `dimension` shares for this kind, month and scope.
    pub fn group_of(
        kind: SurveyKind,
        month: &str,
        team: Option<&TeamId>,
        dimension: Dimension,
    ) -> String {
        format!(
            "{}|{month}|{}|{}",
            kind.as_str(),
            scope_str(team),
            dimension.as_str()
        )
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for CounterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.group, self.value)
    }
}

/// Additions to the named fields of one counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterIncrement {
    pub key: CounterKey,
    pub fields: BTreeMap<String, u64>,
}

/// A counter's current fields (absent fields are zero).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    pub fields: BTreeMap<String, u64>,
}

impl Counter {
    pub fn get(&self, field: &CounterField) -> u64 {
        self.fields.get(&field.key()).copied().unwrap_or(0)
    }

    /// The skip counts by reason (`fatigue`, `opted_out`…).
    pub fn skipped(&self) -> BTreeMap<String, u64> {
        self.fields
            .iter()
            .filter_map(|(k, v)| match CounterField::from_key(k)? {
                CounterField::Skipped(reason) => Some((reason, *v)),
                _ => None,
            })
            .collect()
    }

    pub fn add(&mut self, fields: &BTreeMap<String, u64>) {
        for (k, v) in fields {
            *self.fields.entry(k.clone()).or_insert(0) += v;
        }
    }

    pub fn nps_histogram(&self) -> NpsHistogram {
        NpsHistogram(std::array::from_fn(|s| {
            self.get(&CounterField::Score(s as u8))
        }))
    }

    pub fn csat_histogram(&self) -> CsatHistogram {
        CsatHistogram(std::array::from_fn(|i| {
            self.get(&CounterField::Score(i as u8 + 1))
        }))
    }
}

/// One counted field of a counter. [`CounterField::key`] is the name it is stored
/// under; every writer and reader goes through it, so they cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CounterField {
    /// Answers in the figures (suspect ones excluded): `n`.
    Answered,
    /// Answers held out of every figure as suspect (when submitted).
    Suspect,
    /// Suspect answers a lead later accepted as a person's: also in `n` from then.
    Accepted,
    /// Answers with a comment.
    Comments,
    /// Answers with this score: `s0` … `s10`.
    Score(u8),
    /// "Was it resolved in this contact?" answered yes / no.
    FcrYes,
    FcrNo,
    /// Surveys the channel accepted.
    Sent,
    /// NPS reminders sent.
    Reminded,
    /// Sent surveys whose link ran out unanswered.
    Expired,
    /// Decisions to send at once, or to schedule for the next window.
    DecidedSend,
    DecidedSchedule,
    /// Surveys not sent, by reason: `skip_<reason>`.
    Skipped(String),
    /// Surveys the channel refused for good, by reason: `failed_<reason>`.
    Failed(String),
}

const SKIP_PREFIX: &str = "skip_";
const FAILED_PREFIX: &str = "failed_";

impl CounterField {
    /// The stored name.
    pub fn key(&self) -> String {
        match self {
            CounterField::Answered => "n".into(),
            CounterField::Suspect => "suspect".into(),
            CounterField::Accepted => "accepted".into(),
            CounterField::Comments => "comments".into(),
            CounterField::Score(s) => format!("s{s}"),
            CounterField::FcrYes => "fcr_yes".into(),
            CounterField::FcrNo => "fcr_no".into(),
            CounterField::Sent => "sent".into(),
            CounterField::Reminded => "reminded".into(),
            CounterField::Expired => "expired".into(),
            CounterField::DecidedSend => "decided_send".into(),
            CounterField::DecidedSchedule => "decided_schedule".into(),
            CounterField::Skipped(reason) => format!("{SKIP_PREFIX}{reason}"),
            CounterField::Failed(reason) => format!("{FAILED_PREFIX}{reason}"),
        }
    }

    /// The field stored under `key`, if it is one [`CounterField::key`] writes.
    pub fn from_key(key: &str) -> Option<Self> {
        let fixed = [
            CounterField::Answered,
            CounterField::Suspect,
            CounterField::Accepted,
            CounterField::Comments,
            CounterField::FcrYes,
            CounterField::FcrNo,
            CounterField::Sent,
            CounterField::Reminded,
            CounterField::Expired,
            CounterField::DecidedSend,
            CounterField::DecidedSchedule,
        ];
        if let Some(field) = fixed.into_iter().find(|f| f.key() == key) {
            return Some(field);
        }
        if let Some(reason) = key.strip_prefix(SKIP_PREFIX) {
            return Some(CounterField::Skipped(reason.to_string()));
        }
        if let Some(reason) = key.strip_prefix(FAILED_PREFIX) {
            return Some(CounterField::Failed(reason.to_string()));
        }
        let score: u8 = key.strip_prefix('s')?.parse().ok()?;
        (score <= 10 && key == format!("s{score}")).then_some(CounterField::Score(score))
    }
}

impl fmt::Display for CounterField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// The id under which an answer's effect on the counters is applied exactly once.
pub fn answer_effect_id(answer: &Answer) -> String {
    format!("answer:{}", answer.survey_id)
}

/// The counters an answer adds to. Suspect answers count only as `suspect`, so they
/// stay visible but out of every figure.
pub fn increments_for_answer(answer: &Answer) -> Vec<CounterIncrement> {
    increments_with(answer, &[])
}

/// A held answer accepted by a lead: counted like any answer, and as `accepted`.
pub fn increments_for_accepted(answer: &Answer) -> Vec<CounterIncrement> {
    increments_with(answer, &[CounterField::Accepted])
}

fn increments_with(answer: &Answer, extra: &[CounterField]) -> Vec<CounterIncrement> {
    let mut fields = extra.to_vec();
    if answer.is_suspect() {
        fields.push(CounterField::Suspect);
    } else {
        fields.push(CounterField::Answered);
        fields.push(CounterField::Score(match answer.score {
            Score::Nps(s) => s.value(),
            Score::Csat(s) => s.value(),
        }));
        if answer.comment.is_some() {
            fields.push(CounterField::Comments);
        }
        match answer.resolved_first_contact {
            Some(true) => fields.push(CounterField::FcrYes),
            Some(false) => fields.push(CounterField::FcrNo),
            None => {}
        }
    }
    let fields: BTreeMap<String, u64> = fields.iter().map(|f| (f.key(), 1)).collect();
    let month = answer.answered_at.strftime("%Y-%m").to_string();
    let mut increments = scoped_increments(
        answer.kind,
        &month,
        &answer.subject,
        answer.channel,
        &fields,
    );
    if !answer.is_suspect() {
        increments.extend(daily_increments(answer, &fields));
    }
    increments
}

/// The dimensions whose rolling 30-day figures the early warnings watch, each in
/// the subject's team.
pub const WATCHED: [Dimension; 3] = [Dimension::Team, Dimension::Handler, Dimension::Client];

/// The group of one month's day-by-day counters of a watched dimension in a team:
/// `<kind>|<yyyy-mm>|team:<team>|<dimension>:daily`. Its values are
/// `<value>@<dd>`, so one read returns every value's days of that month.
pub fn daily_group(kind: SurveyKind, month: &str, team: &TeamId, dimension: Dimension) -> String {
    format!(
        "{}:daily",
        CounterKey::group_of(kind, month, Some(team), dimension)
    )
}

/// A daily counter's value and day of the month (`h-17@07` → `("h-17", 7)`).
pub fn daily_value(stored: &str) -> Option<(&str, i8)> {
    let (value, day) = stored.rsplit_once('@')?;
    let day: i8 = day.parse().ok()?;
    (1..=31).contains(&day).then_some((value, day))
}

/// An answer's day-by-day counters (team, handler and client in its team), for the
/// early warnings' rolling windows.
fn daily_increments(answer: &Answer, fields: &BTreeMap<String, u64>) -> Vec<CounterIncrement> {
    let s = &answer.subject;
    let day = answer.answered_at.to_zoned(jiff::tz::TimeZone::UTC);
    let month = day.strftime("%Y-%m").to_string();
    let values = [
        (Dimension::Team, Some(s.team.to_string())),
        (
            Dimension::Handler,
            s.handler_id.as_ref().map(|h| h.to_string()),
        ),
        (Dimension::Client, Some(s.client_id.to_string())),
    ];
    values
        .into_iter()
        .filter_map(|(d, v)| {
            Some(CounterIncrement {
                key: CounterKey {
                    group: daily_group(answer.kind, &month, &s.team, d),
                    value: format!("{}@{:02}", v?, day.day()),
                },
                fields: fields.clone(),
            })
        })
        .collect()
}

/// One added to `field` in every counter of a survey's dimensions, for the month of
/// `at`: sends, skips by reason, failures, expiries.
pub fn survey_increments(
    kind: SurveyKind,
    subject: &SurveySubject,
    channel: Channel,
    at: jiff::Timestamp,
    field: &CounterField,
) -> Vec<CounterIncrement> {
    let month = at.strftime("%Y-%m").to_string();
    let fields = BTreeMap::from([(field.key(), 1)]);
    scoped_increments(kind, &month, subject, channel, &fields)
}

/// The (dimension, value) pairs a survey or answer is counted under.
/// The same fields in every dimension, agency-wide and in the subject's team.
fn scoped_increments(
    kind: SurveyKind,
    month: &str,
    subject: &SurveySubject,
    channel: Channel,
    fields: &BTreeMap<String, u64>,
) -> Vec<CounterIncrement> {
    let dims = dimensions(subject, channel);
    [None, Some(&subject.team)]
        .into_iter()
        .flat_map(|team| {
            dims.iter().map(move |(d, v)| CounterIncrement {
                key: CounterKey::scoped(kind, month, team, *d, v),
                fields: fields.clone(),
            })
        })
        .collect()
}

fn dimensions(s: &SurveySubject, channel: Channel) -> Vec<(Dimension, String)> {
    let mut dims: Vec<(Dimension, String)> = vec![
        (Dimension::All, "all".to_string()),
        (Dimension::Client, s.client_id.to_string()),
        (Dimension::Team, s.team.to_string()),
        (Dimension::Channel, channel.as_str().to_string()),
        (Dimension::Language, s.language.to_string()),
    ];
    if let Some(h) = &s.handler_id {
        dims.push((Dimension::Handler, h.to_string()));
    }
    if let Some(step) = &s.step {
        dims.push((Dimension::Step, step.to_string()));
    }
    if let Some(seg) = &s.segment {
        dims.push((Dimension::Segment, seg.to_string()));
    }
    dims
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored names are a contract with every counter already written.
    #[test]
    fn counter_fields_keep_their_stored_names_and_read_back() {
        let named = [
            (CounterField::Answered, "n"),
            (CounterField::Suspect, "suspect"),
            (CounterField::Comments, "comments"),
            (CounterField::Score(0), "s0"),
            (CounterField::Score(10), "s10"),
            (CounterField::FcrYes, "fcr_yes"),
            (CounterField::FcrNo, "fcr_no"),
            (CounterField::Sent, "sent"),
            (CounterField::Reminded, "reminded"),
            (CounterField::Expired, "expired"),
            (CounterField::DecidedSend, "decided_send"),
            (CounterField::DecidedSchedule, "decided_schedule"),
            (CounterField::Skipped("fatigue".into()), "skip_fatigue"),
            (
                CounterField::Failed("send_attempts_exhausted".into()),
                "failed_send_attempts_exhausted",
            ),
        ];
        for (field, key) in named {
            assert_eq!(field.key(), key);
            assert_eq!(CounterField::from_key(key), Some(field), "{key}");
        }
        for stranger in ["s11", "s01", "s", "x", "N"] {
            assert_eq!(CounterField::from_key(stranger), None, "{stranger}");
        }
    }

    #[test]
    fn skips_are_read_by_reason() {
        let counter = Counter {
            fields: BTreeMap::from([
                ("skip_fatigue".to_string(), 2),
                ("skip_opted_out".to_string(), 1),
                ("sent".to_string(), 7),
                ("failed_bounced".to_string(), 1),
            ]),
        };
        assert_eq!(
            counter.skipped(),
            BTreeMap::from([("fatigue".to_string(), 2), ("opted_out".to_string(), 1)])
        );
        assert_eq!(counter.get(&CounterField::Sent), 7);
        assert_eq!(counter.get(&CounterField::Reminded), 0);
    }
}
