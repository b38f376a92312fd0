//! Loading the AWS SDK configuration once, with explicit timeouts and retries.
//! Standard variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`,
//! credentials) apply as the SDK documents them.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// Connect 2 s, each attempt 3 s, a whole operation (with retries) 10 s, three
/// attempts with the SDK's standard backoff: a Lambda fails fast enough to be retried
/// by its trigger instead of hanging until its own timeout.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}
