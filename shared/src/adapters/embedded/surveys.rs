//! [`SurveyStore`] on the embedded store.

use super::{EmbeddedStore, IndexQuery, Lookup, R, Writer};
use crate::adapters::keys;
use crate::adapters::records::{ContactState, SurveyLink, TokenPointer};
use crate::domain::contact::ContactKey;
use crate::domain::ids::SurveyId;
use crate::domain::sending::SurveyChange;
use crate::domain::survey::{Answer, LinkedSurvey, NewSurvey, Survey};
use crate::domain::token::TokenHash;
use crate::ports::{
    AnswerOutcome, CreateOutcome, FatigueGuard, StoreError, SurveyStore, TransitionOutcome,
    WorkList,
};
use async_trait::async_trait;
use jiff::Timestamp;

impl EmbeddedStore {
    /// Applies `change` to a stored survey if it accepts the current state.
    async fn transition<F>(
        &self,
        operation: &'static str,
        id: &SurveyId,
        change: F,
    ) -> Result<TransitionOutcome, StoreError>
    where
        F: FnOnce(&mut Survey) -> bool + Send + 'static,
    {
        let key = keys::survey(id);
        self.write(operation, move |w| {
            let Some(mut survey) = w.get::<Survey>(&key)? else {
                return Ok(TransitionOutcome::NotFound);
            };
            let before = keys::survey_index(&survey);
            if !change(&mut survey) {
                return Ok(TransitionOutcome::WrongState(survey));
            }
            w.put(&key, &survey)?;
            w.reindex(&key, &before, &keys::survey_index(&survey))?;
            Ok(TransitionOutcome::Done(survey))
        })
        .await
    }
}

fn create_in(
    w: &mut Writer<'_>,
    new: NewSurvey,
    fatigue: Option<FatigueGuard>,
) -> R<CreateOutcome> {
    let survey = Survey::from_new(new);
    let key = keys::survey(&survey.id);
    if let Some(existing) = w.get::<Survey>(&key)? {
        return Ok(CreateOutcome::Duplicate(existing));
    }
    if let Some(guard) = fatigue {
        let ckey = keys::contact_state(&survey.contact_key);
        let mut state = w.get::<ContactState>(&ckey)?.unwrap_or_default();
        if let Some(last) = state.last_surveyed()
            && last > guard.not_since
        {
            return Ok(CreateOutcome::Fatigued {
                last_surveyed_at: last,
            });
        }
        state.last_surveyed_ms = Some(guard.surveyed_at.as_millisecond());
        w.put(&ckey, &state)?;
    }
    w.put(&key, &survey)?;
    w.put(
        &keys::token(&survey.token_hash),
        &TokenPointer::bare(survey.id.clone()),
    )?;
    w.reindex(&key, &[], &keys::survey_index(&survey))?;
    Ok(CreateOutcome::Created(survey))
}

#[async_trait]
impl SurveyStore for EmbeddedStore {
    async fn create(
        &self,
        new: NewSurvey,
        fatigue: Option<FatigueGuard>,
    ) -> Result<CreateOutcome, StoreError> {
        self.write("create_survey", move |w| create_in(w, new, fatigue))
            .await
    }

    async fn get(&self, id: &SurveyId) -> Result<Option<Survey>, StoreError> {
        let key = keys::survey(id);
        self.read("get_survey", move |r| r.get(&key)).await
    }

    /// The pointer and the survey in one read transaction: the view comes from the
    /// survey itself, so no copy needs keeping in step here.
    async fn find_by_token(&self, hash: &TokenHash) -> Result<Option<LinkedSurvey>, StoreError> {
        let key = keys::token(hash);
        self.read("find_by_token", move |r| {
            let Some(pointer) = r.get::<TokenPointer>(&key)? else {
                return Ok(None);
            };
            Ok(r.get::<Survey>(&keys::survey(&pointer.survey_id))?
                .map(|s| LinkedSurvey::of(&s, Vec::new())))
        })
        .await
    }

    async fn answer(&self, id: &SurveyId) -> Result<Option<Answer>, StoreError> {
        let key = keys::answer(id);
        self.read("get_answer", move |r| r.get(&key)).await
    }

    async fn surveys_of_person(
        &self,
        person: &crate::domain::contact::ContactKey,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<Survey>, StoreError> {
        let pk = keys::person_surveys(person);
        self.page_of("surveys_of_person", keys::Index::Gsi3, pk, page)
            .await
    }

    async fn erase_survey(&self, survey: &Survey) -> Result<bool, StoreError> {
        let id = survey.id.clone();
        self.write("erase_survey", move |w| {
            let key = keys::survey(&id);
            let Some(current) = w.get::<Survey>(&key)? else {
                return Ok(false);
            };
            w.reindex(&key, &keys::survey_index(&current), &[])?;
            w.delete(&key)?;
            w.delete(&keys::token(&current.token_hash))?;
            for (sk, link) in w.keyed_items_with_prefix::<SurveyLink>(&key.pk, keys::LINK_PREFIX)? {
                w.delete(&keys::token(&link.token_hash))?;
                w.delete(&keys::Key {
                    pk: key.pk.clone(),
                    sk,
                })?;
            }
            // An answer the router has not read yet keeps its place in the feed
            // (it is still counted once) without its words.
            w.redact_feed(&id)?;
            let akey = keys::answer(&id);
            let Some(answer) = w.get::<Answer>(&akey)? else {
                return Ok(false);
            };
            w.reindex(&akey, &keys::answer_index(&answer), &[])?;
            w.delete(&akey)?;
            Ok(true)
        })
        .await
    }

    /// The last step of an erasure: the record is written, then the file is
    /// rewritten so the bytes of what was deleted do not stay in freed pages.
    async fn record_erasure(
        &self,
        record: &crate::domain::survey::ErasureRecord,
    ) -> Result<(), StoreError> {
        let record = record.clone();
        self.write("record_erasure", move |w| {
            w.put(&keys::erasure(&record.person, record.at), &record)
        })
        .await?;
        self.rewrite().await
    }

    async fn erasures(
        &self,
        person: &crate::domain::contact::ContactKey,
    ) -> Result<Vec<crate::domain::survey::ErasureRecord>, StoreError> {
        let pk = keys::erasure(person, Timestamp::UNIX_EPOCH).pk;
        self.read("erasures", move |r| r.items_with_prefix(&pk, ""))
            .await
    }

    async fn list_answers(
        &self,
        kind: crate::domain::survey::SurveyKind,
        month: &str,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<Answer>, StoreError> {
        let pk = keys::answers_by_month(kind, month);
        self.page_of("list_answers", keys::Index::Gsi1, pk, page)
            .await
    }

    async fn add_token(&self, survey: &Survey, hash: &TokenHash) -> Result<(), StoreError> {
        let key = keys::token(hash);
        let pointer = TokenPointer::bare(survey.id.clone());
        let link_key = keys::survey_link(&survey.id, hash);
        let link = SurveyLink {
            token_hash: hash.clone(),
        };
        self.write("add_token", move |w| {
            if w.get::<TokenPointer>(&key)?.is_none() {
                w.put(&link_key, &link)?;
                w.put(&key, &pointer)?;
            }
            Ok(())
        })
        .await
    }

    async fn apply(
        &self,
        id: &SurveyId,
        change: SurveyChange,
    ) -> Result<TransitionOutcome, StoreError> {
        self.transition("survey_change", id, move |s| s.apply(&change))
            .await
    }

    async fn record_answer(
        &self,
        link: &LinkedSurvey,
        answer: Answer,
        now: Timestamp,
    ) -> Result<AnswerOutcome, StoreError> {
        let key = keys::survey(&link.id);
        let akey = keys::answer(&link.id);
        self.write("record_answer", move |w| {
            let Some(mut survey) = w.get::<Survey>(&key)? else {
                return Ok(AnswerOutcome::NotFound);
            };
            if let Some(first) = w.get::<Answer>(&akey)? {
                return Ok(AnswerOutcome::AlreadyAnswered(first));
            }
            let before = keys::survey_index(&survey);
            if !survey.mark_answered(answer.answered_at, now) {
                return Ok(AnswerOutcome::NotOpen(survey));
            }
            w.put(&key, &survey)?;
            w.reindex(&key, &before, &keys::survey_index(&survey))?;
            w.put(&akey, &answer)?;
            w.reindex(&akey, &[], &keys::answer_index(&answer))?;
            w.append_feed(&answer)?;
            Ok(AnswerOutcome::Recorded(answer))
        })
        .await
    }

    async fn due(
        &self,
        list: WorkList,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Survey>, StoreError> {
        let list = keys::work_list(list);
        let operation = list.operation;
        let q = IndexQuery {
            index: list.index,
            pk: list.pk.to_string(),
            after: None,
            below: Some(keys::up_to(until)),
            reverse: false,
            limit: limit.clamp(1, 1000),
        };
        self.read(operation, move |r| Ok(r.query::<Survey>(&q)?.items))
            .await
    }

    async fn last_surveyed(&self, contact: &ContactKey) -> Result<Option<Timestamp>, StoreError> {
        let key = keys::contact_state(contact);
        self.read("last_surveyed", move |r| {
            Ok(r.get::<ContactState>(&key)?.and_then(|s| s.last_surveyed()))
        })
        .await
    }
}
