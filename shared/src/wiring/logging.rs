//! Structured logs: JSON lines on Lambda (the runtime adds the request id to each
//! line's span), readable text locally. `RUST_LOG` filters; the default is `info`.
//! Nothing logged here or elsewhere carries a phone number, email or token.
//!
//! Whatever `RUST_LOG` says, the HTTP and AWS SDK internals stay at `info`: at
//! `debug` and `trace` they log whole request and response bodies, and DynamoDB's
//! carry survey records with phone numbers (the log-privacy suite found this).

use tracing_subscriber::EnvFilter;

/// Targets that log request and response bodies below `info`.
const BODY_LOGGERS: [&str; 6] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sdk_dynamodb",
    "hyper",
    "hyper_util",
];

/// `spec` (an `RUST_LOG` value), with the body loggers held at `info`.
pub fn filter(spec: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in BODY_LOGGERS {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

fn from_env() -> EnvFilter {
    filter(&std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
}

pub fn init_json() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(from_env())
        .with_current_span(true)
        .without_time()
        .try_init();
}

pub fn init_text() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(from_env())
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_body_loggers_stay_at_info_even_at_trace() {
        let text = super::filter("trace").to_string();
        assert!(text.contains("aws_smithy_runtime=info"), "{text}");
    }
}
