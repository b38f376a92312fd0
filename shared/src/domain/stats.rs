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
    pub const ALL: [Dimension; 8] = [
        Dimension::All,
        Dimension::Client,
        Dimension::Team,
        Dimension::Handler,
        Dimension::Step,
        Dimension::Segment,
        Dimension::Channel,
        Dimension::Language,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::All => "all",
            Dimension::Client => "client",
            Dimension::Team => "team",
            Dimension::Handler => "handler",
            Dimension::Step => "step",
            Dimension::Segment => "segment",
            Dimension::Channel => "channel",
            Dimension::Language => "language",
        }
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
    pub fn get(&self, field: &str) -> u64 {
        self.fields.get(field).copied().unwrap_or(0)
    }

    pub fn add(&mut self, fields: &BTreeMap<String, u64>) {
        for (k, v) in fields {
            *self.fields.entry(k.clone()).or_insert(0) += v;
        }
    }

    pub fn nps_histogram(&self) -> NpsHistogram {
        NpsHistogram(std::array::from_fn(|s| self.get(&score_field(s as u8))))
    }

    pub fn csat_histogram(&self) -> CsatHistogram {
        CsatHistogram(std::array::from_fn(|i| self.get(&score_field(i as u8 + 1))))
    }
}

/// The field that counts answers with score `s`: `s0` … `s10`.
pub fn score_field(s: u8) -> String {
    format!("s{s}")
}

/// The id under which an answer's effect on the counters is applied exactly once.
pub fn answer_effect_id(answer: &Answer) -> String {
    format!("answer:{}", answer.survey_id)
}

/// The counters an answer adds to. Suspect answers count only as `suspect`, so they
/// stay visible but out of every figure.
pub fn increments_for_answer(answer: &Answer) -> Vec<CounterIncrement> {
    let mut fields = BTreeMap::new();
    if answer.is_suspect() {
        fields.insert("suspect".to_string(), 1);
    } else {
        fields.insert("n".to_string(), 1);
        let score = match answer.score {
            Score::Nps(s) => s.value(),
            Score::Csat(s) => s.value(),
        };
        fields.insert(score_field(score), 1);
        if answer.comment.is_some() {
            fields.insert("comments".to_string(), 1);
        }
        match answer.resolved_first_contact {
            Some(true) => {
                fields.insert("fcr_yes".to_string(), 1);
            }
            Some(false) => {
                fields.insert("fcr_no".to_string(), 1);
            }
            None => {}
        }
    }
    let month = answer.answered_at.strftime("%Y-%m").to_string();
    scoped_increments(
        answer.kind,
        &month,
        &answer.subject,
        answer.channel,
        &fields,
    )
}

/// One added to `field` in every counter of a survey's dimensions, for the month of
/// `at`: sends, skips by reason, failures, expiries.
pub fn survey_increments(
    kind: SurveyKind,
    subject: &SurveySubject,
    channel: Channel,
    at: jiff::Timestamp,
    field: &str,
) -> Vec<CounterIncrement> {
    let month = at.strftime("%Y-%m").to_string();
    let fields = BTreeMap::from([(field.to_string(), 1)]);
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
