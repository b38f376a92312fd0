//! The notifier a function has for a channel it was built without (see the `ses`
//! and `sns` features): each Lambda links only the SDK clients it uses, and its IAM
//! policy allows only those. If a use case ever tries to send through it, the send
//! is refused as worth retrying, so the survey stays due and the function that
//! does send (the schedule) picks it up; nothing is marked failed.

use crate::ports::{Notifier, OutboundMessage, SendError};
use async_trait::async_trait;

#[derive(Debug, Clone, Copy)]
pub struct Unlinked {
    pub channel: &'static str,
}

fn refuse(channel: &str) -> SendError {
    tracing::error!(channel, "this function was built without this channel");
    SendError::NotSent(format!("{channel} is not linked into this function").into())
}

#[async_trait]
impl Notifier for Unlinked {
    async fn send(&self, _message: &OutboundMessage) -> Result<(), SendError> {
        Err(refuse(self.channel))
    }
}
