//! Creditor contacts: the people at the agency's clients who get the relationship
//! NPS survey. Same columns in JSON and CSV:
//! `client_id, contact_id, email, name, language, country, industry,
//! account_manager, active`.

use super::case_step::Checker;
use super::contact::Email;
use super::error::{FieldError, InvalidInput};
use super::ids::{ClientId, ContactId, TeamId};
use super::locale::{Country, Language};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use validator::Validate;

#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate, utoipa::ToSchema)]
pub struct CreditorContactInput {
    #[validate(required(message = "is required"))]
    pub client_id: Option<String>,
    #[validate(required(message = "is required"))]
    pub contact_id: Option<String>,
    #[validate(required(message = "is required"))]
    pub email: Option<String>,
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub name: Option<String>,
    pub language: Option<String>,
    #[validate(required(message = "is required"))]
    pub industry: Option<String>,
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub account_manager: Option<String>,
    /// Where replies to the NPS email go (optional).
    pub account_manager_email: Option<String>,
    /// ISO 3166-1 alpha-2 (`SE`, `FI`): whose office hours the email goes out in.
    pub country: Option<String>,
    /// `true` (or empty) keeps the contact surveyed; `false` means they left.
    #[serde(default, deserialize_with = "text_or_bool")]
    pub active: Option<String>,
}

/// A column that JSON may send as a boolean and CSV sends as text.
fn text_or_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrBool {
        Text(String),
        Bool(bool),
    }
    Ok(Option::<TextOrBool>::deserialize(d)?.map(|v| match v {
        TextOrBool::Text(s) => s,
        TextOrBool::Bool(b) => b.to_string(),
    }))
}

fn parse_active(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

/// A checked creditor contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditorContact {
    pub client_id: ClientId,
    pub contact_id: ContactId,
    pub email: Email,
    pub name: String,
    pub language: Language,
    /// The industry team that serves this client.
    pub industry: TeamId,
    pub account_manager: String,
    /// Replies to the NPS email go here when set.
    #[serde(default)]
    pub account_manager_email: Option<Email>,
    /// Where the contact works; `None` falls back to the policy's default country.
    #[serde(default)]
    pub country: Option<Country>,
    /// A contact who left the client gets no more surveys or reminders.
    #[serde(default = "active_by_default")]
    pub active: bool,
    /// Keyed hash of the contact id (set on import), so an erasure request finds
    /// the record without the id being searched for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<super::contact::ContactKey>,
}

fn active_by_default() -> bool {
    true
}

impl CreditorContact {
    pub fn parse(input: CreditorContactInput) -> Result<Self, InvalidInput> {
        let mut errors: Vec<FieldError> = match input.validate() {
            Ok(()) => Vec::new(),
            Err(e) => InvalidInput::from_validator(&e).0,
        };
        let mut check = Checker::default();
        let client_id = check.field("client_id", input.client_id.as_deref(), ClientId::parse);
        let contact_id = check.field("contact_id", input.contact_id.as_deref(), ContactId::parse);
        let email = check.field("email", input.email.as_deref(), Email::parse);
        let industry = check.field("industry", input.industry.as_deref(), TeamId::parse);
        let country = match input.country.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            given => check.field("country", given, Country::parse).map(Some),
        };
        let account_manager_email = match input.account_manager_email.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            given => check
                .field("account_manager_email", given, Email::parse)
                .map(Some),
        };
        let active = check.field(
            "active",
            Some(input.active.as_deref().unwrap_or_default()),
            parse_active,
        );
        for e in check.errors {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
        }
        match (
            client_id,
            contact_id,
            email,
            industry,
            country,
            active,
            account_manager_email,
        ) {
            (
                Some(client_id),
                Some(contact_id),
                Some(email),
                Some(industry),
                Some(country),
                Some(active),
                Some(account_manager_email),
            ) if errors.is_empty() => Ok(Self {
                client_id,
                contact_id,
                email,
                name: input.name.unwrap_or_default().trim().to_string(),
                language: Language::or_english(input.language.as_deref()),
                industry,
                account_manager: input.account_manager.unwrap_or_default().trim().to_string(),
                account_manager_email,
                country,
                active,
                person: None,
            }),
            _ => {
                errors.sort_by(|a, b| a.field.cmp(&b.field));
                Err(InvalidInput(errors))
            }
        }
    }

    /// The month (1–12) of this contact's yearly NPS survey: a stable hash of its
    /// identity spreads the contacts evenly over the year.
    pub fn wave_month(&self) -> u8 {
        let digest =
            Sha256::digest(format!("{}\u{0}{}", self.client_id, self.contact_id).as_bytes());
        let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        (n % 12) as u8 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(contact: &str) -> CreditorContactInput {
        CreditorContactInput {
            client_id: Some("acme-energy".into()),
            contact_id: Some(contact.into()),
            email: Some("cfo@acme.example".into()),
            name: Some("Karin".into()),
            language: Some("sv".into()),
            industry: Some("energy".into()),
            account_manager: Some("Anna".into()),
            ..CreditorContactInput::default()
        }
    }

    #[test]
    fn a_complete_contact_parses() {
        let c = CreditorContact::parse(input("c-1")).expect("valid");
        assert_eq!(c.language, Language::Sv);
        assert!((1..=12).contains(&c.wave_month()));
    }

    #[test]
    fn a_bad_email_and_missing_industry_are_both_named() {
        let mut i = input("c-1");
        i.email = Some("nope".into());
        i.industry = None;
        let err = CreditorContact::parse(i).expect_err("invalid");
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["email", "industry"]);
    }

    #[test]
    fn country_and_active_are_optional_and_checked() {
        let c = CreditorContact::parse(input("c-1")).expect("valid");
        assert_eq!((c.country, c.active), (None, true));
        let mut i = input("c-1");
        i.country = Some("fi".into());
        i.active = Some("false".into());
        let c = CreditorContact::parse(i).expect("valid");
        assert_eq!(c.country.map(|c| c.to_string()), Some("FI".into()));
        assert!(!c.active);
        let mut i = input("c-1");
        i.country = Some("Finland".into());
        i.active = Some("maybe".into());
        let err = CreditorContact::parse(i).expect_err("invalid");
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["active", "country"]);
        let json: CreditorContactInput =
            serde_json::from_str(r#"{"active": false, "country": "PL"}"#).expect("reads");
        assert_eq!(json.active.as_deref(), Some("false"));
    }

    #[test]
    fn wave_months_spread_contacts_over_the_year() {
        let mut per_month = [0u32; 12];
        for i in 0..1200 {
            let c = CreditorContact::parse(input(&format!("c-{i}"))).expect("valid");
            per_month[usize::from(c.wave_month() - 1)] += 1;
        }
        // 100 expected per month; a fair hash stays well inside ±40.
        assert!(
            per_month.iter().all(|&n| (60..=140).contains(&n)),
            "{per_month:?}"
        );
    }
}
