//! Start-up wiring shared by the Lambda functions: typed configuration read once from
//! the environment (failing fast with the variable's name), SDK clients built once,
//! and JSON logs.

pub mod aws;
pub mod init_clock;
pub mod local;
pub mod logging;
