//! Text people type (comments, notes, titles, assignees), made safe to show and to
//! count: control characters other than the newline are dropped (a line break
//! `\r\n` becomes `\n`), so are the bidirectional overrides and isolates that can
//! make text read backwards (U+202A–U+202E, U+2066–U+2069), and what is left is
//! NFC-normalised so that one letter counts as one character whatever keyboard
//! typed it. Limits are counted on the result.

use unicode_normalization::UnicodeNormalization;

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `raw` as it is kept and shown.
pub fn clean(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .chars()
        .filter(|&c| c == '\n' || !(c.is_control() || is_bidi_control(c)))
        .nfc()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_go_and_letters_count_once() {
        assert_eq!(clean("ok\u{0}\u{7}\r\nnext line"), "ok\nnext line");
        assert_eq!(clean("invoice \u{202E}fdp.exe"), "invoice fdp.exe");
        assert_eq!(clean("\u{2066}isolated\u{2069}"), "isolated");
        // "å" typed as a + combining ring is one character after NFC.
        let decomposed = "a\u{030A}";
        assert_eq!(decomposed.chars().count(), 2);
        assert_eq!(clean(decomposed), "å");
        assert_eq!(clean(decomposed).chars().count(), 1);
        assert_eq!(clean("Tack så mycket! 👍"), "Tack så mycket! 👍");
    }
}
