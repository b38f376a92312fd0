//! Survey tokens: 128 random bits from the operating system's CSPRNG, URL-safe in
//! links, and only their SHA-256 hash is ever stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

const TOKEN_BYTES: usize = 16;
/// Length of the URL form: 16 bytes in unpadded base64url.
pub const TOKEN_TEXT_LEN: usize = 22;

/// The secret in a survey link. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SurveyToken([u8; TOKEN_BYTES]);

impl SurveyToken {
    /// Draws a fresh token from the OS random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        Self(bytes)
    }

    /// Parses the URL form; anything but 22 base64url characters is refused.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != TOKEN_TEXT_LEN {
            return None;
        }
        let decoded = URL_SAFE_NO_PAD.decode(text).ok()?;
        let bytes: [u8; TOKEN_BYTES] = decoded.try_into().ok()?;
        Some(Self(bytes))
    }

    /// The text that goes into a link.
    pub fn expose(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(super::contact::hex(&Sha256::digest(self.0)))
    }
}

impl fmt::Debug for SurveyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SurveyToken(***)")
    }
}

/// Hex SHA-256 of a token: what the stores keep and look surveys up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_their_url_form() {
        let t = SurveyToken::generate();
        let text = t.expose();
        assert_eq!(text.len(), TOKEN_TEXT_LEN);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(SurveyToken::parse(&text), Some(t.clone()));
        assert_eq!(SurveyToken::parse(&text).map(|t| t.hash()), Some(t.hash()));
    }

    #[test]
    fn two_tokens_differ() {
        assert_ne!(SurveyToken::generate(), SurveyToken::generate());
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert!(SurveyToken::parse("short").is_none());
        assert!(SurveyToken::parse("!!!!!!!!!!!!!!!!!!!!!!").is_none());
        assert!(SurveyToken::parse(&"A".repeat(23)).is_none());
    }

    #[test]
    fn debug_output_hides_the_token() {
        let t = SurveyToken::generate();
        assert!(!format!("{t:?}").contains(&t.expose()));
    }
}
