//! Demo data for `serve --demo`: a few creditor contacts and case steps with made-up
//! numbers and addresses, and twelve months of answers ([`history`]). Fixed ids
//! make loading it again change nothing.

pub mod history;

use crate::CliError;
use kundpuls::app::Services;
use kundpuls::app::contacts::ContactRow;
use kundpuls::domain::case_step::CaseStepEvent;
use kundpuls::domain::creditor::CreditorContactInput;
use serde_json::json;

const LANGUAGES: [&str; 6] = ["sv", "en", "pl", "da", "nb", "fi"];
const STEPS: [&str; 6] = [
    "call_completed",
    "reminder_sent",
    "payment_plan_agreed",
    "case_closed",
    "payment_received",
    "call_completed",
];

pub async fn load(services: &Services) -> Result<(), CliError> {
    let contacts: Vec<ContactRow> = (1..=24)
        .map(|i| CreditorContactInput {
            client_id: Some(["acme-energy", "nordtel", "vasa-bank"][i % 3].into()),
            contact_id: Some(format!("demo-c{i}")),
            email: Some(format!("contact{i}@example.com")),
            name: Some(format!("Demo Contact {i}")),
            language: Some(LANGUAGES[i % 6].into()),
            industry: Some(["energy", "telecom", "finance"][i % 3].into()),
            account_manager: Some("Anna Lind".into()),
            ..Default::default()
        })
        .map(ContactRow::from)
        .collect();
    let report = services
        .import_contacts(contacts, jiff::Timestamp::now(), |_| {})
        .await?;
    let now = jiff::Timestamp::now();
    let mut decided = Vec::new();
    for (i, step) in STEPS.iter().enumerate() {
        let mut flags = vec![];
        if i == 5 {
            flags.push("vulnerable");
        }
        let event = json!({
            "event_id": format!("demo-evt-{}", i + 1),
            "occurred_at": now.to_string(),
            "case_id": format!("C-DEMO-{}", i + 1),
            "client_id": "acme-energy",
            "step": step,
            "handler_id": "h-anna",
            "team": "energy",
            "segment": "first_time_late",
            "debtor": {
                "debtor_id": format!("D-DEMO-{}", i + 1),
                "phone": format!("+4670000{:04}", i + 1),
                "language": LANGUAGES[i],
                "country": "SE",
                "flags": flags
            }
        });
        let event = CaseStepEvent::from_json(event.to_string().as_bytes())
            .map_err(|e| format!("demo event: {e}"))?;
        let outcome = services.handle_case_step(&event, now).await?;
        decided.push(serde_json::to_string(&outcome)?);
    }
    println!(
        "Demo data: {} creditor contacts; case steps:",
        report.upserted
    );
    for d in decided {
        println!("  {d}");
    }
    match history::load(services, now)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(h) => println!(
            "Demo history: {} answers over twelve months (case ids DEMO-…, comments \"Demo: …\"), {} feedback items ({} resolved), {} early warning",
            h.answers, h.items, h.resolved, h.warnings
        ),
        None => println!("Demo history: already loaded"),
    }
    Ok(())
}
