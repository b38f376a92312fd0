//! Erasing one person on request (`DELETE /api/v1/people/{id}`): every survey sent to
//! them (found by the keyed hash of their debtor or contact id), its answer and every
//! link pointer are deleted, the comment of any feedback item made from it and of an
//! answer still waiting in the embedded store's feed is removed, and a creditor
//! contact's records (name, email, account manager) go, so they leave the NPS wave.
//! Staff notes in the activity log of those items are replaced by a fixed line
//! (who wrote one and when stay): a note about a person is about that person.
//! The counters stay (they hold no personal data), so reports still add up. That the
//! erasure happened is recorded under the same keyed hash, never the id.

use super::Services;
use crate::domain::ids::FeedbackId;
use crate::domain::survey::ErasureRecord;
use crate::ports::{PageRequest, StoreError};
use jiff::Timestamp;

impl Services {
    pub async fn erase_person(
        &self,
        person_id: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<ErasureRecord, StoreError> {
        let person = self.keyer.person_key(person_id);
        let mut record = ErasureRecord {
            person: person.clone(),
            at: now,
            actor: actor.to_string(),
            surveys: 0,
            answers: 0,
            feedback_items: 0,
            contacts: 0,
        };
        // Each pass deletes what it lists, so the first page is read until empty;
        // bounded in case a store keeps returning the same page.
        for _ in 0..10_000 {
            let page = self
                .surveys
                .surveys_of_person(&person, PageRequest::first(100))
                .await?;
            if page.items.is_empty() {
                break;
            }
            for survey in &page.items {
                let feedback = FeedbackId::for_survey(&survey.id);
                if self.erase_feedback_text(&feedback, actor, now).await? {
                    record.feedback_items += 1;
                }
                self.backlog.erase_notes(&feedback).await?;
                if self.surveys.erase_survey(survey).await? {
                    record.answers += 1;
                }
                record.surveys += 1;
            }
        }
        for contact in self.contacts.creditors_of_person(&person).await? {
            if self
                .contacts
                .erase_creditor(&contact.client_id, &contact.contact_id)
                .await?
            {
                record.contacts += 1;
            }
        }
        self.surveys.record_erasure(&record).await?;
        tracing::info!(
            surveys = record.surveys,
            answers = record.answers,
            feedback_items = record.feedback_items,
            contacts = record.contacts,
            "person erased on request"
        );
        Ok(record)
    }

    /// Removes a feedback item's comment and its case or contact reference (a
    /// versioned save, retried on a race).
    async fn erase_feedback_text(
        &self,
        id: &FeedbackId,
        actor: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let changed = self
            .change_feedback(
                "erase_feedback_text",
                id,
                actor,
                "comment and case reference erased on the respondent's request",
                now,
                |item| {
                    if item.comment.is_none()
                        && item.case_id.is_none()
                        && item.contact_id.is_none()
                        && item.theme_words.is_empty()
                    {
                        return false;
                    }
                    item.comment = None;
                    item.theme_words.clear();
                    item.case_id = None;
                    item.contact_id = None;
                    true
                },
            )
            .await?;
        // An item already without text counts as erased: it holds nothing of theirs.
        Ok(changed != super::triage::Changed::Missing)
    }
}
