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
    #[error(
        "privacy notice address must be https://… without spaces, at most 200 characters: {0:?}"
    )]
    PrivacyUrl(String),
    #[error(
        "case link template must be https://… with {{case_id}} in it, without spaces, at most 300 characters: {0:?}"
    )]
    CaseLinkTemplate(String),
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
    /// The agency's privacy notice (`PRIVACY_URL`), linked from every survey page
    /// and email beside the line naming it as the data controller.
    privacy_url: Option<String>,
    /// The agency's case system, `https://cms.example/cases/{case_id}`
    /// (`CASE_LINK_TEMPLATE`): a feedback item's case reference becomes a link.
    case_link_template: Option<String>,
    /// Days closed feedback items are kept (`RETENTION_DAYS`); open items lose
    /// their comment text at twice this (see `app::retention`).
    retention_days: u32,
    pub policy: SurveyPolicy,
}

/// `RETENTION_DAYS` when not set: 400 days, a year of figures and a margin.
pub const DEFAULT_RETENTION_DAYS: u32 = 400;

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
            privacy_url: None,
            case_link_template: None,
            retention_days: DEFAULT_RETENTION_DAYS,
            policy,
        })
    }

    /// The retention period in days (at least 1).
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days.max(1);
        self
    }

    /// The period closed feedback items are kept.
    pub fn retention(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_hours(24 * i64::from(self.retention_days))
    }

    /// Links each feedback item's case to the agency's case system: an `https://`
    /// address with `{case_id}` in it, at most 300 characters; empty: no links.
    pub fn with_case_link_template(mut self, template: &str) -> Result<Self, ConfigError> {
        let t = template.trim();
        if t.is_empty() {
            self.case_link_template = None;
            return Ok(self);
        }
        let ok = t.len() <= 300
            && t.contains("{case_id}")
            && t.strip_prefix("https://")
                .is_some_and(|r| !r.starts_with('/'))
            && !t.contains(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>'));
        if !ok {
            return Err(ConfigError::CaseLinkTemplate(t.to_string()));
        }
        self.case_link_template = Some(t.to_string());
        Ok(self)
    }

    /// The case system's page of a case, when a template is set.
    pub fn case_link(&self, case: &crate::domain::ids::CaseId) -> Option<String> {
        // Case ids are letters, digits and `-_.:`, safe in a URL as they are.
        self.case_link_template
            .as_ref()
            .map(|t| t.replace("{case_id}", case.as_str()))
    }

    /// Links the agency's privacy notice (an `https://` address, at most 200
    /// characters); empty: none.
    pub fn with_privacy_url(mut self, url: &str) -> Result<Self, ConfigError> {
        let url = url.trim();
        if url.is_empty() {
            self.privacy_url = None;
            return Ok(self);
        }
        let ok = url.len() <= 200
            && url
                .strip_prefix("https://")
                .is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
            && !url.contains(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>'));
        if !ok {
            return Err(ConfigError::PrivacyUrl(url.to_string()));
        }
        self.privacy_url = Some(url.to_string());
        Ok(self)
    }

    pub fn privacy_url(&self) -> Option<&str> {
        self.privacy_url.as_deref()
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
    fn a_case_link_template_names_the_case() {
        let c = config("https://x.se", "Nordkredit")
            .and_then(|c| c.with_case_link_template("https://cms.example/cases/{case_id}?tab=log"))
            .expect("valid");
        let case = crate::domain::ids::CaseId::parse("C-100045").expect("an id");
        assert_eq!(
            c.case_link(&case).as_deref(),
            Some("https://cms.example/cases/C-100045?tab=log")
        );
        for bad in [
            "http://cms.example/{case_id}",
            "https://cms.example/cases",
            "https://x/{case_id} y",
        ] {
            assert!(
                config("https://x.se", "Nordkredit")
                    .and_then(|c| c.with_case_link_template(bad))
                    .is_err(),
                "{bad}"
            );
        }
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

/// Problems with a policy file or override.
#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("policy is not valid TOML for the policy fields: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("environment variable {name} does not hold a TOML value: {reason}")]
    Env { name: String, reason: String },
}

/// Prefix of environment variables that override one policy field each, e.g.
/// `KUNDPULS_POLICY_DEBTOR_FATIGUE_DAYS=21` or
/// `KUNDPULS_POLICY_SURVEYED_STEPS='["call_completed"]'`.
pub const POLICY_ENV_PREFIX: &str = "KUNDPULS_POLICY_";

/// The default policy as the TOML that [`load_policy`] reads.
pub fn policy_defaults_toml() -> String {
    let header = "# Kundpuls survey policy. Every field is optional; a missing one keeps its default.\n\
                  # Times are local to the recipient's country. Override single fields with\n\
                  # KUNDPULS_POLICY_<FIELD> environment variables (TOML values).\n\n";
    format!(
        "{header}{}",
        toml::to_string_pretty(&SurveyPolicy::default()).unwrap_or_default()
    )
}

/// The policy from optional TOML text, then overrides from `env` pairs whose name
/// starts with [`POLICY_ENV_PREFIX`].
pub fn load_policy(
    text: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<SurveyPolicy, PolicyError> {
    let mut table: toml::Table = match text {
        Some(t) => toml::from_str(t)?,
        None => toml::Table::new(),
    };
    for (name, raw) in env {
        let Some(field) = name.strip_prefix(POLICY_ENV_PREFIX) else {
            continue;
        };
        let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        table.insert(field.to_ascii_lowercase(), value);
    }
    Ok(toml::from_str(&toml::to_string(&table).map_err(|e| {
        PolicyError::Env {
            name: POLICY_ENV_PREFIX.to_string(),
            reason: e.to_string(),
        }
    })?)?)
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn the_printed_defaults_read_back_as_the_defaults() {
        let text = policy_defaults_toml();
        assert_eq!(
            load_policy(Some(&text), []).expect("parses"),
            SurveyPolicy::default()
        );
    }

    #[test]
    fn a_file_and_env_overrides_change_only_what_they_name() {
        let file = "debtor_fatigue_days = 30\n[country_windows.PL.weekdays]\nstart = \"10:00:00\"\nend = \"18:00:00\"\n";
        let env = [
            (
                "KUNDPULS_POLICY_CSAT_LINK_DAYS".to_string(),
                "3".to_string(),
            ),
            (
                "KUNDPULS_POLICY_SURVEYED_STEPS".to_string(),
                "[\"call_completed\"]".to_string(),
            ),
            ("UNRELATED".to_string(), "x".to_string()),
        ];
        let p = load_policy(Some(file), env).expect("parses");
        assert_eq!(p.debtor_fatigue_days, 30);
        assert_eq!(p.csat_link_days, 3);
        assert_eq!(p.surveyed_steps.len(), 1);
        assert_eq!(p.nps_link_days, SurveyPolicy::default().nps_link_days);
        assert_eq!(p.country_windows.len(), 1);
    }

    #[test]
    fn a_typo_in_the_policy_is_an_error() {
        assert!(load_policy(Some("debtor_fatigue_days = \"two weeks\""), []).is_err());
        assert!(load_policy(Some("debtor_fatgue_days = 3"), []).is_err());
    }
}
