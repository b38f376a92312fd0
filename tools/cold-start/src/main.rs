//! Cold starts, measured locally: a stand-in for the Lambda runtime API on loopback,
//! and each release function spawned `--runs` times (15 by default) beside the
//! hello-world `lambda_runtime` binary built with the same profile, in turn, so that
//! the machine's noise falls on all of them alike. For each spawn:
//!
//! - init: from spawning the process to its first `GET /runtime/invocation/next`
//!   (what Lambda reports as Init Duration: configuration, SDK clients, the secret,
//!   the DynamoDB connection warmed by the HTTP functions);
//! - first response: from spawning to the response to one real event (the
//!   function's fixture where it has one).
//!
//! The SDK talks to the server at `AWS_ENDPOINT_URL` (moto; `scripts/cold-start`
//! starts one). Prints median, min and max per binary and the ratio of each median
//! init to hello-world's, and the init less the requests it waits on (the secret's
//! read and the DynamoDB connection, from the function's own log line), so that what
//! the binary costs can be told from what the emulator's requests cost. Asserts
//! nothing: these machines are shared and noisy.
//!
//! `scripts/cold-start [--runs N]`

mod events;
mod runtime_api;
mod setup;

use std::path::PathBuf;
use std::time::Duration;

/// How long one spawn may take before it counts as failed.
const SPAWN_LIMIT: Duration = Duration::from_secs(20);

/// The part of a function's start that waits on the network (the contact-key
/// secret and the DynamoDB connection); see `FunctionEnv::services_timed`.
const REQUESTS_PART: &str = "secret_and_warm";

/// One binary to measure and the event it gets.
struct Subject {
    name: &'static str,
    event: String,
}

/// Milliseconds of each spawn.
#[derive(Default)]
struct Samples {
    init: Vec<f64>,
    /// Init less the requests made during it (the `secret_and_warm` part): what the
    /// binary itself costs, which the emulator's request time does not hide.
    own_init: Vec<f64>,
    first: Vec<f64>,
    /// Each part of the function's own start (its `function initialised` line), µs.
    phases: Vec<(String, Vec<f64>)>,
    failures: Vec<String>,
}

impl Samples {
    fn add_phases(&mut self, phases: Vec<(String, f64)>) {
        for (name, us) in phases {
            match self.phases.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(us),
                None => self.phases.push((name, vec![us])),
            }
        }
    }
}

fn stats(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    (s[s.len() / 2], s[0], s[s.len() - 1])
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut runs = 15usize;
    let mut bin_dir = PathBuf::from("target/release");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().ok_or("--runs N")?.parse()?,
            "--bin-dir" => bin_dir = PathBuf::from(args.next().ok_or("--bin-dir DIR")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let env = setup::prepare().await?;
    let api = runtime_api::RuntimeApi::start().await?;
    let subjects = events::subjects();
    let mut samples: Vec<Samples> = subjects.iter().map(|_| Samples::default()).collect();
    println!(
        "cold starts: {runs} spawns of each binary in {}, runtime API on {}",
        bin_dir.display(),
        api.address()
    );
    for run in 0..runs {
        for (subject, sample) in subjects.iter().zip(samples.iter_mut()) {
            let bin = bin_dir.join(subject.name);
            match api
                .spawn(&bin, subject.name, &env, &subject.event, SPAWN_LIMIT)
                .await
            {
                Ok(m) => {
                    let init = m.init.as_secs_f64() * 1000.0;
                    let requests = m
                        .phases
                        .iter()
                        .find(|(name, _)| name == REQUESTS_PART)
                        .map_or(0.0, |(_, us)| us / 1000.0);
                    sample.init.push(init);
                    sample.own_init.push(init - requests);
                    sample.first.push(m.first_response.as_secs_f64() * 1000.0);
                    sample.add_phases(m.phases);
                }
                Err(e) => sample.failures.push(format!("run {run}: {e}")),
            }
        }
        eprint!("\r{}/{runs} rounds", run + 1);
    }
    eprintln!();
    let hello = stats(&samples[0].init).0;
    println!(
        "{:<22} {:>24} {:>24} {:>11} {:>20}",
        "binary",
        "init ms (median/min/max)",
        "first response ms",
        "init ×hello",
        "without requests ms"
    );
    for (subject, sample) in subjects.iter().zip(&samples) {
        let (im, imin, imax) = stats(&sample.init);
        let (fm, fmin, fmax) = stats(&sample.first);
        let own = stats(&sample.own_init).0;
        println!(
            "{:<22} {:>8.1} {:>7.1} {:>7.1} {:>8.1} {:>7.1} {:>7.1} {:>11.2} {:>8.1} ({:.2}×)",
            subject.name,
            im,
            imin,
            imax,
            fm,
            fmin,
            fmax,
            im / hello,
            own,
            own / hello
        );
        for f in &sample.failures {
            println!("    failed: {f}");
        }
    }
    println!("\nparts of each start, median ms (the function's own `function initialised` line):");
    for (subject, sample) in subjects.iter().zip(&samples) {
        if sample.phases.is_empty() {
            continue;
        }
        let parts: Vec<String> = sample
            .phases
            .iter()
            .map(|(name, us)| format!("{name} {:.2}", stats(us).0 / 1000.0))
            .collect();
        println!("{:<22} {}", subject.name, parts.join(", "));
    }
    if samples.iter().any(|s| !s.failures.is_empty()) {
        return Err("some spawns failed (see above)".into());
    }
    Ok(())
}
