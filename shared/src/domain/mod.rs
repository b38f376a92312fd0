//! Pure domain logic: the values parsed at the edge, the survey and backlog models,
//! and the NPS/CSAT methodology. Nothing in here performs I/O or sees an SDK type.

pub mod backlog;
pub mod case_step;
pub mod contact;
pub mod creditor;
pub mod error;
pub mod ids;
pub mod locale;
pub mod messages;
pub mod metrics;
pub mod policy;
pub mod reports;
pub mod rules;
pub mod score;
pub mod sending;
pub mod stats;
pub mod step;
pub mod survey;
pub mod themes;
pub mod time;
pub mod token;

pub use error::{FieldError, InvalidInput};
