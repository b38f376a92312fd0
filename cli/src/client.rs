//! A small HTTP client for the local server's API, signing its requests with the
//! data directory's key.

use crate::{CliError, Target};
use kundpuls::domain::ids::TeamId;
use kundpuls::web::auth::Role;
use kundpuls::wiring::local;

pub struct Client {
    url: String,
    token: String,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Client {
    pub fn new(target: &Target, role: Role) -> Result<Self, CliError> {
        let key = local::key(&target.data_dir)?;
        let token = key.sign("kundpuls-cli", role, &[] as &[TeamId], 1)?;
        Ok(Self {
            url: target.url.trim_end_matches('/').to_string(),
            token,
        })
    }

    /// An agent that hands back error statuses as replies, not errors.
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    pub fn get(&self, path: &str) -> Result<Reply, CliError> {
        let url = format!("{}{path}", self.url);
        let mut response = Self::agent()
            .get(&url)
            .header("authorization", &format!("Bearer {}", self.token))
            .call()
            .map_err(|e| {
                format!("GET {url}: {e} (is `kundpuls serve` running with this --data-dir?)")
            })?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        Ok(Reply { status, body })
    }

    pub fn post(&self, path: &str, content_type: &str, body: &str) -> Result<Reply, CliError> {
        let url = format!("{}{path}", self.url);
        let mut response = Self::agent()
            .post(&url)
            .header("authorization", &format!("Bearer {}", self.token))
            .header("content-type", content_type)
            .send(body)
            .map_err(|e| {
                format!("POST {url}: {e} (is `kundpuls serve` running with this --data-dir?)")
            })?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        Ok(Reply { status, body })
    }
}
