//! The local stand-in for SES and SNS: every message is appended as one JSON line to
//! `<data-dir>/outbox.jsonl`, where a person (or a test) reads what a recipient
//! would have got. It holds contact details, like a provider's log would: it belongs
//! to a development or demo data directory only.

use crate::domain::contact::Recipient;
use crate::ports::{Alert, AlertAbout, Alerter, Notifier, OutboundMessage, SendError};
use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Mutex;

pub const OUTBOX_FILE: &str = "outbox.jsonl";

/// One line of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxLine {
    /// `sms`, `email`, or to a team lead (`to` is `lead:<team>`): `alert` (a
    /// feedback item), `warning` (an early warning) or `digest` (the weekly digest).
    pub channel: String,
    pub to: String,
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The SMS sender id or the email's display name, when a client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    pub link: String,
    pub survey_id: String,
    pub sent_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct FileOutbox {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
}

impl FileOutbox {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(OUTBOX_FILE),
            lock: Arc::new(Mutex::new(())),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every line so far, oldest first. A missing file is an empty outbox.
    pub fn read_all(&self) -> std::io::Result<Vec<OutboxLine>> {
        read_outbox(&self.path)
    }
}

pub fn read_outbox(path: &Path) -> std::io::Result<Vec<OutboxLine>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(std::io::Error::other)?);
    }
    Ok(out)
}

#[async_trait]
impl Notifier for FileOutbox {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        let to = match &message.to {
            Recipient::Sms(p) => p.as_str().to_string(),
            Recipient::Email(e) => e.as_str().to_string(),
        };
        let line = OutboxLine {
            channel: message.channel.as_str().to_string(),
            to,
            language: message.language.code().to_string(),
            subject: message.subject.clone(),
            text: message.text.clone(),
            html: message.html.clone(),
            reply_to: message.reply_to.clone(),
            sender: message.sender.clone(),
            link: message.link.clone(),
            survey_id: message.survey_id.to_string(),
            sent_at: Timestamp::now(),
        };
        self.append(&line).await
    }
}

impl FileOutbox {
    async fn append(&self, line: &OutboxLine) -> Result<(), SendError> {
        let mut bytes = serde_json::to_vec(line).map_err(|e| SendError::NotSent(e.into()))?;
        bytes.push(b'\n');
        let _guard = self.lock.lock().await;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            f.write_all(&bytes)?;
            f.sync_data()
        })
        .await
        .map_err(|e| SendError::Unknown(e.into()))?
        // A failed write may have left part of the line: what arrived is unknown.
        .map_err(|e| SendError::Unknown(e.into()))
    }
}

#[async_trait]
impl Alerter for FileOutbox {
    async fn alert(&self, alert: &Alert) -> Result<(), SendError> {
        // Feedback alerts keep the channel `alert`; notices go as `warning` or
        // `digest`, with no survey behind them.
        let (channel, survey_id) = match &alert.about {
            AlertAbout::Feedback { survey_id, .. } => ("alert", survey_id.to_string()),
            AlertAbout::Notice { kind, .. } => (*kind, String::new()),
        };
        self.append(&OutboxLine {
            channel: channel.into(),
            to: format!("lead:{}", alert.team),
            language: "en".into(),
            subject: Some(alert.subject.clone()),
            text: alert.text.clone(),
            html: None,
            reply_to: None,
            sender: None,
            link: alert.link.clone(),
            survey_id,
            sent_at: Timestamp::now(),
        })
        .await
    }
}
