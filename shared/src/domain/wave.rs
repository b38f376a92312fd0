//! The yearly relationship-NPS wave of one month, done a page at a time across
//! schedule ticks: where the current pass stands, so a tick that runs out of time
//! or fails resumes on the next tick instead of the next day.

use serde::{Deserialize, Serialize};

/// One month's wave (`YYYY-MM`): each day one pass walks the contacts whose wave
/// month it is (new contacts join on the next day's pass), a page at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveProgress {
    /// `YYYY-MM`: the wave's month and the year its surveys count for.
    pub month: String,
    /// The day (`YYYY-MM-DD`) of the current pass.
    pub pass_day: String,
    /// Where the pass goes on (the contacts listing's cursor); `None` before the
    /// first page.
    pub cursor: Option<String>,
    /// The pass reached the end of the listing.
    pub done: bool,
    /// Contacts walked and surveys started over the month's passes.
    pub walked: u64,
    pub created: u64,
    /// Saved versions; a save expects the one it read.
    pub version: u64,
}

impl WaveProgress {
    /// A new pass of `month` on `day`, after `previous` (if any).
    pub fn new_pass(month: &str, day: &str, previous: Option<&WaveProgress>) -> Self {
        Self {
            month: month.to_string(),
            pass_day: day.to_string(),
            cursor: None,
            done: false,
            walked: previous.map_or(0, |p| p.walked),
            created: previous.map_or(0, |p| p.created),
            version: previous.map_or(0, |p| p.version),
        }
    }

    /// The wave's calendar month (1–12).
    pub fn wave_month(&self) -> u8 {
        self.month
            .get(5..7)
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }

    /// The year the wave's surveys count for (`YYYY`).
    pub fn year(&self) -> &str {
        self.month.get(..4).unwrap_or_default()
    }
}
