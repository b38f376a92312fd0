//! Who is calling, from claims. In AWS the API Gateway JWT authorizer has verified
//! the token and hands over its claims; locally `kundpuls token` signs a token with a
//! key kept in the data directory and the server verifies it. Either way the claims
//! become a [`Principal`] through the same [`Principal::from_claims`].

use crate::domain::ids::TeamId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A team lead: sees and edits only their teams.
    Lead,
    /// Sees and edits everything; imports contacts.
    Admin,
    /// A machine caller (the case-management system).
    System,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "lead" => Some(Role::Lead),
            "admin" => Some(Role::Admin),
            "system" => Some(Role::System),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    pub teams: Vec<TeamId>,
}

impl Principal {
    /// Reads `sub`, the role (`role`/`custom:role`, else the strongest Cognito group
    /// in `cognito:groups`) and teams (`teams`/`custom:teams`, comma- or space-
    /// separated). API Gateway passes list claims as `[a b]` strings; both forms work.
    pub fn from_claims(claims: &HashMap<String, String>) -> Option<Self> {
        let user = claims.get("sub").filter(|s| !s.is_empty())?.clone();
        let list = |key: &str| -> Vec<String> {
            claims
                .get(key)
                .map(|v| {
                    v.trim_matches(|c| c == '[' || c == ']')
                        .split([',', ' '])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let role = claims
            .get("role")
            .or_else(|| claims.get("custom:role"))
            .and_then(|r| Role::parse(r))
            .or_else(|| {
                let groups: Vec<Role> = list("cognito:groups")
                    .iter()
                    .filter_map(|g| Role::parse(g))
                    .collect();
                [Role::Admin, Role::System, Role::Lead]
                    .into_iter()
                    .find(|r| groups.contains(r))
            })?;
        let mut teams = list("teams");
        teams.extend(list("custom:teams"));
        let teams = teams.iter().filter_map(|t| TeamId::parse(t).ok()).collect();
        Some(Self { user, role, teams })
    }

    pub fn is(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }
}

/// The claims a local token carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LocalClaims {
    sub: String,
    role: Role,
    teams: String,
    iat: i64,
    exp: i64,
}

/// Signs and verifies local bearer tokens (HS256) with a key from the data directory.
#[derive(Clone)]
pub struct LocalKey {
    secret: Vec<u8>,
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKey(***)")
    }
}

pub const KEY_FILE: &str = "auth.key";

impl LocalKey {
    /// Reads `<data-dir>/auth.key`, creating it (32 random bytes, owner-only) on
    /// first use.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(secret) if secret.len() >= 32 => return Ok(Self { secret }),
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} is shorter than 32 bytes",
                    path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut secret = vec![0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        use std::io::Write;
        options.open(&path)?.write_all(&secret)?;
        Ok(Self { secret })
    }

    /// The contact-key secret derives from the same key file, under its own label.
    pub fn derive(&self, label: &str) -> Vec<u8> {
        use hmac::{Hmac, Mac};
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    pub fn sign(
        &self,
        user: &str,
        role: Role,
        teams: &[TeamId],
        valid_for_days: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = jiff::Timestamp::now().as_second();
        let claims = LocalClaims {
            sub: user.to_string(),
            role,
            teams: teams
                .iter()
                .map(TeamId::as_str)
                .collect::<Vec<_>>()
                .join(","),
            iat: now,
            exp: now + valid_for_days * 86_400,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
    }

    /// The token's claims as the string map API Gateway would pass, if the token is
    /// ours and not expired.
    pub fn verify(&self, token: &str) -> Option<HashMap<String, String>> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<LocalClaims>(
            token,
            &DecodingKey::from_secret(&self.secret),
            &validation,
        )
        .ok()?;
        let c = data.claims;
        Some(HashMap::from([
            ("sub".to_string(), c.sub),
            ("role".to_string(), format!("{:?}", c.role).to_lowercase()),
            ("teams".to_string(), c.teams),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn api_gateway_claims_with_cognito_groups_become_a_principal() {
        let p = Principal::from_claims(&claims(&[
            ("sub", "u-1"),
            ("cognito:groups", "[lead other]"),
            ("custom:teams", "energy,telecom"),
        ]))
        .expect("valid");
        assert_eq!(p.role, Role::Lead);
        assert_eq!(p.teams.len(), 2);
        let admin = Principal::from_claims(&claims(&[
            ("sub", "u-2"),
            ("cognito:groups", "[lead admin]"),
        ]))
        .expect("valid");
        assert_eq!(admin.role, Role::Admin);
    }

    #[test]
    fn claims_without_a_subject_or_role_are_refused() {
        assert!(Principal::from_claims(&claims(&[("role", "lead")])).is_none());
        assert!(Principal::from_claims(&claims(&[("sub", "u"), ("role", "boss")])).is_none());
    }

    #[test]
    fn local_tokens_round_trip_and_foreign_ones_fail() {
        let dir = tempfile_dir();
        let key = LocalKey::load_or_create(&dir).expect("key");
        let again = LocalKey::load_or_create(&dir).expect("same key");
        let token = key
            .sign(
                "anna",
                Role::Lead,
                &[TeamId::parse("energy").expect("valid")],
                1,
            )
            .expect("signs");
        let p =
            Principal::from_claims(&again.verify(&token).expect("verifies")).expect("principal");
        assert_eq!((p.user.as_str(), p.role), ("anna", Role::Lead));
        assert_eq!(p.teams, vec![TeamId::parse("energy").expect("valid")]);
        let other = LocalKey::load_or_create(&tempfile_dir()).expect("other key");
        assert!(other.verify(&token).is_none());
        assert!(key.verify("not.a.token").is_none());
        let expired = key.sign("anna", Role::Lead, &[], -1).expect("signs");
        assert!(key.verify(&expired).is_none());
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kundpuls-auth-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
