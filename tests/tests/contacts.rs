//! Creditor contacts over their life: a contact who left gets nothing more, one who
//! comes back is surveyed again, and every email goes out in the contact's own
//! office hours. On the embedded store with the file outbox, and on DynamoDB with
//! SES (moto).

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use jiff::civil::Time;
use kundpuls::adapters::outbox::FileOutbox;
use kundpuls::app::Services;
use kundpuls::app::contacts::ContactRow;
use kundpuls::domain::creditor::{CreditorContact, CreditorContactInput};
use kundpuls::domain::locale::Country;
use kundpuls::domain::policy::{SurveyPolicy, WeekWindows, Window};
use kundpuls::domain::stats::{CounterField, CounterKey, Dimension};
use kundpuls::domain::survey::{Survey, SurveyKind, SurveyState};
use kundpuls::ports::WorkList;
use kundpuls_tests::{Backend, Harness, app, moto};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The contact input for the first free contact id whose yearly wave is `month`.
fn input(n: &mut usize, month: u8, country: Option<&str>) -> CreditorContactInput {
    loop {
        *n += 1;
        let i = CreditorContactInput {
            client_id: Some("acme-energy".into()),
            contact_id: Some(format!("c-{n}")),
            email: Some(format!(
                "contact{n}-{}@acme.example",
                uuid::Uuid::new_v4().simple()
            )),
            language: Some("en".into()),
            industry: Some("energy".into()),
            account_manager: Some("Anna Lind".into()),
            country: country.map(String::from),
            ..Default::default()
        };
        if CreditorContact::parse(i.clone()).unwrap().wave_month() == month {
            return i;
        }
    }
}

/// The services of one store, and where to see what was emailed.
struct World {
    h: Harness,
    services: Services,
    outbox: Option<FileOutbox>,
}

impl World {
    async fn new(h: Harness, policy: SurveyPolicy) -> Self {
        match &h.backend {
            Backend::Embedded { .. } => {
                let (services, outbox) = app::local(&h, policy);
                Self {
                    h,
                    services,
                    outbox: Some(outbox),
                }
            }
            Backend::Dynamo { .. } => {
                let from = format!("nps-{}@nordkredit.example", uuid::Uuid::new_v4().simple());
                let services = app::aws(&h, policy, &from).await;
                Self {
                    h,
                    services,
                    outbox: None,
                }
            }
        }
    }

    async fn import(&self, rows: Vec<CreditorContactInput>) {
        let rows = rows.into_iter().map(ContactRow::from).collect();
        let report = self
            .services
            .import_contacts(rows, Timestamp::now(), |_| {})
            .await
            .unwrap();
        assert!(report.rejected.is_empty(), "{report:?}");
    }

    /// Emails (first ones and reminders) that went to `address`.
    fn emails_to(&self, address: &str) -> usize {
        match &self.outbox {
            Some(outbox) => outbox
                .read_all()
                .unwrap()
                .into_iter()
                .filter(|l| l.channel == "email" && l.to == address)
                .count(),
            None => moto::emails_to(address).len(),
        }
    }

    async fn nps_counter(&self, month: &str, field: &str) -> u64 {
        let counter = self
            .h
            .store
            .read(&CounterKey::new(
                SurveyKind::Nps,
                month,
                Dimension::All,
                "all",
            ))
            .await
            .unwrap();
        counter.get(&CounterField::from_key(field).unwrap())
    }

    async fn survey_of(&self, contact: &CreditorContactInput) -> Option<Survey> {
        let person = app::keyer().person_key(contact.contact_id.as_deref().unwrap());
        let page = self
            .h
            .store
            .surveys_of_person(&person, Default::default())
            .await
            .unwrap();
        page.items.into_iter().next()
    }
}

async fn a_contact_who_left_gets_nothing_more_and_one_who_returns_is_surveyed(h: Harness) {
    let w = World::new(h, SurveyPolicy::default()).await;
    let mut n = 0;
    // GIVEN three contacts in November's wave: one stays, one will leave after the
    // wave scheduled its survey, one was imported as already gone
    let stays = input(&mut n, 11, None);
    let leaves = input(&mut n, 11, None);
    let mut gone = input(&mut n, 11, None);
    gone.active = Some("false".into());
    w.import(vec![stays.clone(), leaves.clone(), gone.clone()])
        .await;
    // WHEN the wave runs on Monday before the sending hours (06:00 in Stockholm)
    let first = w
        .services
        .run_schedule(ts("2026-11-23T05:00:00Z"))
        .await
        .unwrap();
    // THEN the two active contacts are scheduled and the gone one is skipped
    assert_eq!((first.nps_created, first.nps_skipped), (2, 1), "{first:?}");
    let scheduled = w.survey_of(&leaves).await.unwrap();
    assert_eq!(scheduled.state, SurveyState::Scheduled);
    // WHEN one of them leaves before the hours open
    let client = kundpuls::domain::ids::ClientId::parse("acme-energy").unwrap();
    let id = |c: &CreditorContactInput| {
        kundpuls::domain::ids::ContactId::parse(c.contact_id.as_deref().unwrap()).unwrap()
    };
    let done = w
        .services
        .deactivate_contact(&client, &id(&leaves), ts("2026-11-23T06:00:00Z"))
        .await
        .unwrap()
        .unwrap();
    // THEN the pending survey is cancelled, and only the contact who stayed gets mail
    assert_eq!(done.cancelled, 1);
    let open = w
        .services
        .run_schedule(ts("2026-11-23T08:00:00Z"))
        .await
        .unwrap();
    assert_eq!(open.sent, 1, "{open:?}");
    assert_eq!(w.emails_to(stays.email.as_deref().unwrap()), 1);
    assert_eq!(w.emails_to(leaves.email.as_deref().unwrap()), 0);
    assert_eq!(w.emails_to(gone.email.as_deref().unwrap()), 0);
    let cancelled = w.survey_of(&leaves).await.unwrap();
    assert_eq!(
        (cancelled.state, cancelled.failure.as_deref()),
        (SurveyState::Failed, Some("contact_inactive"))
    );
    // AND both are counted under the reason
    assert_eq!(w.nps_counter("2026-11", "skip_contact_inactive").await, 2);
    // AND deactivating again changes nothing; an unknown contact is None
    let again = w
        .services
        .deactivate_contact(&client, &id(&leaves), ts("2026-11-23T09:00:00Z"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.cancelled, 0);
    let mut stranger = leaves.clone();
    stranger.contact_id = Some("c-nobody".into());
    assert!(
        w.services
            .deactivate_contact(&client, &id(&stranger), ts("2026-11-23T09:00:00Z"))
            .await
            .unwrap()
            .is_none()
    );
    // WHEN the gone contact is imported again as active
    gone.active = Some("true".into());
    w.import(vec![gone.clone()]).await;
    // THEN the next day's wave surveys them, inside the hours
    let next = w
        .services
        .run_schedule(ts("2026-11-24T09:00:00Z"))
        .await
        .unwrap();
    assert!(next.nps_wave_started);
    assert_eq!(w.emails_to(gone.email.as_deref().unwrap()), 1, "{next:?}");
    // AND no deactivated contact is ever listed to send
    for survey in
        w.h.store
            .due(WorkList::ToSend, ts("2026-12-31T00:00:00Z"), 100)
            .await
            .unwrap()
    {
        assert_ne!(survey.subject.contact_id, Some(id(&leaves)));
    }
}

#[tokio::test]
async fn contacts_leave_and_return_on_the_embedded_store() {
    a_contact_who_left_gets_nothing_more_and_one_who_returns_is_surveyed(Harness::embedded().await)
        .await;
}

#[tokio::test]
async fn contacts_leave_and_return_on_dynamodb() {
    a_contact_who_left_gets_nothing_more_and_one_who_returns_is_surveyed(Harness::dynamodb().await)
        .await;
}

async fn each_contact_is_emailed_in_their_own_office_hours(h: Harness) {
    // GIVEN Poland configured to 10:00–16:00 on weekdays, reminders after six days,
    // and three contacts in March's wave: in Finland, in Poland, and one with no
    // country (the agency's, Sweden)
    let mut policy = SurveyPolicy {
        nps_reminder_after_days: 6,
        ..SurveyPolicy::default()
    };
    policy.country_windows.insert(
        Country::parse("PL").unwrap(),
        WeekWindows {
            weekdays: Some(Window {
                start: Time::constant(10, 0, 0, 0),
                end: Time::constant(16, 0, 0, 0),
            }),
            ..WeekWindows::default()
        },
    );
    let w = World::new(h, policy).await;
    let mut n = 0;
    let fi = input(&mut n, 3, Some("FI"));
    let pl = input(&mut n, 3, Some("PL"));
    let se = input(&mut n, 3, None);
    w.import(vec![fi.clone(), pl.clone(), se.clone()]).await;
    let mails = |c: &CreditorContactInput| w.emails_to(c.email.as_deref().unwrap());
    // WHEN the wave runs on Monday 22 March 2027 at 06:30 UTC (winter time: 08:30
    // in Helsinki, 07:30 in Warsaw and Stockholm)
    let wave = w
        .services
        .run_schedule(ts("2027-03-22T06:30:00Z"))
        .await
        .unwrap();
    assert_eq!(wave.nps_created, 3, "{wave:?}");
    // THEN each survey waits for 09:00 (10:00 in Poland) local time
    let send_at = |s: Option<Survey>| s.unwrap().send_at.unwrap();
    assert_eq!(send_at(w.survey_of(&fi).await), ts("2027-03-22T07:00:00Z"));
    assert_eq!(send_at(w.survey_of(&se).await), ts("2027-03-22T08:00:00Z"));
    assert_eq!(send_at(w.survey_of(&pl).await), ts("2027-03-22T09:00:00Z"));
    // AND goes out then, not at Stockholm's hour
    w.services
        .run_schedule(ts("2027-03-22T07:00:00Z"))
        .await
        .unwrap();
    assert_eq!((mails(&fi), mails(&se), mails(&pl)), (1, 0, 0));
    w.services
        .run_schedule(ts("2027-03-22T08:00:00Z"))
        .await
        .unwrap();
    assert_eq!((mails(&fi), mails(&se), mails(&pl)), (1, 1, 0));
    w.services
        .run_schedule(ts("2027-03-22T09:00:00Z"))
        .await
        .unwrap();
    assert_eq!((mails(&fi), mails(&se), mails(&pl)), (1, 1, 1));
    // WHEN the reminders fall due after the change to summer time (28 March)
    // THEN at 06:00 UTC only Helsinki is open (09:00 EEST; Stockholm is 08:00)
    let r = w
        .services
        .run_schedule(ts("2027-03-29T06:00:00Z"))
        .await
        .unwrap();
    assert_eq!(r.reminded, 1, "{r:?}");
    assert_eq!((mails(&fi), mails(&se), mails(&pl)), (2, 1, 1));
    // AND at 07:00 UTC Stockholm (09:00 CEST), at 08:00 UTC Warsaw (10:00 CEST)
    w.services
        .run_schedule(ts("2027-03-29T07:00:00Z"))
        .await
        .unwrap();
    assert_eq!((mails(&fi), mails(&se), mails(&pl)), (2, 2, 1));
    w.services
        .run_schedule(ts("2027-03-29T08:00:00Z"))
        .await
        .unwrap();
    assert_eq!((mails(&fi), mails(&se), mails(&pl)), (2, 2, 2));
}

#[tokio::test]
async fn office_hours_per_country_on_the_embedded_store() {
    each_contact_is_emailed_in_their_own_office_hours(Harness::embedded().await).await;
}

#[tokio::test]
async fn office_hours_per_country_on_dynamodb() {
    each_contact_is_emailed_in_their_own_office_hours(Harness::dynamodb().await).await;
}
