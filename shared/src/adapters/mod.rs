//! Adapters behind the ports: DynamoDB, SES and SNS for AWS; the embedded durable
//! store and the file outbox for the local process. Both share the key design in [`keys`]. Adapters carry out what
//! the domain decided; they never decide.

pub mod aws;
pub mod cursor;
pub mod dynamo;
pub mod embedded;
pub mod keys;
pub mod lazy;
pub mod outbox;
mod records;
#[cfg(feature = "ses")]
pub mod ses;
#[cfg(feature = "sns")]
pub mod sns;
pub mod unlinked;
