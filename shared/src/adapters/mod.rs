//! Adapters behind the ports: DynamoDB for AWS, and an embedded durable store for
//! the local process. Both share the key design in [`keys`]. Adapters carry out what
//! the domain decided; they never decide.

pub mod aws;
pub mod dynamo;
pub mod embedded;
pub mod keys;
mod records;
