//! A stand-in for the identity provider (Cognito's managed login) on loopback: the
//! issuer's key set at `/pool/.well-known/jwks.json`, `/oauth2/authorize` (which
//! signs in one configured user at once and sends the browser back with a code),
//! `/oauth2/token` (code with PKCE, and refresh tokens) and `/logout`. It signs
//! RS256 ID tokens with a key made for this test run, and counts key-set fetches.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

pub const CLIENT_ID: &str = "console-client";
pub const KID: &str = "test-key-1";

/// One RSA key per test binary (making one takes a moment).
pub fn key() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("an RSA key"))
}

fn encoding_key() -> EncodingKey {
    let der = key().to_pkcs1_der().expect("DER");
    EncodingKey::from_rsa_der(der.as_bytes())
}

/// The public key as a JWK set.
pub fn jwks() -> Value {
    let public = key().to_public_key();
    json!({"keys": [{
        "kty": "RSA", "kid": KID, "alg": "RS256", "use": "sig",
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    }]})
}

/// An RS256 token with `claims`, signed with the run's key under `kid`.
pub fn sign(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &encoding_key()).expect("signed")
}

/// The claims of a good ID token for `user` from `issuer`.
pub fn id_claims(issuer: &str, user: &User, lifetime_seconds: i64) -> Value {
    let now = jiff::Timestamp::now().as_second();
    json!({
        "sub": user.sub, "iss": issuer, "aud": CLIENT_ID, "token_use": "id",
        "cognito:groups": user.groups, "custom:teams": user.teams,
        "email": "lead@example.com", "iat": now, "exp": now + lifetime_seconds,
    })
}

#[derive(Debug, Clone)]
pub struct User {
    pub sub: String,
    pub groups: Vec<String>,
    pub teams: String,
}

struct Pending {
    challenge: String,
    redirect_uri: String,
}

struct Idp {
    issuer: String,
    user: User,
    codes: Mutex<HashMap<String, Pending>>,
    key_fetches: AtomicU64,
    token_lifetime: i64,
}

/// The running stand-in.
pub struct IdpStandIn {
    pub base: String,
    pub issuer: String,
    state: Arc<Idp>,
}

impl IdpStandIn {
    /// Starts it on a free loopback port, signing `user` in at every authorize.
    pub async fn start(user: User) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("its address"));
        let issuer = format!("{base}/pool");
        let state = Arc::new(Idp {
            issuer: issuer.clone(),
            user,
            codes: Mutex::new(HashMap::new()),
            key_fetches: AtomicU64::new(0),
            token_lifetime: 3600,
        });
        let app = Router::new()
            .route("/pool/.well-known/jwks.json", get(keys))
            .route("/oauth2/authorize", get(authorize))
            .route("/oauth2/token", post(token))
            .route("/logout", get(logout))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serving") });
        Self {
            base,
            issuer,
            state,
        }
    }

    pub fn key_fetches(&self) -> u64 {
        self.state.key_fetches.load(Ordering::SeqCst)
    }
}

async fn keys(State(idp): State<Arc<Idp>>) -> impl IntoResponse {
    idp.key_fetches.fetch_add(1, Ordering::SeqCst);
    axum::Json(jwks())
}

async fn authorize(
    State(idp): State<Arc<Idp>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("code_challenge_method").map(String::as_str) == Some("S256");
    let (Some(redirect_uri), Some(state), Some(challenge)) = (
        q.get("redirect_uri"),
        q.get("state"),
        q.get("code_challenge"),
    ) else {
        return (StatusCode::BAD_REQUEST, "missing parameters").into_response();
    };
    if !ok {
        return (StatusCode::BAD_REQUEST, "bad parameters").into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    idp.codes.lock().expect("codes").insert(
        code.clone(),
        Pending {
            challenge: challenge.clone(),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let back = format!(
        "{redirect_uri}?{}",
        serde_urlencoded::to_string([("code", code.as_str()), ("state", state.as_str())])
            .unwrap_or_default()
    );
    Redirect::to(&back).into_response()
}

async fn token(State(idp): State<Arc<Idp>>, body: String) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let refused = |error: &str| {
        (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error}))).into_response()
    };
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return refused("invalid_client");
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(pending) = form
                .get("code")
                .and_then(|c| idp.codes.lock().expect("codes").remove(c))
            else {
                return refused("invalid_grant");
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if challenge != pending.challenge
                || form.get("redirect_uri") != Some(&pending.redirect_uri)
            {
                return refused("invalid_grant");
            }
        }
        Some("refresh_token") => {
            if form.get("refresh_token").map(String::as_str) != Some("refresh-1") {
                return refused("invalid_grant");
            }
        }
        _ => return refused("unsupported_grant_type"),
    }
    let id_token = sign(&id_claims(&idp.issuer, &idp.user, idp.token_lifetime), KID);
    axum::Json(json!({
        "id_token": id_token, "access_token": "unused", "refresh_token": "refresh-1",
        "token_type": "Bearer", "expires_in": idp.token_lifetime,
    }))
    .into_response()
}

async fn logout(Query(q): Query<HashMap<String, String>>) -> Response {
    match q.get("logout_uri") {
        Some(to) if q.get("client_id").map(String::as_str) == Some(CLIENT_ID) => {
            Redirect::to(to).into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "bad logout").into_response(),
    }
}
