//! Pure domain logic: the values parsed at the edge, the survey and backlog models,
//! and the NPS/CSAT methodology. Nothing in here performs I/O or sees an SDK type.

/// The OpenAPI schema of a value written as a JSON string matching `pattern`.
pub(crate) fn string_schema(
    pattern: &str,
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
        .into()
}

/// A value that is a JSON string matching a pattern in the API's schema.
macro_rules! string_schema {
    ($t:ty, $pattern:expr, $description:expr) => {
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::domain::string_schema($pattern, $description)
            }
        }

        impl utoipa::ToSchema for $t {}
    };
}

/// The `String` conversions serde uses (`#[serde(try_from = "String", into =
/// "String")]`) for a validated string value with `parse(&str) -> Result<Self,
/// String>` and `as_str()`: reading goes through the same check as parsing.
macro_rules! string_conversions {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s)
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.as_str().to_string()
            }
        }
    };
}

pub mod backlog;
pub mod case_step;
pub mod client;
pub mod contact;
pub mod creditor;
pub mod error;
pub mod ids;
pub mod lexicon_edit;
pub mod locale;
pub mod messages;
pub mod metrics;
pub mod notice;
pub mod policy;
pub mod reports;
pub mod rules;
pub mod score;
pub mod sending;
pub mod stats;
pub mod step;
pub mod survey;
pub mod text;
pub mod themes;
pub mod time;
pub mod token;
pub mod warnings;
pub mod wave;

pub use error::{FieldError, InvalidInput};

#[cfg(test)]
mod names {
    //! Every enum whose name is written by strum (`as_str`, `parse`) is also written
    //! by serde: the two spellings must be the same, value for value.
    use super::backlog::{FeedbackStatus, ImprovementStatus, Priority};
    use super::locale::Language;
    use super::stats::Dimension;
    use super::survey::{Channel, SurveyKind};
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use std::fmt::Debug;

    fn same_names<T>(all: &[T])
    where
        T: Copy + Debug + PartialEq + Serialize + DeserializeOwned + Into<&'static str>,
    {
        assert!(!all.is_empty());
        for &value in all {
            let name: &'static str = value.into();
            assert_eq!(
                serde_json::to_value(value).expect("serialises"),
                name,
                "{value:?}"
            );
            let back: T = serde_json::from_value(name.into()).expect("reads back");
            assert_eq!(back, value);
        }
    }

    #[test]
    fn strum_and_serde_spell_every_value_alike() {
        same_names(Dimension::ALL);
        same_names(FeedbackStatus::ALL);
        same_names(ImprovementStatus::ALL);
        same_names(SurveyKind::ALL);
        same_names(Language::ALL);
        same_names(<Priority as strum::VariantArray>::VARIANTS);
        same_names(<Channel as strum::VariantArray>::VARIANTS);
        for &d in Dimension::ALL {
            assert_eq!(Dimension::parse(d.as_str()), Some(d));
        }
        for &s in FeedbackStatus::ALL {
            assert_eq!(FeedbackStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(FeedbackStatus::parse("InProgress"), None);
        assert_eq!(Language::ALL.len(), 6);
    }
}
