//! What respondents read, in sv, en, pl, da, nb and fi: the debtor's CSAT text
//! message and the creditor contact's NPS email. Nothing here names money, debt,
//! amounts or case numbers; a test scans every rendering for them.

mod catalog;
pub mod email;
pub mod page;
pub mod sms;

pub use catalog::{Texts, texts};

/// The longest survey link the configuration may produce. The SMS texts are written
/// to fit one segment with a link this long (see `sms` tests).
pub const MAX_LINK_LEN: usize = 64;
/// Alphanumeric SMS sender ids are at most 11 characters.
pub const MAX_SENDER_LEN: usize = 11;

/// Stems and words that must never appear in a respondent's message, in every
/// language: debt, money, amounts, collection. Matched against lower-cased words by
/// prefix (stems) or whole (short words).
pub const FORBIDDEN_STEMS: &[&str] = &[
    // en
    "debt",
    "owe",
    "amount",
    "money",
    "invoice",
    "collection",
    "payment",
    "balance",
    "overdue",
    "arrears",
    // sv
    "skuld",
    "belopp",
    "kronor",
    "betal",
    "inkasso",
    "faktura",
    "pengar",
    "fordran",
    // pl (also without diacritics)
    "dług",
    "dlug",
    "kwot",
    "płat",
    "plat",
    "należn",
    "nalezn",
    "windyk",
    "pieniąd",
    "pieniad",
    "złot",
    "zlot",
    // da / nb
    "gæld",
    "gjeld",
    "beløb",
    "beløp",
    "penge",
    "regning",
    "inkasso",
    // fi
    "velka",
    "velan",
    "maksu",
    "lasku",
    "perintä",
    "perinta",
    "rahaa",
    "saatava",
];

/// Whole words and symbols that must not appear either.
pub const FORBIDDEN_WORDS: &[&str] = &[
    "kr", "sek", "nok", "dkk", "pln", "eur", "euro", "zł", "zl", "€", "$", "£", "case", "ärende",
    "sprawa", "sag", "sak", "asia",
];

/// Finds forbidden words and amounts in `text` (links removed first); returns what
/// it found.
pub fn money_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let without_links: String = lower
        .split_whitespace()
        .filter(|w| !w.contains("://"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut found = Vec::new();
    for word in without_links.split(|c: char| !c.is_alphanumeric() && !"€$£".contains(c)) {
        if word.is_empty() {
            continue;
        }
        if FORBIDDEN_STEMS.iter().any(|s| word.starts_with(s)) || FORBIDDEN_WORDS.contains(&word) {
            found.push(word.to_string());
        }
    }
    for sym in ["€", "$", "£"] {
        if without_links.contains(sym) {
            found.push(sym.to_string());
        }
    }
    // Amounts: a digit, a separator, then exactly two (decimals: 12,50) or three
    // (thousands: 1 234, 1.234) digits.
    let chars: Vec<char> = without_links.chars().collect();
    for i in 0..chars.len().saturating_sub(2) {
        if !(chars[i].is_ascii_digit() && matches!(chars[i + 1], ',' | '.' | ' ' | '\u{a0}')) {
            continue;
        }
        let run = chars[i + 2..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let decimals = run == 2 && chars[i + 1] != ' ';
        let before = chars[..i]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if decimals || run == 3 {
            found.push(chars[i - before..i + 2 + run].iter().collect());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::money_words;

    #[test]
    fn money_words_and_amounts_are_found_in_any_language() {
        assert_eq!(
            money_words("Din skuld är 1 234 kr"),
            vec!["skuld", "kr", "1 234"]
        );
        assert_eq!(
            money_words("Zapłać dług 99,50 zł"),
            vec!["dług", "zł", "99,50"]
        );
        assert_eq!(money_words("Pay €12.00 now"), vec!["€", "12.00"]);
        assert!(money_words("Rate 1-5: https://x.example/s/123,456").is_empty());
        assert!(money_words("0 1 2 3 4 5 6 7 8 9 10").is_empty());
    }
}
