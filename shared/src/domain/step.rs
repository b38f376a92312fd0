//! Case steps: what just happened in a collection case.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A step name in snake_case. The five in [`Step::KNOWN`] come out of the box; a
/// case system may send others, which the survey policy may choose to survey.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Step(String);

impl Step {
    pub const REMINDER_SENT: &'static str = "reminder_sent";
    pub const CALL_COMPLETED: &'static str = "call_completed";
    pub const PAYMENT_PLAN_AGREED: &'static str = "payment_plan_agreed";
    pub const PAYMENT_RECEIVED: &'static str = "payment_received";
    pub const CASE_CLOSED: &'static str = "case_closed";
    pub const KNOWN: [&'static str; 5] = [
        Self::REMINDER_SENT,
        Self::CALL_COMPLETED,
        Self::PAYMENT_PLAN_AGREED,
        Self::PAYMENT_RECEIVED,
        Self::CASE_CLOSED,
    ];

    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err("must be snake_case, 1–64 characters (e.g. call_completed)".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Calls are where first-contact resolution is asked.
    pub fn is_call(&self) -> bool {
        self.0 == Self::CALL_COMPLETED
    }
}

string_conversions!(Step);
string_schema!(
    Step,
    "^[a-z][a-z0-9_]{0,63}$",
    "A case step in snake_case: reminder_sent, call_completed, payment_plan_agreed, payment_received, case_closed, or the case system's own."
);

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_steps_parse_and_odd_names_do_not() {
        for s in Step::KNOWN {
            assert!(Step::parse(s).is_ok(), "{s}");
        }
        assert!(Step::parse("Call Completed").is_err());
        assert!(Step::parse("").is_err());
        assert!(Step::parse("9lives").is_err());
    }
}
