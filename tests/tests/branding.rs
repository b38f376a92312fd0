//! Surveys in the client's name: with settings saved for a client, its debtors get
//! the SMS from its sender id and with its name, its contacts get the NPS email
//! from its name (sv and pl), the survey page carries its name and colour, every
//! page and email names the agency as data controller with its privacy notice,
//! and reports read the client's figures against its own targets.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kundpuls::adapters::outbox::{OutboxLine, read_outbox};
use kundpuls::app::Services;
use kundpuls::app::reports::{GroupBy, ReportQuery};
use kundpuls::domain::client::ClientSettingsInput;
use kundpuls::domain::creditor::CreditorContactInput;
use kundpuls::domain::ids::ClientId;
use kundpuls::domain::messages::sms::{SmsEncoding, size};
use kundpuls::domain::reports::Month;
use kundpuls::domain::stats::Dimension;
use kundpuls::domain::survey::SurveyKind;
use kundpuls::web::auth::LocalKey;
use kundpuls::web::{AppState, Authenticator, local_router};
use kundpuls_tests::answers::{always, answer};
use kundpuls_tests::events::{event, example_json};
use kundpuls_tests::{Backend, Harness, app};
use std::sync::Arc;
use tower::ServiceExt;

const PRIVACY: &str = "https://nordkredit.example/integritet";

async fn world() -> (Harness, Services, std::path::PathBuf) {
    let h = Harness::embedded().await;
    let (mut services, outbox) = app::local(&h, always());
    let config = app::config(always())
        .as_ref()
        .clone()
        .with_privacy_url(PRIVACY)
        .unwrap();
    services.config = Arc::new(config);
    services
        .update_client_settings(
            ClientId::parse("acme-energy").unwrap(),
            ClientSettingsInput {
                display_name: Some("Acme Energi".into()),
                sms_sender: Some("AcmeEnergi".into()),
                nps_target: Some(45.0),
                csat_target: Some(4.3),
                brand_colour: Some("#0b5394".into()),
                reply_to: Some("kundservice@acme.example".into()),
            },
            0,
            "admin-1",
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let path = outbox.path().to_path_buf();
    (h, services, path)
}

fn lines(path: &std::path::Path) -> Vec<OutboxLine> {
    read_outbox(path).unwrap()
}

#[tokio::test]
async fn the_sms_comes_from_the_client_and_stays_one_segment() {
    let (_h, services, outbox) = world().await;
    let now: jiff::Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
    for (i, lang) in ["sv", "pl", "fi"].iter().enumerate() {
        let mut json = example_json(
            &format!("evt-brand-{i}"),
            "call_completed",
            &format!("+467011100{i}"),
        );
        json["debtor"]["language"] = (*lang).into();
        json["debtor"]["debtor_id"] = format!("D-brand-{i}").into();
        json["occurred_at"] = "2026-11-23T08:59:00Z".into();
        services.handle_case_step(&event(&json), now).await.unwrap();
    }
    let sms = lines(&outbox);
    assert_eq!(sms.len(), 3);
    for line in &sms {
        assert_eq!(line.sender.as_deref(), Some("AcmeEnergi"));
        assert!(line.text.starts_with("AcmeEnergi: "), "{}", line.text);
        let s = size(&line.text);
        assert_eq!(
            (s.encoding, s.segments),
            (SmsEncoding::Gsm7, 1),
            "{}",
            line.text
        );
        println!(
            "{} ({} septets, 1 segment): {}",
            line.language, s.units, line.text
        );
    }
}

#[tokio::test]
async fn the_nps_email_comes_from_the_client_and_names_the_controller() {
    let (_h, services, outbox) = world().await;
    let now = jiff::Timestamp::now();
    let month = now.to_zoned(jiff::tz::TimeZone::UTC).month() as u8;
    // One contact in Swedish and one in Polish whose wave is this month.
    let mut rows = Vec::new();
    for lang in ["sv", "pl"] {
        let contact = (0..)
            .map(|i| CreditorContactInput {
                client_id: Some("acme-energy".into()),
                contact_id: Some(format!("C-{lang}-{i}")),
                email: Some(format!("{lang}.{i}@kund.example")),
                name: Some("Karin".into()),
                language: Some(lang.into()),
                industry: Some("energy".into()),
                ..Default::default()
            })
            .find(|c| {
                kundpuls::domain::creditor::CreditorContact::parse(c.clone())
                    .unwrap()
                    .wave_month()
                    == month
            })
            .unwrap();
        rows.push(contact.into());
    }
    services.import_contacts(rows, now, |_| {}).await.unwrap();
    let report = services.run_schedule(now).await.unwrap();
    assert_eq!(report.nps_created, 2, "{report:?}");
    let mail = lines(&outbox);
    for (lang, controller) in [
        ("sv", "Personuppgiftsansvarig: Nordkredit AB."),
        ("pl", "Administrator danych: Nordkredit AB."),
    ] {
        let line = mail.iter().find(|l| l.language == lang).unwrap();
        assert_eq!(line.sender.as_deref(), Some("Acme Energi"));
        assert_eq!(line.reply_to.as_deref(), Some("kundservice@acme.example"));
        let subject = line.subject.as_deref().unwrap();
        assert!(subject.contains("Acme Energi"), "{subject}");
        assert!(!subject.contains("Nordkredit"), "{subject}");
        for part in [&line.text, line.html.as_ref().unwrap()] {
            assert!(part.contains(controller), "{lang}: {part}");
            assert!(part.contains(PRIVACY), "{lang}");
        }
        println!("{lang}: {subject} / {controller}");
    }
}

#[tokio::test]
async fn the_survey_page_wears_the_clients_name_and_colour() {
    let (h, services, outbox) = world().await;
    let Backend::Embedded { dir, .. } = &h.backend else {
        unreachable!()
    };
    let key = LocalKey::load_or_create(dir.path()).unwrap();
    let router = local_router(AppState {
        services: services.clone(),
        auth: Authenticator::Local(key.clone()),
        stamp: kundpuls::web::stamp::StampKey::new(&key.derive("render-stamp")),
        outbox: None,
        sign_in: None,
        demo: false,
    });
    let now = jiff::Timestamp::now();
    let mut json = example_json("evt-page", "call_completed", "+46701110999");
    json["occurred_at"] = (now - jiff::SignedDuration::from_mins(1))
        .to_string()
        .into();
    services.handle_case_step(&event(&json), now).await.unwrap();
    let link = lines(&outbox)[0].link.clone();
    let path = &link[link.find("/s/").unwrap()..];
    let get = |p: String| {
        let router = router.clone();
        async move {
            let r = router
                .oneshot(Request::get(p).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = r.status();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            (status, ct, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    let (status, _, page) = get(path.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"<p class="brand">Acme Energi</p>"#),
        "{page}"
    );
    assert!(
        page.contains("Hur nöjd är du med samtalet med Acme Energi?"),
        "{page}"
    );
    assert!(page.contains(r#"href="/assets/brand/0b5394.css""#));
    assert!(page.contains("Personuppgiftsansvarig: Nordkredit AB."));
    assert!(page.contains(&format!(r#"<a href="{PRIVACY}">Integritetspolicy</a>"#)));
    assert!(!page.contains("style="), "no inline style under the CSP");
    assert!(page.len() <= 16 * 1024, "{} bytes", page.len());
    let (status, ct, css) = get("/assets/brand/0b5394.css".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("text/css; charset=utf-8"));
    assert!(css.contains("background:#0b5394"));
    // A colour white text is unreadable on is never served.
    for bad in ["ffee00.css", "0b5394", "zzzzzz.css"] {
        assert_eq!(
            get(format!("/assets/brand/{bad}")).await.0,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn reports_read_each_client_against_its_own_target() {
    let (h, services, _) = world().await;
    for n in 0..3 {
        let a = answer(&h, &services, n, 4, None, false).await;
        services.route_answer(&a).await.unwrap();
    }
    let month = Month::parse("2026-11").unwrap();
    let by_client = services
        .report(&ReportQuery {
            kind: SurveyKind::Csat,
            group_by: GroupBy::Dimension(Dimension::Client),
            from: month,
            to: month,
            team: None,
            filter: None,
        })
        .await
        .unwrap();
    assert_eq!(
        by_client.target, 4.0,
        "the agency's goal for the whole report"
    );
    let row = by_client
        .rows
        .iter()
        .find(|r| r.key == "acme-energy")
        .unwrap();
    assert_eq!(row.target, Some(4.3));
    let one_client = services
        .report(&ReportQuery {
            kind: SurveyKind::Nps,
            group_by: GroupBy::Month,
            from: month,
            to: month,
            team: None,
            filter: Some((Dimension::Client, "acme-energy".into())),
        })
        .await
        .unwrap();
    assert_eq!(one_client.target, 45.0);
}
