//! Editing the theme lexicon as text, and previewing an edit on real comments
//! before it is saved.
//!
//! The text form has one line per language and theme, the theme's stems after a
//! colon, separated by commas: `sv treatment_and_tone: otrevlig, oförskämd`. Blank
//! lines and lines starting with `#` are ignored.

use super::backlog::FeedbackItem;
use super::locale::Language;
use super::themes::Lexicon;
use std::collections::{BTreeMap, BTreeSet};

impl Lexicon {
    /// The lexicon as editable text, languages in their usual order.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for lang in Language::ALL {
            let Some(themes) = self.0.get(lang) else {
                continue;
            };
            for (theme, stems) in themes {
                out.push_str(&format!("{} {theme}: {}\n", lang.code(), stems.join(", ")));
            }
        }
        out
    }

    /// Reads the text form; each problem names its line. The result still goes
    /// through [`Lexicon::validated`] when saved.
    pub fn from_text(text: &str) -> Result<Self, Vec<String>> {
        let mut map: BTreeMap<Language, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        let mut problems = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let n = i + 1;
            let Some((head, stems)) = line.split_once(':') else {
                problems.push(format!(
                    "line {n}: expected `<language> <theme>: stem, stem`"
                ));
                continue;
            };
            let mut head = head.split_whitespace();
            let (Some(code), Some(theme), None) = (head.next(), head.next(), head.next()) else {
                problems.push(format!(
                    "line {n}: expected a language code and one theme name before the colon"
                ));
                continue;
            };
            let Some(lang) = Language::parse(code) else {
                problems.push(format!("line {n}: unknown language `{code}`"));
                continue;
            };
            let stems = stems
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            map.entry(lang)
                .or_default()
                .entry(theme.to_string())
                .or_default()
                .extend(stems);
        }
        if problems.is_empty() {
            Ok(Lexicon(map))
        } else {
            Err(problems)
        }
    }
}

/// How one comment's themes change under an edited lexicon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagChange {
    pub item: FeedbackItem,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// An edit's effect on recent comments: per theme, how many it tags now and would
/// tag, and the comments whose themes change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LexiconPreview {
    pub comments: usize,
    /// theme → (tagged now, tagged with the edit)
    pub per_theme: BTreeMap<String, (usize, usize)>,
    pub changes: Vec<TagChange>,
}

/// Tags every item's comment with both lexicons and compares.
pub fn preview(current: &Lexicon, edited: &Lexicon, items: &[FeedbackItem]) -> LexiconPreview {
    let mut out = LexiconPreview::default();
    for item in items {
        let Some(comment) = item.comment.as_deref() else {
            continue;
        };
        out.comments += 1;
        let before: BTreeSet<String> = current.tag(item.language, comment).into_keys().collect();
        let after: BTreeSet<String> = edited.tag(item.language, comment).into_keys().collect();
        for t in &before {
            out.per_theme.entry(t.clone()).or_default().0 += 1;
        }
        for t in &after {
            out.per_theme.entry(t.clone()).or_default().1 += 1;
        }
        if before != after {
            out.changes.push(TagChange {
                item: item.clone(),
                added: after.difference(&before).cloned().collect(),
                removed: before.difference(&after).cloned().collect(),
            });
        }
    }
    out
}
