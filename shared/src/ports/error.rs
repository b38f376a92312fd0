use thiserror::Error;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A storage fault. Outcomes a caller expects (duplicate, conflict…) are not errors.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The backend could not be reached or refused the request; worth retrying.
    #[error("storage backend unavailable during {operation}")]
    Unavailable {
        operation: &'static str,
        #[source]
        source: Source,
    },
    /// A stored record did not decode: a bug or a foreign writer, not retryable.
    #[error("stored record could not be decoded during {operation}")]
    Corrupt {
        operation: &'static str,
        #[source]
        source: Source,
    },
    /// A pagination cursor that this store did not issue.
    #[error("invalid pagination cursor")]
    InvalidCursor,
}

impl StoreError {
    pub fn unavailable(operation: &'static str, source: impl Into<Source>) -> Self {
        Self::Unavailable {
            operation,
            source: source.into(),
        }
    }

    pub fn corrupt(operation: &'static str, source: impl Into<Source>) -> Self {
        Self::Corrupt {
            operation,
            source: source.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    /// Logs write a store error in its display form, which names the operation and
    /// never the source: a decoder's message can quote the stored value.
    #[test]
    fn the_display_form_never_carries_the_source() {
        let source = serde_json::from_str::<u32>("\"+46701234567\"").expect_err("not a number");
        assert!(source.to_string().contains("+46701234567"));
        let e = StoreError::corrupt("get_survey", source);
        assert_eq!(
            e.to_string(),
            "stored record could not be decoded during get_survey"
        );
    }
}
