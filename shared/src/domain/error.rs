//! Rejections of outside input: every one names the field and the reason, so a caller
//! can fix its request without reading our code.

use serde::Serialize;

/// One rejected field: `field` is a dotted path into the input (`debtor.phone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, utoipa::ToSchema)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Input that did not parse: all field errors found, not only the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, utoipa::ToSchema)]
#[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct InvalidInput(pub Vec<FieldError>);

impl InvalidInput {
    pub fn one(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, reason)])
    }

    /// Converts `validator`'s nested error tree into dotted field paths.
    pub fn from_validator(errors: &validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        flatten("", errors, &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        Self(out)
    }
}

fn flatten(prefix: &str, errors: &validator::ValidationErrors, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind as Kind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            Kind::Field(list) => {
                for e in list {
                    let reason = e
                        .message
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| e.code.to_string());
                    out.push(FieldError::new(path.clone(), reason));
                }
            }
            Kind::Struct(inner) => flatten(&path, inner, out),
            Kind::List(items) => {
                for (i, inner) in items {
                    flatten(&format!("{path}[{i}]"), inner, out);
                }
            }
        }
    }
}
