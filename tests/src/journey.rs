//! One debtor and one creditor contact through the whole product, with values
//! planted where personal data goes (phone, debtor id, comment, email, name,
//! contact id), for the suites that then look for those values where they must not
//! be: the log lines, and the stores after an erasure.

#![allow(clippy::unwrap_used)]

use crate::events::{event, recent_json};
use crate::{Backend, Harness, app, lambda_events, moto};
use jiff::Timestamp;
use kundpuls::app::Services;
use kundpuls::app::contacts::ContactRow;
use kundpuls::domain::creditor::{CreditorContact, CreditorContactInput};
use kundpuls::domain::policy::{SurveyPolicy, WeekWindows};
use kundpuls::domain::score::{CsatScore, Score};
use kundpuls::domain::survey::{Answer, AnswerInput, LinkedSurvey, Survey};
use kundpuls::domain::token::SurveyToken;

/// Values that identify one person, unique to one run.
pub struct Planted {
    pub phone: String,
    pub debtor: String,
    pub comment: String,
    pub email: String,
    pub name: String,
    pub contact: String,
}

pub const CLIENT: &str = "acme-energy";

impl Planted {
    /// Fresh values; the contact id is drawn so that the contact's NPS wave is the
    /// current month, so the schedule emails them today.
    pub fn new() -> Self {
        let n = uuid::Uuid::new_v4().as_u128() % 10_000_000;
        let month = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).month() as u8;
        let contact = (0..)
            .map(|i| format!("C-PLANTED-{n}-{i}"))
            .find(|id| {
                CreditorContact::parse(contact_input(id, "x@example.com", ""))
                    .unwrap()
                    .wave_month()
                    == month
            })
            .unwrap();
        Self {
            phone: format!("+4670{n:07}"),
            debtor: format!("D-PLANTED-{n}"),
            comment: format!("Handläggaren Åsa ringde aldrig tillbaka PLANTED{n}"),
            email: format!("planted.person.{n}@acme.example"),
            name: format!("Planted Person {n}"),
            contact,
        }
    }
}

impl Default for Planted {
    fn default() -> Self {
        Self::new()
    }
}

fn contact_input(id: &str, email: &str, name: &str) -> CreditorContactInput {
    CreditorContactInput {
        client_id: Some(CLIENT.into()),
        contact_id: Some(id.into()),
        email: Some(email.into()),
        name: Some(name.into()),
        industry: Some("energy".into()),
        ..Default::default()
    }
}

/// Sends whenever asked.
pub fn always() -> SurveyPolicy {
    SurveyPolicy {
        send_windows: WeekWindows::always(),
        ..SurveyPolicy::default()
    }
}

/// [`always`], paced as the template deploys it (each send takes its second's slot
/// of the account's rate), at rates no test reaches.
pub fn paced() -> SurveyPolicy {
    SurveyPolicy {
        sms_per_second: Some(1_000),
        email_per_second: Some(1_000),
        ..always()
    }
}

/// The link token of the one message sent to `phone`.
pub fn token_sent_to(h: &Harness, phone: &str) -> SurveyToken {
    let link = match &h.backend {
        Backend::Embedded { dir, .. } => {
            kundpuls::adapters::outbox::read_outbox(&dir.path().join("outbox.jsonl"))
                .unwrap()
                .into_iter()
                .find(|l| l.to == phone)
                .unwrap()
                .link
        }
        Backend::Dynamo { .. } => moto::sms_to(phone)[0]
            .split_whitespace()
            .find(|w| w.starts_with(app::BASE_URL))
            .unwrap()
            .to_string(),
    };
    SurveyToken::parse(link.rsplit('/').next().unwrap()).unwrap()
}

/// What the journey left behind.
pub struct Lived {
    /// The debtor's link token and survey.
    pub token: SurveyToken,
    pub survey: Survey,
    /// What the debtor's link opened.
    pub link: LinkedSurvey,
    /// The debtor's recorded answer (CSAT 1 with the planted comment), routed.
    pub answer: Answer,
}

/// A case step with its SMS, an answer with a comment (routed to the backlog and
/// alerted), an invalid and a flagged event carrying the phone number, and a creditor
/// contact imported and emailed by the schedule. Nothing is erased.
pub async fn live(h: &Harness, services: &Services, p: &Planted) -> Lived {
    let now = Timestamp::now();
    // A case step, with an SMS.
    let mut json = recent_json(
        &format!("evt-{}", uuid::Uuid::new_v4().simple()),
        "call_completed",
        &p.phone,
    );
    json["debtor"]["debtor_id"] = p.debtor.clone().into();
    services.handle_case_step(&event(&json), now).await.unwrap();
    let token = token_sent_to(h, &p.phone);
    let link = h.store.find_by_token(&token.hash()).await.unwrap().unwrap();
    let survey = h.store.get(&link.id).await.unwrap().unwrap();
    // An answer with a comment, routed to the backlog and alerted.
    let answer = Answer::new(
        &link,
        AnswerInput {
            score: Score::Csat(CsatScore::try_from(1u8).unwrap()),
            comment: Some(p.comment.clone()),
            resolved_first_contact: Some(false),
            suspect: vec![],
            answered_at: now,
        },
    );
    h.store
        .record_answer(&link, answer.clone(), now)
        .await
        .unwrap();
    services.route_answer(&answer).await.unwrap();
    // An invalid event carrying the phone number in a flag and as the debtor id,
    // through the queue.
    let mut bad = json.clone();
    bad["event_id"] = format!("evt-bad-{}", uuid::Uuid::new_v4().simple()).into();
    bad["debtor"]["flags"] = serde_json::json!([format!("call {} after five", p.phone)]);
    bad["step"] = "Not A Step".into();
    let batch: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(lambda_events::sqs(&[("m-1", &bad.to_string())])).unwrap();
    kundpuls::events::case_steps::handle(services, batch, now).await;
    // A flagged step for the same debtor (the flag's value is free text).
    let mut flagged = json.clone();
    flagged["event_id"] = format!("evt-flag-{}", uuid::Uuid::new_v4().simple()).into();
    flagged["debtor"]["flags"] = serde_json::json!([format!("call {} after five", p.phone)]);
    services
        .handle_case_step(&event(&flagged), now)
        .await
        .unwrap();
    // A creditor contact and their NPS email (their wave month; sent at once).
    let rows = vec![ContactRow::from(contact_input(
        &p.contact, &p.email, &p.name,
    ))];
    services.import_contacts(rows, now, |_| {}).await.unwrap();
    services.run_schedule(now).await.unwrap();
    Lived {
        token,
        survey,
        link,
        answer,
    }
}
