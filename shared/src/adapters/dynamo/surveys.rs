//! [`SurveyStore`] on DynamoDB.
//!
//! Survey items carry a revision (`rev`); every state change is a put conditional on
//! the revision it read, so concurrent transitions cannot overwrite each other.

use super::{
    DynamoStore, IndexQuery, Item, MAX_RACE_ATTEMPTS, Tx, build, decode, key_item, n, record, s,
};
use crate::adapters::keys;
use crate::adapters::records::{ContactState, SurveyLink, TokenPointer};
use crate::domain::contact::ContactKey;
use crate::domain::ids::SurveyId;
use crate::domain::sending::SurveyChange;
use crate::domain::survey::{Answer, KnownRev, LinkedSurvey, NewSurvey, Survey, SurveyState};
use crate::domain::token::TokenHash;
use crate::ports::{
    AnswerOutcome, CreateOutcome, FatigueGuard, StoreError, SurveyStore, TransitionOutcome,
    WorkList,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use jiff::Timestamp;

const REV: &str = "rev";

impl DynamoStore {
    fn survey_item(&self, op: &'static str, survey: &Survey, rev: u64) -> Result<Item, StoreError> {
        let mut item = record(
            op,
            &keys::survey(&survey.id),
            survey,
            &keys::survey_index(survey),
        )?;
        item.insert(REV.into(), n(rev));
        item.insert(
            super::schema::TTL_ATTRIBUTE.into(),
            self.ttl_from(survey.expires_at),
        );
        Ok(item)
    }

    fn put(&self, op: &'static str, item: Item, condition: &str) -> Result<Put, StoreError> {
        build(
            op,
            Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression(condition)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build(),
        )
    }

    /// The survey and the revision it was read at.
    async fn survey_at_rev(
        &self,
        op: &'static str,
        id: &SurveyId,
    ) -> Result<Option<(Survey, u64)>, StoreError> {
        let Some(item) = self.get_item(op, &keys::survey(id)).await? else {
            return Ok(None);
        };
        let rev = item
            .get(REV)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut survey: Survey = decode(op, item)?;
        survey.rev = KnownRev(Some(rev));
        Ok(Some((survey, rev)))
    }

    /// The caller's copy the first time (`true`: it may be behind), the stored
    /// survey after that.
    async fn copy_or_read(
        &self,
        op: &'static str,
        id: &SurveyId,
        first: &mut Option<(Survey, u64)>,
    ) -> Result<(bool, Option<(Survey, u64)>), StoreError> {
        match first.take() {
            Some(copy) => Ok((true, Some(copy))),
            None => Ok((false, self.survey_at_rev(op, id).await?)),
        }
    }

    /// The copy the caller holds, if it carries the revision it was read at.
    fn known(known: Option<&Survey>) -> Option<(Survey, u64)> {
        known.and_then(|s| s.rev.0.map(|rev| (s.clone(), rev)))
    }

    /// Reads, changes and writes back a survey, conditional on its revision; a lost
    /// race re-reads and re-applies `change`.
    async fn transition(
        &self,
        op: &'static str,
        id: &SurveyId,
        known: Option<&Survey>,
        change: impl Fn(&mut Survey) -> bool + Send + Sync,
    ) -> Result<TransitionOutcome, StoreError> {
        // A current copy saves the read; a stale one fails the condition and the
        // survey is read as usual.
        let mut first = Self::known(known);
        for _ in 0..MAX_RACE_ATTEMPTS {
            let (from_copy, read) = self.copy_or_read(op, id, &mut first).await?;
            let Some((mut survey, rev)) = read else {
                return Ok(TransitionOutcome::NotFound);
            };
            if !change(&mut survey) {
                if from_copy {
                    continue; // The copy may be behind: decide on the stored survey.
                }
                return Ok(TransitionOutcome::WrongState(survey));
            }
            let result = self
                .client
                .put_item()
                .table_name(self.table())
                .set_item(Some(self.survey_item(op, &survey, rev + 1)?))
                .condition_expression("#rev = :rev")
                .expression_attribute_names("#rev", REV)
                .expression_attribute_values(":rev", n(rev))
                .send()
                .await;
            match result {
                Ok(_) => {
                    survey.rev = KnownRev(Some(rev + 1));
                    return Ok(TransitionOutcome::Done(survey));
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    continue;
                }
                Err(e) => return Err(StoreError::unavailable(op, e)),
            }
        }
        Err(StoreError::unavailable(
            op,
            "survey kept changing under concurrent writes",
        ))
    }

    /// One answer in one transaction, reading nothing first: the survey marked
    /// answered (conditional on a state that accepts an answer), the answer put
    /// (conditional on there being none; its INSERT is the stream record routing
    /// consumes) and every link's copy marked answered (conditional on the links
    /// being the ones `link` lists: a link added meanwhile sends it round again).
    /// A closed survey costs one read, to say why.
    async fn answer_via(
        &self,
        link: &LinkedSurvey,
        answer: Answer,
        now: Timestamp,
    ) -> Result<AnswerOutcome, StoreError> {
        const OP: &str = "record_answer";
        let mut link = link.clone();
        for _ in 0..MAX_RACE_ATTEMPTS {
            if !link.is_open_at(now) {
                return self.why_closed(OP, &link.id).await;
            }
            let mut items = vec![
                TransactWriteItem::builder()
                    .update(self.mark_answered(OP, &link.id, answer.answered_at)?)
                    .build(),
                TransactWriteItem::builder()
                    .put(self.put(
                        OP,
                        self.answer_item(OP, &answer)?,
                        "attribute_not_exists(pk)",
                    )?)
                    .build(),
            ];
            let at = attribute(OP, &answer.answered_at)?;
            for hash in &link.links {
                items.push(self.link_copy_update(
                    OP,
                    hash,
                    ("answered_at", at.clone()),
                    link.links.len(),
                    false,
                )?);
            }
            let tx = self.transact(OP, items).await?;
            if let Some(reason) = tx.failed(1)
                && let Some(old) = reason.old.clone()
            {
                return Ok(AnswerOutcome::AlreadyAnswered(decode(OP, old)?));
            }
            if let Some(reason) = tx.failed(0) {
                return match reason.old.clone() {
                    None => Ok(AnswerOutcome::NotFound),
                    Some(old) => {
                        let survey: Survey = decode(OP, old)?;
                        match self.answer(&survey.id).await? {
                            Some(first) => Ok(AnswerOutcome::AlreadyAnswered(first)),
                            None => Ok(AnswerOutcome::NotOpen(survey)),
                        }
                    }
                };
            }
            if matches!(tx, Tx::Committed) {
                return Ok(AnswerOutcome::Recorded(answer));
            }
            // A link was added (or erased) since `link` was read: read its copy again.
            let Some(hash) = link.links.first().cloned() else {
                break;
            };
            match self.get::<TokenPointer>(OP, &keys::token(&hash)).await? {
                Some(TokenPointer {
                    page: Some(fresh), ..
                }) => link = fresh,
                _ => return Ok(AnswerOutcome::NotFound),
            }
        }
        Err(StoreError::unavailable(
            OP,
            "the survey's links kept changing under the answer",
        ))
    }

    /// `answered`, written without reading the survey: only from a state that
    /// accepts an answer, leaving the send and expiry work lists (an answered
    /// survey is listed only under its person, see [`keys::ANSWERED_LEAVES`]).
    fn mark_answered(
        &self,
        op: &'static str,
        id: &SurveyId,
        at: Timestamp,
    ) -> Result<Update, StoreError> {
        let open = [
            SurveyState::Sent,
            SurveyState::Sending,
            SurveyState::SendUnknown,
        ];
        let removed: Vec<&str> = keys::ANSWERED_LEAVES
            .iter()
            .flat_map(|i| [i.pk_attr(), i.sk_attr()])
            .collect();
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::survey(id))))
            .update_expression(format!(
                "SET #state = :answered, answered_at = :at, #rev = if_not_exists(#rev, :zero) + :one REMOVE {}",
                removed.join(", ")
            ))
            .condition_expression("#state IN (:open0, :open1, :open2)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#rev", REV)
            .expression_attribute_values(":answered", attribute(op, &SurveyState::Answered)?)
            .expression_attribute_values(":at", attribute(op, &at)?)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (i, state) in open.iter().enumerate() {
            update = update.expression_attribute_values(format!(":open{i}"), attribute(op, state)?);
        }
        build(op, update.build())
    }

    fn answer_item(&self, op: &'static str, answer: &Answer) -> Result<Item, StoreError> {
        let mut item = record(
            op,
            &keys::answer(&answer.survey_id),
            answer,
            &keys::answer_index(answer),
        )?;
        item.insert(
            super::schema::TTL_ATTRIBUTE.into(),
            self.ttl_from(answer.answered_at),
        );
        item.insert("record".into(), s("answer"));
        Ok(item)
    }

    /// One field of a link's copy set (`SET page.<field>`), conditional on the link
    /// still existing with a copy that lists `links` links (and, when `unanswered`,
    /// that says the survey is not answered): the copies of one survey change
    /// together or not at all.
    fn link_copy_update(
        &self,
        op: &'static str,
        hash: &TokenHash,
        (field, value): (&str, AttributeValue),
        links: usize,
        unanswered: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        // Every path element by name: no attribute can collide with a reserved word.
        let mut condition = "attribute_exists(pk) AND size(#page.#links) = :n".to_string();
        if unanswered {
            condition.push_str(" AND attribute_not_exists(#page.#answered)");
        }
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::token(hash))))
            .update_expression("SET #page.#field = :value")
            .condition_expression(condition)
            .expression_attribute_names("#page", PAGE)
            .expression_attribute_names("#field", field)
            .expression_attribute_names("#links", "links")
            .expression_attribute_values(":value", value)
            .expression_attribute_values(":n", n(links));
        let update = if unanswered {
            update.expression_attribute_names("#answered", "answered_at")
        } else {
            update
        }
        .build();
        Ok(TransactWriteItem::builder()
            .update(build(op, update)?)
            .build())
    }

    /// Why a survey does not take an answer (one read of its answer, then of the
    /// survey if there is none).
    async fn why_closed(
        &self,
        op: &'static str,
        id: &SurveyId,
    ) -> Result<AnswerOutcome, StoreError> {
        if let Some(first) = self.answer(id).await? {
            return Ok(AnswerOutcome::AlreadyAnswered(first));
        }
        Ok(match self.survey_at_rev(op, id).await? {
            Some((survey, _)) => AnswerOutcome::NotOpen(survey),
            None => AnswerOutcome::NotFound,
        })
    }

    /// The pointer item of a link: the page's copy of `survey` when the survey's
    /// links carry one (`links`), a bare pointer otherwise.
    fn pointer_item(
        &self,
        op: &'static str,
        survey: &Survey,
        hash: &TokenHash,
        page: Option<LinkedSurvey>,
    ) -> Result<Item, StoreError> {
        let mut item = record(
            op,
            &keys::token(hash),
            &TokenPointer {
                survey_id: survey.id.clone(),
                page,
            },
            &[],
        )?;
        item.insert(
            super::schema::TTL_ATTRIBUTE.into(),
            self.ttl_from(survey.expires_at),
        );
        Ok(item)
    }
}

/// The attribute a link pointer keeps the page's copy of its survey under.
const PAGE: &str = "page";

fn attribute<T: serde::Serialize>(
    op: &'static str,
    value: &T,
) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(|e| StoreError::corrupt(op, e))
}

#[async_trait]
impl SurveyStore for DynamoStore {
    async fn create(
        &self,
        new: NewSurvey,
        fatigue: Option<FatigueGuard>,
    ) -> Result<CreateOutcome, StoreError> {
        const OP: &str = "create_survey";
        let survey = Survey::from_new(new);
        let page = LinkedSurvey::of(&survey, vec![survey.token_hash.clone()]);
        let token = self.pointer_item(OP, &survey, &survey.token_hash, Some(page))?;
        let mut items = vec![
            TransactWriteItem::builder()
                .put(self.put(
                    OP,
                    self.survey_item(OP, &survey, 0)?,
                    "attribute_not_exists(pk)",
                )?)
                .build(),
            TransactWriteItem::builder()
                .put(self.put(OP, token, "attribute_not_exists(pk)")?)
                .build(),
        ];
        if let Some(guard) = &fatigue {
            let update = Update::builder()
                .table_name(self.table())
                .set_key(Some(key_item(&keys::contact_state(&survey.contact_key))))
                .update_expression("SET last_surveyed_ms = :now")
                .condition_expression(
                    "attribute_not_exists(last_surveyed_ms) OR last_surveyed_ms <= :since",
                )
                .expression_attribute_values(":now", n(guard.surveyed_at.as_millisecond()))
                .expression_attribute_values(":since", n(guard.not_since.as_millisecond()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build();
            items.push(
                TransactWriteItem::builder()
                    .update(build(OP, update)?)
                    .build(),
            );
        }
        let tx = self.transact(OP, items).await?;
        if let Some(reason) = tx.failed(0) {
            return match reason.old.clone() {
                Some(old) => Ok(CreateOutcome::Duplicate(decode(OP, old)?)),
                None => Err(StoreError::unavailable(
                    OP,
                    "duplicate survey without its old image",
                )),
            };
        }
        if let Some(reason) = tx.failed(2) {
            let state: ContactState = reason
                .old
                .clone()
                .map(|old| decode(OP, old))
                .transpose()?
                .unwrap_or_default();
            return match state.last_surveyed() {
                Some(last) => Ok(CreateOutcome::Fatigued {
                    last_surveyed_at: last,
                }),
                None => Err(StoreError::unavailable(
                    OP,
                    "fatigue check failed without a last-surveyed time",
                )),
            };
        }
        if tx.failed(1).is_some() {
            return Err(StoreError::unavailable(
                OP,
                "token hash collision; retry with a fresh token",
            ));
        }
        Ok(CreateOutcome::Created(Survey {
            rev: KnownRev(Some(0)),
            ..survey
        }))
    }

    async fn get(&self, id: &SurveyId) -> Result<Option<Survey>, StoreError> {
        self.get("get_survey", &keys::survey(id)).await
    }

    /// One `GetItem`: the pointer carries the page's copy. A pointer written
    /// before pointers carried one is followed to the survey (a second read).
    async fn find_by_token(&self, hash: &TokenHash) -> Result<Option<LinkedSurvey>, StoreError> {
        const OP: &str = "find_by_token";
        match self.get::<TokenPointer>(OP, &keys::token(hash)).await? {
            Some(TokenPointer {
                page: Some(page), ..
            }) => Ok(Some(page)),
            Some(TokenPointer { survey_id, .. }) => Ok(self
                .survey_at_rev(OP, &survey_id)
                .await?
                .map(|(survey, _)| LinkedSurvey::of(&survey, Vec::new()))),
            None => Ok(None),
        }
    }

    async fn answer(&self, id: &SurveyId) -> Result<Option<Answer>, StoreError> {
        self.get("get_answer", &keys::answer(id)).await
    }

    async fn surveys_of_person(
        &self,
        person: &crate::domain::contact::ContactKey,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<Survey>, StoreError> {
        self.query_index(
            "surveys_of_person",
            super::IndexQuery {
                index: keys::Index::Gsi3,
                pk: keys::person_surveys(person),
                below: None,
                reverse: false,
                limit: page.clamped_limit(),
                cursor: page.cursor,
            },
        )
        .await
    }

    /// One strongly consistent read of the survey's partition (the survey, its
    /// answer and the records of its extra links), then one transaction deletes all
    /// of them and every link pointer.
    async fn erase_survey(&self, survey: &Survey) -> Result<bool, StoreError> {
        const OP: &str = "erase_survey";
        let partition = keys::survey(&survey.id).pk;
        let out = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&partition))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::unavailable(OP, e))?;
        let mut doomed = vec![keys::token(&survey.token_hash)];
        let mut had_answer = false;
        for item in out.items.unwrap_or_default() {
            let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()).cloned() else {
                continue;
            };
            if sk.starts_with(keys::LINK_PREFIX) {
                let link: SurveyLink = decode(OP, item)?;
                doomed.push(keys::token(&link.token_hash));
            }
            had_answer |= sk == keys::ANSWER_SK;
            doomed.push(keys::Key {
                pk: partition.clone(),
                sk,
            });
        }
        if !doomed.contains(&keys::survey(&survey.id)) {
            doomed.push(keys::survey(&survey.id));
        }
        let delete = |key: &keys::Key| -> Result<TransactWriteItem, StoreError> {
            Ok(TransactWriteItem::builder()
                .delete(build(
                    OP,
                    aws_sdk_dynamodb::types::Delete::builder()
                        .table_name(self.table())
                        .set_key(Some(super::key_item(key)))
                        .build(),
                )?)
                .build())
        };
        // A transaction holds at most 100 items; a survey has a handful of links.
        for chunk in doomed.chunks(100) {
            let items = chunk.iter().map(delete).collect::<Result<Vec<_>, _>>()?;
            self.transact(OP, items).await?;
        }
        Ok(had_answer)
    }

    async fn record_erasure(
        &self,
        erasure: &crate::domain::survey::ErasureRecord,
    ) -> Result<(), StoreError> {
        let key = keys::erasure(&erasure.person, erasure.at);
        self.put_record("record_erasure", &key, erasure, &[]).await
    }

    async fn erasures(
        &self,
        person: &crate::domain::contact::ContactKey,
    ) -> Result<Vec<crate::domain::survey::ErasureRecord>, StoreError> {
        const OP: &str = "erasures";
        let pk = keys::erasure(person, Timestamp::UNIX_EPOCH).pk;
        let out = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::unavailable(OP, e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| super::decode(OP, i))
            .collect()
    }

    async fn list_answers(
        &self,
        kind: crate::domain::survey::SurveyKind,
        month: &str,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<Answer>, StoreError> {
        self.query_index(
            "list_answers",
            super::IndexQuery {
                index: keys::Index::Gsi1,
                pk: keys::answers_by_month(kind, month),
                below: None,
                reverse: false,
                limit: page.clamped_limit(),
                cursor: page.cursor,
            },
        )
        .await
    }

    /// One read of the survey's first link (its copy lists every link), then one
    /// transaction: the new pointer (unless it exists) with the copy, the link
    /// record beside the survey that lets an erasure find it, and the longer list
    /// on every earlier link, conditional on their copies being as read.
    async fn add_token(&self, survey: &Survey, hash: &TokenHash) -> Result<(), StoreError> {
        const OP: &str = "add_token";
        for _ in 0..MAX_RACE_ATTEMPTS {
            let first: Option<TokenPointer> =
                self.get(OP, &keys::token(&survey.token_hash)).await?;
            // A first link without a copy (written before links carried one): the
            // new one reads the survey too.
            let copy = first.and_then(|p| p.page);
            if copy.as_ref().is_some_and(|c| c.links.contains(hash)) {
                return Ok(());
            }
            let (page, earlier) = match copy {
                Some(mut c) => {
                    let earlier = std::mem::take(&mut c.links);
                    c.links = earlier.iter().cloned().chain([hash.clone()]).collect();
                    (Some(c), earlier)
                }
                None => (None, Vec::new()),
            };
            let mut link = record(
                OP,
                &keys::survey_link(&survey.id, hash),
                &SurveyLink {
                    token_hash: hash.clone(),
                },
                &[],
            )?;
            link.insert(
                super::schema::TTL_ATTRIBUTE.into(),
                self.ttl_from(survey.expires_at),
            );
            let answered = page.as_ref().and_then(|p| p.answered_at);
            let all = page.as_ref().map(|p| p.links.clone()).unwrap_or_default();
            let mut items = vec![
                TransactWriteItem::builder()
                    .put(self.put(
                        OP,
                        self.pointer_item(OP, survey, hash, page)?,
                        "attribute_not_exists(pk)",
                    )?)
                    .build(),
                TransactWriteItem::builder()
                    .put(build(
                        OP,
                        Put::builder()
                            .table_name(self.table())
                            .set_item(Some(link))
                            .build(),
                    )?)
                    .build(),
            ];
            let all = attribute(OP, &all)?;
            for other in &earlier {
                // An answer recorded since the read must reach the new copy too.
                items.push(self.link_copy_update(
                    OP,
                    other,
                    ("links", all.clone()),
                    earlier.len(),
                    answered.is_none(),
                )?);
            }
            let tx = self.transact(OP, items).await?;
            // Cancelled on the new pointer's condition: the link was added before.
            if matches!(tx, Tx::Committed) || tx.failed(0).is_some() {
                return Ok(());
            }
            // An earlier link's copy changed since the read: read it again.
        }
        Err(StoreError::unavailable(
            OP,
            "the survey's links kept changing under a new link",
        ))
    }

    async fn apply(
        &self,
        id: &SurveyId,
        change: SurveyChange,
    ) -> Result<TransitionOutcome, StoreError> {
        self.transition("survey_change", id, None, |s| s.apply(&change))
            .await
    }

    async fn apply_to(
        &self,
        known: &Survey,
        change: SurveyChange,
    ) -> Result<TransitionOutcome, StoreError> {
        self.transition("survey_change", &known.id, Some(known), |s| {
            s.apply(&change)
        })
        .await
    }

    async fn record_answer(
        &self,
        link: &LinkedSurvey,
        answer: Answer,
        now: Timestamp,
    ) -> Result<AnswerOutcome, StoreError> {
        self.answer_via(link, answer, now).await
    }

    async fn due(
        &self,
        list: WorkList,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Survey>, StoreError> {
        let list = keys::work_list(list);
        let page = self
            .query_index(
                list.operation,
                IndexQuery {
                    index: list.index,
                    pk: list.pk.to_string(),
                    below: Some(keys::up_to(until)),
                    reverse: false,
                    limit,
                    cursor: None,
                },
            )
            .await?;
        Ok(page.items)
    }

    async fn last_surveyed(&self, contact: &ContactKey) -> Result<Option<Timestamp>, StoreError> {
        let state: Option<ContactState> = self
            .get("last_surveyed", &keys::contact_state(contact))
            .await?;
        Ok(state.and_then(|s| s.last_surveyed()))
    }
}
