//! The case-step event contract (DESIGN.md): what the case-management system sends
//! after each step of a collection case. Parsed once here; past this point every
//! field is a checked domain value.

use super::contact::PhoneNumber;
use super::error::{FieldError, InvalidInput};
use super::ids::{CaseId, ClientId, DebtorId, EventId, HandlerId, SegmentId, TeamId};
use super::locale::{Country, Language};
use super::step::Step;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use validator::Validate;

/// One step of a collection case, as the case system sends it (the wire shape, as
/// loose as JSON allows, checked by `validator` and then parsed). Its JSON Schema
/// is generated from these attributes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate, utoipa::ToSchema)]
#[schema(
    title = "CaseStepEvent",
    example = json!({
        "event_id": "evt-000123",
        "occurred_at": "2026-11-22T09:14:00Z",
        "case_id": "C-100045",
        "client_id": "acme-energy",
        "step": "call_completed",
        "handler_id": "h-anna",
        "team": "energy",
        "segment": "first_time_late",
        "debtor": {"debtor_id": "D-7781", "phone": "+46701234567", "language": "sv", "country": "SE", "flags": []}
    })
)]
pub struct CaseStepEventInput {
    /// The case system's unique id of this event: the idempotency key. A repeat
    /// of an event id is answered with the first decision and changes nothing.
    #[validate(
        required(message = "is required"),
        length(min = 1, max = 128, message = "must be 1–128 characters")
    )]
    #[schema(value_type = String, required = true, pattern = "^\\s*[A-Za-z0-9._:-]{1,128}\\s*$")]
    pub event_id: Option<String>,
    /// When the step happened (RFC 3339 with an offset). Older than the policy's
    /// `max_event_age_hours` (72) is skipped as `stale_event`; more than 10 minutes
    /// in the future is invalid.
    #[validate(required(message = "is required"))]
    #[schema(value_type = String, required = true, format = DateTime)]
    pub occurred_at: Option<String>,
    #[validate(required(message = "is required"))]
    #[schema(value_type = String, required = true, pattern = "^\\s*[A-Za-z0-9._:-]{1,128}\\s*$")]
    pub case_id: Option<String>,
    /// The agency's client (the creditor) the case is collected for.
    #[validate(required(message = "is required"))]
    #[schema(value_type = String, required = true, pattern = "^\\s*[A-Za-z0-9._:-]{1,128}\\s*$")]
    pub client_id: Option<String>,
    #[validate(required(message = "is required"))]
    /// snake_case: reminder_sent, call_completed, payment_plan_agreed,
    /// payment_received, case_closed, or the case system's own (surveyed only if
    /// the policy names it).
    #[schema(value_type = String, required = true, pattern = "^\\s*[a-z][a-z0-9_]{0,63}\\s*$")]
    pub step: Option<String>,
    /// The handler who did the step.
    #[validate(required(message = "is required"))]
    #[schema(value_type = String, required = true, pattern = "^\\s*[A-Za-z0-9._:-]{1,128}\\s*$")]
    pub handler_id: Option<String>,
    /// The handler's team.
    #[validate(required(message = "is required"))]
    #[schema(value_type = String, required = true, pattern = "^\\s*[A-Za-z0-9._:-]{1,128}\\s*$")]
    pub team: Option<String>,
    /// The case's segment, for reports (optional).
    #[schema(value_type = Option<String>, pattern = "^\\s*[A-Za-z0-9._:-]{1,128}\\s*$")]
    pub segment: Option<String>,
    #[validate(required(message = "is required"), nested)]
    #[schema(value_type = DebtorInput, required = true)]
    pub debtor: Option<DebtorInput>,
}

/// The debtor the step concerns. Contact details are used for the one SMS and
/// never logged.
#[derive(Debug, Clone, Default, Deserialize, Serialize, Validate, utoipa::ToSchema)]
#[schema(title = "Debtor")]
pub struct DebtorInput {
    #[validate(required(message = "is required"))]
    #[schema(value_type = String, required = true, pattern = "^\\s*[A-Za-z0-9._:-]{1,128}\\s*$")]
    pub debtor_id: Option<String>,
    /// E.164 (`+46701234567`; spaces, dashes and parentheses are ignored).
    /// Optional: a debtor without one (or a blank one) is skipped with `no_phone`.
    #[schema(value_type = Option<String>, pattern = "^\\s*$|^[ ()-]*\\+[ ()-]*[1-9]([ ()-]*[0-9]){6,14}[ ()-]*$")]
    pub phone: Option<String>,
    /// `sv`, `en`, `pl`, `da`, `nb` (or `no`, `nn`), `fi`, any case, region
    /// ignored (`sv-SE`); anything else is answered in English.
    #[validate(length(max = 16, message = "must be a language code such as sv or en"))]
    #[schema(max_length = 16)]
    pub language: Option<String>,
    /// ISO 3166-1 alpha-2, any case: whose calendar and hours decide when the SMS
    /// may go; none means the agency's.
    #[schema(value_type = Option<String>, pattern = "^\\s*[A-Za-z]{2}\\s*$")]
    pub country: Option<String>,
    /// Every flag blocks the survey; see the accepted spellings. A flag outside
    /// them blocks too (`flagged_unknown`).
    #[serde(default)]
    #[validate(length(max = 16, message = "at most 16 flags"))]
    #[schema(max_items = 16)]
    pub flags: Vec<String>,
}

/// Why a debtor must not be surveyed, as the case system flags it. Every flag
/// blocks: the five known ones by name, any other as [`DebtorFlag::Unknown`]
/// (`flagged_unknown`), because a misspelt flag must never survey exactly the
/// person it was meant to protect.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DebtorFlag {
    Vulnerable,
    Disputed,
    Deceased,
    Bankruptcy,
    NoSurvey,
    /// A flag outside the contract's spellings, normalised. It blocks too.
    #[serde(untagged)]
    Unknown(String),
}

/// The accepted spellings of each blocking flag, after normalisation (lower case,
/// `-` and spaces read as `_`). The README lists them for integrators.
pub const FLAG_SPELLINGS: &[(DebtorFlag, &[&str])] = &[
    (
        DebtorFlag::Vulnerable,
        &[
            "vulnerable",
            "vulnerability",
            "vulnerable_customer",
            "vulnerable_debtor",
            "vulnerable_person",
        ],
    ),
    (
        DebtorFlag::Disputed,
        &[
            "disputed",
            "dispute",
            "in_dispute",
            "contested",
            "objection",
        ],
    ),
    (
        DebtorFlag::Deceased,
        &["deceased", "dead", "death", "deceased_estate", "estate"],
    ),
    (
        DebtorFlag::Bankruptcy,
        &[
            "bankruptcy",
            "bankrupt",
            "insolvency",
            "insolvent",
            "debt_relief",
            "debt_restructuring",
        ],
    ),
    (
        DebtorFlag::NoSurvey,
        &[
            "no_survey",
            "no_surveys",
            "nosurvey",
            "do_not_survey",
            "dont_survey",
            "do_not_contact",
        ],
    ),
];

/// Lower case, `-`/space/`.` as `_`, runs of `_` as one, no `_` at either end.
pub fn normalise_flag(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars().flat_map(char::to_lowercase) {
        let c = if matches!(c, '-' | ' ' | '.' | '\t') {
            '_'
        } else {
            c
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

impl DebtorFlag {
    pub fn parse(raw: &str) -> Self {
        let normal = normalise_flag(raw);
        FLAG_SPELLINGS
            .iter()
            .find(|(_, spellings)| spellings.contains(&normal.as_str()))
            .map_or(Self::Unknown(normal.clone()), |(flag, _)| flag.clone())
    }

    /// The flag's stable name (`vulnerable`…, `unknown` for any other).
    pub fn code(&self) -> &'static str {
        match self {
            DebtorFlag::Vulnerable => "vulnerable",
            DebtorFlag::Disputed => "disputed",
            DebtorFlag::Deceased => "deceased",
            DebtorFlag::Bankruptcy => "bankruptcy",
            DebtorFlag::NoSurvey => "no_survey",
            DebtorFlag::Unknown(_) => "unknown",
        }
    }

    /// Every flag forbids surveys, the unknown ones included (fail closed).
    pub fn blocks_surveys(&self) -> bool {
        true
    }

    /// The unknown flag's value as it may appear in a log line: flag names are not
    /// personal data, but a free-text value could be, so anything that does not look
    /// like a flag name (`[a-z0-9_]`, at most 40 characters) is not shown.
    pub fn loggable(&self) -> String {
        match self {
            DebtorFlag::Unknown(v)
                if v.len() <= 40
                    && v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
            {
                v.clone()
            }
            DebtorFlag::Unknown(v) => format!("<{} characters withheld>", v.chars().count()),
            known => known.code().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Debtor {
    pub debtor_id: DebtorId,
    pub phone: Option<PhoneNumber>,
    pub language: Language,
    pub country: Option<Country>,
    pub flags: Vec<DebtorFlag>,
}

/// A checked case-step event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStepEvent {
    pub event_id: EventId,
    pub occurred_at: Timestamp,
    pub case_id: CaseId,
    pub client_id: ClientId,
    pub step: Step,
    pub handler_id: HandlerId,
    pub team: TeamId,
    pub segment: Option<SegmentId>,
    pub debtor: Debtor,
}

impl CaseStepEvent {
    /// Refuses an event dated more than [`MAX_CLOCK_SKEW`] after `now`: a clock
    /// that far off cannot be trusted to say how old the step is.
    ///
    /// [`MAX_CLOCK_SKEW`]: super::policy::MAX_CLOCK_SKEW
    pub fn check_clock(&self, now: Timestamp) -> Result<(), InvalidInput> {
        if self.occurred_at > now + super::policy::MAX_CLOCK_SKEW {
            return Err(InvalidInput::one(
                "occurred_at",
                "is more than 10 minutes in the future",
            ));
        }
        Ok(())
    }

    /// Parses one event from JSON and checks its date against `now`.
    pub fn from_json_at(body: &[u8], now: Timestamp) -> Result<Self, InvalidInput> {
        let event = Self::from_json(body)?;
        event.check_clock(now)?;
        Ok(event)
    }

    /// Parses one event from JSON, naming every bad field.
    pub fn from_json(body: &[u8]) -> Result<Self, InvalidInput> {
        let de = &mut serde_json::Deserializer::from_slice(body);
        let input: CaseStepEventInput = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "body".to_string()
            } else {
                path
            };
            InvalidInput::one(field, e.inner().to_string())
        })?;
        Self::parse(input)
    }

    pub fn parse(input: CaseStepEventInput) -> Result<Self, InvalidInput> {
        let mut errors = match input.validate() {
            Ok(()) => Vec::new(),
            Err(e) => InvalidInput::from_validator(&e).0,
        };
        let mut check = Checker::default();
        let event_id = check.field("event_id", input.event_id.as_deref(), EventId::parse);
        let occurred_at = check.field("occurred_at", input.occurred_at.as_deref(), |s| {
            s.parse::<Timestamp>().map_err(|_| {
                "must be an RFC 3339 timestamp with offset, e.g. 2026-11-22T09:14:00Z".to_string()
            })
        });
        let case_id = check.field("case_id", input.case_id.as_deref(), CaseId::parse);
        let client_id = check.field("client_id", input.client_id.as_deref(), ClientId::parse);
        let step = check.field("step", input.step.as_deref(), Step::parse);
        let handler_id = check.field("handler_id", input.handler_id.as_deref(), HandlerId::parse);
        let team = check.field("team", input.team.as_deref(), TeamId::parse);
        let segment = check.optional("segment", input.segment.as_deref(), SegmentId::parse);
        let debtor = input.debtor.as_ref();
        let debtor_id = check.field(
            "debtor.debtor_id",
            debtor.and_then(|d| d.debtor_id.as_deref()),
            DebtorId::parse,
        );
        let phone = check.optional(
            "debtor.phone",
            debtor
                .and_then(|d| d.phone.as_deref())
                .filter(|p| !p.trim().is_empty()),
            PhoneNumber::parse,
        );
        let country = check.optional(
            "debtor.country",
            debtor.and_then(|d| d.country.as_deref()),
            Country::parse,
        );
        // Missing fields were already reported by `validate`; keep one error per field.
        for e in check.errors {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
        }
        match (
            event_id,
            occurred_at,
            case_id,
            client_id,
            step,
            handler_id,
            team,
            debtor_id,
            debtor,
        ) {
            (
                Some(event_id),
                Some(occurred_at),
                Some(case_id),
                Some(client_id),
                Some(step),
                Some(handler_id),
                Some(team),
                Some(debtor_id),
                Some(debtor),
            ) if errors.is_empty() => Ok(Self {
                event_id,
                occurred_at,
                case_id,
                client_id,
                step,
                handler_id,
                team,
                segment,
                debtor: Debtor {
                    debtor_id,
                    phone,
                    language: Language::or_english(debtor.language.as_deref()),
                    country,
                    flags: debtor.flags.iter().map(|f| DebtorFlag::parse(f)).collect(),
                },
            }),
            _ => {
                errors.sort_by(|a, b| a.field.cmp(&b.field));
                Err(InvalidInput(errors))
            }
        }
    }
}

/// Collects field errors while parsing each field into its newtype.
#[derive(Default)]
pub(crate) struct Checker {
    pub(crate) errors: Vec<FieldError>,
}

impl Checker {
    pub(crate) fn field<T>(
        &mut self,
        name: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match raw {
            None => {
                self.errors.push(FieldError::new(name, "is required"));
                None
            }
            Some(s) => self.optional(name, Some(s), parse),
        }
    }

    pub(crate) fn optional<T>(
        &mut self,
        name: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = raw?;
        match parse(s.trim()) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.errors.push(FieldError::new(name, reason));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"{
      "event_id": "evt-000123",
      "occurred_at": "2026-11-22T09:14:00Z",
      "case_id": "C-100045",
      "client_id": "acme-energy",
      "step": "call_completed",
      "handler_id": "h-anna",
      "team": "energy",
      "segment": "first_time_late",
      "debtor": {
        "debtor_id": "D-7781",
        "phone": "+46701234567",
        "language": "sv",
        "country": "SE",
        "flags": []
      }
    }"#;

    #[test]
    fn the_design_example_parses() {
        let e = CaseStepEvent::from_json(EXAMPLE.as_bytes()).expect("valid example");
        assert_eq!(e.event_id.as_str(), "evt-000123");
        assert_eq!(e.step.as_str(), "call_completed");
        assert_eq!(e.debtor.language, Language::Sv);
        assert_eq!(e.debtor.country.map(|c| c.to_string()), Some("SE".into()));
        assert!(e.debtor.phone.is_some());
    }

    #[test]
    fn every_bad_field_is_named_with_its_reason() {
        let body = r#"{"event_id":"","occurred_at":"yesterday","client_id":"a b","step":"Call",
            "handler_id":"h","team":"t","debtor":{"debtor_id":"D1","phone":"0701","country":"Sweden"}}"#;
        let err = CaseStepEvent::from_json(body.as_bytes()).expect_err("invalid");
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "case_id",
                "client_id",
                "debtor.country",
                "debtor.phone",
                "event_id",
                "occurred_at",
                "step"
            ]
        );
        assert!(err.0.iter().all(|e| !e.reason.is_empty()));
    }

    #[test]
    fn a_missing_debtor_is_reported_as_required() {
        let body = r#"{"event_id":"e1","occurred_at":"2026-11-22T09:14:00Z","case_id":"c","client_id":"a",
            "step":"reminder_sent","handler_id":"h","team":"t"}"#;
        let err = CaseStepEvent::from_json(body.as_bytes()).expect_err("invalid");
        assert!(
            err.0
                .iter()
                .any(|e| e.field == "debtor" && e.reason == "is required"),
            "{err}"
        );
    }

    #[test]
    fn wrong_json_types_name_the_path() {
        let body = r#"{"event_id":"e1","debtor":{"flags":"vulnerable"}}"#;
        let err = CaseStepEvent::from_json(body.as_bytes()).expect_err("invalid");
        assert_eq!(err.0[0].field, "debtor.flags");
    }

    #[test]
    fn unknown_languages_fall_back_to_english_and_unknown_flags_are_kept_and_block() {
        let body = EXAMPLE
            .replace("\"sv\"", "\"de\"")
            .replace("[]", r#"["Vulnerable","vip"]"#);
        let e = CaseStepEvent::from_json(body.as_bytes()).expect("valid");
        assert_eq!(e.debtor.language, Language::En);
        assert_eq!(
            e.debtor.flags,
            vec![DebtorFlag::Vulnerable, DebtorFlag::Unknown("vip".into())]
        );
        assert!(e.debtor.flags.iter().all(DebtorFlag::blocks_surveys));
    }

    #[test]
    fn an_empty_phone_means_no_phone_rather_than_an_error() {
        let body = EXAMPLE.replace("+46701234567", "");
        let e = CaseStepEvent::from_json(body.as_bytes()).expect("valid");
        assert!(e.debtor.phone.is_none());
    }

    #[test]
    fn every_documented_spelling_reads_as_its_flag_whatever_the_case_or_separator() {
        for (flag, spellings) in FLAG_SPELLINGS {
            for spelling in *spellings {
                for variant in [
                    spelling.to_string(),
                    spelling.to_uppercase(),
                    spelling.replace('_', "-"),
                    spelling.replace('_', " "),
                    format!("  {}  ", spelling.to_uppercase().replace('_', " ")),
                ] {
                    assert_eq!(&DebtorFlag::parse(&variant), flag, "{variant:?}");
                }
            }
        }
        assert_eq!(
            DebtorFlag::parse("VULNERABLE_CUSTOMER"),
            DebtorFlag::Vulnerable
        );
        assert_eq!(DebtorFlag::parse("Deceased estate"), DebtorFlag::Deceased);
        assert_eq!(DebtorFlag::parse("insolvency"), DebtorFlag::Bankruptcy);
        assert_eq!(DebtorFlag::parse("dispute"), DebtorFlag::Disputed);
    }

    #[test]
    fn an_unknown_flag_blocks_and_only_a_name_like_value_is_loggable() {
        let f = DebtorFlag::parse("Needs Interpreter");
        assert_eq!(f, DebtorFlag::Unknown("needs_interpreter".into()));
        assert!(f.blocks_surveys());
        assert_eq!(f.loggable(), "needs_interpreter");
        let free_text = DebtorFlag::parse("call +46701234567 after 5");
        assert_eq!(free_text.loggable(), "<25 characters withheld>");
    }
}
