//! Sends paced to the account's quotas (SES's maximum send rate, SNS's SMS rate).
//!
//! Two rules, before every provider call:
//! - **in this process**, sends of one channel are spaced at least `1/rate` apart,
//!   the first one `1/rate` after the process starts sending (it cannot know what
//!   an instance before it sent in the last moment), so no burst starts a second;
//! - **across processes**, each send takes one of the channel's `rate` slots of the
//!   current second in the store ([`SendQuota`]), so the case-step consumer's
//!   instances, the ingest API's and the schedule never send more than `rate` in
//!   any second between them. When the second is full, the sender waits for the
//!   next one.
//!
//! A send that gets no slot within [`MAX_WAIT`] is not made: the caller gives the
//! claim back and tries again later. When the provider still throttles (another
//! application on the same account), this process holds that channel back for a
//! moment, doubling up to [`MAX_HOLD`] while it keeps happening.

use crate::domain::survey::Channel;
use crate::ports::{SendError, SendQuota, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest a send waits for a slot before it is given back for a later attempt.
pub const MAX_WAIT: Duration = Duration::from_secs(5);
/// Hold after the first provider throttle of a run of them.
pub const FIRST_HOLD: Duration = Duration::from_secs(1);
/// The longest hold after repeated provider throttles.
pub const MAX_HOLD: Duration = Duration::from_secs(8);

/// Where the pacer reads the time and waits.
#[derive(Debug, Clone)]
pub enum PaceClock {
    /// The system clock: every instance counts the same seconds.
    System,
    /// tokio's clock from `start`: in a test runtime with paused time this is fake
    /// time that moves only when every task waits.
    Tokio {
        start: Timestamp,
        origin: tokio::time::Instant,
    },
}

impl PaceClock {
    /// tokio's clock, reading `start` now.
    pub fn tokio_from(start: Timestamp) -> Self {
        PaceClock::Tokio {
            start,
            origin: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> Timestamp {
        match self {
            PaceClock::System => Timestamp::now(),
            PaceClock::Tokio { start, origin } => {
                let elapsed = SignedDuration::try_from(origin.elapsed()).unwrap_or_default();
                *start + elapsed
            }
        }
    }

    async fn sleep_until(&self, at: Timestamp) {
        let wait = at.duration_since(self.now());
        if let Ok(d) = Duration::try_from(wait) {
            tokio::time::sleep(d).await;
        }
    }
}

/// This process's state for one channel.
#[derive(Debug, Default, Clone, Copy)]
struct Local {
    /// The earliest moment of this process's next send.
    next: Option<Timestamp>,
    /// Held back until then after a provider throttle.
    held_until: Option<Timestamp>,
    /// The current hold, doubled on each throttle in a row.
    hold: Option<Duration>,
}

/// The pacer every sender shares (one per process).
pub struct Pacing {
    quota: Option<Arc<dyn SendQuota>>,
    clock: PaceClock,
    local: Mutex<BTreeMap<Channel, Local>>,
}

impl std::fmt::Debug for Pacing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacing")
            .field("clock", &self.clock)
            .finish()
    }
}

impl Pacing {
    /// Pacing on the system clock, counting seconds in `quota`.
    pub fn new(quota: Arc<dyn SendQuota>) -> Self {
        Self::with_clock(quota, PaceClock::System)
    }

    pub fn with_clock(quota: Arc<dyn SendQuota>, clock: PaceClock) -> Self {
        Self {
            quota: Some(quota),
            clock,
            local: Mutex::new(BTreeMap::new()),
        }
    }

    /// No pacing at all, whatever the policy says: for tools that never send.
    pub fn off() -> Self {
        Self {
            quota: None,
            clock: PaceClock::System,
            local: Mutex::new(BTreeMap::new()),
        }
    }

    fn with_local<T>(&self, channel: Channel, f: impl FnOnce(&mut Local) -> T) -> T {
        let mut map = self
            .local
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(map.entry(channel).or_default())
    }

    /// Waits until one send on `channel` at `per_second` may go. `Ok(false)` if
    /// none could within [`MAX_WAIT`]: nothing was counted, and the send must not
    /// be made now. `per_second: None` is unpaced.
    pub async fn slot(
        &self,
        channel: Channel,
        per_second: Option<u32>,
    ) -> Result<bool, StoreError> {
        let (Some(quota), Some(rate)) = (&self.quota, per_second.filter(|r| *r > 0)) else {
            return Ok(true);
        };
        let spacing = SignedDuration::from_nanos(1_000_000_000 / i64::from(rate));
        let started = self.clock.now();
        let give_up = started + SignedDuration::try_from(MAX_WAIT).unwrap_or_default();
        // This process's turn: reserved now, so concurrent senders queue behind it.
        let turn = self.with_local(channel, |l| {
            let earliest = l.next.unwrap_or(started + spacing);
            let turn = earliest.max(started).max(l.held_until.unwrap_or(started));
            if turn > give_up {
                return None;
            }
            l.next = Some(turn + spacing);
            Some(turn)
        });
        let Some(turn) = turn else {
            return Ok(false);
        };
        self.clock.sleep_until(turn).await;
        loop {
            let now = self.clock.now();
            let second = now.as_second();
            if quota.take_send_slot(channel, second, rate).await? {
                return Ok(true);
            }
            // The second is full across processes: try again early in the next one,
            // spread a little so waiting instances do not all write at once.
            let next = Timestamp::from_second(second + 1)
                .map_err(|e| StoreError::unavailable("take_send_slot", e))?
                + SignedDuration::from_millis(i64::from(jitter_ms()));
            if next > give_up {
                return Ok(false);
            }
            self.clock.sleep_until(next).await;
        }
    }

    /// What the provider answered a send on `channel`: a throttle holds this
    /// process's sends back, longer each time in a row; an acceptance ends the run.
    pub fn heard(&self, channel: Channel, answer: &Result<(), SendError>) {
        match answer {
            Ok(()) => self.accepted(channel),
            Err(SendError::Throttled(_)) => self.throttled(channel),
            Err(_) => {}
        }
    }

    fn throttled(&self, channel: Channel) {
        let now = self.clock.now();
        self.with_local(channel, |l| {
            let hold = l.hold.map_or(FIRST_HOLD, |h| (h * 2).min(MAX_HOLD));
            l.hold = Some(hold);
            l.held_until = Some(now + SignedDuration::try_from(hold).unwrap_or_default());
        });
    }

    fn accepted(&self, channel: Channel) {
        self.with_local(channel, |l| l.hold = None);
    }

    /// The time as the pacer reads it.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

fn jitter_ms() -> u8 {
    let mut b = [0u8; 1];
    let _ = getrandom::fill(&mut b);
    b[0] % 50
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;

    /// One process's view of the store's count: enough to test the local rules.
    #[derive(Default)]
    struct Counts(Mutex<BTreeMap<i64, u32>>);

    #[async_trait]
    impl SendQuota for Counts {
        async fn take_send_slot(
            &self,
            _: Channel,
            second: i64,
            limit: u32,
        ) -> Result<bool, StoreError> {
            let mut m = self.0.lock().expect("not poisoned");
            let c = m.entry(second).or_default();
            Ok(if *c < limit {
                *c += 1;
                true
            } else {
                false
            })
        }
    }

    fn start() -> Timestamp {
        "2026-11-23T08:00:00Z".parse().expect("a timestamp")
    }

    #[tokio::test(start_paused = true)]
    async fn sends_are_spaced_and_the_first_waits_one_interval() {
        let p = Pacing::with_clock(Arc::new(Counts::default()), PaceClock::tokio_from(start()));
        let mut at = Vec::new();
        for _ in 0..5 {
            assert!(p.slot(Channel::Sms, Some(10)).await.expect("counted"));
            at.push(p.now().duration_since(start()).as_millis());
        }
        assert_eq!(at, vec![100, 200, 300, 400, 500]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_holds_the_channel_back_doubling_to_the_ceiling() {
        let p = Pacing::with_clock(Arc::new(Counts::default()), PaceClock::tokio_from(start()));
        assert!(p.slot(Channel::Email, Some(100)).await.expect("counted"));
        p.throttled(Channel::Email);
        let before = p.now();
        assert!(p.slot(Channel::Email, Some(100)).await.expect("counted"));
        assert!(p.now().duration_since(before) >= SignedDuration::from_secs(1));
        for _ in 0..6 {
            p.throttled(Channel::Email);
        }
        // Held 8 s, beyond the 5 s a send may wait: given back, not sent.
        assert!(!p.slot(Channel::Email, Some(100)).await.expect("answered"));
        // SMS is not held by email's throttles.
        assert!(p.slot(Channel::Sms, Some(100)).await.expect("counted"));
        p.accepted(Channel::Email);
    }

    #[tokio::test(start_paused = true)]
    async fn unpaced_channels_never_wait() {
        let p = Pacing::with_clock(Arc::new(Counts::default()), PaceClock::tokio_from(start()));
        for _ in 0..1000 {
            assert!(p.slot(Channel::Sms, None).await.expect("no count"));
        }
        assert_eq!(p.now(), start());
        assert!(
            Pacing::off()
                .slot(Channel::Sms, Some(1))
                .await
                .expect("off")
        );
    }
}
