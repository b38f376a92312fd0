//! `kundpuls report nps|csat`: a report as a table (or JSON/CSV), from the local
//! server's API (embedded store) or straight from a DynamoDB table.

use crate::client::Client;
use crate::{CliError, Target};
use clap::{Args, ValueEnum};
use kundpuls::app::reports::Report;
use kundpuls::web::auth::{Principal, Role};
use kundpuls::web::reports::{ReportParams, report_query};
use std::collections::HashMap;

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Nps,
    Csat,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Args)]
pub struct ReportArgs {
    #[arg(value_enum)]
    pub kind: Kind,
    /// month, client, team, handler, step, segment, channel, language or all.
    #[arg(long, default_value = "month")]
    pub group_by: String,
    /// First month (YYYY-MM); default: 12 months back for months, 3 for dimensions.
    #[arg(long)]
    pub from: Option<String>,
    /// Last month (YYYY-MM); default: this month.
    #[arg(long)]
    pub to: Option<String>,
    /// One team's counters instead of the agency's.
    #[arg(long)]
    pub team: Option<String>,
    /// With --group-by month: one value of one dimension, e.g. client=acme-energy.
    #[arg(long)]
    pub filter: Option<String>,
    /// Read this DynamoDB table directly (AWS credentials and region from the
    /// environment) instead of asking the local server.
    #[arg(long, env = "KUNDPULS_TABLE")]
    pub table: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub target: Target,
}

fn params(args: &ReportArgs) -> Result<Vec<(String, String)>, CliError> {
    let mut p = vec![("group_by".to_string(), args.group_by.clone())];
    for (k, v) in [("from", &args.from), ("to", &args.to), ("team", &args.team)] {
        if let Some(v) = v {
            p.push((k.to_string(), v.clone()));
        }
    }
    if let Some(f) = &args.filter {
        let (d, v) = f
            .split_once('=')
            .ok_or("--filter takes dimension=value, e.g. client=acme-energy")?;
        p.push((d.to_string(), v.to_string()));
    }
    Ok(p)
}

fn kind_str(k: Kind) -> &'static str {
    match k {
        Kind::Nps => "nps",
        Kind::Csat => "csat",
    }
}

async fn from_dynamodb(args: &ReportArgs, table: &str) -> Result<Report, CliError> {
    let p = params(args)?;
    let mut q = ReportParams::default();
    let mut filters = HashMap::new();
    for (k, v) in p {
        match k.as_str() {
            "group_by" => q.group_by = Some(v),
            "from" => q.from = Some(v),
            "to" => q.to = Some(v),
            "team" => q.team = Some(v),
            _ => {
                filters.insert(k, v);
            }
        }
    }
    q.filters = filters;
    let admin = Principal {
        scopes: None,
        user: "kundpuls-cli".into(),
        role: Role::Admin,
        teams: vec![],
    };
    let query = report_query(&admin, kind_str(args.kind), &q, jiff::Timestamp::now())
        .map_err(|e| format!("{e}"))?;
    let sdk = kundpuls::adapters::aws::load_sdk_config().await;
    let store = kundpuls::adapters::dynamo::DynamoStore::new(
        aws_sdk_dynamodb_client(&sdk),
        kundpuls::adapters::dynamo::DynamoConfig::new(table),
        // The report walks every page itself and hands no cursor out.
        kundpuls::adapters::cursor::CursorKey::ephemeral(),
    );
    let mut report = kundpuls::app::reports::report(&store, &query).await?;
    kundpuls::app::reports::with_client_targets(&mut report, &query, |c| {
        let store = store.clone();
        async move {
            use kundpuls::ports::BacklogStore;
            store.get_client_settings(&c).await
        }
    })
    .await?;
    Ok(report)
}

fn aws_sdk_dynamodb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

fn from_server(args: &ReportArgs) -> Result<Report, CliError> {
    let client = Client::local(&args.target, Role::Admin)?;
    let query: Vec<String> = params(args)?
        .into_iter()
        .map(|(k, v)| format!("{k}={}", v.replace(['&', '#', ' '], "")))
        .collect();
    let reply = client.get(&format!(
        "/api/v1/reports/{}?{}",
        kind_str(args.kind),
        query.join("&")
    ))?;
    if reply.status != 200 {
        return Err(format!("the server answered {}: {}", reply.status, reply.body).into());
    }
    Ok(serde_json::from_str(&reply.body)?)
}

fn figure(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "—".into())
}

fn print(report: &Report, format: Format) -> Result<(), CliError> {
    let nps = report.kind == "nps";
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(report)?),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                report.group_by.as_str(),
                "n",
                "value",
                "margin",
                "top2_share",
                "fcr_rate",
                "response_rate",
                "low_sample",
                "trend",
                "rolling_12",
                "target",
            ])?;
            for r in report.rows.iter().chain([&report.total]) {
                w.write_record([
                    kundpuls::web::exports::spreadsheet_safe(&r.key).into_owned(),
                    r.n.to_string(),
                    figure(r.value(), 3),
                    figure(r.nps.map(|s| s.margin), 3),
                    figure(r.csat.map(|s| s.top2_share), 3),
                    figure(r.fcr_rate, 3),
                    figure(r.response_rate, 3),
                    r.low_sample.to_string(),
                    figure(r.trend, 3),
                    figure(r.rolling_12, 3),
                    // The row's own goal (a client's), else the report's.
                    figure(Some(r.target.unwrap_or(report.target)), 1),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let scope = report
                .team
                .as_ref()
                .map_or("all teams".to_string(), |t| format!("team {t}"));
            println!(
                "{} by {}, {}–{}, {} (target {})",
                report.kind.to_uppercase(),
                report.group_by,
                report.from,
                report.to,
                scope,
                report.target
            );
            println!(
                "{:<24} {:>6} {:>8} {:>8} {:>8} {:>9} {:>8}  ",
                report.group_by,
                "n",
                if nps { "NPS" } else { "CSAT" },
                if nps { "±95%" } else { "top-2" },
                "resp.",
                "trend",
                "12 mo"
            );
            for r in report.rows.iter().chain([&report.total]) {
                println!(
                    "{:<24} {:>6} {:>8} {:>8} {:>8} {:>9} {:>8}  {}{}",
                    r.key,
                    r.n,
                    figure(r.value(), if nps { 1 } else { 2 }),
                    if nps {
                        figure(r.nps.map(|s| s.margin), 1)
                    } else {
                        figure(r.csat.map(|s| 100.0 * s.top2_share), 0) + "%"
                    },
                    figure(r.response_rate.map(|x| 100.0 * x), 0) + "%",
                    figure(r.trend, if nps { 1 } else { 2 }),
                    figure(r.rolling_12, if nps { 1 } else { 2 }),
                    if r.low_sample {
                        "low sample (n < 30)"
                    } else {
                        ""
                    },
                    r.target.map(|t| format!(" target {t}")).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

pub fn run(args: ReportArgs) -> Result<(), CliError> {
    let report = match &args.table {
        Some(table) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(from_dynamodb(&args, table))?,
        None => from_server(&args)?,
    };
    print(&report, args.format)
}
