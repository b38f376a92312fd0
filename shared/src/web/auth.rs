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

/// The OAuth scope that lets a machine client post case steps.
pub const SCOPE_CASE_STEPS: &str = "kundpuls/case-steps.write";
/// The OAuth scope that lets a machine client upsert and deactivate contacts.
pub const SCOPE_CONTACTS: &str = "kundpuls/contacts.write";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    pub teams: Vec<TeamId>,
    /// The OAuth scopes of a token that carries them (a machine client's
    /// `client_credentials` access token); `None` for a person's token.
    pub scopes: Option<Vec<String>>,
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
        let scopes: Option<Vec<String>> = claims
            .get("scope")
            .map(|s| s.split_whitespace().map(str::to_string).collect());
        let machine = scopes
            .as_ref()
            .is_some_and(|s| s.iter().any(|s| s.starts_with("kundpuls/")));
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
            })
            // A machine client (client credentials) has no groups: its scopes
            // say what it may do.
            .or(machine.then_some(Role::System))?;
        let mut teams = list("teams");
        teams.extend(list("custom:teams"));
        let teams = teams.iter().filter_map(|t| TeamId::parse(t).ok()).collect();
        Some(Self {
            user,
            role,
            teams,
            scopes: scopes.filter(|_| machine),
        })
    }

    fn has_scope(&self, scope: &str) -> bool {
        self.scopes
            .as_ref()
            .is_some_and(|s| s.iter().any(|x| x == scope))
    }

    /// Admins; the case system signed in as a person (`system` group); a machine
    /// client with [`SCOPE_CASE_STEPS`].
    pub fn may_post_case_steps(&self) -> bool {
        match self.role {
            Role::Admin => true,
            Role::System => self.scopes.is_none() || self.has_scope(SCOPE_CASE_STEPS),
            Role::Lead => false,
        }
    }

    /// Admins, and a machine client with [`SCOPE_CONTACTS`].
    pub fn may_write_contacts(&self) -> bool {
        self.role == Role::Admin || (self.role == Role::System && self.has_scope(SCOPE_CONTACTS))
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
    /// OAuth scopes, space-separated, for a token that stands in for a machine
    /// client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
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
        self.sign_with_scope(user, role, teams, None, valid_for_days)
    }

    /// A token that also carries OAuth `scope`s, as a machine client's does.
    pub fn sign_with_scope(
        &self,
        user: &str,
        role: Role,
        teams: &[TeamId],
        scope: Option<&str>,
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
            scope: scope.map(str::to_string),
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
        let mut claims = HashMap::from([
            ("sub".to_string(), c.sub),
            ("role".to_string(), format!("{:?}", c.role).to_lowercase()),
            ("teams".to_string(), c.teams),
        ]);
        if let Some(scope) = c.scope {
            claims.insert("scope".to_string(), scope);
        }
        Some(claims)
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
    fn a_client_credentials_token_is_the_case_system_with_its_scopes_only() {
        // What Cognito puts in a client-credentials access token (no groups).
        let machine = |scope: &str| {
            Principal::from_claims(&claims(&[
                ("sub", "5r0client"),
                ("client_id", "5r0client"),
                ("token_use", "access"),
                ("scope", scope),
            ]))
            .expect("valid")
        };
        let steps = machine(SCOPE_CASE_STEPS);
        assert_eq!(steps.role, Role::System);
        assert!(steps.may_post_case_steps() && !steps.may_write_contacts());
        let crm = machine(SCOPE_CONTACTS);
        assert!(!crm.may_post_case_steps() && crm.may_write_contacts());
        let both = machine(&format!("{SCOPE_CASE_STEPS} {SCOPE_CONTACTS}"));
        assert!(both.may_post_case_steps() && both.may_write_contacts());
        // Scopes of other APIs make no principal here.
        assert!(
            Principal::from_claims(&claims(&[
                ("sub", "x"),
                ("scope", "aws.cognito.signin.user.admin")
            ]))
            .is_none()
        );
        // People: an admin may do both, a `system` user case steps only, a lead neither.
        let person = |group: &str| {
            Principal::from_claims(&claims(&[("sub", "u"), ("cognito:groups", group)]))
                .expect("valid")
        };
        let admin = person("[admin]");
        assert!(admin.may_post_case_steps() && admin.may_write_contacts());
        let system = person("[system]");
        assert!(system.may_post_case_steps() && !system.may_write_contacts());
        let lead = person("[lead]");
        assert!(!lead.may_post_case_steps() && !lead.may_write_contacts());
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
