//! The clients page: each client's name, SMS sender, targets and colour; admins
//! add and edit them (versioned, like every edit in the console).

use super::queue::query_string;
use super::{Chrome, ConsolePage, ConsoleUser, OrPage, page, same_site};
use crate::app::clients::ClientEditError;
use crate::domain::client::{ClientSettings, ClientSettingsInput};
use crate::domain::ids::ClientId;
use crate::ports::PageRequest;
use crate::web::auth::Role;
use crate::web::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The most clients the page lists (the API pages through any number).
const PAGE_SIZE: usize = 200;

#[derive(Template)]
#[template(path = "console_clients.html")]
struct ClientsPage {
    chrome: Option<Chrome>,
    clients: Vec<ClientSettings>,
    admin: bool,
    /// The form: a client being edited, or empty for a new one.
    form: ClientForm,
    /// Field errors of the last save, by field.
    errors: Vec<(String, String)>,
    flash: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ClientForm {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub sms_sender: String,
    #[serde(default)]
    pub nps_target: String,
    #[serde(default)]
    pub csat_target: String,
    #[serde(default)]
    pub brand_colour: String,
    #[serde(default)]
    pub reply_to: String,
    #[serde(default)]
    pub version: u64,
}

impl ClientForm {
    fn of(s: &ClientSettings) -> Self {
        let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        Self {
            client_id: s.client_id.to_string(),
            display_name: s.display_name.clone(),
            sms_sender: s
                .sms_sender
                .as_ref()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default(),
            nps_target: num(s.nps_target),
            csat_target: num(s.csat_target),
            brand_colour: s.brand_colour.clone().unwrap_or_default(),
            reply_to: s
                .reply_to
                .as_ref()
                .map(|e| e.as_str().to_string())
                .unwrap_or_default(),
            version: s.version,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ClientsQuery {
    edit: Option<String>,
    saved: Option<String>,
    conflict: Option<u64>,
}

pub async fn clients(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    Query(q): Query<ClientsQuery>,
) -> Result<Response, ConsolePage> {
    let list = state
        .services
        .list_client_settings(PageRequest::first(PAGE_SIZE))
        .await
        .or_page(&p)?;
    let form = q
        .edit
        .as_deref()
        .and_then(|id| list.items.iter().find(|c| c.client_id.as_str() == id))
        .map(ClientForm::of)
        .unwrap_or_default();
    let flash = match (q.saved, q.conflict) {
        (Some(id), _) => Some(format!("Saved the settings of {id}.")),
        (_, Some(v)) => Some(format!(
            "Someone else saved that client first (now version {v}). Open it again to edit."
        )),
        _ => None,
    };
    Ok(render(
        &p,
        list.items,
        form,
        Vec::new(),
        flash,
        StatusCode::OK,
    ))
}

fn render(
    p: &crate::web::auth::Principal,
    clients: Vec<ClientSettings>,
    form: ClientForm,
    errors: Vec<(String, String)>,
    flash: Option<String>,
    status: StatusCode,
) -> Response {
    page(
        status,
        ClientsPage {
            chrome: Some(Chrome::of(p, "clients")),
            clients,
            admin: p.role == Role::Admin,
            form,
            errors,
            flash,
        }
        .render(),
    )
}

/// A target field: empty is none; anything else must be a number.
fn target(raw: &str, field: &str, errors: &mut Vec<(String, String)>) -> Option<f64> {
    let raw = raw.trim().replace(',', ".");
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<f64>() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push((field.into(), "must be a number".into()));
            None
        }
    }
}

pub async fn save_client(
    State(state): State<AppState>,
    ConsoleUser(p): ConsoleUser,
    headers: HeaderMap,
    Form(form): Form<ClientForm>,
) -> Result<Response, ConsolePage> {
    same_site(&headers)?;
    if p.role != Role::Admin {
        return Err(ConsolePage::error(
            &p,
            crate::web::error::ApiError::Forbidden,
        ));
    }
    let mut errors = Vec::new();
    let client = ClientId::parse(form.client_id.trim())
        .map_err(|e| errors.push(("client_id".to_string(), e)))
        .ok();
    let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let input = ClientSettingsInput {
        display_name: optional(&form.display_name),
        sms_sender: optional(&form.sms_sender),
        nps_target: target(&form.nps_target, "nps_target", &mut errors),
        csat_target: target(&form.csat_target, "csat_target", &mut errors),
        brand_colour: optional(&form.brand_colour),
        reply_to: optional(&form.reply_to),
    };
    let outcome = match client {
        Some(client) if errors.is_empty() => Some(
            state
                .services
                .update_client_settings(
                    client.clone(),
                    input,
                    form.version,
                    &p.user,
                    jiff::Timestamp::now(),
                )
                .await,
        ),
        _ => None,
    };
    match outcome {
        Some(Ok(saved)) => {
            let to = format!(
                "/console/clients{}",
                query_string(&[("saved", saved.client_id.as_str())])
            );
            return Ok(Redirect::to(&to).into_response());
        }
        Some(Err(ClientEditError::Conflict { current })) => {
            let to = format!("/console/clients?conflict={current}");
            return Ok(Redirect::to(&to).into_response());
        }
        Some(Err(ClientEditError::Store(e))) => return Err(ConsolePage::error(&p, e)),
        Some(Err(ClientEditError::Invalid(invalid))) => {
            errors.extend(invalid.0.into_iter().map(|f| (f.field, f.reason)));
        }
        None => {}
    }
    // Shown again with what was typed and each problem beside its field.
    let list = state
        .services
        .list_client_settings(PageRequest::first(PAGE_SIZE))
        .await
        .or_page(&p)?;
    Ok(render(
        &p,
        list.items,
        form,
        errors,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}
