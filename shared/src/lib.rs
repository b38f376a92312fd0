//! Kundpuls: the survey-and-feedback core shared by every Lambda function and the
//! local `kundpuls serve` process.
//!
//! - [`domain`]: pure logic and the types parsed at the edge (no I/O).
//! - [`ports`]: the small async traits the domain needs from the outside world.
//! - [`adapters`]: DynamoDB, the embedded (redb) store, SES, SNS and the outbox.
//! - [`app`]: the use cases; [`web`]: the HTTP routers; [`events`]: the
//!   event-driven functions' handlers; [`wiring`]: start-up.

pub mod adapters;
pub mod app;
pub mod domain;
pub mod events;
pub mod ports;
pub mod web;
pub mod wiring;
