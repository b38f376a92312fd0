//! The handler lives in the library (`kundpuls::events::mail`); these tests use the
//! function's own fixture, SES events as SNS delivers them.

pub use kundpuls::events::mail::handle;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use aws_lambda_events::event::sns::SnsEvent;
    use jiff::Timestamp;
    use kundpuls::app::contacts::ContactRow;
    use kundpuls::domain::contact::{Email, Recipient};
    use kundpuls::domain::creditor::{CreditorContact, CreditorContactInput};
    use kundpuls::domain::policy::SurveyPolicy;
    use kundpuls::domain::stats::CounterField;
    use kundpuls::domain::survey::SurveyKind;
    use kundpuls_tests::{Harness, app};

    const EVENTS: &str = include_str!("../fixtures/ses-events.json");

    fn contact(id: &str, email: &str) -> CreditorContactInput {
        CreditorContactInput {
            client_id: Some("acme-energy".into()),
            contact_id: Some(id.into()),
            email: Some(email.into()),
            industry: Some("energy".into()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_permanent_bounce_or_a_complaint_stops_every_later_survey() {
        let h = Harness::embedded().await;
        let (services, outbox) = app::local(&h, SurveyPolicy::default());
        // WHEN SES reports a permanent bounce, a complaint, a full mailbox and
        // something unreadable
        let event: SnsEvent = serde_json::from_str(EVENTS).unwrap();
        let now: Timestamp = "2026-11-23T09:01:05Z".parse().unwrap();
        let report = handle(&services, event, now).await.unwrap();
        // THEN the two addresses are suppressed, the full mailbox is not
        assert_eq!((report.suppressed, report.ignored), (2, 2));
        let key = |e: &str| {
            services
                .keyer
                .key_for(&Recipient::Email(Email::parse(e).unwrap()))
        };
        for (address, suppressed) in [
            ("gone@acme.example", true),
            ("annoyed@acme.example", true),
            ("full@acme.example", false),
        ] {
            let at = h.store.suppressed_at(&key(address)).await.unwrap();
            assert_eq!(at.is_some(), suppressed, "{address}");
        }
        // AND a replay changes nothing
        let again: SnsEvent = serde_json::from_str(EVENTS).unwrap();
        handle(&services, again, now + jiff::SignedDuration::from_hours(1))
            .await
            .unwrap();
        assert_eq!(
            h.store
                .suppressed_at(&key("gone@acme.example"))
                .await
                .unwrap(),
            Some(now)
        );
        // AND the next NPS wave skips the suppressed contacts and counts why, while
        // the full mailbox is surveyed
        let mut rows = Vec::new();
        for (i, email) in [
            "gone@acme.example",
            "annoyed@acme.example",
            "full@acme.example",
        ]
        .into_iter()
        .enumerate()
        {
            // Contact ids whose yearly wave is November.
            let mut n = i * 1000;
            let input = loop {
                n += 1;
                let input = contact(&format!("c-{n}"), email);
                if CreditorContact::parse(input.clone()).unwrap().wave_month() == 11 {
                    break input;
                }
            };
            rows.push(ContactRow::from(input));
        }
        services.import_contacts(rows, now, |_| {}).await.unwrap();
        let monday: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let tick = services.run_schedule(monday).await.unwrap();
        assert_eq!((tick.nps_created, tick.nps_skipped), (1, 2), "{tick:?}");
        let mailed: Vec<String> = outbox
            .read_all()
            .unwrap()
            .into_iter()
            .filter(|l| l.channel == "email")
            .map(|l| l.to)
            .collect();
        assert_eq!(mailed, vec!["full@acme.example".to_string()]);
        let counter = kundpuls_tests::november(h.store.as_ref(), SurveyKind::Nps).await;
        assert_eq!(
            counter.get(&CounterField::Skipped("email_suppressed".into())),
            2
        );
    }
}
