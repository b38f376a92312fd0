//! The small commands: emit, contacts import, token, policy defaults.

use crate::client::Client;
use crate::{CliError, Target};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kundpuls::app::config::policy_defaults_toml;
use kundpuls::domain::creditor::CreditorContactInput;
use kundpuls::domain::ids::TeamId;
use kundpuls::web::auth::{Role, SCOPE_CASE_STEPS, SCOPE_CONTACTS};
use kundpuls::web::ingest::MAX_EVENTS;
use kundpuls::wiring::local;
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;

#[derive(Args)]
pub struct EmitArgs {
    /// A JSON file with one event, an array of events, or one event per line; `-`
    /// reads standard input.
    pub file: String,
    /// Date every event now (its `occurred_at` becomes the current time): for
    /// trying the example files, whose fixed date soon makes them too old to survey.
    #[arg(long)]
    pub dated_now: bool,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Subcommand)]
pub enum ContactsCommand {
    /// Upsert creditor contacts from a CSV file with the header
    /// `client_id,contact_id,email,name,language,industry,account_manager`.
    Import {
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Args)]
pub struct TokenArgs {
    #[arg(long, env = "KUNDPULS_DATA_DIR", default_value = ".kundpuls")]
    pub data_dir: PathBuf,
    /// Who the token is for (the `sub` claim).
    #[arg(long)]
    pub user: String,
    /// A team the user leads; repeat for several.
    #[arg(long = "team")]
    pub teams: Vec<String>,
    #[arg(long, value_parser = ["lead", "admin", "system"])]
    pub role: String,
    /// Days until the token expires.
    #[arg(long, default_value_t = 30)]
    pub days: i64,
    /// OAuth scopes, as a machine client's token carries them (e.g.
    /// `kundpuls/case-steps.write`); repeat for several.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Print the default policy as the TOML that `serve --policy` reads.
    Defaults,
}

#[derive(Subcommand)]
pub enum ContractCommand {
    /// The JSON API's OpenAPI 3.1 document (what `GET /api/v1/openapi.json` serves).
    Openapi,
    /// The case-step event's JSON Schema (draft 2020-12).
    CaseStepSchema,
}

/// Prints a contract, pretty, for integrators and their tools.
pub fn contract(command: ContractCommand) -> Result<(), CliError> {
    let document = match command {
        ContractCommand::Openapi => serde_json::to_value(kundpuls::web::api_document())?,
        ContractCommand::CaseStepSchema => kundpuls::web::openapi::case_step_event_schema(),
    };
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}

#[derive(Subcommand)]
pub enum PreviewCommand {
    /// The creditor contact's NPS email (HTML unless --text), for a made-up
    /// contact and link, in the language given.
    NpsEmail {
        /// sv, en, pl, da, nb or fi.
        #[arg(long, default_value = "sv")]
        language: String,
        /// The reminder instead of the first email.
        #[arg(long)]
        reminder: bool,
        /// The plain-text part instead of the HTML.
        #[arg(long)]
        text: bool,
    },
}

pub fn preview(command: PreviewCommand) -> Result<(), CliError> {
    let PreviewCommand::NpsEmail {
        language,
        reminder,
        text,
    } = command;
    let language = kundpuls::domain::locale::Language::parse(&language)
        .ok_or_else(|| format!("unknown language {language:?}: use sv, en, pl, da, nb or fi"))?;
    let email = kundpuls::domain::messages::email::render_nps(
        &kundpuls::domain::messages::email::NpsEmailInput {
            language,
            agency: "Nordkredit",
            controller: "Nordkredit AB",
            privacy_url: Some("https://nordkredit.se/integritet"),
            contact_name: "Karin Berg",
            account_manager: "Anna Lind",
            link: "https://survey.nordkredit.se/s/AAAAAAAAAAAAAAAAAAAAAA",
            reminder,
        },
    )?;
    if text {
        println!("Subject: {}\n\n{}", email.subject, email.text);
    } else {
        print!("{}", email.html);
    }
    Ok(())
}

fn read_input(file: &str) -> Result<String, CliError> {
    let mut text = String::new();
    if file == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| format!("reading {file}: {e}"))?;
    }
    Ok(text)
}

/// A JSON document (object or array), or JSON lines.
pub fn parse_events(text: &str) -> Result<Vec<Value>, CliError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(other) => Ok(vec![other]),
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| format!("line {}: not JSON: {e}", i + 1).into())
            })
            .collect(),
    }
}

pub fn emit(args: EmitArgs) -> Result<(), CliError> {
    let mut events = parse_events(&read_input(&args.file)?)?;
    if args.dated_now {
        let now = jiff::Timestamp::now().to_string();
        for event in &mut events {
            if let Some(fields) = event.as_object_mut() {
                fields.insert("occurred_at".into(), Value::String(now.clone()));
            }
        }
    }
    if events.is_empty() {
        return Err("no events in the input".into());
    }
    let client = Client::new(&args.target, Role::System, SCOPE_CASE_STEPS)?;
    let mut failed = false;
    for chunk in events.chunks(MAX_EVENTS) {
        let reply = client.post(
            "/api/v1/case-steps",
            "application/json",
            &Value::Array(chunk.to_vec()).to_string(),
        )?;
        let pretty = serde_json::from_str::<Value>(&reply.body)
            .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
            .unwrap_or(reply.body);
        println!("{pretty}");
        failed |= reply.status >= 400;
    }
    if failed {
        return Err("some events were refused (see above)".into());
    }
    Ok(())
}

pub fn contacts(command: ContactsCommand) -> Result<(), CliError> {
    let ContactsCommand::Import { file, target } = command;
    let bytes = std::fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let rows =
        kundpuls::web::ingest::parse_csv(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    // Rows that cannot be read are reported here; the others go to the server.
    let mut rejected = Vec::new();
    let mut readable = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let at = format!("row {} (line {})", i + 1, row.line.unwrap_or_default());
        match row.fields {
            Ok(fields) => readable.push((at, fields)),
            Err(errors) => rejected.push(format!("{at}: {}", serde_json::to_string(&errors)?)),
        }
    }
    let client = Client::new(&target, Role::Admin, SCOPE_CONTACTS)?;
    let bar = ProgressBar::new(readable.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} contacts ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut upserted = 0u64;
    const CHUNK: usize = 500;
    for chunk in readable.chunks(CHUNK) {
        let inputs: Vec<&CreditorContactInput> = chunk.iter().map(|(_, f)| f).collect();
        let reply = client.post(
            "/api/v1/contacts",
            "application/json",
            &serde_json::to_string(&inputs)?,
        )?;
        let body: Value = serde_json::from_str(&reply.body)
            .map_err(|_| format!("server answered {}: {}", reply.status, reply.body))?;
        if reply.status >= 400 && body.get("upserted").is_none() {
            bar.abandon();
            return Err(format!("server answered {}: {}", reply.status, body).into());
        }
        upserted += body["upserted"].as_u64().unwrap_or(0);
        for r in body["rejected"].as_array().into_iter().flatten() {
            let in_chunk = r["row"].as_u64().unwrap_or(1).max(1) as usize - 1;
            let at = chunk.get(in_chunk).map_or("row ?", |(at, _)| at.as_str());
            rejected.push(format!("{at}: {}", r["errors"]));
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish();
    println!(
        "{upserted} contact(s) upserted, {} rejected",
        rejected.len()
    );
    for r in &rejected {
        println!("  {r}");
    }
    if rejected.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} row(s) rejected (see above); the others were stored",
            rejected.len()
        )
        .into())
    }
}

pub fn token(args: TokenArgs) -> Result<(), CliError> {
    let role = Role::parse(&args.role).ok_or("role must be lead, admin or system")?;
    let teams = args
        .teams
        .iter()
        .map(|t| TeamId::parse(t).map_err(|e| format!("--team {t}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if role == Role::Lead && teams.is_empty() {
        return Err("a lead needs at least one --team".into());
    }
    let key = local::key(&args.data_dir)?;
    let scope = (!args.scopes.is_empty()).then(|| args.scopes.join(" "));
    println!(
        "{}",
        key.sign_with_scope(&args.user, role, &teams, scope.as_deref(), args.days)?
    );
    Ok(())
}

pub fn policy(command: PolicyCommand) -> Result<(), CliError> {
    match command {
        PolicyCommand::Defaults => print!("{}", policy_defaults_toml()),
    }
    Ok(())
}
