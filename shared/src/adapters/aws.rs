//! Loading the AWS SDK configuration once, with explicit timeouts and retries.
//! Standard variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`,
//! credentials) apply as the SDK documents them.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// Pooled connections idle longer than this are closed rather than reused. Lambda
/// freezes the process between invocations, so a connection can sit in the pool for
/// minutes and be dead on thaw; a short idle limit (hyper's default is 90 s) keeps
/// the pool to connections that were just used. A dead one that slips through fails
/// fast and is retried by the SDK's standard retry.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// How long the SDK may take and how often it tries.
#[derive(Debug, Clone, Copy)]
pub struct SdkLimits {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
    pub max_attempts: u32,
}

impl SdkLimits {
    /// Connect 2 s, each attempt 3 s, a whole operation (with retries) 10 s, three
    /// attempts with the SDK's standard backoff: a Lambda fails fast enough to be
    /// retried by its trigger instead of hanging until its own timeout.
    pub const LAMBDA: SdkLimits = SdkLimits {
        connect: Duration::from_secs(2),
        attempt: Duration::from_secs(3),
        operation: Duration::from_secs(10),
        max_attempts: 3,
    };
}

/// The functions' SDK configuration: [`SdkLimits::LAMBDA`].
pub async fn load_sdk_config() -> SdkConfig {
    load_sdk_config_with(SdkLimits::LAMBDA).await
}

/// The roots AWS service endpoints chain to: Amazon Root CA 1–4 and Starfield
/// Services Root CA G2 (what AWS documents for its endpoints), bundled instead of
/// scanning the system's store at start-up (see README, "Cold starts").
const AWS_ENDPOINT_ROOTS: &[u8] = include_bytes!("roots/aws-endpoints.pem");

/// `KUNDPULS_SYSTEM_ROOTS=1` trusts the system's store instead, for an endpoint
/// that is not AWS's (a TLS proxy, an emulator with its own certificate).
fn trust_store() -> aws_smithy_http_client::tls::TrustStore {
    use aws_smithy_http_client::tls::TrustStore;
    if std::env::var("KUNDPULS_SYSTEM_ROOTS").is_ok_and(|v| v == "1") {
        TrustStore::default()
    } else {
        TrustStore::empty().with_pem_certificate(AWS_ENDPOINT_ROOTS)
    }
}

/// One HTTPS client (rustls on aws-lc-rs) with [`POOL_IDLE_TIMEOUT`] and the
/// bundled AWS roots, shared by every SDK client built from the result.
pub async fn load_sdk_config_with(limits: SdkLimits) -> SdkConfig {
    let tls = aws_smithy_http_client::tls::TlsContext::builder()
        .with_trust_store(trust_store())
        .build()
        .expect("a trust store of bundled PEM roots");
    let http = aws_smithy_http_client::Builder::new()
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(tls)
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(limits.connect)
                .operation_attempt_timeout(limits.attempt)
                .operation_timeout(limits.operation)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(limits.max_attempts))
        .load()
        .await
}

/// The SDK configuration for clients that send to people (SNS, SES): retries off.
/// The SDK's standard retry repeats a request after a timeout or a 5xx, which for
/// `Publish` or `SendEmail` can deliver the same message twice; whether another
/// attempt is safe is the application's decision ([`classify_send_error`]).
pub fn without_retries(sdk: &SdkConfig) -> SdkConfig {
    sdk.to_builder()
        .retry_config(RetryConfig::disabled())
        .build()
}

/// An AWS service's operation error: it names its error code, and can be boxed.
pub trait ServiceError:
    aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static
{
}

impl<E> ServiceError for E where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static
{
}

/// Sorts an SDK error from a send into what it says about the message: refused
/// before it could be accepted (`Throttled` for its rate, `NotSent` otherwise), or
/// possibly accepted (`Unknown`).
/// Service-specific permanent refusals are matched by the caller first.
pub fn classify_send_error<E: ServiceError>(
    e: aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> crate::ports::SendError {
    use crate::ports::SendError;
    use aws_smithy_runtime_api::client::result::SdkError;
    let throttled = match &e {
        SdkError::ServiceError(s) => {
            s.raw().status().as_u16() == 429
                || matches!(
                    s.err().code(),
                    Some(
                        "Throttling"
                            | "ThrottlingException"
                            | "ThrottledException"
                            | "TooManyRequestsException"
                            | "LimitExceededException"
                    )
                )
        }
        _ => false,
    };
    if throttled {
        return SendError::Throttled(Box::new(e));
    }
    let not_sent = match &e {
        // The request was never built, so never written.
        SdkError::ConstructionFailure(_) => true,
        // Failed to connect: nothing was written. Anything else on the wire (a
        // reset, a read timeout) may have come after the request was written.
        SdkError::DispatchFailure(d) => d.is_user() || never_connected(&e),
        // The attempt or operation timed out, or a response came and could not be
        // read: the provider may well have acted on the request.
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => false,
        // A 4xx is the provider refusing the request; a 5xx may come after it
        // acted on it.
        SdkError::ServiceError(s) => (400..500).contains(&s.raw().status().as_u16()),
        _ => false,
    };
    if not_sent {
        SendError::NotSent(Box::new(e))
    } else {
        SendError::Unknown(Box::new(e))
    }
}

/// Whether a dispatch failure happened while connecting (hyper's connect error is
/// somewhere in the chain): the request cannot have been written.
fn never_connected(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if err
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
        {
            return true;
        }
        next = err.source();
    }
    false
}

#[cfg(test)]
mod roots_tests {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    #[test]
    fn the_bundled_roots_are_the_five_aws_documents_and_all_parse() {
        let certs: Vec<_> = CertificateDer::pem_slice_iter(super::AWS_ENDPOINT_ROOTS)
            .collect::<Result<_, _>>()
            .expect("PEM");
        assert_eq!(certs.len(), 5);
        let mut store = rustls::RootCertStore::empty();
        let (valid, invalid) = store.add_parsable_certificates(certs);
        assert_eq!((valid, invalid), (5, 0));
    }
}
