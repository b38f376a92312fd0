//! Scores as respondents give them: NPS 0–10 and CSAT 1–5, checked once at the edge.

use serde::{Deserialize, Serialize};

/// A Net Promoter Score answer, 0–10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct NpsScore(u8);

/// A customer-satisfaction answer, 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct CsatScore(u8);

/// Where an NPS answer falls in the methodology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpsGroup {
    Detractor,
    Passive,
    Promoter,
}

impl NpsScore {
    pub fn value(self) -> u8 {
        self.0
    }

    pub fn group(self) -> NpsGroup {
        match self.0 {
            0..=6 => NpsGroup::Detractor,
            7..=8 => NpsGroup::Passive,
            _ => NpsGroup::Promoter,
        }
    }
}

impl CsatScore {
    pub fn value(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for NpsScore {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        if v <= 10 {
            Ok(Self(v))
        } else {
            Err(format!("NPS score must be 0–10, got {v}"))
        }
    }
}

impl TryFrom<u8> for CsatScore {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        if (1..=5).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!("CSAT score must be 1–5, got {v}"))
        }
    }
}

impl From<NpsScore> for u8 {
    fn from(s: NpsScore) -> u8 {
        s.0
    }
}

impl From<CsatScore> for u8 {
    fn from(s: CsatScore) -> u8 {
        s.0
    }
}

/// A score in the API's schema: a whole number from `min` to `max`.
macro_rules! score_schema {
    ($t:ty, $min:expr, $max:expr) => {
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, Type};
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some($min))
                    .maximum(Some($max))
                    .into()
            }
        }

        impl utoipa::ToSchema for $t {}
    };
}

score_schema!(NpsScore, 0, 10);
score_schema!(CsatScore, 1, 5);

/// A score of either kind, stored as `{"kind": "nps"|"csat", "value": n}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Score {
    Nps(NpsScore),
    Csat(CsatScore),
}

impl Score {
    pub fn value(self) -> u8 {
        match self {
            Score::Nps(s) => s.value(),
            Score::Csat(s) => s.value(),
        }
    }

    /// Low scores always need a human: NPS detractors (0–6) and CSAT 1–2.
    pub fn is_low(self) -> bool {
        match self {
            Score::Nps(s) => s.group() == NpsGroup::Detractor,
            Score::Csat(s) => s.value() <= 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nps_accepts_zero_to_ten_and_rejects_eleven() {
        assert!(NpsScore::try_from(0).is_ok());
        assert!(NpsScore::try_from(10).is_ok());
        assert!(NpsScore::try_from(11).is_err());
    }

    #[test]
    fn csat_accepts_one_to_five_only() {
        assert!(CsatScore::try_from(0).is_err());
        assert!(CsatScore::try_from(1).is_ok());
        assert!(CsatScore::try_from(5).is_ok());
        assert!(CsatScore::try_from(6).is_err());
    }

    #[test]
    fn nps_groups_follow_the_methodology() {
        let group = |v| NpsScore::try_from(v).map(NpsScore::group);
        assert_eq!(group(6), Ok(NpsGroup::Detractor));
        assert_eq!(group(7), Ok(NpsGroup::Passive));
        assert_eq!(group(8), Ok(NpsGroup::Passive));
        assert_eq!(group(9), Ok(NpsGroup::Promoter));
    }

    #[test]
    fn low_scores_are_detractors_and_csat_one_or_two() {
        let nps = |v| Score::Nps(NpsScore::try_from(v).expect("valid"));
        let csat = |v| Score::Csat(CsatScore::try_from(v).expect("valid"));
        assert!(nps(6).is_low());
        assert!(!nps(7).is_low());
        assert!(csat(2).is_low());
        assert!(!csat(3).is_low());
    }

    #[test]
    fn score_serializes_with_its_kind() {
        let s = Score::Csat(CsatScore::try_from(4).expect("valid"));
        let json = serde_json::to_string(&s).expect("serializes");
        assert_eq!(json, r#"{"kind":"csat","value":4}"#);
        let bad: Result<Score, _> = serde_json::from_str(r#"{"kind":"csat","value":9}"#);
        assert!(bad.is_err());
    }
}
