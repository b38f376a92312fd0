//! Identifiers. Outside identifiers (client, case, handler…) are checked for shape at
//! the edge; our own are derived so that retries land on the same record.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

const MAX_IDENT: usize = 128;

fn check_ident(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > MAX_IDENT {
        return Err(format!("must be 1–{MAX_IDENT} characters"));
    }
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    {
        Ok(())
    } else {
        Err("may only contain letters, digits, '-', '_', '.' and ':'".into())
    }
}

macro_rules! ident {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, String> {
                check_ident(s).map(|()| Self(s.to_string()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                check_ident(&s).map(|()| Self(s))
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        string_schema!(
            $name,
            IDENT_PATTERN,
            "An identifier: 1–128 letters, digits, `-`, `_`, `.` or `:`."
        );
    };
}

/// What [`check_ident`] accepts, for the API's schema.
pub const IDENT_PATTERN: &str = "^[A-Za-z0-9._:-]{1,128}$";

ident!(
    /// The case-management system's event id: the idempotency key of a case step.
    EventId
);
ident!(
    /// The agency's client (the creditor).
    ClientId
);
ident!(
    /// A creditor contact person, unique within a client.
    ContactId
);
ident!(CaseId);
ident!(DebtorId);
ident!(HandlerId);
ident!(
    /// An industry team (energy, telecom…); team leads are scoped by it.
    TeamId
);
ident!(
    /// The case system's label of the debtor's situation (`first_time_late`).
    SegmentId
);
ident!(
    /// A survey: derived from its idempotency key, so a replayed request finds it.
    SurveyId
);
ident!(
    /// A feedback item: derived from the survey it came from, one per answer.
    FeedbackId
);
ident!(ImprovementId);

impl SurveyId {
    /// `s-` and 32 hex digits of SHA-256 over the idempotency key.
    pub fn for_idempotency_key(key: &str) -> Self {
        let digest = Sha256::digest(format!("survey\u{0}{key}").as_bytes());
        Self(format!("s-{}", super::contact::hex(&digest[..16])))
    }
}

impl FeedbackId {
    /// One feedback item per answered survey.
    pub fn for_survey(survey: &SurveyId) -> Self {
        Self(format!("fb-{}", survey.as_str().trim_start_matches("s-")))
    }
}

impl ImprovementId {
    pub fn generate() -> Self {
        Self(format!("imp-{}", uuid::Uuid::new_v4().simple()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survey_ids_are_derived_from_the_idempotency_key() {
        let a = SurveyId::for_idempotency_key("csat:evt-1");
        assert_eq!(a, SurveyId::for_idempotency_key("csat:evt-1"));
        assert_ne!(a, SurveyId::for_idempotency_key("csat:evt-2"));
        assert_eq!(a.as_str().len(), 34);
    }

    #[test]
    fn identifiers_reject_odd_characters_and_empties() {
        assert!(ClientId::parse("acme-energy").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("acme energy").is_err());
        assert!(ClientId::parse("a#b").is_err());
        assert!(ClientId::parse(&"x".repeat(129)).is_err());
    }
}
