//! `POST /api/v1/case-steps` (the case system) and `POST /api/v1/contacts` (admins).

use super::auth::Principal;
use super::error::ApiError;
use super::error::{ApiErrors, ErrorBody};
use super::state::AppState;
use crate::app::case_steps::StepOutcome;
use crate::app::contacts::{ContactRow, Deactivated, ImportReport};
use crate::domain::case_step::CaseStepEvent;
use crate::domain::case_step::CaseStepEventInput;
use crate::domain::creditor::CreditorContactInput;
use crate::domain::error::{FieldError, InvalidInput};
use crate::domain::ids::{ClientId, ContactId};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Events per request at most. One event costs about ten sequential-ish requests
/// (nine to DynamoDB, one to SNS; seven round trips deep), so 100 events decided
/// [`CONCURRENT_EVENTS`] at a time take about a second on DynamoDB, well inside the
/// ingest function's 10 s; bulk loads belong on the case-step queue.
pub const MAX_EVENTS: usize = 100;
/// Events of one request decided at the same time. Each decision is a handful of
/// sequential store requests and one channel call; deciding a batch this many at a
/// time keeps the largest batch well inside the ingest function's 10 s.
pub const CONCURRENT_EVENTS: usize = 16;
/// Contacts per request at most.
pub const MAX_CONTACTS: usize = 10_000;

/// One event's decision, in the order the events came (`index` from 0).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventResult {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(flatten)]
    pub result: EventStatus,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum EventStatus {
    Decided(StepOutcome),
    Invalid {
        /// `invalid`
        #[schema(value_type = String)]
        outcome: &'static str,
        errors: Vec<FieldError>,
    },
}

/// The events of a request that sent an array.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventResults {
    pub results: Vec<EventResult>,
}

/// The answer to a case-step request: one result for one event, `results` for an
/// array.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CaseStepReply {
    One(EventResult),
    Many(EventResults),
}

/// One case-step event, or an array of 1 to 100 (larger loads: the case-step
/// queue, one event per message).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum CaseStepBody {
    One(Box<CaseStepEventInput>),
    Many(Vec<CaseStepEventInput>),
}

/// A 422 to a case-step request: one invalid event (`error`), or an array whose
/// invalid entries name their fields (`results`; the others were decided).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum CaseStepRefusal {
    Some(CaseStepReply),
    One(ErrorBody),
}

/// A 422 to a contacts upload: rows refused (the others stored), or too many.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ContactsRefusal {
    Rows(ImportReport),
    Request(ErrorBody),
}

/// One creditor contact, or an array of up to 10,000.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ContactsBody {
    One(Box<CreditorContactInput>),
    Many(Vec<CreditorContactInput>),
}

fn allow(may: bool) -> Result<(), ApiError> {
    if may {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Case steps in: one event or an array. Every valid event is decided
/// (idempotently on its `event_id`); the answer lists each event's outcome. If any
/// event is invalid the status is 422 and those entries name their fields:
/// resending the whole request after fixing them is safe. Callers: admins, the
/// `system` group, the case system's client with `kundpuls/case-steps.write`.
#[utoipa::path(
    post,
    path = "/api/v1/case-steps",
    tag = "ingest",
    security(("bearer" = []), ("case_system" = ["kundpuls/case-steps.write"])),
    request_body(content = CaseStepBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Every event decided", body = CaseStepReply),
        // The ingest routes' own 422, after the common refusals, replaces theirs.
        ApiErrors,
        (status = 422, description = "One event invalid (its fields), or some events of an array (their entries name the fields; the others were decided)", body = CaseStepRefusal),
    )
)]
pub async fn case_steps(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<CaseStepReply>), ApiError> {
    allow(principal.may_post_case_steps())?;
    if !is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType("application/json"));
    }
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?;
    let (items, single) = match value {
        Value::Array(items) => (items, false),
        other => (vec![other], true),
    };
    if items.is_empty() || items.len() > MAX_EVENTS {
        return Err(FieldError::new(
            "body",
            format!(
                "send 1 to {MAX_EVENTS} events per request (larger loads: the case-step queue)"
            ),
        )
        .into());
    }
    let now = jiff::Timestamp::now();
    let mut any_invalid = false;
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let event_id = item
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        // Read from a borrow: the event's text is needed only if it is invalid.
        let event = CaseStepEventInput::deserialize(&item)
            .map_err(|e| InvalidInput::one("body", e.to_string()))
            .and_then(CaseStepEvent::parse)
            .and_then(|e| e.check_clock(now).map(|()| e));
        if let Err(InvalidInput(errors)) = &event {
            state
                .services
                .count_invalid_event(now, &item.to_string())
                .await?;
            if single {
                return Err(ApiError::Invalid(InvalidInput(errors.clone())));
            }
            any_invalid = true;
        }
        parsed.push((index, event_id, event));
    }
    // Decided a few at a time, answered in the order they came.
    let services = &state.services;
    let decided: Vec<Result<EventResult, ApiError>> = futures_util::stream::iter(
        parsed
            .into_iter()
            .map(|(index, event_id, event)| async move {
                let result = match event {
                    Ok(event) => {
                        EventStatus::Decided(services.handle_case_step(&event, now).await?)
                    }
                    Err(InvalidInput(errors)) => EventStatus::Invalid {
                        outcome: "invalid",
                        errors,
                    },
                };
                Ok(EventResult {
                    index,
                    event_id,
                    result,
                })
            }),
    )
    .buffered(CONCURRENT_EVENTS)
    .collect()
    .await;
    // A store fault fails the request; every event is idempotent, so resending the
    // whole request is safe.
    let results = decided.into_iter().collect::<Result<Vec<_>, _>>()?;
    let status = if any_invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = if single {
        let mut results = results;
        CaseStepReply::One(results.remove(0))
    } else {
        CaseStepReply::Many(EventResults { results })
    };
    Ok((status, Json(body)))
}

/// Creditor contacts in: JSON (one or an array) or CSV with the contract's header
/// row. 422 if any row was refused; the others are stored. Callers: admins, the
/// case system's client with `kundpuls/contacts.write`.
#[utoipa::path(
    post,
    path = "/api/v1/contacts",
    tag = "ingest",
    security(("bearer" = []), ("case_system" = ["kundpuls/contacts.write"])),
    request_body(content(
        (ContactsBody = "application/json"),
        (String = "text/csv", example = "client_id,contact_id,email,name,language,country,industry,account_manager,active\nacme-energy,c-1,karin.berg@example.com,Karin Berg,sv,SE,energy,Anna Lind,true\n")
    )),
    responses(
        (status = 200, description = "Every row stored", body = ImportReport),
        // The ingest routes' own 422, after the common refusals, replaces theirs.
        ApiErrors,
        (status = 422, description = "Some rows refused (named by row, and by line for CSV); the others were stored", body = ContactsRefusal),
    )
)]
pub async fn contacts(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    allow(principal.may_write_contacts())?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let rows: Vec<ContactRow> = if content_type.starts_with("application/json") {
        let inputs: Vec<CreditorContactInput> = match serde_json::from_slice::<Value>(&body)
            .map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?
        {
            Value::Array(items) => items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<_, _>>()
                .map_err(|e| {
                    ApiError::BadRequest(format!("contact is not an object of strings: {e}"))
                })?,
            other => vec![serde_json::from_value(other).map_err(|e| {
                ApiError::BadRequest(format!("contact is not an object of strings: {e}"))
            })?],
        };
        inputs.into_iter().map(ContactRow::from).collect()
    } else if content_type.starts_with("text/csv") {
        parse_csv(&body)?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "application/json or text/csv",
        ));
    };
    if rows.len() > MAX_CONTACTS {
        return Err(FieldError::new(
            "body",
            format!("at most {MAX_CONTACTS} contacts per request"),
        )
        .into());
    }
    let report = state
        .services
        .import_contacts(rows, jiff::Timestamp::now(), |_| {})
        .await?;
    let status = if report.rejected.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report)))
}

/// `DELETE /api/v1/contacts/{client_id}/{contact_id}` (admins): the contact left
/// the client. It gets no new NPS survey or reminder, and its pending surveys are
/// cancelled; the record stays (importing it with `active` true brings it back).
#[utoipa::path(
    delete,
    path = "/api/v1/contacts/{client_id}/{contact_id}",
    tag = "ingest",
    security(("bearer" = []), ("case_system" = ["kundpuls/contacts.write"])),
    params(
        ("client_id" = String, Path, description = "The agency's client"),
        ("contact_id" = String, Path, description = "The contact, unique within the client")
    ),
    responses((status = 200, description = "Deactivated", body = Deactivated), ApiErrors)
)]
pub async fn deactivate_contact(
    State(state): State<AppState>,
    principal: Principal,
    Path((client_id, contact_id)): Path<(String, String)>,
) -> Result<Json<Deactivated>, ApiError> {
    allow(principal.may_write_contacts())?;
    let client = ClientId::parse(&client_id).map_err(|_| ApiError::NotFound)?;
    let contact = ContactId::parse(&contact_id).map_err(|_| ApiError::NotFound)?;
    let done = state
        .services
        .deactivate_contact(&client, &contact, jiff::Timestamp::now())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(done))
}

/// CSV with a header row naming the contract's columns (any order, extra columns
/// ignored; a UTF-8 byte order mark is skipped). Each data row is read on its own:
/// one that cannot be read (wrong number of columns, broken quoting) is reported
/// with its line and the others still count. A header that cannot be read is a 400.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<ContactRow>, ApiError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| ApiError::BadRequest(format!("the CSV header row cannot be read: {e}")))?
        .clone();
    let missing: Vec<&str> = ["client_id", "contact_id", "email", "industry"]
        .into_iter()
        .filter(|column| !headers.iter().any(|h| h == *column))
        .collect();
    if !missing.is_empty() {
        return Err(FieldError::new(
            "header",
            format!("the header row lacks {}", missing.join(", ")),
        )
        .into());
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        let fields = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => record
                .deserialize::<CreditorContactInput>(Some(&headers))
                .map_err(|e| unreadable(&e)),
            Err(e) => Err(unreadable(&e)),
        };
        let line = record.position().map_or(line, |p| p.line());
        rows.push(ContactRow {
            line: Some(line),
            fields,
        });
    }
    Ok(rows)
}

/// Why a CSV row could not be read, without the row's contents.
fn unreadable(e: &csv::Error) -> InvalidInput {
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} columns where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text".to_string(),
        csv::ErrorKind::Deserialize { err, .. } => format!("cannot be read: {}", err.kind()),
        _ => "cannot be read as CSV".to_string(),
    };
    InvalidInput::one("row", reason)
}
