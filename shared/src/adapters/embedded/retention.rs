//! Retention on the embedded store: what DynamoDB's TTL does in AWS. Answers are
//! removed once `retention` has passed since they were made, closed feedback items
//! (with their activity) once it has passed since they were closed, surveys once it
//! has passed since they closed, link pointers (and the records of extra links)
//! with their survey, and settled team-lead notices (warnings, digests) once it
//! has passed since they were raised. Counters, improvements and the lexicon stay: every figure
//! keeps adding up after the answers behind it are gone.

use super::{EmbeddedStore, R, SEP, Writer};
use crate::adapters::keys;
use crate::adapters::records::TokenPointer;
use crate::domain::backlog::FeedbackItem;
use crate::domain::notice::NoticeRecord;
use crate::domain::survey::{Answer, Survey};
use crate::ports::StoreError;
use jiff::Timestamp;
use redb::ReadableTable;
use serde::Serialize;

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub answers: usize,
    pub feedback_items: usize,
    pub surveys: usize,
    pub tokens: usize,
    /// Early warnings and digests, once settled.
    pub notices: usize,
}

/// Items removed per write transaction, so a long sweep never holds the writer.
const BATCH: usize = 500;

fn split(key: &str) -> Option<(&str, &str)> {
    key.split_once(SEP)
}

impl EmbeddedStore {
    /// Removes everything older than `cutoff` (now minus the retention period), in
    /// batches. Safe to run at any time and as often as wanted.
    pub async fn sweep_retention(&self, cutoff: Timestamp) -> Result<SweepReport, StoreError> {
        let mut total = SweepReport::default();
        loop {
            let batch = self
                .write("sweep_retention", move |w| sweep_batch(w, cutoff))
                .await?;
            let removed =
                batch.answers + batch.feedback_items + batch.surveys + batch.tokens + batch.notices;
            total.answers += batch.answers;
            total.feedback_items += batch.feedback_items;
            total.surveys += batch.surveys;
            total.tokens += batch.tokens;
            total.notices += batch.notices;
            if removed < BATCH {
                return Ok(total);
            }
        }
    }
}

/// The item keys of partition `pk` whose sort key starts with `sk_prefix`.
fn keys_under(w: &Writer<'_>, pk: &str, sk_prefix: &str) -> R<Vec<String>> {
    let lo = format!("{pk}{SEP}{sk_prefix}");
    let mut out = Vec::new();
    for row in w.items.range::<&str>(lo.as_str()..)? {
        let (k, _) = row?;
        if !k.value().starts_with(&lo) {
            break;
        }
        out.push(k.value().to_string());
    }
    Ok(out)
}

fn sweep_batch(w: &mut Writer<'_>, cutoff: Timestamp) -> R<SweepReport> {
    let mut report = SweepReport::default();
    let mut doomed: Vec<String> = Vec::new();
    let mut unindex: Vec<(keys::Key, Vec<keys::IndexKey>)> = Vec::new();
    let mut surveys_gone: std::collections::BTreeSet<String> = Default::default();
    let mut feedback_gone: Vec<String> = Vec::new();
    let mut survey_partitions: Vec<String> = Vec::new();
    {
        let mut n = 0;
        for row in w.items.iter()? {
            if n >= BATCH {
                break;
            }
            let (k, v) = row?;
            let key = k.value().to_string();
            let Some((pk, sk)) = split(&key) else {
                continue;
            };
            let key_of = || keys::Key {
                pk: pk.to_string(),
                sk: sk.to_string(),
            };
            match keys::retained(pk, sk) {
                Some(keys::Retained::Answer) => {
                    let a: Answer = serde_json::from_slice(v.value())?;
                    if a.answered_at < cutoff {
                        unindex.push((key_of(), keys::answer_index(&a)));
                        doomed.push(key.clone());
                        report.answers += 1;
                        n += 1;
                    }
                }
                Some(keys::Retained::Survey) => {
                    let s: Survey = serde_json::from_slice(v.value())?;
                    if s.expires_at < cutoff {
                        unindex.push((key_of(), keys::survey_index(&s)));
                        surveys_gone.insert(s.id.to_string());
                        survey_partitions.push(pk.to_string());
                        doomed.push(key.clone());
                        report.surveys += 1;
                        n += 1;
                    }
                }
                Some(keys::Retained::FeedbackItem) => {
                    let f: FeedbackItem = serde_json::from_slice(v.value())?;
                    // Closed items only, counted from their closing: open work stays
                    // (its text goes at the ceiling, `app::retention`).
                    if f.closed_since().is_some_and(|closed| closed < cutoff) {
                        unindex.push((key_of(), keys::feedback_index(&f)));
                        feedback_gone.push(pk.to_string());
                        doomed.push(key.clone());
                        report.feedback_items += 1;
                        n += 1;
                    }
                }
                Some(keys::Retained::Notice) => {
                    let notice: NoticeRecord = serde_json::from_slice(v.value())?;
                    // A notice still being delivered stays until it settles.
                    if notice.created_at < cutoff && notice.delivery.due_at().is_none() {
                        unindex.push((key_of(), keys::notice_index(&notice)));
                        doomed.push(key.clone());
                        report.notices += 1;
                        n += 1;
                    }
                }
                // Activity goes with its item (below, once the items are known).
                Some(keys::Retained::FeedbackActivity) | None => {}
            }
        }
    }
    // Activity entries of removed feedback items, and pointers to removed surveys.
    for pk in feedback_gone {
        doomed.extend(keys_under(w, &pk, keys::ACTIVITY_PREFIX)?);
    }
    // The extra link records in the partitions of removed surveys.
    for pk in &survey_partitions {
        doomed.extend(keys_under(w, pk, keys::LINK_PREFIX)?);
    }
    if !surveys_gone.is_empty() {
        let lo = keys::TOKEN_PK.to_string();
        let mut tokens = Vec::new();
        for row in w.items.range::<&str>(lo.as_str()..)? {
            let (k, v) = row?;
            if !k.value().starts_with(&lo) {
                break;
            }
            let pointer: TokenPointer = serde_json::from_slice(v.value())?;
            if surveys_gone.contains(pointer.survey_id.as_str()) {
                tokens.push(k.value().to_string());
            }
        }
        report.tokens = tokens.len();
        doomed.extend(tokens);
    }
    for (key, index) in unindex {
        w.reindex(&key, &index, &[])?;
    }
    for k in doomed {
        w.items.remove(k.as_str())?;
    }
    Ok(report)
}
