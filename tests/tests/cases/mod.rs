//! The conformance cases. Each takes a fresh [`Harness`] and reads GIVEN / WHEN / THEN.

#![allow(clippy::unwrap_used)]

use jiff::SignedDuration;
use kundpuls::domain::backlog::{FeedbackStatus, Improvement, ImprovementStatus};
use kundpuls::domain::creditor::{CreditorContact, CreditorContactInput};
use kundpuls::domain::ids::{ClientId, ContactId, FeedbackId, ImprovementId, SurveyId, TeamId};
use kundpuls::domain::sending::SurveyChange;
use kundpuls::domain::stats::{
    CounterField, CounterKey, Dimension, answer_effect_id, increments_for_answer,
};
use kundpuls::domain::survey::{Claim, LinkedSurvey, Survey, SurveyKind, SurveyState};
use kundpuls::domain::token::SurveyToken;
use kundpuls::ports::{
    AnswerFeed, AnswerOutcome, ApplyOutcome, CreateOutcome, FatigueGuard, FeedCursor,
    FeedbackQuery, FeedbackScope, PageRequest, SaveOutcome, StoreError, TransitionOutcome,
    VersionedWrite, WorkList,
};
use kundpuls_tests::fixtures::*;
use kundpuls_tests::{Backend, Harness};
use std::collections::BTreeSet;

/// Creates a survey and marks it sent at [`now`].
async fn sent_survey(h: &Harness, event: &str, contact: u32) -> (Survey, SurveyToken) {
    let (new, token) = csat_survey(event, contact);
    let CreateOutcome::Created(survey) = h.store.create(new, None).await.unwrap() else {
        panic!("expected a new survey");
    };
    let TransitionOutcome::Done(sent) = mark_sent(h.store.as_ref(), &survey.id, now()).await else {
        panic!("expected the survey to be sent");
    };
    (sent, token)
}

fn guard() -> FatigueGuard {
    FatigueGuard {
        not_since: now() - days(14),
        surveyed_at: now(),
    }
}

pub async fn create_is_idempotent_under_ten_sequential_replays(h: &Harness) {
    // GIVEN one case-step event, WHEN it is delivered ten times (each with a fresh token)
    let mut created = Vec::new();
    let mut duplicates = Vec::new();
    for _ in 0..10 {
        let (new, _) = csat_survey("evt-1", 1);
        match h.store.create(new, Some(guard())).await.unwrap() {
            CreateOutcome::Created(s) => created.push(s),
            CreateOutcome::Duplicate(s) => duplicates.push(s),
            CreateOutcome::Fatigued { .. } => panic!("a replay must be a duplicate, not fatigue"),
        }
    }
    // THEN one survey exists and every replay returns it unchanged
    assert_eq!(created.len(), 1);
    assert_eq!(duplicates.len(), 9);
    assert!(duplicates.iter().all(|d| d == &created[0]));
    let stored = h.store.get(&created[0].id).await.unwrap().unwrap();
    assert_eq!(stored, created[0]);
}

pub async fn create_is_idempotent_under_ten_concurrent_replays(h: &Harness) {
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = h.store.clone();
            tokio::spawn(async move {
                let (new, _) = csat_survey("evt-2", 2);
                store.create(new, Some(guard())).await.unwrap()
            })
        })
        .collect();
    let mut created = 0;
    let mut ids = BTreeSet::new();
    for t in tasks {
        match t.await.unwrap() {
            CreateOutcome::Created(s) => {
                created += 1;
                ids.insert(s.id);
            }
            CreateOutcome::Duplicate(s) => {
                ids.insert(s.id);
            }
            CreateOutcome::Fatigued { .. } => panic!("a replay must be a duplicate, not fatigue"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1);
}

pub async fn ten_concurrent_claims_on_one_survey_leave_one_holder(h: &Harness) {
    // GIVEN a due survey
    let (new, _) = csat_survey("evt-claims", 21);
    let CreateOutcome::Created(survey) = h.store.create(new, None).await.unwrap() else {
        panic!("created")
    };
    // WHEN ten senders claim it at once
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (store, id) = (h.store.clone(), survey.id.clone());
            tokio::spawn(async move {
                let claim = Claim::new(now() + SignedDuration::from_mins(5));
                let change = SurveyChange::Claim {
                    claim: claim.clone(),
                    now: now(),
                };
                (claim, store.apply(&id, change).await.unwrap())
            })
        })
        .collect();
    let mut holders = Vec::new();
    for t in tasks {
        let (claim, outcome) = t.await.unwrap();
        match outcome {
            TransitionOutcome::Done(_) => holders.push(claim.attempt),
            TransitionOutcome::WrongState(s) => assert!(!s.claimed_by(&claim.attempt)),
            TransitionOutcome::NotFound => panic!("the survey exists"),
        }
    }
    // THEN exactly one holds it, it counts one attempt, and only it may settle it
    assert_eq!(holders.len(), 1, "{holders:?}");
    let stored = h.store.get(&survey.id).await.unwrap().unwrap();
    assert_eq!((stored.state, stored.attempts), (SurveyState::Sending, 1));
    assert!(stored.claimed_by(&holders[0]));
    let stranger = SurveyChange::Sent {
        attempt: "not-the-holder".into(),
        at: now(),
    };
    assert!(matches!(
        h.store.apply(&survey.id, stranger).await.unwrap(),
        TransitionOutcome::WrongState(_)
    ));
    // AND while claimed it is not listed as due to send
    assert!(
        h.store
            .due(WorkList::ToSend, now(), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn token_hash_finds_its_survey_and_nothing_else(h: &Harness) {
    let (survey, token) = sent_survey(h, "evt-3", 3).await;
    let found = h.store.find_by_token(&token.hash()).await.unwrap();
    assert_eq!(found.map(|s| s.id), Some(survey.id.clone()));
    // A second token (a reminder's link) opens the same survey; the first still works.
    let second = SurveyToken::generate();
    h.store.add_token(&survey, &second.hash()).await.unwrap();
    h.store.add_token(&survey, &second.hash()).await.unwrap();
    let via_second = h.store.find_by_token(&second.hash()).await.unwrap();
    assert_eq!(via_second.map(|s| s.id), Some(survey.id.clone()));
    let via_first = h.store.find_by_token(&token.hash()).await.unwrap();
    assert_eq!(via_first.map(|s| s.id), Some(survey.id));
    assert!(
        h.store
            .find_by_token(&SurveyToken::generate().hash())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        h.store
            .get(&SurveyId::parse("s-unknown").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn answer_is_recorded_once_under_a_hundred_concurrent_submits(h: &Harness) {
    // GIVEN a sent survey
    let (survey, _) = sent_survey(h, "evt-4", 4).await;
    let link = kundpuls_tests::opened(h.store.as_ref(), &survey).await;
    // WHEN 100 submits race (double taps, tabs, retries), each with its own comment
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = h.store.clone();
            let link = link.clone();
            tokio::spawn(async move {
                let answer = csat_answer(
                    &link,
                    1 + (i % 5) as u8,
                    Some(&format!("try {i}")),
                    now() + days(1),
                );
                store
                    .record_answer(&link, answer, now() + days(1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut recorded = Vec::new();
    let mut already = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            AnswerOutcome::Recorded(a) => recorded.push(a),
            AnswerOutcome::AlreadyAnswered(a) => already.push(a),
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    // THEN exactly one is recorded, and every other submit sees that one
    assert_eq!(recorded.len(), 1, "exactly one answer is recorded");
    assert_eq!(already.len(), 99);
    assert!(already.iter().all(|a| a == &recorded[0]));
    assert_eq!(
        h.store.answer(&survey.id).await.unwrap().as_ref(),
        Some(&recorded[0])
    );
    let stored = h.store.get(&survey.id).await.unwrap().unwrap();
    assert_eq!(stored.state, SurveyState::Answered);
    // AND the answered survey is no longer waiting to expire
    assert!(
        h.store
            .due(WorkList::ToExpire, now() + days(30), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn every_link_of_a_survey_shows_its_answer(h: &Harness) {
    // GIVEN a sent survey with a second link (a reminder's), both opened
    let (survey, first) = sent_survey(h, "evt-links", 31).await;
    let second = SurveyToken::generate();
    h.store.add_token(&survey, &second.hash()).await.unwrap();
    let open = |t: SurveyToken| {
        let store = h.store.clone();
        async move { store.find_by_token(&t.hash()).await.unwrap().unwrap() }
    };
    let via_first = open(first.clone()).await;
    let via_second = open(second.clone()).await;
    let at = now() + days(1);
    assert!(via_first.is_open_at(at) && via_second.is_open_at(at));
    // WHEN a third link is drawn after the first two were opened, and the answer is
    // submitted through the second link's copy read before it
    let third = SurveyToken::generate();
    h.store.add_token(&survey, &third.hash()).await.unwrap();
    let answer = csat_answer(&via_second, 4, None, at);
    let AnswerOutcome::Recorded(recorded) = h
        .store
        .record_answer(&via_second, answer, at)
        .await
        .unwrap()
    else {
        panic!("recorded")
    };
    // THEN every link, the one drawn meanwhile among them, shows the survey answered
    for t in [&first, &second, &third] {
        assert_eq!(
            open(t.clone()).await.answered_at,
            Some(at),
            "every link is closed"
        );
    }
    // AND a submit through a copy read before the answer gets the first answer
    let again = csat_answer(&via_first, 1, Some("again"), at);
    match h.store.record_answer(&via_first, again, at).await.unwrap() {
        AnswerOutcome::AlreadyAnswered(a) => assert_eq!(a, recorded),
        other => panic!("expected the first answer, got {other:?}"),
    }
    // AND a link drawn after the answer opens it as answered too
    let fourth = SurveyToken::generate();
    h.store.add_token(&survey, &fourth.hash()).await.unwrap();
    assert_eq!(open(fourth).await.answered_at, Some(at));
}

pub async fn expired_survey_refuses_answers_and_is_listed_for_expiry(h: &Harness) {
    let (survey, _) = sent_survey(h, "evt-5", 5).await;
    let after = survey.expires_at + SignedDuration::from_secs(1);
    // An answer after the link's lifetime is refused.
    let link = kundpuls_tests::opened(h.store.as_ref(), &survey).await;
    let late = csat_answer(&link, 5, None, after);
    assert!(matches!(
        h.store.record_answer(&link, late, after).await.unwrap(),
        AnswerOutcome::NotOpen(_)
    ));
    // It is not due to expire before its time, and is after.
    assert!(
        h.store
            .due(WorkList::ToExpire, survey.expires_at - days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = h.store.due(WorkList::ToExpire, after, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|s| &s.id).collect::<Vec<_>>(),
        vec![&survey.id]
    );
    // Expiring too early is refused; on time it works once.
    assert!(matches!(
        h.store
            .apply(&survey.id, SurveyChange::Expire { now: now() })
            .await
            .unwrap(),
        TransitionOutcome::WrongState(_)
    ));
    assert!(matches!(
        h.store
            .apply(&survey.id, SurveyChange::Expire { now: after })
            .await
            .unwrap(),
        TransitionOutcome::Done(_)
    ));
    assert!(matches!(
        h.store
            .apply(&survey.id, SurveyChange::Expire { now: after })
            .await
            .unwrap(),
        TransitionOutcome::WrongState(_)
    ));
    assert!(
        h.store
            .due(WorkList::ToExpire, after, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        h.store
            .apply(
                &SurveyId::parse("s-nope").unwrap(),
                SurveyChange::Expire { now: after }
            )
            .await
            .unwrap(),
        TransitionOutcome::NotFound
    ));
}

pub async fn scheduled_survey_is_due_from_its_send_time_and_sent_once(h: &Harness) {
    // GIVEN a survey scheduled for tomorrow 09:00
    let (mut new, _) = csat_survey("evt-6", 6);
    let send_at = ts("2026-11-23T08:00:00Z");
    new.send_at = Some(send_at);
    let CreateOutcome::Created(survey) = h.store.create(new, None).await.unwrap() else {
        panic!("expected a new survey");
    };
    assert_eq!(survey.state, SurveyState::Scheduled);
    assert!(survey.recipient.is_some());
    // THEN it is not due now, and is due from its send time
    assert!(
        h.store
            .due(WorkList::ToSend, now(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = h.store.due(WorkList::ToSend, send_at, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, survey.id);
    // WHEN it is sent, THEN it leaves the queue, the recipient is erased, and a second send is refused
    let TransitionOutcome::Done(sent) = mark_sent(h.store.as_ref(), &survey.id, send_at).await
    else {
        panic!("expected sent");
    };
    assert_eq!(sent.state, SurveyState::Sent);
    assert_eq!(sent.recipient, None);
    assert_eq!(
        h.store.get(&survey.id).await.unwrap().unwrap().recipient,
        None
    );
    assert!(
        h.store
            .due(WorkList::ToSend, send_at + days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        mark_sent(h.store.as_ref(), &survey.id, send_at).await,
        TransitionOutcome::WrongState(_)
    ));
}

pub async fn failed_send_erases_the_recipient_and_keeps_the_reason(h: &Harness) {
    let (new, _) = csat_survey("evt-7", 7);
    let CreateOutcome::Created(survey) = h.store.create(new, None).await.unwrap() else {
        panic!("expected a new survey");
    };
    let TransitionOutcome::Done(failed) = h
        .store
        .apply(
            &survey.id,
            SurveyChange::Cancel {
                reason: "invalid_number".into(),
            },
        )
        .await
        .unwrap()
    else {
        panic!("expected failed");
    };
    let stored = h.store.get(&survey.id).await.unwrap().unwrap();
    assert_eq!(stored, failed);
    assert_eq!(stored.state, SurveyState::Failed);
    assert_eq!(stored.failure.as_deref(), Some("invalid_number"));
    assert_eq!(stored.recipient, None);
    assert!(
        h.store
            .due(WorkList::ToSend, now() + days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn reminder_is_noted_once(h: &Harness) {
    // GIVEN a sent NPS survey and a sent CSAT survey (CSAT is never reminded)
    let (mut new, _) = csat_survey("nps-8", 8);
    new.kind = SurveyKind::Nps;
    let CreateOutcome::Created(survey) = h.store.create(new, None).await.unwrap() else {
        panic!("created")
    };
    mark_sent(h.store.as_ref(), &survey.id, now()).await;
    sent_survey(h, "evt-8", 88).await;
    // Candidates for a reminder are those sent at or before the cut-off.
    assert!(
        h.store
            .due(WorkList::ToRemind, now() - days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        h.store
            .due(WorkList::ToRemind, now() + days(5), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        h.store
            .apply(
                &survey.id,
                SurveyChange::Remind {
                    at: now() + days(5)
                }
            )
            .await
            .unwrap(),
        TransitionOutcome::Done(_)
    ));
    assert!(matches!(
        h.store
            .apply(
                &survey.id,
                SurveyChange::Remind {
                    at: now() + days(6)
                }
            )
            .await
            .unwrap(),
        TransitionOutcome::WrongState(_)
    ));
    assert!(
        h.store
            .due(WorkList::ToRemind, now() + days(6), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn opt_out_is_idempotent_and_can_be_undone(h: &Harness) {
    let contact = keyer().key_for(&phone(9));
    assert_eq!(h.store.opted_out_at(&contact).await.unwrap(), None);
    h.store.opt_out(&contact, now()).await.unwrap();
    h.store.opt_out(&contact, now() + days(1)).await.unwrap();
    // The first opt-out is the one kept.
    assert_eq!(h.store.opted_out_at(&contact).await.unwrap(), Some(now()));
    h.store.opt_in(&contact).await.unwrap();
    assert_eq!(h.store.opted_out_at(&contact).await.unwrap(), None);
    // Opting in someone never seen is harmless.
    h.store.opt_in(&keyer().key_for(&phone(10))).await.unwrap();
}

pub async fn a_suppression_is_kept_from_the_first_time_and_apart_from_opt_out(h: &Harness) {
    let contact = keyer().key_for(&phone(12));
    assert_eq!(h.store.suppressed_at(&contact).await.unwrap(), None);
    h.store.suppress(&contact, now()).await.unwrap();
    h.store.suppress(&contact, now() + days(1)).await.unwrap();
    assert_eq!(h.store.suppressed_at(&contact).await.unwrap(), Some(now()));
    // It is not an opt-out, and opting in does not lift it.
    assert_eq!(h.store.opted_out_at(&contact).await.unwrap(), None);
    h.store.opt_out(&contact, now()).await.unwrap();
    h.store.opt_in(&contact).await.unwrap();
    assert_eq!(h.store.suppressed_at(&contact).await.unwrap(), Some(now()));
}

pub async fn fatigue_window_blocks_a_second_survey_to_the_same_contact(h: &Harness) {
    // GIVEN a debtor surveyed now after a call
    let (first, _) = csat_survey("evt-call", 11);
    let contact = first.contact_key.clone();
    assert!(matches!(
        h.store.create(first.clone(), Some(guard())).await.unwrap(),
        CreateOutcome::Created(_)
    ));
    assert_eq!(h.store.last_surveyed(&contact).await.unwrap(), Some(now()));
    // WHEN a reminder step for the same debtor comes three days later
    let later = now() + days(3);
    let (second, _) = csat_survey("evt-reminder", 11);
    let fatigue = FatigueGuard {
        not_since: later - days(14),
        surveyed_at: later,
    };
    // THEN it is refused for fatigue, naming when they were last surveyed
    assert_eq!(
        h.store.create(second.clone(), Some(fatigue)).await.unwrap(),
        CreateOutcome::Fatigued {
            last_surveyed_at: now()
        }
    );
    assert!(
        h.store
            .get(&kundpuls::domain::ids::SurveyId::for_idempotency_key(
                "csat:evt-reminder"
            ))
            .await
            .unwrap()
            .is_none()
    );
    // AND a replay of the first event is still a duplicate, not fatigue
    assert!(matches!(
        h.store.create(first, Some(guard())).await.unwrap(),
        CreateOutcome::Duplicate(_)
    ));
    // AND once the window has passed, the contact can be surveyed again
    let much_later = now() + days(15);
    let outside = FatigueGuard {
        not_since: much_later - days(14),
        surveyed_at: much_later,
    };
    assert!(matches!(
        h.store.create(second, Some(outside)).await.unwrap(),
        CreateOutcome::Created(_)
    ));
    assert_eq!(
        h.store.last_surveyed(&contact).await.unwrap(),
        Some(much_later)
    );
}

pub async fn concurrent_events_for_one_contact_create_one_survey_within_fatigue(h: &Harness) {
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = h.store.clone();
            tokio::spawn(async move {
                let (new, _) = csat_survey(&format!("evt-burst-{i}"), 12);
                store.create(new, Some(guard())).await.unwrap()
            })
        })
        .collect();
    let mut created = 0;
    let mut fatigued = 0;
    for t in tasks {
        match t.await.unwrap() {
            CreateOutcome::Created(_) => created += 1,
            CreateOutcome::Fatigued { .. } => fatigued += 1,
            CreateOutcome::Duplicate(_) => panic!("distinct events are not duplicates"),
        }
    }
    assert_eq!((created, fatigued), (1, 9));
}

pub async fn counters_apply_exactly_once_under_redelivery(h: &Harness) {
    // GIVEN two recorded answers
    let (a, _) = sent_survey(h, "evt-c1", 13).await;
    let (b, _) = sent_survey(h, "evt-c2", 14).await;
    let answer_a = csat_answer(&LinkedSurvey::of(&a, Vec::new()), 5, Some("tack"), now());
    let answer_b = csat_answer(&LinkedSurvey::of(&b, Vec::new()), 2, None, now());
    // WHEN the first is delivered 5 times in a row and 10 times at once, the second once
    for i in 0..5 {
        let outcome = h
            .store
            .apply_once(
                &answer_effect_id(&answer_a),
                &increments_for_answer(&answer_a),
            )
            .await
            .unwrap();
        let expected = if i == 0 {
            ApplyOutcome::Applied
        } else {
            ApplyOutcome::AlreadyApplied
        };
        assert_eq!(outcome, expected, "delivery {i}");
    }
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = h.store.clone();
            let answer = answer_a.clone();
            tokio::spawn(async move {
                store
                    .apply_once(&answer_effect_id(&answer), &increments_for_answer(&answer))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), ApplyOutcome::AlreadyApplied);
    }
    assert_eq!(
        h.store
            .apply_once(
                &answer_effect_id(&answer_b),
                &increments_for_answer(&answer_b)
            )
            .await
            .unwrap(),
        ApplyOutcome::Applied
    );
    // THEN each counts once
    let all = h
        .store
        .read(&CounterKey::new(
            SurveyKind::Csat,
            "2026-11",
            Dimension::All,
            "all",
        ))
        .await
        .unwrap();
    assert_eq!(all.get(&CounterField::Answered), 2);
    assert_eq!(all.get(&CounterField::Score(5)), 1);
    assert_eq!(all.get(&CounterField::Score(2)), 1);
    assert_eq!(all.get(&CounterField::Comments), 1);
    assert_eq!(all.get(&CounterField::FcrYes), 2);
    assert_eq!(all.csat_histogram().0, [0, 1, 0, 0, 1]);
    let team = h
        .store
        .read(&CounterKey::new(
            SurveyKind::Csat,
            "2026-11",
            Dimension::Team,
            "energy",
        ))
        .await
        .unwrap();
    assert_eq!(team.get(&CounterField::Answered), 2);
    let none = h
        .store
        .read(&CounterKey::new(
            SurveyKind::Nps,
            "2026-11",
            Dimension::All,
            "all",
        ))
        .await
        .unwrap();
    assert_eq!(none.get(&CounterField::Answered), 0);
}

pub async fn concurrent_edit_is_reported_as_a_conflict_and_logged_once(h: &Harness) {
    let item = feedback(1, "energy", 1);
    assert!(
        h.store
            .create_feedback(&item, &activity("created"))
            .await
            .unwrap()
    );
    assert!(
        !h.store
            .create_feedback(&item, &activity("created again"))
            .await
            .unwrap()
    );
    // GIVEN two leads who both loaded version 1
    let mut a = item.clone();
    a.status = FeedbackStatus::Triaged;
    let mut b = item.clone();
    b.assignee = Some("lead-2".into());
    // WHEN both save
    assert_eq!(
        h.store
            .save_feedback(&a, 1, &activity("status: new → triaged"))
            .await
            .unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(
        h.store
            .save_feedback(&b, 1, &activity("assignee: lead-2"))
            .await
            .unwrap(),
        SaveOutcome::Conflict { current: 2 }
    );
    // THEN the first edit stands, the second is reported, and the log has what happened
    let stored = h.store.get_feedback(&item.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.status, FeedbackStatus::Triaged);
    assert_eq!(stored.assignee, None);
    let log: Vec<String> = h
        .store
        .feedback_activity(&item.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(log, vec!["created", "status: new → triaged"]);
    let mut ghost = item.clone();
    ghost.id = FeedbackId::parse("fb-ghost").unwrap();
    assert_eq!(
        h.store
            .save_feedback(&ghost, 1, &activity("x"))
            .await
            .unwrap(),
        SaveOutcome::NotFound
    );
}

pub async fn feedback_moves_between_status_listings_when_saved(h: &Harness) {
    let item = feedback(2, "energy", 2);
    h.store
        .create_feedback(&item, &activity("created"))
        .await
        .unwrap();
    let energy = TeamId::parse("energy").unwrap();
    let list = |status| FeedbackQuery {
        scope: FeedbackScope::TeamStatus(energy.clone(), status),
        due_before: None,
    };
    assert_eq!(
        h.store
            .list_feedback(&list(FeedbackStatus::New), PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let mut triaged = item.clone();
    triaged.status = FeedbackStatus::Triaged;
    h.store
        .save_feedback(&triaged, 1, &activity("status"))
        .await
        .unwrap();
    assert!(
        h.store
            .list_feedback(&list(FeedbackStatus::New), PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let now_triaged = h
        .store
        .list_feedback(&list(FeedbackStatus::Triaged), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(now_triaged.items.len(), 1);
    assert_eq!(now_triaged.items[0].version, 2);
}

/// Pages through a listing, collecting ids; fails on a repeat.
async fn collect_pages(h: &Harness, query: &FeedbackQuery, limit: usize) -> Vec<FeedbackId> {
    let mut ids = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let page = h
            .store
            .list_feedback(query, PageRequest { cursor, limit })
            .await
            .unwrap();
        assert!(page.items.len() <= limit);
        ids.extend(page.items.into_iter().map(|i| i.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
    panic!("pagination did not end");
}

pub async fn cursor_pagination_loses_and_repeats_nothing(h: &Harness) {
    // GIVEN 57 items for one team and 5 for another, with due dates in no particular order
    for n in 0..57 {
        h.store
            .create_feedback(&feedback(n, "energy", (n * 7) % 23), &activity("created"))
            .await
            .unwrap();
    }
    for n in 100..105 {
        h.store
            .create_feedback(&feedback(n, "telecom", n), &activity("created"))
            .await
            .unwrap();
    }
    let energy = TeamId::parse("energy").unwrap();
    // WHEN paging by 10 through each index
    for (query, expected) in [
        (
            FeedbackScope::TeamStatus(energy.clone(), FeedbackStatus::New),
            57,
        ),
        (FeedbackScope::Status(FeedbackStatus::New), 62),
        (FeedbackScope::Team(energy.clone()), 57),
    ] {
        let query = FeedbackQuery {
            scope: query,
            due_before: None,
        };
        let ids = collect_pages(h, &query, 10).await;
        // THEN every item appears exactly once
        let unique: BTreeSet<_> = ids.iter().cloned().collect();
        assert_eq!(ids.len(), expected, "{query:?}");
        assert_eq!(unique.len(), expected, "{query:?}");
    }
    // AND status listings are in due-date order, team listings newest first
    let by_due = h
        .store
        .list_feedback(
            &FeedbackQuery {
                scope: FeedbackScope::TeamStatus(energy.clone(), FeedbackStatus::New),
                due_before: None,
            },
            PageRequest::first(57),
        )
        .await
        .unwrap();
    assert!(by_due.items.windows(2).all(|w| w[0].due_on <= w[1].due_on));
    let newest = h
        .store
        .list_feedback(
            &FeedbackQuery {
                scope: FeedbackScope::Team(energy),
                due_before: None,
            },
            PageRequest::first(57),
        )
        .await
        .unwrap();
    assert!(
        newest
            .items
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at)
    );
}

pub async fn overdue_filter_lists_items_due_before_a_date(h: &Harness) {
    for n in 0..10 {
        h.store
            .create_feedback(&feedback(n, "energy", n), &activity("created"))
            .await
            .unwrap();
    }
    // Due dates are 2026-12-01 … 2026-12-10; before the 5th are the 1st to the 4th.
    let query = FeedbackQuery {
        scope: FeedbackScope::Status(FeedbackStatus::New),
        due_before: Some(jiff::civil::date(2026, 12, 5)),
    };
    let page = h
        .store
        .list_feedback(&query, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 4);
    assert!(
        page.items
            .iter()
            .all(|i| i.due_on < jiff::civil::date(2026, 12, 5))
    );
}

pub async fn creditor_wave_pages_cover_every_contact_once(h: &Harness) {
    let mut expected = BTreeSet::new();
    for i in 0..40 {
        let c = CreditorContact::parse(CreditorContactInput {
            client_id: Some(format!("client-{}", i % 3)),
            contact_id: Some(format!("c-{i}")),
            email: Some(format!("person{i}@example.com")),
            name: Some("Karin".into()),
            language: Some("sv".into()),
            industry: Some("energy".into()),
            account_manager: Some("Anna".into()),
            ..Default::default()
        })
        .unwrap();
        expected.insert((c.client_id.to_string(), c.contact_id.to_string()));
        h.store.upsert_creditor(&c).await.unwrap();
        // An upsert replaces, it does not add.
        h.store.upsert_creditor(&c).await.unwrap();
    }
    let mut seen = Vec::new();
    for month in 1..=12 {
        let mut cursor = None;
        loop {
            let page = h
                .store
                .creditors_in_wave(month, PageRequest { cursor, limit: 3 })
                .await
                .unwrap();
            for c in &page.items {
                assert_eq!(c.wave_month(), month);
                seen.push((c.client_id.to_string(), c.contact_id.to_string()));
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
    }
    assert_eq!(seen.len(), 40);
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
    let one = h
        .store
        .get_creditor(
            &ClientId::parse("client-1").unwrap(),
            &ContactId::parse("c-1").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.email.as_str(), "person1@example.com");
}

pub async fn improvements_are_versioned_and_listed_by_status(h: &Harness) {
    let imp = Improvement {
        id: ImprovementId::generate(),
        title: "Payment-plan letter is unclear".into(),
        description: "Rewrite the letter".into(),
        team: TeamId::parse("energy").unwrap(),
        status: ImprovementStatus::Proposed,
        created_at: now(),
        linked: vec![],
        version: 1,
    };
    assert!(
        h.store
            .create_improvement(&imp, &activity("created"))
            .await
            .unwrap()
    );
    let mut planned = imp.clone();
    planned.status = ImprovementStatus::Planned;
    assert_eq!(
        h.store
            .save_improvement(&planned, 1, &activity("planned"))
            .await
            .unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(
        h.store
            .save_improvement(&planned, 1, &activity("planned"))
            .await
            .unwrap(),
        SaveOutcome::Conflict { current: 2 }
    );
    let proposed = h
        .store
        .list_improvements(ImprovementStatus::Proposed, PageRequest::first(10))
        .await
        .unwrap();
    assert!(proposed.items.is_empty());
    let listed = h
        .store
        .list_improvements(ImprovementStatus::Planned, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        h.store
            .get_improvement(&imp.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

pub async fn a_foreign_cursor_is_rejected(h: &Harness) {
    // GIVEN two teams' items, and a real cursor into the first team's queue
    for n in 0..3 {
        h.store
            .create_feedback(&feedback(n, "energy", n), &activity("created"))
            .await
            .unwrap();
        h.store
            .create_feedback(&feedback(n + 10, "telecom", n), &activity("created"))
            .await
            .unwrap();
    }
    let listing = |team: &str| FeedbackQuery {
        scope: FeedbackScope::TeamStatus(TeamId::parse(team).unwrap(), FeedbackStatus::New),
        due_before: None,
    };
    let energy = h
        .store
        .list_feedback(&listing("energy"), PageRequest::first(1))
        .await
        .unwrap();
    let cursor = energy.next.expect("more than one page");
    let page = |query: FeedbackQuery, cursor: &str| {
        let cursor = cursor.to_string();
        async move {
            h.store
                .list_feedback(
                    &query,
                    PageRequest {
                        cursor: Some(cursor),
                        limit: 10,
                    },
                )
                .await
        }
    };
    // THEN it pages its own listing
    let rest = page(listing("energy"), &cursor).await.unwrap();
    assert_eq!(rest.items.len(), 2);
    // AND is refused by another team's queue and by the all-teams listing
    let all = FeedbackQuery {
        scope: FeedbackScope::Status(FeedbackStatus::New),
        due_before: None,
    };
    for (query, what) in [
        (listing("telecom"), "another team"),
        (all, "another listing"),
    ] {
        let err = page(query, &cursor).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidCursor), "{what}: {err:?}");
    }
    // AND a made-up cursor, an unsigned position and a moved position are refused
    let (_, tag) = cursor.split_once('.').expect("position.tag");
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let moved = format!("{}.{tag}", b64("{\"pk\":\"FEEDBACK#x\",\"sk\":\"ITEM\"}"));
    for forged in [
        "not a cursor!".to_string(),
        b64("2026-01-01#x"),
        b64("{\"pk\":\"FEEDBACK#x\",\"sk\":\"ITEM\"}"),
        moved,
    ] {
        let err = page(listing("energy"), &forged).await.unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidCursor),
            "{forged}: {err:?}"
        );
    }
}

pub async fn every_recorded_answer_reaches_the_change_feed(h: &Harness) {
    match &h.backend {
        Backend::Embedded { .. } => embedded_feed_is_durable_and_resumes_after_reopen().await,
        Backend::Dynamo { store, sdk, .. } => {
            let (a, _) = sent_survey(h, "evt-f1", 21).await;
            let (b, _) = sent_survey(h, "evt-f2", 22).await;
            for s in [&a, &b] {
                let link = kundpuls_tests::opened(h.store.as_ref(), s).await;
                let answer = csat_answer(&link, 1, Some("rude"), now());
                assert!(matches!(
                    h.store.record_answer(&link, answer, now()).await.unwrap(),
                    AnswerOutcome::Recorded(_)
                ));
            }
            let ids = stream::answer_inserts(sdk, store.table()).await;
            assert!(ids.contains(&a.id.to_string()), "{ids:?}");
            assert!(ids.contains(&b.id.to_string()), "{ids:?}");
        }
    }
}

/// The embedded feed across a restart: the store is closed and opened again on the
/// same directory, and the consumer resumes after what it committed.
async fn embedded_feed_is_durable_and_resumes_after_reopen() {
    use kundpuls::adapters::embedded::EmbeddedStore;
    use kundpuls::ports::SurveyStore;
    let dir = tempfile::tempdir().unwrap();
    let consumer = "route-feedback";
    let (a, b) = {
        // GIVEN two recorded answers and a refused third
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let mut ids = Vec::new();
        for (event, contact) in [("evt-f1", 21), ("evt-f2", 22)] {
            let (new, _) = csat_survey(event, contact);
            let CreateOutcome::Created(s) = store.create(new, None).await.unwrap() else {
                panic!("created")
            };
            mark_sent(&store, &s.id, now()).await;
            let link = store.find_by_token(&s.token_hash).await.unwrap().unwrap();
            let answer = csat_answer(&link, 1, Some("rude"), now());
            assert!(matches!(
                store.record_answer(&link, answer, now()).await.unwrap(),
                AnswerOutcome::Recorded(_)
            ));
            ids.push(link);
        }
        let again = csat_answer(&ids[0], 5, None, now());
        assert!(matches!(
            store.record_answer(&ids[0], again, now()).await.unwrap(),
            AnswerOutcome::AlreadyAnswered(_)
        ));
        // WHEN the consumer reads both, commits only the first, and the process stops
        let entries = store
            .read_after(store.committed(consumer).await.unwrap(), 100)
            .await
            .unwrap();
        assert_eq!(entries.len(), 2, "one feed entry per recorded answer");
        store.commit(consumer, entries[0].cursor).await.unwrap();
        (ids[0].id.clone(), ids[1].id.clone())
    };
    // THEN after reopening, it resumes with the uncommitted entry only
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let resumed = store
        .read_after(store.committed(consumer).await.unwrap(), 100)
        .await
        .unwrap();
    assert_eq!(
        resumed
            .iter()
            .map(|e| e.answer.survey_id.clone())
            .collect::<Vec<_>>(),
        vec![b.clone()]
    );
    // AND the whole feed is still there, in commit order
    let all = store.read_after(FeedCursor(0), 100).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|e| e.answer.survey_id.clone())
            .collect::<Vec<_>>(),
        vec![a, b]
    );
    // AND a late, older commit does not move the cursor back
    let committed = store.committed(consumer).await.unwrap();
    store.commit(consumer, FeedCursor(0)).await.unwrap();
    assert_eq!(store.committed(consumer).await.unwrap(), committed);
}

mod stream {
    //! Reads the table's DynamoDB stream through the Streams API.

    use aws_sdk_dynamodbstreams::types::ShardIteratorType;

    /// Survey ids of the answer items inserted into the table, per the stream.
    pub async fn answer_inserts(sdk: &aws_config::SdkConfig, table: &str) -> Vec<String> {
        let client = aws_sdk_dynamodbstreams::Client::new(sdk);
        let streams = client
            .list_streams()
            .table_name(table)
            .send()
            .await
            .unwrap();
        let arn = streams.streams()[0].stream_arn().unwrap().to_string();
        let desc = client
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap();
        let mut ids = Vec::new();
        for shard in desc.stream_description().unwrap().shards() {
            let it = client
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id().unwrap())
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap();
            let mut iterator = it.shard_iterator().map(str::to_string);
            for _ in 0..20 {
                let Some(current) = iterator.take() else {
                    break;
                };
                let out = client
                    .get_records()
                    .shard_iterator(current)
                    .send()
                    .await
                    .unwrap();
                if out.records().is_empty() {
                    break;
                }
                for r in out.records() {
                    let Some(rec) = r.dynamodb() else { continue };
                    let Some(image) = rec.new_image() else {
                        continue;
                    };
                    let is_answer = image
                        .get("sk")
                        .and_then(|v| v.as_s().ok())
                        .is_some_and(|s| s == "ANSWER");
                    let inserted = r.event_name().map(|e| e.as_str()) == Some("INSERT");
                    if is_answer
                        && inserted
                        && let Some(id) = image.get("survey_id").and_then(|v| v.as_s().ok())
                    {
                        ids.push(id.clone());
                    }
                }
                iterator = out.next_shard_iterator().map(str::to_string);
            }
        }
        ids
    }
}

pub async fn linking_saves_item_and_improvement_together_or_neither(h: &Harness) {
    // GIVEN a feedback item and an improvement, both at version 1
    let item = feedback(900, "energy", 3);
    h.store
        .create_feedback(&item, &activity("created"))
        .await
        .unwrap();
    let imp = Improvement {
        id: ImprovementId::generate(),
        title: "Letters are unclear".into(),
        description: String::new(),
        team: TeamId::parse("energy").unwrap(),
        status: ImprovementStatus::Proposed,
        created_at: now(),
        linked: vec![],
        version: 1,
    };
    h.store
        .create_improvement(&imp, &activity("created"))
        .await
        .unwrap();
    let mut linked_item = item.clone();
    linked_item.improvement_id = Some(imp.id.clone());
    let mut linked_imp = imp.clone();
    assert!(linked_imp.link(&linked_item));
    let writes = |item_version: u64, imp_version: u64| {
        vec![
            VersionedWrite::Feedback {
                item: Box::new(linked_item.clone()),
                expected_version: item_version,
                activity: activity("linked"),
            },
            VersionedWrite::Improvement {
                item: linked_imp.clone(),
                expected_version: imp_version,
                activity: activity("linked"),
            },
        ]
    };
    // WHEN the second write's version is stale
    assert_eq!(
        h.store.save_all(&writes(1, 7)).await.unwrap(),
        SaveOutcome::Conflict { current: 1 }
    );
    // THEN neither record changed
    let stored = h.store.get_feedback(&item.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.improvement_id), (1, None));
    assert_eq!(h.store.feedback_activity(&item.id).await.unwrap().len(), 1);
    // WHEN both versions are current THEN both are saved with their activity
    assert_eq!(
        h.store.save_all(&writes(1, 1)).await.unwrap(),
        SaveOutcome::Saved
    );
    let stored = h.store.get_feedback(&item.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.improvement_id, Some(imp.id.clone()));
    let stored_imp = h.store.get_improvement(&imp.id).await.unwrap().unwrap();
    assert_eq!((stored_imp.version, stored_imp.linked.len()), (2, 1));
    assert_eq!(h.store.feedback_activity(&item.id).await.unwrap().len(), 2);
}

pub async fn the_lexicon_is_stored_versioned_and_logged(h: &Harness) {
    assert!(h.store.get_lexicon().await.unwrap().is_none());
    let mut lexicon = kundpuls::domain::themes::Lexicon::default();
    let stored = |version: u64, lexicon: &kundpuls::domain::themes::Lexicon| {
        kundpuls::domain::themes::StoredLexicon {
            lexicon: lexicon.clone(),
            version,
            updated_at: now(),
            updated_by: "admin-1".into(),
        }
    };
    assert_eq!(
        h.store
            .save_lexicon(&stored(1, &lexicon), 0, &activity("lexicon saved"))
            .await
            .unwrap(),
        SaveOutcome::Saved
    );
    // A second first-save loses.
    assert_eq!(
        h.store
            .save_lexicon(&stored(1, &lexicon), 0, &activity("lexicon saved"))
            .await
            .unwrap(),
        SaveOutcome::Conflict { current: 1 }
    );
    lexicon
        .0
        .get_mut(&kundpuls::domain::locale::Language::Sv)
        .unwrap()
        .get_mut("payment_plan")
        .unwrap()
        .push("avbetalningsplan".into());
    assert_eq!(
        h.store
            .save_lexicon(&stored(2, &lexicon), 1, &activity("lexicon saved"))
            .await
            .unwrap(),
        SaveOutcome::Saved
    );
    let got = h.store.get_lexicon().await.unwrap().unwrap();
    assert_eq!((got.version, got.lexicon), (2, lexicon));
    assert_eq!(h.store.lexicon_activity().await.unwrap().len(), 2);
}

pub async fn client_settings_are_versioned_and_listed_by_client(h: &Harness) {
    use kundpuls::domain::client::ClientSettingsInput;
    let settings = |id: &str, version: u64| {
        ClientSettingsInput {
            display_name: Some(format!("Client {id}")),
            nps_target: Some(45.0),
            ..Default::default()
        }
        .validate(ClientId::parse(id).unwrap(), version, now(), "admin-1")
        .unwrap()
    };
    // GIVEN three clients created, out of order
    for id in ["telia", "acme", "ellevio"] {
        assert_eq!(
            h.store
                .save_client_settings(&settings(id, 1), 0, &activity("created"))
                .await
                .unwrap(),
            SaveOutcome::Saved
        );
    }
    // THEN a second create is a conflict naming the stored version
    assert_eq!(
        h.store
            .save_client_settings(&settings("acme", 1), 0, &activity("again"))
            .await
            .unwrap(),
        SaveOutcome::Conflict { current: 1 }
    );
    // AND an edit on the current version saves; on a stale one it does not
    let mut edited = settings("acme", 2);
    edited.csat_target = Some(4.4);
    assert_eq!(
        h.store
            .save_client_settings(&edited, 1, &activity("edited"))
            .await
            .unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(
        h.store
            .save_client_settings(&settings("acme", 2), 1, &activity("stale"))
            .await
            .unwrap(),
        SaveOutcome::Conflict { current: 2 }
    );
    let acme = ClientId::parse("acme").unwrap();
    let stored = h.store.get_client_settings(&acme).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.csat_target), (2, Some(4.4)));
    assert_eq!(
        h.store.client_settings_activity(&acme).await.unwrap().len(),
        2
    );
    assert!(
        h.store
            .get_client_settings(&ClientId::parse("nobody").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    // AND the list pages through the clients by id
    let first = h
        .store
        .list_client_settings(PageRequest::first(2))
        .await
        .unwrap();
    let rest = h
        .store
        .list_client_settings(PageRequest {
            cursor: first.next.clone(),
            limit: 2,
        })
        .await
        .unwrap();
    let ids: Vec<String> = first
        .items
        .iter()
        .chain(&rest.items)
        .map(|s| s.client_id.to_string())
        .collect();
    assert_eq!(ids, ["acme", "ellevio", "telia"]);
}
