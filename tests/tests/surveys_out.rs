//! Surveys out: a case step comes in and the right survey goes out, or is rightly not
//! sent. On the embedded store with the file outbox, and end to end on DynamoDB, SNS
//! and SES (moto).

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use kundpuls::app::case_steps::StepOutcome;
use kundpuls::domain::contact::{PhoneNumber, Recipient};
use kundpuls::domain::creditor::{CreditorContact, CreditorContactInput};
use kundpuls::domain::messages::sms;
use kundpuls::domain::policy::SurveyPolicy;
use kundpuls::domain::survey::SurveyState;
use kundpuls::domain::token::SurveyToken;
use kundpuls_tests::events::{dated, event, example_json};
use kundpuls_tests::{Harness, app, moto};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Monday 2026-11-23, 10:00 in Stockholm.
fn monday() -> Timestamp {
    ts("2026-11-23T09:00:00Z")
}

fn token_of(link: &str) -> SurveyToken {
    SurveyToken::parse(link.rsplit('/').next().unwrap()).unwrap()
}

async fn counter(h: &Harness, field: &str) -> u64 {
    kundpuls_tests::csat_counter(h.store.as_ref(), field).await
}

#[tokio::test]
async fn the_design_example_sends_exactly_one_sms_whose_link_opens_its_survey() {
    // GIVEN the local service inside the sending hours
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, SurveyPolicy::default());
    // WHEN the DESIGN.md example event arrives
    let outcome = services
        .handle_case_step(
            &event(&example_json(
                "evt-000123",
                "call_completed",
                "+46701234567",
            )),
            monday(),
        )
        .await
        .unwrap();
    // THEN one SMS is in the outbox, in Swedish, in one segment, with a working link
    let StepOutcome::Sent { survey_id } = outcome else {
        panic!("expected a sent survey, got {outcome:?}")
    };
    let lines = outbox.read_all().unwrap();
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(
        (
            line.channel.as_str(),
            line.to.as_str(),
            line.language.as_str()
        ),
        ("sms", "+46701234567", "sv")
    );
    assert!(
        line.text
            .starts_with("Nordkredit: Hur var kontakten med oss?"),
        "{}",
        line.text
    );
    assert!(line.text.contains(&line.link));
    assert_eq!(sms::size(&line.text).segments, 1);
    let found = h
        .store
        .find_by_token(&token_of(&line.link).hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, survey_id);
    let found = h.store.get(&found.id).await.unwrap().unwrap();
    assert_eq!(found.state, SurveyState::Sent);
    assert_eq!(
        found.recipient, None,
        "the phone number is erased once sent"
    );
    assert_eq!(counter(&h, "sent").await, 1);
    assert_eq!(counter(&h, "decided_send").await, 1);
}

#[tokio::test]
async fn ten_replays_of_one_event_make_one_survey_and_one_sms() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, SurveyPolicy::default());
    let e = event(&example_json(
        "evt-replay",
        "call_completed",
        "+46701234567",
    ));
    let mut outcomes = Vec::new();
    for _ in 0..10 {
        outcomes.push(services.handle_case_step(&e, monday()).await.unwrap());
    }
    assert!(matches!(outcomes[0], StepOutcome::Sent { .. }));
    for o in &outcomes[1..] {
        assert!(
            matches!(o, StepOutcome::Skipped { reason, survey_id: Some(_), state: Some(SurveyState::Sent) } if reason == "duplicate_event"),
            "{o:?}"
        );
    }
    assert_eq!(outbox.read_all().unwrap().len(), 1);
    assert_eq!(
        counter(&h, "decided_send").await,
        1,
        "a decision counts once"
    );
}

#[tokio::test]
async fn every_skip_reason_is_decided_and_counted_once() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, SurveyPolicy::default());
    let mut cases: Vec<(serde_json::Value, &str)> = Vec::new();
    cases.push((
        example_json("e-step", "payment_received", "+46700000001"),
        "step_not_surveyed",
    ));
    for flag in [
        "vulnerable",
        "disputed",
        "deceased",
        "bankruptcy",
        "no_survey",
    ] {
        let mut v = example_json(&format!("e-{flag}"), "call_completed", "+46700000002");
        v["debtor"]["flags"] = serde_json::json!([flag]);
        // Each flagged debtor is a person of their own: a flag protects that person.
        v["debtor"]["debtor_id"] = serde_json::json!(format!("D-{flag}"));
        cases.push((v, Box::leak(format!("flagged_{flag}").into_boxed_str())));
    }
    cases.push((example_json("e-nophone", "call_completed", ""), "no_phone"));
    // Opted out.
    let opted = PhoneNumber::parse("+46700000003").unwrap();
    h.store
        .opt_out(&app::keyer().key_for(&Recipient::Sms(opted)), monday())
        .await
        .unwrap();
    cases.push((
        example_json("e-optout", "call_completed", "+46700000003"),
        "opted_out",
    ));
    for (v, reason) in &cases {
        let outcome = services
            .handle_case_step(&event(v), monday())
            .await
            .unwrap();
        assert!(
            matches!(&outcome, StepOutcome::Skipped { reason: r, .. } if r == reason),
            "{reason}: {outcome:?}"
        );
        // Replaying a skipped event does not count it again.
        services
            .handle_case_step(&event(v), monday())
            .await
            .unwrap();
        assert_eq!(counter(&h, &format!("skip_{reason}")).await, 1, "{reason}");
    }
    // Fatigue: a call, then a reminder three days later for the same debtor.
    let call = services
        .handle_case_step(
            &event(&example_json("e-call", "call_completed", "+46700000004")),
            monday(),
        )
        .await
        .unwrap();
    assert!(matches!(call, StepOutcome::Sent { .. }));
    let later = monday() + jiff::SignedDuration::from_hours(72);
    let reminder = services
        .handle_case_step(
            &event(&dated(
                example_json("e-reminder", "reminder_sent", "+46700000004"),
                later,
            )),
            later,
        )
        .await
        .unwrap();
    assert!(
        matches!(&reminder, StepOutcome::Skipped { reason, .. } if reason == "fatigue"),
        "{reminder:?}"
    );
    assert_eq!(counter(&h, "skip_fatigue").await, 1);
    // Duplicate events and invalid events.
    let dup = services
        .handle_case_step(
            &event(&example_json("e-call", "call_completed", "+46700000004")),
            monday() + jiff::SignedDuration::from_hours(1),
        )
        .await
        .unwrap();
    assert!(matches!(&dup, StepOutcome::Skipped { reason, .. } if reason == "duplicate_event"));
    services
        .count_invalid_event(monday(), "msg-1")
        .await
        .unwrap();
    services
        .count_invalid_event(monday(), "msg-1")
        .await
        .unwrap();
    assert_eq!(counter(&h, "skip_invalid_event").await, 1);
    // Only the call got an SMS.
    assert_eq!(outbox.read_all().unwrap().len(), 1);
}

#[tokio::test]
async fn a_step_outside_the_window_is_scheduled_across_the_dst_change_and_sent_by_the_schedule() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, SurveyPolicy::default());
    // GIVEN a call on Saturday 2026-03-28 at 18:00 in Stockholm (UTC+1); clocks go
    // forward on Sunday
    let saturday_evening = ts("2026-03-28T17:00:00Z");
    let outcome = services
        .handle_case_step(
            &event(&dated(
                example_json("evt-dst", "call_completed", "+46701230000"),
                saturday_evening,
            )),
            saturday_evening,
        )
        .await
        .unwrap();
    // THEN it is scheduled for Monday 09:00 local, now UTC+2
    let monday_nine = ts("2026-03-30T07:00:00Z");
    assert!(
        matches!(&outcome, StepOutcome::Scheduled { send_at, .. } if *send_at == monday_nine),
        "{outcome:?}"
    );
    assert!(outbox.read_all().unwrap().is_empty());
    // AND the schedule sends nothing on Sunday, and sends it on Monday at nine
    let sunday = services
        .run_schedule(ts("2026-03-29T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(sunday.sent, 0);
    let monday_run = services.run_schedule(monday_nine).await.unwrap();
    assert_eq!(monday_run.sent, 1);
    let lines = outbox.read_all().unwrap();
    assert_eq!(lines.len(), 1);
    // The link drawn at send time opens the survey.
    let survey = h
        .store
        .find_by_token(&token_of(&lines[0].link).hash())
        .await
        .unwrap()
        .unwrap();
    let survey = h.store.get(&survey.id).await.unwrap().unwrap();
    assert_eq!(survey.state, SurveyState::Sent);
    // A second tick sends nothing more.
    assert_eq!(services.run_schedule(monday_nine).await.unwrap().sent, 0);
}

#[tokio::test]
async fn an_opt_out_after_scheduling_stops_the_send() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, SurveyPolicy::default());
    let sunday = ts("2026-11-22T09:14:00Z");
    let outcome = services
        .handle_case_step(
            &event(&example_json("evt-sun", "call_completed", "+46701239999")),
            sunday,
        )
        .await
        .unwrap();
    assert!(matches!(outcome, StepOutcome::Scheduled { .. }));
    let phone = PhoneNumber::parse("+46701239999").unwrap();
    h.store
        .opt_out(&app::keyer().key_for(&Recipient::Sms(phone)), sunday)
        .await
        .unwrap();
    let report = services.run_schedule(monday()).await.unwrap();
    assert_eq!((report.sent, report.failed), (0, 1));
    assert!(outbox.read_all().unwrap().is_empty());
}

#[tokio::test]
async fn surveys_expire_once_their_link_lifetime_is_over() {
    let h = Harness::embedded().await;
    let (services, _) = app::local(&h, SurveyPolicy::default());
    let StepOutcome::Sent { survey_id } = services
        .handle_case_step(
            &event(&example_json("evt-exp", "call_completed", "+46701238888")),
            monday(),
        )
        .await
        .unwrap()
    else {
        panic!("sent")
    };
    // Seven days and an hour later: still November, so the counter below is this month's.
    let after_lifetime = monday() + SurveyPolicy::days(7) + jiff::SignedDuration::from_hours(1);
    assert_eq!(
        services.run_schedule(after_lifetime).await.unwrap().expired,
        1
    );
    assert_eq!(
        h.store.get(&survey_id).await.unwrap().unwrap().state,
        SurveyState::Expired
    );
    assert_eq!(counter(&h, "expired").await, 1);
}

fn contact(i: usize) -> CreditorContact {
    CreditorContact::parse(CreditorContactInput {
        client_id: Some("acme-energy".into()),
        contact_id: Some(format!("c-{i}")),
        email: Some(format!(
            "contact{i}-{}@acme.example",
            uuid::Uuid::new_v4().simple()
        )),
        name: Some("Karin".into()),
        language: Some(if i.is_multiple_of(2) { "sv" } else { "pl" }.into()),
        industry: Some("energy".into()),
        account_manager: Some("Anna Lind".into()),
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn the_monthly_nps_wave_emails_that_months_contacts_once_and_reminds_once() {
    let h = Harness::embedded().await;
    let (services, outbox) = app::local(&h, SurveyPolicy::default());
    let contacts: Vec<_> = (0..60).map(contact).collect();
    for c in &contacts {
        h.store.upsert_creditor(c).await.unwrap();
    }
    let november: Vec<_> = contacts.iter().filter(|c| c.wave_month() == 11).collect();
    assert!(!november.is_empty());
    // WHEN the schedule ticks twice on a Monday in November
    let first = services.run_schedule(monday()).await.unwrap();
    let second = services
        .run_schedule(monday() + jiff::SignedDuration::from_mins(1))
        .await
        .unwrap();
    // THEN November's contacts get one email each, and the second tick starts no wave
    assert!(first.nps_wave_started && !second.nps_wave_started);
    assert_eq!(first.nps_created, november.len());
    let emails: Vec<_> = outbox
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|l| l.channel == "email")
        .collect();
    assert_eq!(emails.len(), november.len());
    for c in &november {
        let mail = emails.iter().find(|l| l.to == c.email.as_str()).unwrap();
        assert!(
            mail.html
                .as_ref()
                .unwrap()
                .contains(&format!("{}?score=10", mail.link))
        );
        assert!(mail.text.contains("Anna Lind"));
    }
    // AND five days later (inside the sending hours) each gets one reminder, once
    let later = ts("2026-11-30T09:00:00Z");
    let report = services.run_schedule(later).await.unwrap();
    assert_eq!(report.reminded, november.len());
    assert_eq!(services.run_schedule(later).await.unwrap().reminded, 0);
    let reminders: Vec<_> = outbox
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|l| {
            l.subject
                .as_deref()
                .is_some_and(|s| s.starts_with("Påminnelse") || s.starts_with("Przypomnienie"))
        })
        .collect();
    assert_eq!(reminders.len(), november.len());
    // The reminder's link opens the same survey as the first email's.
    let r = &reminders[0];
    let first_mail = emails.iter().find(|l| l.to == r.to).unwrap();
    let a = h
        .store
        .find_by_token(&token_of(&r.link).hash())
        .await
        .unwrap()
        .unwrap();
    let b = h
        .store
        .find_by_token(&token_of(&first_mail.link).hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.id, b.id);
}

#[tokio::test]
async fn on_aws_a_case_step_sends_the_sms_through_sns_and_the_wave_emails_through_ses() {
    // GIVEN DynamoDB, SNS and SES on moto
    let h = Harness::dynamodb().await;
    let from = format!(
        "survey-{}@nordkredit.example",
        uuid::Uuid::new_v4().simple()
    );
    let services = app::aws(&h, SurveyPolicy::default(), &from).await;
    let phone = format!("+4676{:07}", uuid::Uuid::new_v4().as_u128() % 10_000_000);
    // WHEN the example event arrives three times
    let e = event(&example_json(
        &format!("evt-{}", uuid::Uuid::new_v4().simple()),
        "call_completed",
        &phone,
    ));
    let first = services.handle_case_step(&e, monday()).await.unwrap();
    for _ in 0..2 {
        services.handle_case_step(&e, monday()).await.unwrap();
    }
    // THEN SNS got exactly one SMS, whose link opens the stored survey
    let StepOutcome::Sent { survey_id } = first else {
        panic!("sent: {first:?}")
    };
    let texts = moto::sms_to(&phone);
    assert_eq!(texts.len(), 1, "{texts:?}");
    let link = texts[0]
        .split_whitespace()
        .find(|w| w.starts_with(app::BASE_URL))
        .unwrap();
    let survey = h
        .store
        .find_by_token(&token_of(link).hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(survey.id, survey_id);
    // AND the NPS wave sends its emails through SES
    let november: Vec<_> = (0..40)
        .map(contact)
        .filter(|c| c.wave_month() == 11)
        .collect();
    for c in &november {
        h.store.upsert_creditor(c).await.unwrap();
    }
    let report = services.run_schedule(monday()).await.unwrap();
    assert_eq!(report.nps_created, november.len());
    for c in &november {
        let mails = moto::emails_to(c.email.as_str());
        assert_eq!(mails.len(), 1, "{}", c.contact_id);
        // From the agency, by name.
        assert_eq!(mails[0].2, format!("\"Nordkredit AB\" <{from}>"));
    }
}
