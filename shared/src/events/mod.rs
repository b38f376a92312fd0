//! The event-driven functions' handlers: an SQS batch of case steps, a batch from
//! the table's stream, a scheduled tick. Typed events from `aws_lambda_events` in,
//! partial batch failures out. The function crates only wire them to the runtime;
//! keeping them here lets one end-to-end suite drive every entry point.

pub mod answers;
pub mod case_steps;
pub mod mail;
pub mod schedule;
