//! `kundpuls`: the whole service as one local process, and its tools. This file only
//! parses the command line and hands over.

mod client;
mod commands;
mod demo;
mod report;
mod serve;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Kundpuls: surveys and feedback for credit management, run locally on an embedded
/// store. Messages go to a file outbox you can read in the browser at /dev/outbox.
#[derive(Parser)]
#[command(name = "kundpuls", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every function's logic in one process on 127.0.0.1.
    Serve(serve::ServeArgs),
    /// Post case-step events (a JSON object, an array, or one object per line) to a
    /// running server.
    Emit(commands::EmitArgs),
    /// Creditor contacts.
    #[command(subcommand)]
    Contacts(commands::ContactsCommand),
    /// Print a bearer token that a server on this data directory accepts.
    Token(commands::TokenArgs),
    /// An NPS or CSAT report by month or dimension (from the local server, or from
    /// a DynamoDB table with --table).
    Report(report::ReportArgs),
    /// The survey policy.
    #[command(subcommand)]
    Policy(commands::PolicyCommand),
    /// Print a message exactly as a recipient gets it (made-up contact and link).
    #[command(subcommand)]
    Preview(commands::PreviewCommand),
    /// Print the integration contracts: the OpenAPI document, the event's schema.
    #[command(subcommand)]
    Contract(commands::ContractCommand),
}

/// Options shared by every command that talks to a local server.
#[derive(clap::Args, Clone)]
pub struct Target {
    /// The data directory of the server (its key signs the request).
    #[arg(long, env = "KUNDPULS_DATA_DIR", default_value = ".kundpuls")]
    pub data_dir: PathBuf,
    /// The server's base URL.
    #[arg(long, env = "KUNDPULS_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Emit(args) => commands::emit(args),
        Command::Contacts(c) => commands::contacts(c),
        Command::Token(args) => commands::token(args),
        Command::Policy(c) => commands::policy(c),
        Command::Report(args) => report::run(args),
        Command::Preview(c) => commands::preview(c),
        Command::Contract(c) => commands::contract(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kundpuls: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// Errors of the command line, printed with their causes.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;
