//! Creditor contacts: the people at the agency's clients who get the relationship
//! NPS survey. Same columns in JSON and CSV:
//! `client_id, contact_id, email, name, language, industry, account_manager`.

use super::case_step::Checker;
use super::contact::Email;
use super::error::{FieldError, InvalidInput};
use super::ids::{ClientId, ContactId, TeamId};
use super::locale::Language;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use validator::Validate;

#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate)]
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
        for e in check.errors {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
        }
        match (client_id, contact_id, email, industry) {
            (Some(client_id), Some(contact_id), Some(email), Some(industry))
                if errors.is_empty() =>
            {
                Ok(Self {
                    client_id,
                    contact_id,
                    email,
                    name: input.name.unwrap_or_default().trim().to_string(),
                    language: Language::or_english(input.language.as_deref()),
                    industry,
                    account_manager: input.account_manager.unwrap_or_default().trim().to_string(),
                })
            }
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
