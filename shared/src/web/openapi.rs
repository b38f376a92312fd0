//! The OpenAPI 3.1 document of the JSON API, generated from the handlers: each JSON
//! route is registered through `utoipa_axum::routes!`, which reads the path and
//! method from the handler's `#[utoipa::path]`, so the router and the document are
//! built from the same declaration and cannot drift. Served without auth at
//! [`OPENAPI_PATH`]. The survey and console pages are HTML and stay out of it.

use super::auth::{SCOPE_CASE_STEPS, SCOPE_CONTACTS};
use super::error::ErrorBody;
use axum::Json;
use axum::response::IntoResponse;
use std::sync::LazyLock;
use utoipa::openapi::security::{
    ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::{OpenApi as Document, Server};
use utoipa::{Modify, OpenApi};

pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// The parts of the document that are not read from a handler.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kundpuls API",
        description = "Case steps in, creditor contacts in, and the team leads' feedback \
                       backlog, improvements, themes, reports and exports out. Every error \
                       is `{\"error\": {\"code\", \"message\", \"fields\"?}}`. Edits are \
                       optimistic: send the `ETag` you read as `If-Match`.",
        license(name = "Proprietary")
    ),
    modifiers(&Security),
    components(schemas(ErrorBody)),
    tags(
        (name = "ingest", description = "The case system and admins: case steps and creditor contacts."),
        (name = "backlog", description = "Team leads and admins: feedback items and improvements."),
        (name = "insight", description = "Reports, exports, the theme lexicon, erasure."),
        (name = "clients", description = "Each client's name, SMS sender, targets and brand: leads read, admins write.")
    )
)]
pub struct ApiDoc;

/// Two schemes. `bearer`: a person's JWT whose claims carry the role (`system`,
/// `lead`, `admin`) and, for leads, the teams; locally `kundpuls token` prints one,
/// on AWS the API Gateway JWT authorizer verifies it first. `case_system`: the case
/// system's OAuth 2.0 client credentials, whose access token's scopes say which
/// ingest routes it may call (the stack's `TokenUrl` output is the token endpoint;
/// a server started with `KUNDPULS_TOKEN_URL` names its own).
struct Security;

/// Where the example document says the token endpoint is.
const EXAMPLE_TOKEN_URL: &str =
    "https://kundpuls-prod-123456789012.auth.eu-north-1.amazoncognito.com/oauth2/token";

impl Modify for Security {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".into());
        bearer.description = Some(
            "A JWT with the caller's role (`system`, `lead`, `admin`) and, for leads, \
             their teams."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        let token_url =
            std::env::var("KUNDPULS_TOKEN_URL").unwrap_or_else(|_| EXAMPLE_TOKEN_URL.into());
        let scopes = Scopes::from_iter([
            (SCOPE_CASE_STEPS, "post case-step events"),
            (SCOPE_CONTACTS, "upsert and deactivate creditor contacts"),
        ]);
        components.add_security_scheme(
            "case_system",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    token_url, scopes,
                ))],
                "The case system's client credentials (Cognito app client); the access \
                 token lives 60 minutes.",
            )),
        );
        doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        doc.servers = Some(vec![Server::new("/")]);
    }
}

static DOCUMENT: LazyLock<Document> = LazyLock::new(super::api_document);

/// This document, for integrators and their tools (no sign-in needed).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "ingest",
    security(()),
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object))
)]
pub async fn document() -> impl IntoResponse {
    Json(DOCUMENT.clone())
}

/// The case-step event's JSON Schema (draft 2020-12), cut from the document: the
/// event's component with every component it refers to under `$defs`. What the
/// API takes and what the case-step queue takes (one event per message).
pub fn case_step_event_schema() -> serde_json::Value {
    use serde_json::{Value, json};
    let document = serde_json::to_value(&*DOCUMENT).unwrap_or_default();
    let components = &document["components"]["schemas"];
    let root = "CaseStepEventInput";
    let mut defs = serde_json::Map::new();
    let mut todo = vec![root.to_string()];
    while let Some(name) = todo.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let schema = components[&name].clone();
        let mut refs = Vec::new();
        collect_refs(&schema, &mut refs);
        todo.extend(refs);
        defs.insert(name, schema);
    }
    let mut event = defs.remove(root).unwrap_or(Value::Null);
    let mut defs = Value::Object(defs);
    retarget_refs(&mut event);
    retarget_refs(&mut defs);
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://kundpuls.example/schemas/case-step-event.json",
    });
    if let (Value::Object(out), Value::Object(fields)) = (&mut schema, event) {
        out.extend(fields);
        out.insert("$defs".into(), defs);
    }
    schema
}

const COMPONENT_REF: &str = "#/components/schemas/";

fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => {
                        if let Some(name) = r.strip_prefix(COMPONENT_REF) {
                            out.push(name.to_string());
                        }
                    }
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn retarget_refs(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "$ref"
                    && let Some(name) = v.as_str().and_then(|r| r.strip_prefix(COMPONENT_REF))
                {
                    *v = format!("#/$defs/{name}").into();
                } else {
                    retarget_refs(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(retarget_refs),
        _ => {}
    }
}
