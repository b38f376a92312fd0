//! Erasure that erases: a debtor and a creditor contact go through the whole product
//! (SMS and answer with a comment, a reminder's second link, a lead's note about the
//! debtor; the contact's import, NPS email, second link and answer), then both are
//! erased on request. Every byte the store holds is then searched for the planted
//! values: on the embedded store every file of the data directory (the redb file is
//! compacted by the erasure, so freed pages do not keep them), on DynamoDB every item
//! of the table. Before the erasure the same search finds them, so it can fail.
//!
//! Not searched: the local outbox file, which stands in for what the SMS and email
//! providers keep of a sent message (in AWS that is SNS's and SES's, outside
//! Kundpuls's table; the README's data-protection section says so).

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use kundpuls::app::Services;
use kundpuls::app::routing::FEED_CONSUMER;
use kundpuls::app::triage::FeedbackPatch;
use kundpuls::domain::backlog::NOTE_ERASED;
use kundpuls::domain::ids::{ClientId, ContactId};
use kundpuls::domain::score::{NpsScore, Score};
use kundpuls::domain::stats::{CounterField, CounterKey, Dimension};
use kundpuls::domain::survey::{Answer, AnswerInput, SurveyKind};
use kundpuls::domain::token::SurveyToken;
use kundpuls::ports::PageRequest;
use kundpuls_tests::answers::answer;
use kundpuls_tests::journey::{self, CLIENT, Planted, always};
use kundpuls_tests::{Backend, Harness, app};

/// Everything the store holds, as bytes: the data directory's files but the
/// outbox, or every item of the table.
async fn stored_bytes(h: &Harness) -> Vec<u8> {
    match &h.backend {
        Backend::Embedded { dir, .. } => {
            let mut out = Vec::new();
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() && path.file_name().unwrap() != "outbox.jsonl" {
                    out.extend(std::fs::read(&path).unwrap());
                }
            }
            out
        }
        Backend::Dynamo { sdk, table, .. } => {
            let client = aws_sdk_dynamodb::Client::new(sdk);
            let mut out = Vec::new();
            let mut start = None;
            loop {
                let page = client
                    .scan()
                    .table_name(table)
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .unwrap();
                for item in page.items() {
                    out.extend(format!("{item:?}\n").into_bytes());
                }
                start = page.last_evaluated_key().cloned();
                if start.is_none() {
                    return out;
                }
            }
        }
    }
}

/// The embedded store's answer feed.
fn feed(h: &Harness) -> &kundpuls::adapters::embedded::EmbeddedStore {
    match &h.backend {
        Backend::Embedded { store, .. } => store,
        Backend::Dynamo { .. } => panic!("the answer feed is the embedded store's"),
    }
}

fn find(haystack: &[u8], needle: &str) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    find(haystack, needle).is_some()
}

async fn erased_values_are_nowhere_in_the_store(h: &Harness, services: &Services) {
    let p = Planted::new();
    let lived = journey::live(h, services, &p).await;
    let now = Timestamp::now();
    let embedded = matches!(h.backend, Backend::Embedded { .. });

    // A reminder draws a second link to the debtor's survey.
    let second = SurveyToken::generate();
    h.store
        .add_token(&lived.survey, &second.hash())
        .await
        .unwrap();
    // The lead writes a note about the debtor on the feedback item.
    let item_id = lived.answer.feedback_id();
    let item = h.store.get_feedback(&item_id).await.unwrap().unwrap();
    let note = format!("Ringde {} om {}", p.phone, p.comment);
    let patch = FeedbackPatch {
        note: Some(note.clone()),
        ..Default::default()
    };
    services
        .update_feedback(&item_id, item.version, &patch, "lead-1", now, &|_| true)
        .await
        .unwrap();
    if embedded {
        // The router has read the debtor's answer: the feed moves past it.
        services
            .drain_feed(feed(h), FEED_CONSUMER, now)
            .await
            .unwrap();
    }

    // The contact got their NPS email; a reminder drew a second link; they answer.
    let contact_person = services.keyer.person_key(&p.contact);
    let nps = h
        .store
        .surveys_of_person(&contact_person, PageRequest::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(nps.len(), 1, "the contact's NPS survey was sent");
    let nps = &nps[0];
    let nps_second = SurveyToken::generate();
    h.store.add_token(nps, &nps_second.hash()).await.unwrap();
    let nps_comment = format!("{} svarar aldrig på mejl NPSPLANTED", p.name);
    let nps_link = h
        .store
        .find_by_token(&nps_second.hash())
        .await
        .unwrap()
        .unwrap();
    let nps_answer = Answer::new(
        &nps_link,
        AnswerInput {
            score: Score::Nps(NpsScore::try_from(3u8).unwrap()),
            comment: Some(nps_comment.clone()),
            resolved_first_contact: None,
            suspect: vec![],
            answered_at: now,
        },
    );
    h.store
        .record_answer(&nps_link, nps_answer.clone(), now)
        .await
        .unwrap();
    if !embedded {
        // On DynamoDB the stream function routes it; here it is routed directly.
        // On the embedded store it waits in the answer feed, unread.
        services.route_answer(&nps_answer).await.unwrap();
    }

    let secrets = [
        p.phone.clone(),
        p.comment.clone(),
        "Åsa ringde".to_string(),
        p.email.clone(),
        p.name.clone(),
        p.contact.clone(),
        nps_comment.clone(),
        lived.survey.token_hash.as_str().to_string(),
        second.hash().as_str().to_string(),
        nps.token_hash.as_str().to_string(),
        nps_second.hash().as_str().to_string(),
    ];
    let before = stored_bytes(h).await;
    for secret in [
        &p.comment,
        &p.email,
        &p.name,
        &nps_comment,
        &second.hash().as_str().to_string(),
    ] {
        assert!(
            holds(&before, secret),
            "before the erasure the search finds {secret}"
        );
    }

    if embedded {
        // Others answer after them: the person's records now lie in the middle of
        // the file, where freed pages are not simply cut off its end.
        for i in 0..200 {
            let comment = "Bra bemötande, men väntetiden i telefon var lång idag";
            answer(h, services, 100 + i, 4, Some(comment), false).await;
        }
    }
    let debtor = services
        .erase_person(&p.debtor, "admin-1", now)
        .await
        .unwrap();
    assert_eq!(
        (debtor.surveys, debtor.answers, debtor.feedback_items),
        (1, 1, 1)
    );
    let contact = services
        .erase_person(&p.contact, "admin-1", now)
        .await
        .unwrap();
    assert_eq!(
        (contact.surveys, contact.answers, contact.contacts),
        (1, 1, 1)
    );

    let after = stored_bytes(h).await;
    for secret in &secrets {
        if let Some(at) = find(&after, secret) {
            let context = &after[at.saturating_sub(120)..(at + secret.len() + 60).min(after.len())];
            panic!(
                "after the erasure the store still holds {secret}: …{}…",
                String::from_utf8_lossy(context)
            );
        }
    }
    // Neither link opens anything; the contact is out of the wave; the note's
    // entry says who wrote one and when, not what.
    assert!(
        h.store
            .find_by_token(&second.hash())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        h.store
            .find_by_token(&nps_second.hash())
            .await
            .unwrap()
            .is_none()
    );
    let client = ClientId::parse(CLIENT).unwrap();
    let contact_id = ContactId::parse(&p.contact).unwrap();
    assert!(
        h.store
            .get_creditor(&client, &contact_id)
            .await
            .unwrap()
            .is_none()
    );
    let month = now.to_zoned(jiff::tz::TimeZone::UTC).month() as u8;
    let wave = h
        .store
        .creditors_in_wave(month, PageRequest::first(200))
        .await
        .unwrap();
    assert!(wave.items.iter().all(|c| c.contact_id != contact_id));
    let log = h.store.feedback_activity(&item_id).await.unwrap();
    let noted: Vec<_> = log.iter().filter(|a| a.action.contains("note: ")).collect();
    assert_eq!(noted.len(), 1);
    assert!(noted[0].action.ends_with(NOTE_ERASED));
    assert_eq!(noted[0].actor, "lead-1");

    if embedded {
        // The contact's answer is still counted once, without its words.
        let key = CounterKey::new(
            SurveyKind::Nps,
            &now.strftime("%Y-%m").to_string(),
            Dimension::All,
            "all",
        );
        let n = CounterField::from_key("n").unwrap();
        let counted = h.store.read(&key).await.unwrap().get(&n);
        services
            .drain_feed(feed(h), FEED_CONSUMER, now)
            .await
            .unwrap();
        assert_eq!(h.store.read(&key).await.unwrap().get(&n), counted + 1);
        let item = h
            .store
            .get_feedback(&nps_answer.feedback_id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(item.comment, None);
        assert!(!holds(&stored_bytes(h).await, &nps_comment));
    }
}

#[tokio::test]
async fn erasure_leaves_no_byte_behind_on_the_embedded_store() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, always());
    erased_values_are_nowhere_in_the_store(&h, &services).await;
}

#[tokio::test]
async fn erasure_leaves_no_byte_behind_on_dynamodb() {
    let h = Harness::dynamodb().await;
    let from = format!("nps-{}@nordkredit.example", uuid::Uuid::new_v4().simple());
    let services = app::aws(&h, always(), &from).await;
    erased_values_are_nowhere_in_the_store(&h, &services).await;
}
