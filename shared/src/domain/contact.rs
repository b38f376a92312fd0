//! Contact details and the keyed hash that stands in for them wherever a decision
//! (opt-out, fatigue) must outlive the details themselves.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use validator::ValidateEmail;

/// An E.164 phone number (`+46701234567`). Never logged: `Debug` masks it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `+` and 7–15 digits, the first not zero; spaces and dashes are removed.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let digits = compact
            .strip_prefix('+')
            .ok_or("must start with + and the country code (E.164)")?;
        let ok = (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(compact))
        } else {
            Err("must be + followed by 7 to 15 digits (E.164)".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneNumber(***)")
    }
}

string_conversions!(PhoneNumber);
string_schema!(
    PhoneNumber,
    PHONE_PATTERN,
    "E.164: `+`, the country code and the number, 7–15 digits; spaces, dashes and parentheses are ignored."
);

/// What [`PhoneNumber::parse`] accepts, for the API's schema.
pub const PHONE_PATTERN: &str = r"^[ ()-]*\+[ ()-]*[1-9]([ ()-]*[0-9]){6,14}[ ()-]*$";

/// An email address, trimmed and validated. Never logged: `Debug` masks it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.len() <= 254 && trimmed.validate_email() {
            Ok(Self(trimmed.to_string()))
        } else {
            Err("must be a valid email address".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(***)")
    }
}

string_conversions!(Email);
string_schema!(Email, r"^[^@\s]+@[^@\s]+$", "An email address.");

/// Where a survey goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", content = "address", rename_all = "lowercase")]
pub enum Recipient {
    Sms(PhoneNumber),
    Email(Email),
}

/// A keyed hash (HMAC-SHA-256) of a normalised phone number or email address.
/// Opt-outs and fatigue are kept under this key, so they survive the deletion of
/// the contact details and reveal nothing without the secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContactKey(String);

impl ContactKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a key read back from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for ContactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Derives [`ContactKey`]s with a deployment secret.
#[derive(Clone)]
pub struct ContactKeyer {
    secret: Vec<u8>,
}

impl ContactKeyer {
    /// The secret must hold at least 16 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 16 {
            return Err("contact-key secret must be at least 16 bytes".into());
        }
        Ok(Self {
            secret: secret.to_vec(),
        })
    }

    pub fn key_for(&self, recipient: &Recipient) -> ContactKey {
        let normalised = match recipient {
            Recipient::Sms(p) => format!("sms:{}", p.as_str()),
            Recipient::Email(e) => format!("email:{}", e.as_str().to_lowercase()),
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .expect("HMAC accepts keys of any length");
        mac.update(normalised.as_bytes());
        ContactKey(hex(&mac.finalize().into_bytes()))
    }
}

impl ContactKeyer {
    /// The key surveys of one person (a debtor id or a creditor contact id) are
    /// indexed under, so an erasure request finds them without the id being stored.
    pub fn person_key(&self, person_id: &str) -> ContactKey {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .expect("HMAC accepts keys of any length");
        mac.update(format!("person:{}", person_id.trim()).as_bytes());
        ContactKey(hex(&mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for ContactKeyer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactKeyer(***)")
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(PhoneNumber::parse("+46701234567").is_ok());
        assert_eq!(
            PhoneNumber::parse("+46 70-123 45 67").map(|p| p.as_str().to_string()),
            Ok("+46701234567".into())
        );
        assert!(PhoneNumber::parse("0701234567").is_err());
        assert!(PhoneNumber::parse("+0701234567").is_err());
        assert!(PhoneNumber::parse("+4670abc").is_err());
        assert!(PhoneNumber::parse("+1234567890123456").is_err());
    }

    #[test]
    fn contact_details_never_show_in_debug_output() {
        let p = PhoneNumber::parse("+46701234567").expect("valid");
        let e = Email::parse("anna@example.se").expect("valid");
        assert!(!format!("{p:?}{e:?}").contains("4670"));
        assert!(!format!("{e:?}").contains("anna"));
    }

    #[test]
    fn emails_are_validated() {
        assert!(Email::parse(" anna@example.se ").is_ok());
        assert!(Email::parse("not-an-email").is_err());
    }

    #[test]
    fn contact_keys_are_stable_case_insensitive_for_email_and_secret_dependent() {
        let a = ContactKeyer::new(b"0123456789abcdef-secret").expect("long enough");
        let b = ContactKeyer::new(b"another-secret-0123456789").expect("long enough");
        let e1 = Recipient::Email(Email::parse("Anna@Example.se").expect("valid"));
        let e2 = Recipient::Email(Email::parse("anna@example.se").expect("valid"));
        assert_eq!(a.key_for(&e1), a.key_for(&e2));
        assert_ne!(a.key_for(&e1), b.key_for(&e1));
        assert_eq!(a.key_for(&e1).as_str().len(), 64);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(ContactKeyer::new(b"short").is_err());
    }
}
