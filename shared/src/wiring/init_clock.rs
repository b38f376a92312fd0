//! How long each part of a function's start took: logged once per cold start as
//! one `function initialised` line (durations only), so that a slow `Init Duration`
//! on Lambda can be read part by part, and `scripts/cold-start` can print the same
//! parts locally.

use std::time::{Duration, Instant};

/// The parts of a start, in the order they run.
#[derive(Debug)]
pub struct InitClock {
    last: Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl InitClock {
    pub fn start() -> Self {
        Self {
            last: Instant::now(),
            laps: Vec::new(),
        }
    }

    /// Ends the part called `name` (the time since the previous lap or the start).
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }

    /// `logging=120 config=35 …`, in microseconds.
    pub fn summary(&self) -> String {
        self.laps
            .iter()
            .map(|(name, d)| format!("{name}={}", d.as_micros()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn total(&self) -> Duration {
        self.laps.iter().map(|(_, d)| *d).sum()
    }

    pub fn log(&self) {
        tracing::info!(
            phases_us = %self.summary(),
            total_us = self.total().as_micros() as u64,
            "function initialised"
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_lap_is_named_in_order_and_adds_up() {
        let mut clock = super::InitClock::start();
        clock.lap("logging");
        std::thread::sleep(std::time::Duration::from_millis(2));
        clock.lap("config");
        let summary = clock.summary();
        let names: Vec<&str> = summary
            .split(' ')
            .map(|p| p.split('=').next().unwrap_or_default())
            .collect();
        assert_eq!(names, ["logging", "config"]);
        assert!(clock.total() >= std::time::Duration::from_millis(2));
    }
}
