//! Team leads sign in to the console through the identity provider's managed login
//! (Cognito on AWS): the authorization-code flow with PKCE. The console verifies
//! the ID token itself: its RS256 signature against the provider's published keys
//! (fetched once, and again only for a key id it has not seen, at most once a
//! minute), its issuer, audience, `token_use` and expiry. The token then becomes a
//! [`Principal`](super::auth::Principal) through the same claims mapping as
//! everywhere else.

use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// Where the provider is and who the console is to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInConfig {
    /// The token issuer (`https://cognito-idp.<region>.amazonaws.com/<pool id>`);
    /// its keys are at `<issuer>/.well-known/jwks.json`.
    pub issuer: String,
    /// The managed login's base URL (`https://<domain>.auth.<region>.amazoncognito.com`):
    /// `/oauth2/authorize`, `/oauth2/token`, `/logout`.
    pub login_url: String,
    /// The console's app client (public: PKCE, no secret).
    pub client_id: String,
    /// The service's public base URL: callbacks come back under it.
    pub public_base_url: String,
}

impl SignInConfig {
    /// From `SIGN_IN_ISSUER`, `SIGN_IN_URL`, `SIGN_IN_CLIENT_ID` and
    /// `PUBLIC_BASE_URL`; `None` when sign-in is not configured.
    pub fn from_env() -> Option<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Some(Self {
            issuer: var("SIGN_IN_ISSUER")?,
            login_url: var("SIGN_IN_URL")?,
            client_id: var("SIGN_IN_CLIENT_ID")?,
            public_base_url: var("PUBLIC_BASE_URL")?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the identity provider refused: {0}")]
    Refused(String),
    #[error("the token is not valid here: {0}")]
    Invalid(&'static str),
}

/// What the token endpoint hands over.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Tokens {
    pub id_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// One `state` and PKCE pair for one sign-in.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub state: String,
    pub verifier: String,
}

impl Challenge {
    pub fn new() -> Self {
        Self {
            state: random_text(16),
            verifier: random_text(32),
        }
    }

    /// `S256`: the verifier's SHA-256, base64url.
    pub fn code_challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }
}

impl Default for Challenge {
    fn default() -> Self {
        Self::new()
    }
}

fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source");
    URL_SAFE_NO_PAD.encode(buf)
}

/// The provider's keys, and when they were last fetched.
#[derive(Default)]
struct Keys {
    set: Option<JwkSet>,
    /// When an unknown key id last made us fetch the keys again.
    refetched_at: Option<Instant>,
    fetches: u64,
}

/// An unknown key id refetches the keys (the provider may have rotated them) at
/// most this often; other unknown ids in between are refused without a fetch.
const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// Clock skew allowed on `exp`.
const LEEWAY_SECONDS: u64 = 30;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

pub struct SignIn {
    config: SignInConfig,
    keys: RwLock<Keys>,
    http: Client<Https, Full<Bytes>>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl SignIn {
    pub fn new(config: SignInConfig) -> Result<Self, SignInError> {
        // aws-lc-rs, named: a process that also links ring (the CLI) has no
        // default provider to fall back on.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| SignInError::Unreachable(e.to_string()))?
            // Plain HTTP only for a provider on loopback (the test stand-in).
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            config,
            keys: RwLock::new(Keys::default()),
            http: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    pub fn config(&self) -> &SignInConfig {
        &self.config
    }

    /// Where the provider sends the browser back with the code.
    pub fn redirect_uri(&self) -> String {
        format!(
            "{}/console/auth/callback",
            self.config.public_base_url.trim_end_matches('/')
        )
    }

    /// The managed login page for this sign-in.
    pub fn authorize_url(&self, challenge: &Challenge) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("redirect_uri", self.redirect_uri().as_str()),
            ("scope", "openid email profile"),
            ("state", challenge.state.as_str()),
            ("code_challenge", challenge.code_challenge().as_str()),
            ("code_challenge_method", "S256"),
        ])
        .unwrap_or_default();
        format!(
            "{}/oauth2/authorize?{query}",
            self.config.login_url.trim_end_matches('/')
        )
    }

    /// Signs out of the managed login too, then back to the console's login page.
    pub fn logout_url(&self) -> String {
        let query = serde_urlencoded::to_string([
            ("client_id", self.config.client_id.as_str()),
            (
                "logout_uri",
                format!(
                    "{}/console/login",
                    self.config.public_base_url.trim_end_matches('/')
                )
                .as_str(),
            ),
        ])
        .unwrap_or_default();
        format!(
            "{}/logout?{query}",
            self.config.login_url.trim_end_matches('/')
        )
    }

    /// The code from the callback, for tokens.
    pub async fn exchange_code(&self, code: &str, verifier: &str) -> Result<Tokens, SignInError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("client_id", &self.config.client_id),
            ("code", code),
            ("redirect_uri", &self.redirect_uri()),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// New tokens for a refresh token (the provider keeps the refresh token).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, SignInError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", &self.config.client_id),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<Tokens, SignInError> {
        let body =
            serde_urlencoded::to_string(form).map_err(|e| SignInError::Refused(e.to_string()))?;
        let url = format!(
            "{}/oauth2/token",
            self.config.login_url.trim_end_matches('/')
        );
        let request = axum::http::Request::post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| SignInError::Unreachable(e.to_string()))?;
        let (status, bytes) = self.send(request).await?;
        if !status.is_success() {
            // The provider's error code (`invalid_grant`…), not the request.
            let error = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| status.to_string());
            return Err(SignInError::Refused(error));
        }
        serde_json::from_slice(&bytes).map_err(|_| SignInError::Refused("no id_token".into()))
    }

    async fn send(
        &self,
        request: axum::http::Request<Full<Bytes>>,
    ) -> Result<(axum::http::StatusCode, Bytes), SignInError> {
        let response = tokio::time::timeout(Duration::from_secs(5), self.http.request(request))
            .await
            .map_err(|_| SignInError::Unreachable("timed out".into()))?
            .map_err(|e| SignInError::Unreachable(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| SignInError::Unreachable(e.to_string()))?
            .to_bytes();
        Ok((status, bytes))
    }

    /// How many times the keys were fetched (they are cached).
    pub async fn key_fetches(&self) -> u64 {
        self.keys.read().await.fetches
    }

    async fn fetch_keys(&self) -> Result<(), SignInError> {
        let url = format!(
            "{}/.well-known/jwks.json",
            self.config.issuer.trim_end_matches('/')
        );
        let request = axum::http::Request::get(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| SignInError::Unreachable(e.to_string()))?;
        let (status, bytes) = self.send(request).await?;
        if !status.is_success() {
            return Err(SignInError::Unreachable(format!("keys: {status}")));
        }
        let set: JwkSet = serde_json::from_slice(&bytes)
            .map_err(|_| SignInError::Unreachable("keys: not a JWK set".into()))?;
        let mut keys = self.keys.write().await;
        if keys.set.is_some() {
            keys.refetched_at = Some(Instant::now());
        }
        keys.set = Some(set);
        keys.fetches += 1;
        Ok(())
    }

    async fn key_for(&self, kid: &str) -> Result<DecodingKey, SignInError> {
        let lookup = |keys: &Keys| {
            keys.set
                .as_ref()
                .and_then(|s| s.find(kid))
                .map(DecodingKey::from_jwk)
        };
        let refetch = {
            let keys = self.keys.read().await;
            if let Some(found) = lookup(&keys) {
                return found.map_err(|_| SignInError::Invalid("unusable key"));
            }
            keys.set.is_none()
                || keys
                    .refetched_at
                    .is_none_or(|at| at.elapsed() >= REFETCH_AFTER)
        };
        if refetch {
            self.fetch_keys().await?;
        }
        let keys = self.keys.read().await;
        lookup(&keys)
            .ok_or(SignInError::Invalid("unknown key id"))?
            .map_err(|_| SignInError::Invalid("unusable key"))
    }

    /// The claims of a valid ID token for this console, as the string map the
    /// claims mapping reads (`cognito:groups` as `[a b]`, like API Gateway).
    pub async fn verify(&self, id_token: &str) -> Result<HashMap<String, String>, SignInError> {
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|_| SignInError::Invalid("malformed"))?;
        if header.alg != Algorithm::RS256 {
            return Err(SignInError::Invalid("not RS256"));
        }
        let kid = header.kid.ok_or(SignInError::Invalid("no key id"))?;
        let key = self.key_for(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[self.config.issuer.as_str()]);
        validation.set_audience(&[self.config.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let data =
            jsonwebtoken::decode::<HashMap<String, serde_json::Value>>(id_token, &key, &validation)
                .map_err(|e| {
                    use jsonwebtoken::errors::ErrorKind;
                    SignInError::Invalid(match e.kind() {
                        ErrorKind::ExpiredSignature => "expired",
                        ErrorKind::InvalidIssuer => "wrong issuer",
                        ErrorKind::InvalidAudience => "wrong audience",
                        ErrorKind::InvalidSignature => "bad signature",
                        _ => "invalid",
                    })
                })?;
        if data.claims.get("token_use").and_then(|v| v.as_str()) != Some("id") {
            return Err(SignInError::Invalid("not an ID token"));
        }
        Ok(data
            .claims
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Array(items) => format!(
                        "[{}]",
                        items
                            .iter()
                            .filter_map(|i| i.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect())
    }
}
