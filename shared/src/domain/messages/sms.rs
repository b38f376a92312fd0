//! The debtor's CSAT text message, and the arithmetic of SMS segments: GSM-7 (160
//! septets in one segment, 153 per part when split; extension characters take two)
//! or UCS-2 (70 UTF-16 units, 67 per part).

use super::{MAX_LINK_LEN, texts};
use crate::domain::locale::Language;

/// The GSM 03.38 basic alphabet: one septet each.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The GSM 03.38 extension table: an escape and the character, two septets each.
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

/// How a text travels as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSize {
    pub encoding: SmsEncoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    pub segments: usize,
}

pub fn size(text: &str) -> SmsSize {
    let mut septets = 0;
    let mut gsm = true;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENSION.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    if gsm {
        SmsSize {
            encoding: SmsEncoding::Gsm7,
            units: septets,
            segments: if septets <= 160 {
                1
            } else {
                septets.div_ceil(153)
            },
        }
    } else {
        let units = text.encode_utf16().count();
        SmsSize {
            encoding: SmsEncoding::Ucs2,
            units,
            segments: if units <= 70 { 1 } else { units.div_ceil(67) },
        }
    }
}

/// `<sender>: <question> <link> <how to opt out>`. The link goes to the survey page,
/// where the debtor can also stop all surveys; nothing about the case is in it.
pub fn csat_text(language: Language, sender: &str, link: &str) -> String {
    debug_assert!(
        link.len() <= MAX_LINK_LEN,
        "links are limited by the configuration"
    );
    let t = texts(language);
    format!("{sender}: {} {link} {}", t.sms_question, t.sms_opt_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::messages::{MAX_SENDER_LEN, money_words};

    fn longest_link() -> String {
        let base = "https://";
        let path = "/s/";
        let token = "A".repeat(22);
        let host = "x".repeat(MAX_LINK_LEN - base.len() - path.len() - token.len());
        format!("{base}{host}{path}{token}")
    }

    #[test]
    fn every_language_fits_one_gsm7_segment_with_the_longest_link_and_sender() {
        let link = longest_link();
        assert_eq!(link.len(), MAX_LINK_LEN);
        let sender = "S".repeat(MAX_SENDER_LEN);
        for &lang in Language::ALL {
            let text = csat_text(lang, &sender, &link);
            let s = size(&text);
            assert_eq!(s.encoding, SmsEncoding::Gsm7, "{lang}: {text}");
            assert_eq!(s.segments, 1, "{lang}: {} septets: {text}", s.units);
        }
    }

    #[test]
    fn segment_arithmetic_follows_gsm_03_38() {
        assert_eq!(size(&"a".repeat(160)).segments, 1);
        assert_eq!(size(&"a".repeat(161)).segments, 2);
        assert_eq!(size(&"a".repeat(306)).segments, 2);
        assert_eq!(size(&"a".repeat(307)).segments, 3);
        // The euro sign is an extension character: two septets.
        assert_eq!(size("€").units, 2);
        // One Polish diacritic turns the whole message into UCS-2.
        let s = size("Ocen kontakt: ą");
        assert_eq!(s.encoding, SmsEncoding::Ucs2);
        assert_eq!(size(&"ą".repeat(70)).segments, 1);
        assert_eq!(size(&"ą".repeat(71)).segments, 2);
        // Swedish, Danish, Norwegian and Finnish letters are in the basic alphabet.
        assert_eq!(size("åäöÅÄÖæøÆØ").encoding, SmsEncoding::Gsm7);
    }

    #[test]
    fn the_text_names_the_sender_carries_the_link_and_never_money() {
        let link = longest_link();
        for &lang in Language::ALL {
            let text = csat_text(lang, "Nordkredit", &link);
            assert!(text.starts_with("Nordkredit: "));
            assert!(text.contains(&link));
            assert_eq!(money_words(&text), Vec::<String>::new(), "{lang}: {text}");
            // No digits but the 1-5 scale outside the link.
            let digits: String = text
                .replace(&link, "")
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            assert_eq!(digits, "15", "{lang}: {text}");
        }
    }
}
