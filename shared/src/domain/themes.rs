//! Themes: an explainable lexicon per language that maps word stems to what a
//! comment is about. A word matches a stem when it starts with it, so inflected forms
//! match (`väntade`, `väntetid` → `vänt`). The built-in lexicon is the starting point;
//! it is data, so a deployment can replace it.

use super::locale::Language;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const TREATMENT: &str = "treatment_and_tone";
pub const WAITING: &str = "waiting_and_reachability";
pub const PAYMENT_PLAN: &str = "payment_plan";
pub const FEES: &str = "fees_and_amount";
pub const CLARITY: &str = "clarity_of_information";
pub const DIGITAL: &str = "digital_self_service";
pub const IDENTITY: &str = "wrong_person_or_identity";
pub const PRAISE: &str = "praise";

/// Every built-in theme, in the order the console lists them.
pub const ALL_THEMES: [&str; 8] = [
    TREATMENT,
    WAITING,
    PAYMENT_PLAN,
    FEES,
    CLARITY,
    DIGITAL,
    IDENTITY,
    PRAISE,
];

/// Themes that are complaints about how a person was treated: they raise priority.
pub const COMPLAINT_THEMES: [&str; 2] = [TREATMENT, IDENTITY];

/// theme → stems, per language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Lexicon(pub BTreeMap<Language, BTreeMap<String, Vec<String>>>);

impl Lexicon {
    /// The themes a comment touches, with the words that matched (for explanation).
    pub fn tag(&self, language: Language, comment: &str) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let lower = comment.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        // The respondent's language first; English stems too, since people mix.
        for lang in [language, Language::En] {
            let Some(themes) = self.0.get(&lang) else {
                continue;
            };
            for (theme, stems) in themes {
                for stem in stems {
                    if stem.contains(' ') {
                        // A phrase matches anywhere in the comment.
                        if lower.contains(stem.as_str()) {
                            out.entry(theme.clone()).or_default().insert(stem.clone());
                        }
                    } else {
                        for w in words.iter().filter(|w| w.starts_with(stem.as_str())) {
                            out.entry(theme.clone())
                                .or_default()
                                .insert((*w).to_string());
                        }
                    }
                }
            }
        }
        out
    }
}

/// The built-in lexicon, data rather than code: `shared/themes/default.toml`.
const DEFAULT_LEXICON: &str = include_str!("../../themes/default.toml");

static BUILT_IN: std::sync::LazyLock<Lexicon> = std::sync::LazyLock::new(|| {
    toml::from_str(DEFAULT_LEXICON).expect("shared/themes/default.toml is a valid lexicon")
});

impl Default for Lexicon {
    fn default() -> Self {
        BUILT_IN.clone()
    }
}

/// The lexicon an admin edited, as stored: versioned like backlog records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredLexicon {
    pub lexicon: Lexicon,
    pub version: u64,
    pub updated_at: jiff::Timestamp,
    pub updated_by: String,
}

/// Limits that keep a lexicon explainable and cheap to apply to every comment.
pub const MAX_STEMS: usize = 5_000;
pub const MAX_STEM_CHARS: usize = 40;

impl Lexicon {
    /// Normalises an edited lexicon (lower-case, trimmed, sorted, no duplicates) and
    /// explains what is wrong with it, field by field.
    pub fn validated(mut self) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let mut total = 0;
        for (lang, themes) in self.0.iter_mut() {
            for (theme, stems) in themes.iter_mut() {
                let theme_ok = !theme.is_empty()
                    && theme.len() <= 40
                    && theme.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                if !theme_ok {
                    problems.push(format!(
                        "{}.{theme}: a theme is 1-40 characters of a-z and _",
                        lang.code()
                    ));
                }
                let mut clean: Vec<String> = stems
                    .iter()
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect();
                clean.sort();
                clean.dedup();
                for stem in &clean {
                    if stem.chars().count() > MAX_STEM_CHARS {
                        problems.push(format!(
                            "{}.{theme}: \"{stem}\" is longer than {MAX_STEM_CHARS} characters",
                            lang.code()
                        ));
                    } else if stem.chars().count() < 2 {
                        problems.push(format!(
                            "{}.{theme}: \"{stem}\" is shorter than 2 characters and would match too much",
                            lang.code()
                        ));
                    }
                }
                total += clean.len();
                *stems = clean;
            }
        }
        if total > MAX_STEMS {
            problems.push(format!("{total} stems; at most {MAX_STEMS}"));
        }
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_lexicon_file_names_every_theme_in_every_language() {
        let lexicon = Lexicon::default();
        for &lang in Language::ALL {
            let themes = lexicon.0.get(&lang).expect("every language");
            for theme in ALL_THEMES {
                assert!(
                    themes.get(theme).is_some_and(|stems| !stems.is_empty()),
                    "{lang:?}: {theme}"
                );
            }
            assert!(themes.keys().all(|t| ALL_THEMES.contains(&t.as_str())));
        }
    }

    fn themes(lang: Language, comment: &str) -> Vec<String> {
        Lexicon::default().tag(lang, comment).into_keys().collect()
    }

    #[test]
    fn each_language_recognises_inflected_forms() {
        let cases = [
            (
                Language::Sv,
                "Jag väntade i telefonkön i en timme",
                vec![WAITING],
            ),
            (
                Language::Sv,
                "Handläggaren var otrevlig och nedlåtande",
                vec![TREATMENT],
            ),
            (Language::En, "The letter was confusing", vec![CLARITY]),
            (
                Language::Pl,
                "Długo czekałem, konsultant był niegrzeczny",
                vec![TREATMENT, WAITING],
            ),
            (Language::Da, "Jeg ventede længe i køen", vec![WAITING]),
            (
                Language::Nb,
                "Fikk ikke logget inn med BankID",
                vec![DIGITAL],
            ),
            (
                Language::Fi,
                "Odotin pitkään, mutta kiitos avusta",
                vec![PRAISE, WAITING],
            ),
            (
                Language::Sv,
                "Det här är inte min skuld, fel person",
                vec![IDENTITY],
            ),
        ];
        for (lang, comment, expected) in cases {
            assert_eq!(themes(lang, comment), expected, "{lang}: {comment}");
        }
    }

    #[test]
    fn every_language_has_every_theme() {
        let lex = Lexicon::default();
        for &lang in Language::ALL {
            let t = lex.0.get(&lang).expect("language present");
            for theme in ALL_THEMES {
                assert!(
                    t.get(theme).is_some_and(|s| !s.is_empty()),
                    "{lang} lacks {theme}"
                );
            }
        }
    }

    #[test]
    fn the_matched_words_explain_the_theme() {
        let tagged = Lexicon::default().tag(Language::En, "Rude agent, long wait");
        assert!(tagged[TREATMENT].contains("rude"));
        assert!(tagged[WAITING].contains("wait"));
    }
}
