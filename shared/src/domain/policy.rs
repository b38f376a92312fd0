//! The survey policy: which steps are surveyed, how often a person may be asked, when
//! a message may be sent in the recipient's own local time, and how long links live.
//! Every field has a documented default; a deployment overrides what it needs.

use super::locale::Country;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan, Zoned};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Local opening hours for sending: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: Time,
    pub end: Time,
}

/// Sending hours over a week; `None` means no sending that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekWindows {
    pub weekdays: Option<Window>,
    pub saturday: Option<Window>,
    pub sunday: Option<Window>,
}

impl Default for WeekWindows {
    /// 09:00–20:00 Monday to Friday, 10:00–16:00 Saturday, never on Sunday.
    fn default() -> Self {
        Self {
            weekdays: Some(Window {
                start: Time::constant(9, 0, 0, 0),
                end: Time::constant(20, 0, 0, 0),
            }),
            saturday: Some(Window {
                start: Time::constant(10, 0, 0, 0),
                end: Time::constant(16, 0, 0, 0),
            }),
            sunday: None,
        }
    }
}

impl WeekWindows {
    /// Every hour of every day: for demos and tests (`--ignore-send-windows`).
    pub fn always() -> Self {
        let all_day = Some(Window {
            start: Time::MIN,
            end: Time::MAX,
        });
        Self {
            weekdays: all_day,
            saturday: all_day,
            sunday: all_day,
        }
    }

    fn for_day(&self, day: Weekday) -> Option<Window> {
        match day {
            Weekday::Saturday => self.saturday,
            Weekday::Sunday => self.sunday,
            _ => self.weekdays,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurveyPolicy {
    /// Steps that trigger a debtor CSAT survey. Default: reminder_sent,
    /// call_completed, payment_plan_agreed, case_closed.
    pub surveyed_steps: BTreeSet<String>,
    /// No second survey to a debtor within this many days, across all steps (14).
    pub debtor_fatigue_days: u32,
    /// No second NPS survey to a creditor contact within this many days (90).
    pub creditor_fatigue_days: u32,
    /// How long a CSAT link stays open (7 days).
    pub csat_link_days: u32,
    /// How long an NPS link stays open (30 days).
    pub nps_link_days: u32,
    /// The one NPS reminder goes this many days after the survey (5).
    pub nps_reminder_after_days: u32,
    /// A case step older than this is never surveyed (`stale_event`), at its first
    /// decision and at every later send attempt (72).
    pub max_event_age_hours: u32,
    /// Channel calls per survey at most, the first included (3). Only a call the
    /// provider certainly did not accept is tried again.
    pub max_send_attempts: u32,
    /// Minutes to wait before the 2nd, 3rd… attempt; the last value repeats
    /// ([1, 5, 30]).
    pub send_retry_minutes: Vec<u32>,
    /// How long a claim to send a survey holds (300 s). Longer than any function's
    /// timeout: a claim that runs out means its holder died, and the send's outcome
    /// is unknown.
    pub send_lease_seconds: u32,
    /// SMS per second for the whole account, shared by every sending function (the
    /// SNS account's SMS rate; unset: not paced, as for the local outbox). See
    /// README, "Capacity plan".
    pub sms_per_second: Option<u32>,
    /// Emails per second for the whole account (the SES account's maximum send
    /// rate, 14 on a new production account; unset: not paced).
    pub email_per_second: Option<u32>,
    /// Used when an event names no country (SE).
    pub default_country: Country,
    /// Sending hours everywhere, unless `country_windows` says otherwise.
    pub send_windows: WeekWindows,
    pub country_windows: BTreeMap<Country, WeekWindows>,
    /// Business days to handle a high-priority feedback item (1).
    pub feedback_due_days_high: u32,
    /// Business days to handle a normal feedback item (5).
    pub feedback_due_days_normal: u32,
    /// IANA time zone per country; a country not listed here falls back to
    /// `Europe/Stockholm`. Defaults cover the Nordics, Poland, the UK and Ireland.
    pub time_zones: BTreeMap<Country, String>,
}

/// An event dated more than this in the future is refused as invalid.
pub const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(10);

impl Default for SurveyPolicy {
    fn default() -> Self {
        let country = |c: &str| Country::parse(c).expect("built-in country codes are valid");
        Self {
            surveyed_steps: [
                "reminder_sent",
                "call_completed",
                "payment_plan_agreed",
                "case_closed",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            debtor_fatigue_days: 14,
            creditor_fatigue_days: 90,
            csat_link_days: 7,
            nps_link_days: 30,
            nps_reminder_after_days: 5,
            feedback_due_days_high: 1,
            feedback_due_days_normal: 5,
            default_country: country("SE"),
            send_windows: WeekWindows::default(),
            country_windows: BTreeMap::new(),
            time_zones: [
                ("SE", "Europe/Stockholm"),
                ("NO", "Europe/Oslo"),
                ("DK", "Europe/Copenhagen"),
                ("FI", "Europe/Helsinki"),
                ("PL", "Europe/Warsaw"),
                ("GB", "Europe/London"),
                ("IE", "Europe/Dublin"),
            ]
            .into_iter()
            .map(|(c, tz)| (country(c), tz.to_string()))
            .collect(),
            max_event_age_hours: 72,
            max_send_attempts: 3,
            send_retry_minutes: vec![1, 5, 30],
            send_lease_seconds: 300,
            sms_per_second: None,
            email_per_second: None,
        }
    }
}

const FALLBACK_TZ: &str = "Europe/Stockholm";

impl SurveyPolicy {
    pub fn time_zone(&self, country: Country) -> TimeZone {
        let name = self
            .time_zones
            .get(&country)
            .map_or(FALLBACK_TZ, String::as_str);
        TimeZone::get(name)
            .or_else(|_| TimeZone::get(FALLBACK_TZ))
            .unwrap_or(TimeZone::UTC)
    }

    pub fn days(n: u32) -> SignedDuration {
        SignedDuration::from_hours(24 * i64::from(n))
    }

    /// Whether a step that happened at `occurred_at` is too old to survey at `now`.
    pub fn is_stale(&self, occurred_at: Timestamp, now: Timestamp) -> bool {
        now.duration_since(occurred_at)
            > SignedDuration::from_hours(i64::from(self.max_event_age_hours))
    }

    /// How long a send claim holds.
    pub fn send_lease(&self) -> SignedDuration {
        SignedDuration::from_secs(i64::from(self.send_lease_seconds.max(1)))
    }

    /// The wait before the next attempt, after `attempts` calls that were not sent.
    pub fn retry_delay(&self, attempts: u32) -> SignedDuration {
        let i = (attempts.max(1) - 1) as usize;
        let minutes = self
            .send_retry_minutes
            .get(i)
            .or(self.send_retry_minutes.last())
            .copied()
            .unwrap_or(1);
        SignedDuration::from_mins(i64::from(minutes.max(1)))
    }

    /// The first moment at or after `now` inside the country's sending hours, in its
    /// local time (daylight-saving changes included). `None` if the week has no
    /// sending hours at all.
    pub fn next_send_time(&self, now: Timestamp, country: Country) -> Option<Timestamp> {
        let windows = self
            .country_windows
            .get(&country)
            .unwrap_or(&self.send_windows);
        let local: Zoned = now.to_zoned(self.time_zone(country));
        for offset in 0..8 {
            let date = local.date().checked_add(offset.days()).ok()?;
            let Some(window) = windows.for_day(date.weekday()) else {
                continue;
            };
            let start = date
                .to_datetime(window.start)
                .to_zoned(local.time_zone().clone())
                .ok()?;
            let end = date
                .to_datetime(window.end)
                .to_zoned(local.time_zone().clone())
                .ok()?;
            if offset == 0 && local >= start && local < end {
                return Some(now);
            }
            if local < start {
                return Some(start.timestamp());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    fn se() -> Country {
        Country::parse("SE").expect("valid")
    }

    #[test]
    fn inside_the_window_sends_at_once() {
        // Monday 2026-11-23 10:00 in Stockholm (UTC+1).
        let now = ts("2026-11-23T09:00:00Z");
        assert_eq!(SurveyPolicy::default().next_send_time(now, se()), Some(now));
    }

    #[test]
    fn after_hours_on_friday_waits_for_saturday_morning() {
        // Friday 2026-11-27 21:00 local → Saturday 10:00 local = 09:00 UTC.
        let now = ts("2026-11-27T20:00:00Z");
        assert_eq!(
            SurveyPolicy::default().next_send_time(now, se()),
            Some(ts("2026-11-28T09:00:00Z"))
        );
    }

    #[test]
    fn saturday_evening_waits_over_sunday_until_monday() {
        // Saturday 2026-11-28 17:00 local → Monday 09:00 local = 08:00 UTC.
        let now = ts("2026-11-28T16:00:00Z");
        assert_eq!(
            SurveyPolicy::default().next_send_time(now, se()),
            Some(ts("2026-11-30T08:00:00Z"))
        );
    }

    #[test]
    fn the_window_follows_local_time_across_the_daylight_saving_change() {
        // Clocks go forward in Sweden on Sunday 2026-03-29. Saturday 2026-03-28 at
        // 18:00 local (UTC+1) waits for Monday 09:00 local, now UTC+2 = 07:00 UTC.
        let now = ts("2026-03-28T17:00:00Z");
        assert_eq!(
            SurveyPolicy::default().next_send_time(now, se()),
            Some(ts("2026-03-30T07:00:00Z"))
        );
        // And in autumn (back on 2026-10-25): Saturday 2026-10-24 18:00 local (UTC+2)
        // waits for Monday 09:00 local, now UTC+1 = 08:00 UTC.
        let now = ts("2026-10-24T16:00:00Z");
        assert_eq!(
            SurveyPolicy::default().next_send_time(now, se()),
            Some(ts("2026-10-26T08:00:00Z"))
        );
    }

    #[test]
    fn each_country_uses_its_own_clock_and_may_have_its_own_hours() {
        // 08:30 UTC on a Monday is 09:30 in Stockholm but 10:30 in Helsinki.
        let mut policy = SurveyPolicy::default();
        let fi = Country::parse("FI").expect("valid");
        policy.country_windows.insert(
            fi,
            WeekWindows {
                weekdays: Some(Window {
                    start: Time::constant(11, 0, 0, 0),
                    end: Time::constant(18, 0, 0, 0),
                }),
                saturday: None,
                sunday: None,
            },
        );
        let now = ts("2026-11-23T08:30:00Z");
        assert_eq!(policy.next_send_time(now, se()), Some(now));
        assert_eq!(
            policy.next_send_time(now, fi),
            Some(ts("2026-11-23T09:00:00Z"))
        );
    }

    #[test]
    fn a_week_without_hours_never_sends() {
        let policy = SurveyPolicy {
            send_windows: WeekWindows {
                weekdays: None,
                saturday: None,
                sunday: None,
            },
            ..SurveyPolicy::default()
        };
        assert_eq!(
            policy.next_send_time(ts("2026-11-23T09:00:00Z"), se()),
            None
        );
    }
}
