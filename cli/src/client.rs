//! A small HTTP client for the API. Against the local server it signs its requests
//! with the data directory's key. Against a deployed stack it signs in as the case
//! system with OAuth 2.0 client credentials, read from the environment so they
//! never land in shell history: `KUNDPULS_TOKEN_URL`, `KUNDPULS_CLIENT_ID`,
//! `KUNDPULS_CLIENT_SECRET`.

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

/// The case system's client credentials, if all three variables are set.
struct ClientCredentials {
    token_url: String,
    id: String,
    secret: String,
}

impl ClientCredentials {
    fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Some(Self {
            token_url: var("KUNDPULS_TOKEN_URL")?,
            id: var("KUNDPULS_CLIENT_ID")?,
            secret: var("KUNDPULS_CLIENT_SECRET")?,
        })
    }

    /// An access token for `scope` from the token endpoint.
    fn access_token(&self, scope: &str) -> Result<String, CliError> {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.id, self.secret));
        let form = format!(
            "grant_type=client_credentials&scope={}",
            scope.replace('/', "%2F")
        );
        let mut response = Client::agent()
            .post(&self.token_url)
            .header("authorization", &format!("Basic {basic}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(form.as_str())
            .map_err(|e| format!("POST {}: {e}", self.token_url))?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        if status != 200 {
            // The endpoint's error (e.g. invalid_client); never the secret.
            return Err(format!("the token endpoint answered {status}: {body}").into());
        }
        let reply: serde_json::Value = serde_json::from_str(&body)?;
        reply["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "the token endpoint sent no access_token".into())
    }
}

impl Client {
    /// A client for `role` on the local server, or, with client credentials in the
    /// environment, the case system with `scope` on whatever `--url` names.
    pub fn new(target: &Target, role: Role, scope: &str) -> Result<Self, CliError> {
        match ClientCredentials::from_env() {
            Some(credentials) => Ok(Self {
                url: target.url.trim_end_matches('/').to_string(),
                token: credentials.access_token(scope)?,
            }),
            None => Self::local(target, role),
        }
    }

    /// A client for `role` on the local server of `target`'s data directory.
    pub fn local(target: &Target, role: Role) -> Result<Self, CliError> {
        let key = local::key(&target.data_dir)?;
        Ok(Self {
            url: target.url.trim_end_matches('/').to_string(),
            token: key.sign("kundpuls-cli", role, &[] as &[TeamId], 1)?,
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
