//! Notices to a team's lead that are not about one feedback item: early warnings
//! and the weekly digest. Each is claimed once by its id (a conditional create of
//! its record) before it is published, and the publish's outcome is recorded on
//! the record: the same at-most-once rule as the alerts of feedback items.

use super::backlog::AlertState;
use super::ids::TeamId;
use super::survey::SurveyKind;
use super::warnings::{Warning, format_figure};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What a notice says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notice {
    Warning(Warning),
    Digest(Digest),
}

impl Notice {
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::Warning(_) => "warning",
            Notice::Digest(_) => "digest",
        }
    }
}

/// Where one notice's publish stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub state: AlertState,
    /// The attempt that holds (or last held) the claim.
    pub attempt: String,
    pub lease_until: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Timestamp>,
    /// Publishes tried so far.
    pub attempts: u32,
    pub updated_at: Timestamp,
}

impl Delivery {
    /// A new claim held until `lease_until`.
    pub fn claimed(now: Timestamp, lease_until: Timestamp, attempts: u32) -> Self {
        Self {
            state: AlertState::Claimed,
            attempt: uuid::Uuid::new_v4().to_string(),
            lease_until,
            retry_at: None,
            attempts,
            updated_at: now,
        }
    }

    /// When the record next needs the timer: a retry, or a claim running out.
    pub fn due_at(&self) -> Option<Timestamp> {
        match self.state {
            AlertState::Claimed => Some(self.lease_until),
            AlertState::NotSent => self.retry_at,
            AlertState::Published | AlertState::Failed | AlertState::Unknown => None,
        }
    }
}

/// The durable record of one notice (`NOTICE#<id>`), versioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeRecord {
    pub id: String,
    pub team: TeamId,
    pub created_at: Timestamp,
    pub notice: Notice,
    pub delivery: Delivery,
    pub version: u64,
}

/// One figure of the digest against its goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestFigure {
    pub kind: SurveyKind,
    /// Over the 30 days to the digest's last day; `None` without answers.
    pub figure: Option<f64>,
    pub n: u64,
    pub target: f64,
}

/// An improvement whose status changed in the week. Its title stays in the
/// console: free text a lead wrote does not travel in a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedImprovement {
    pub id: String,
    pub status: String,
}

/// A team's week: figures against targets, what people talked about, what is late,
/// what moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub team: TeamId,
    /// ISO week, `2026-W49`.
    pub week: String,
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub figures: Vec<DigestFigure>,
    /// Feedback items created in the week.
    pub new_items: usize,
    /// Themes of the week's items, most frequent first (at most five).
    pub top_themes: Vec<(String, usize)>,
    /// Open items past their due date.
    pub overdue: usize,
    pub improvements_moved: Vec<MovedImprovement>,
    /// Early warnings raised in the week.
    pub warnings: Vec<String>,
}

impl Digest {
    /// `digest:<team>:<week>`: one per team and week.
    pub fn id(&self) -> String {
        format!("digest:{}:{}", self.team, self.week)
    }

    /// The digest as its email reads (plain text: ids, counts and theme names).
    pub fn text(&self, console: &str) -> (String, String) {
        let subject = format!("Kundpuls weekly digest: team {}, {}", self.team, self.week);
        let mut t = format!(
            "Team {}, week {} ({} to {}).\n\nFigures over the last 30 days:\n",
            self.team, self.week, self.from, self.to
        );
        for f in &self.figures {
            let line = match f.figure {
                Some(v) => {
                    let mark = if v < f.target {
                        "below target"
                    } else {
                        "on target"
                    };
                    format!(
                        "  {} (n = {}), target {}: {mark}\n",
                        format_figure(f.kind, v),
                        f.n,
                        format_figure(f.kind, f.target)
                    )
                }
                None => format!("  {}: no answers\n", f.kind.as_str().to_uppercase()),
            };
            t.push_str(&line);
        }
        t.push_str(&format!(
            "\nNew feedback items: {}. Overdue items: {}.\n",
            self.new_items, self.overdue
        ));
        if self.top_themes.is_empty() {
            t.push_str("Top themes: none this week.\n");
        } else {
            let themes: Vec<String> = self
                .top_themes
                .iter()
                .map(|(theme, n)| format!("{} ({n})", theme.replace('_', " ")))
                .collect();
            t.push_str(&format!("Top themes: {}.\n", themes.join(", ")));
        }
        if self.improvements_moved.is_empty() {
            t.push_str("Improvements moved: none.\n");
        } else {
            t.push_str("Improvements moved:\n");
            for i in &self.improvements_moved {
                t.push_str(&format!("  {}: now {}\n", i.id, i.status));
            }
        }
        if !self.warnings.is_empty() {
            t.push_str(&format!("Early warnings: {}.\n", self.warnings.join("; ")));
        }
        t.push_str(&format!("\nThe queue: {console}\n"));
        (subject, t)
    }
}
