//! A client's (creditor's) settings: the name respondents know it by, its SMS
//! sender id, its own NPS and CSAT targets, its brand colour and reply address.
//! Collection agencies work in the creditor's name, so a client with settings has
//! its surveys sent and shown in that name; the agency stays named where the law
//! wants it (the privacy line: it is the data controller).

use super::contact::Email;
use super::error::{FieldError, InvalidInput};
use super::ids::ClientId;
use super::messages::{MAX_SENDER_LEN, money_words, sms};
use serde::{Deserialize, Serialize};

/// The name in an SMS text has this many GSM-7 characters at most: with the longest
/// link and the longest question (fi), a text stays one segment (see `sms` tests).
pub const MAX_SMS_NAME_LEN: usize = 21;
/// A display name has at most this many characters (emails and pages).
pub const MAX_DISPLAY_NAME_LEN: usize = 40;
/// WCAG AA for normal text: the brand colour behind white button text.
pub const MIN_CONTRAST: f64 = 4.5;

/// The body of `PUT /api/v1/clients/{client_id}`: every field optional except
/// `display_name`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSettingsInput {
    /// The name respondents know the client by (1–40 characters), in emails, on the
    /// survey page and, when it is short enough, in the SMS.
    pub display_name: Option<String>,
    /// The SMS sender: 3–11 letters, digits or spaces with at least one letter
    /// (GSM-7), or a number in E.164.
    pub sms_sender: Option<String>,
    /// The client's yearly NPS goal, -100 to 100 (the agency's default is 40).
    pub nps_target: Option<f64>,
    /// The client's debtor-satisfaction goal, 1.0 to 5.0 (default 4.0).
    pub csat_target: Option<f64>,
    /// `#rrggbb` for the survey page's buttons; white text on it must reach a 4.5:1
    /// contrast.
    pub brand_colour: Option<String>,
    /// Where a reply to the NPS email goes, unless the contact's account manager is
    /// set.
    pub reply_to: Option<String>,
}

/// An SMS sender id: alphanumeric, or a phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String)]
pub struct SmsSender(String);

impl SmsSender {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.starts_with('+') {
            return crate::domain::contact::PhoneNumber::parse(s)
                .map(|p| Self(p.as_str().to_string()))
                .map_err(|e| format!("a number sender {e}"));
        }
        let ok = (3..=MAX_SENDER_LEN).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
            && s.chars().any(|c| c.is_ascii_alphabetic());
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(format!(
                "must be 3–{MAX_SENDER_LEN} letters, digits or spaces with at least one letter, or a number in E.164"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An alphanumeric id (not a number): it can name the client in the text too.
    pub fn is_alphanumeric(&self) -> bool {
        !self.0.starts_with('+')
    }
}

impl TryFrom<String> for SmsSender {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<SmsSender> for String {
    fn from(s: SmsSender) -> String {
        s.0
    }
}

/// A client's settings as stored (versioned, like the theme lexicon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClientSettings {
    pub client_id: ClientId,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_sender: Option<SmsSender>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps_target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_colour: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub reply_to: Option<Email>,
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
    pub updated_by: String,
}

impl ClientSettings {
    /// The name the SMS text starts with: the alphanumeric sender id when there is
    /// one (what the phone shows as the sender), else the display name when it fits
    /// the text's budget. `None`: the agency's own.
    pub fn sms_name(&self) -> Option<&str> {
        match &self.sms_sender {
            Some(s) if s.is_alphanumeric() => Some(s.as_str()),
            _ => fits_sms(&self.display_name).then_some(self.display_name.as_str()),
        }
    }
}

/// A name that keeps the text one GSM-7 segment.
fn fits_sms(name: &str) -> bool {
    name.chars().count() <= MAX_SMS_NAME_LEN
        && sms::size(name).encoding == sms::SmsEncoding::Gsm7
        && sms::size(name).units == name.chars().count()
}

impl ClientSettingsInput {
    /// Checks every field and names each one that is wrong.
    pub fn validate(
        self,
        client_id: ClientId,
        version: u64,
        updated_at: jiff::Timestamp,
        updated_by: &str,
    ) -> Result<ClientSettings, InvalidInput> {
        let mut errors = Vec::new();
        let display_name = match self.display_name.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push(FieldError::new("display_name", "is required"));
                String::new()
            }
            Some(n) if n.chars().count() > MAX_DISPLAY_NAME_LEN => {
                errors.push(FieldError::new(
                    "display_name",
                    format!("must be at most {MAX_DISPLAY_NAME_LEN} characters"),
                ));
                String::new()
            }
            Some(n) if n.chars().any(char::is_control) || n.contains(['<', '>']) => {
                errors.push(FieldError::new(
                    "display_name",
                    "may not contain control characters or < >",
                ));
                String::new()
            }
            Some(n) => n.to_string(),
        };
        let sms_sender = match self.sms_sender.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => match SmsSender::parse(s) {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.push(FieldError::new("sms_sender", e));
                    None
                }
            },
        };
        for (field, text) in [
            ("display_name", display_name.as_str()),
            (
                "sms_sender",
                sms_sender.as_ref().map_or("", SmsSender::as_str),
            ),
        ] {
            let found = money_words(text);
            if !found.is_empty() && !text.starts_with('+') {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "names money or debt ({}), which no message to a respondent may",
                        found.join(", ")
                    ),
                ));
            }
        }
        if let Some(t) = self.nps_target
            && !(t.is_finite() && (-100.0..=100.0).contains(&t))
        {
            errors.push(FieldError::new("nps_target", "must be from -100 to 100"));
        }
        if let Some(t) = self.csat_target
            && !(t.is_finite() && (1.0..=5.0).contains(&t))
        {
            errors.push(FieldError::new("csat_target", "must be from 1.0 to 5.0"));
        }
        let brand_colour = match self.brand_colour.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => match parse_colour(c) {
                None => {
                    errors.push(FieldError::new("brand_colour", "must be #rrggbb"));
                    None
                }
                Some(rgb) => {
                    let ratio = contrast_with_white(rgb);
                    if ratio < MIN_CONTRAST {
                        errors.push(FieldError::new(
                            "brand_colour",
                            format!(
                                "white text on it reaches {ratio:.2}:1; buttons need {MIN_CONTRAST}:1 (choose a darker colour)"
                            ),
                        ));
                        None
                    } else {
                        Some(c.to_ascii_lowercase())
                    }
                }
            },
        };
        let reply_to = match self.reply_to.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) => match Email::parse(r) {
                Ok(e) => Some(e),
                Err(e) => {
                    errors.push(FieldError::new("reply_to", e));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(InvalidInput(errors));
        }
        Ok(ClientSettings {
            client_id,
            display_name,
            sms_sender,
            nps_target: self.nps_target,
            csat_target: self.csat_target,
            brand_colour,
            reply_to,
            version,
            updated_at,
            updated_by: updated_by.to_string(),
        })
    }
}

/// `#rrggbb` as its three channels.
pub fn parse_colour(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

/// WCAG 2 relative luminance of an sRGB colour.
fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// The contrast ratio of white text on `rgb` (1 to 21).
pub fn contrast_with_white(rgb: [u8; 3]) -> f64 {
    1.05 / (luminance(rgb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(display: &str) -> ClientSettingsInput {
        ClientSettingsInput {
            display_name: Some(display.into()),
            ..Default::default()
        }
    }

    fn check(i: ClientSettingsInput) -> Result<ClientSettings, Vec<String>> {
        i.validate(
            ClientId::parse("ellevio").expect("an id"),
            1,
            jiff::Timestamp::UNIX_EPOCH,
            "admin",
        )
        .map_err(|e| e.0.into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn a_full_and_valid_body_is_kept() {
        let s = check(ClientSettingsInput {
            display_name: Some(" Ellevio Energi ".into()),
            sms_sender: Some("Ellevio".into()),
            nps_target: Some(45.0),
            csat_target: Some(4.3),
            brand_colour: Some("#0B5394".into()),
            reply_to: Some("kundservice@ellevio.example".into()),
        })
        .expect("valid");
        assert_eq!(s.display_name, "Ellevio Energi");
        assert_eq!(s.brand_colour.as_deref(), Some("#0b5394"));
        assert_eq!(s.sms_name(), Some("Ellevio"));
    }

    #[test]
    fn each_wrong_field_is_named() {
        let bad = ClientSettingsInput {
            display_name: None,
            sms_sender: Some("Ab".into()),
            nps_target: Some(101.0),
            csat_target: Some(0.5),
            brand_colour: Some("#ffee00".into()),
            reply_to: Some("not an address".into()),
        };
        assert_eq!(
            check(bad).expect_err("invalid"),
            vec![
                "display_name",
                "sms_sender",
                "nps_target",
                "csat_target",
                "brand_colour",
                "reply_to"
            ]
        );
        for sender in ["12345", "Ellevio Energi AB", "Ell€vio", "Ab"] {
            let i = ClientSettingsInput {
                sms_sender: Some(sender.into()),
                ..input("Ellevio")
            };
            assert_eq!(check(i).expect_err(sender), vec!["sms_sender"], "{sender}");
        }
        for ok in ["Ellevio", "EON 24", "+46701234567"] {
            let i = ClientSettingsInput {
                sms_sender: Some(ok.into()),
                ..input("Ellevio")
            };
            assert!(check(i).is_ok(), "{ok}");
        }
        assert_eq!(
            check(input(&"x".repeat(41))).expect_err("long"),
            vec!["display_name"]
        );
        assert_eq!(
            check(input("Skuldfria AB")).expect_err("money"),
            vec!["display_name"]
        );
        assert_eq!(
            check(input("<b>Acme</b>")).expect_err("markup"),
            vec!["display_name"]
        );
    }

    #[test]
    fn every_language_fits_one_segment_with_the_longest_name_the_text_takes() {
        use crate::domain::locale::Language;
        use crate::domain::messages::MAX_LINK_LEN;
        let host = "x".repeat(MAX_LINK_LEN - "https:///s/".len() - 22);
        let link = format!("https://{host}/s/{}", "A".repeat(22));
        assert_eq!(link.len(), MAX_LINK_LEN);
        // The longest display name the text takes, in the widest GSM-7 letters.
        let name = "Å".repeat(MAX_SMS_NAME_LEN);
        let mut s = check(input(&name)).expect("valid");
        assert_eq!(s.sms_name(), Some(name.as_str()));
        s.display_name = format!("{name}Å");
        assert_eq!(s.sms_name(), None, "one more does not fit");
        for &lang in Language::ALL {
            let text = sms::csat_text(lang, &name, &link);
            let size = sms::size(&text);
            println!(
                "{lang}: {} septets, {} segment(s)",
                size.units, size.segments
            );
            assert_eq!(
                (size.encoding, size.segments),
                (sms::SmsEncoding::Gsm7, 1),
                "{lang}: {} septets: {text}",
                size.units
            );
        }
    }

    #[test]
    fn contrast_follows_wcag() {
        assert!((contrast_with_white([0, 0, 0]) - 21.0).abs() < 0.01);
        assert!((contrast_with_white([255, 255, 255]) - 1.0).abs() < 0.01);
        // #767676 is the classic lightest grey that passes AA on white.
        assert!(contrast_with_white([0x76, 0x76, 0x76]) >= 4.5);
        assert!(contrast_with_white([0x77, 0x77, 0x77]) < 4.5);
    }

    #[test]
    fn the_text_names_the_client_only_when_it_fits_one_segment() {
        let mut s = check(input("Ellevio Energi")).expect("valid");
        assert_eq!(s.sms_name(), Some("Ellevio Energi"));
        s.sms_sender = Some(SmsSender::parse("+46701234567").expect("a number"));
        assert_eq!(s.sms_name(), Some("Ellevio Energi"));
        s.display_name = "Energa Obrót Spółka Akcyjna".into();
        assert_eq!(s.sms_name(), None, "too long and not GSM-7");
        s.display_name = "Łódź Energia".into();
        assert_eq!(s.sms_name(), None, "Ł and ź are not GSM-7");
    }
}
