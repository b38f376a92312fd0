//! The survey configuration: where links point, who the messages come from, and the
//! policy. Checked once at start-up so that every message it produces is valid.

use crate::domain::messages::{MAX_LINK_LEN, MAX_SENDER_LEN};
use crate::domain::policy::SurveyPolicy;
use crate::domain::token::{SurveyToken, TOKEN_TEXT_LEN};
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "public base URL must start with https:// (or http:// for 127.0.0.1/localhost) and have no path, query or trailing slash: {0}"
    )]
    BaseUrl(String),
    #[error(
        "public base URL is {len} characters; at most {max} keep survey links short enough for one SMS"
    )]
    BaseUrlTooLong { len: usize, max: usize },
    #[error(
        "SMS sender name must be 1–{MAX_SENDER_LEN} letters, digits or spaces with at least one letter: {0:?}"
    )]
    SenderName(String),
    #[error("agency name must be 1–80 characters")]
    AgencyName,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyConfig {
    /// `https://survey.example.se`: links are `<base>/s/<token>`.
    base_url: String,
    /// The alphanumeric SMS sender id and the name the SMS starts with.
    sender_name: String,
    /// The agency's name in emails.
    agency_name: String,
    pub policy: SurveyPolicy,
}

/// The longest base URL: `<base>/s/<22-character token>` must fit [`MAX_LINK_LEN`].
pub const MAX_BASE_URL_LEN: usize = MAX_LINK_LEN - 3 - TOKEN_TEXT_LEN;

impl SurveyConfig {
    pub fn new(
        base_url: &str,
        sender_name: &str,
        agency_name: &str,
        policy: SurveyPolicy,
    ) -> Result<Self, ConfigError> {
        let base = base_url.trim();
        let rest = base
            .strip_prefix("https://")
            .or_else(|| {
                base.strip_prefix("http://")
                    .filter(|r| r.starts_with("127.0.0.1") || r.starts_with("localhost"))
            })
            .ok_or_else(|| ConfigError::BaseUrl(base.to_string()))?;
        if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
            return Err(ConfigError::BaseUrl(base.to_string()));
        }
        if base.len() > MAX_BASE_URL_LEN {
            return Err(ConfigError::BaseUrlTooLong {
                len: base.len(),
                max: MAX_BASE_URL_LEN,
            });
        }
        let sender = sender_name.trim();
        let sender_ok = !sender.is_empty()
            && sender.len() <= MAX_SENDER_LEN
            && sender
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ')
            && sender.chars().any(|c| c.is_ascii_alphabetic());
        if !sender_ok {
            return Err(ConfigError::SenderName(sender.to_string()));
        }
        let agency = agency_name.trim();
        if agency.is_empty() || agency.chars().count() > 80 {
            return Err(ConfigError::AgencyName);
        }
        Ok(Self {
            base_url: base.to_string(),
            sender_name: sender.to_string(),
            agency_name: agency.to_string(),
            policy,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn sender_name(&self) -> &str {
        &self.sender_name
    }

    pub fn agency_name(&self) -> &str {
        &self.agency_name
    }

    /// The survey link for a token.
    pub fn link(&self, token: &SurveyToken) -> String {
        format!("{}/s/{}", self.base_url, token.expose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base: &str, sender: &str) -> Result<SurveyConfig, ConfigError> {
        SurveyConfig::new(base, sender, "Nordkredit AB", SurveyPolicy::default())
    }

    #[test]
    fn links_fit_the_sms_budget() {
        let c = config("https://survey.nordkredit.se", "Nordkredit").expect("valid");
        let link = c.link(&SurveyToken::generate());
        assert!(link.starts_with("https://survey.nordkredit.se/s/"));
        assert!(link.len() <= MAX_LINK_LEN);
        let longest = format!("https://{}", "x".repeat(MAX_BASE_URL_LEN - 8));
        assert!(config(&longest, "Nordkredit").is_ok());
        assert_eq!(
            config(&format!("{longest}x"), "Nordkredit"),
            Err(ConfigError::BaseUrlTooLong {
                len: MAX_BASE_URL_LEN + 1,
                max: MAX_BASE_URL_LEN
            })
        );
    }

    #[test]
    fn bad_base_urls_and_sender_names_are_refused() {
        assert!(config("http://survey.example.se", "Nordkredit").is_err());
        assert!(config("http://127.0.0.1:8080", "Nordkredit").is_ok());
        assert!(config("https://x.se/", "Nordkredit").is_err());
        assert!(config("https://x.se", "Nordkredit AB1").is_err());
        assert!(config("https://x.se", "12345").is_err());
        assert!(config("https://x.se", "Nord-kredit").is_err());
    }
}
