//! Languages respondents are addressed in, and the countries whose calendars decide
//! when a message may be sent.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language Kundpuls writes in. Anything else falls back to English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::VariantArray, utoipa::ToSchema)]
#[strum(serialize_all = "lowercase")]
pub enum Language {
    Sv,
    En,
    Pl,
    Da,
    Nb,
    Fi,
}

impl Language {
    /// Every value, in declaration order.
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// This language's entry in a table written in [`Language::ALL`]'s order
    /// (sv, en, pl, da, nb, fi).
    pub fn pick<T>(self, per_language: &[T; 6]) -> &T {
        &per_language[self as usize]
    }

    pub fn code(self) -> &'static str {
        self.into()
    }

    /// The writing direction, for `dir` on every page and email: all the supported
    /// languages are written left to right.
    pub fn dir(self) -> &'static str {
        "ltr"
    }

    /// Exact code (case-insensitive, region suffix ignored: `sv-SE` → sv, `no` → nb).
    pub fn parse(code: &str) -> Option<Self> {
        let base = code
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match base.as_str() {
            "sv" => Some(Language::Sv),
            "en" => Some(Language::En),
            "pl" => Some(Language::Pl),
            "da" => Some(Language::Da),
            "nb" | "no" | "nn" => Some(Language::Nb),
            "fi" => Some(Language::Fi),
            _ => None,
        }
    }

    /// The contract's rule: unknown or missing languages are answered in English.
    pub fn or_english(code: Option<&str>) -> Self {
        code.and_then(Self::parse).unwrap_or(Language::En)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// ISO 3166-1 alpha-2 country code, upper case (`SE`, `PL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(code: &str) -> Result<Self, String> {
        let bytes = code.as_bytes();
        if bytes.len() == 2 && bytes.iter().all(u8::is_ascii_alphabetic) {
            Ok(Self([
                bytes[0].to_ascii_uppercase(),
                bytes[1].to_ascii_uppercase(),
            ]))
        } else {
            Err("must be a two-letter ISO 3166 country code".into())
        }
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

string_conversions!(Country);
string_schema!(
    Country,
    "^[A-Za-z]{2}$",
    "ISO 3166-1 alpha-2 country code (`SE`, `FI`), any case."
);

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_in_declaration_order_pick_each_language_its_own_entry() {
        let codes = ["sv", "en", "pl", "da", "nb", "fi"];
        for (i, &lang) in Language::ALL.iter().enumerate() {
            assert_eq!(lang as usize, i);
            assert_eq!(*lang.pick(&codes), lang.code());
        }
    }

    #[test]
    fn languages_parse_with_region_and_fall_back_to_english() {
        assert_eq!(Language::parse("sv-SE"), Some(Language::Sv));
        assert_eq!(Language::parse("NO"), Some(Language::Nb));
        assert_eq!(Language::parse("de"), None);
        assert_eq!(Language::or_english(Some("de")), Language::En);
        assert_eq!(Language::or_english(None), Language::En);
    }

    #[test]
    fn country_is_normalised_to_upper_case_and_rejects_other_shapes() {
        assert_eq!(Country::parse("se").map(|c| c.to_string()), Ok("SE".into()));
        assert!(Country::parse("SWE").is_err());
        assert!(Country::parse("S1").is_err());
    }
}
