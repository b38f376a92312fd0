//! The SAM template (`infra/template.yaml`) read as JSON, and what its IAM
//! statements allow, for the suites that check the template against the code.

use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The template as JSON; CloudFormation's short tags (`!Ref X`) become
/// `{"!Ref": X}` so they can be compared and inspected.
pub fn template() -> Value {
    let text =
        std::fs::read_to_string(root().join("infra/template.yaml")).expect("infra/template.yaml");
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("the template is YAML");
    to_json(yaml)
}

fn to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n).expect("a template of the expected shape"),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    (
                        k.as_str()
                            .expect("a template of the expected shape")
                            .to_string(),
                        to_json(v),
                    )
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let mut o = serde_json::Map::new();
            o.insert(t.tag.to_string(), to_json(t.value));
            Value::Object(o)
        }
    }
}

pub fn functions(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_object()
        .expect("a template of the expected shape")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, r)| (name.clone(), r))
        .collect()
}

pub fn statements(f: &Value) -> Vec<Value> {
    f["Properties"]["Policies"]
        .as_array()
        .expect("a template of the expected shape")
        .iter()
        .flat_map(|p| p["Statement"].as_array().cloned().unwrap_or_default())
        .collect()
}

pub fn actions(s: &Value) -> Vec<String> {
    match &s["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(a) => a
            .iter()
            .map(|a| {
                a.as_str()
                    .expect("a template of the expected shape")
                    .to_string()
            })
            .collect(),
        other => panic!("unexpected Action {other}"),
    }
}

/// Whether one of `statements` allows `action` on `resource` (`table`, or
/// `index/<name>`), reading the template's `!GetAtt Table.Arn` and
/// `!Sub ${Table.Arn}/index/<name or *>` resources.
pub fn allows(statements: &[Value], action: &str, resource: &str) -> bool {
    let names = |r: &Value| -> Vec<String> {
        let one = |r: &Value| -> Option<String> {
            if r.get("!GetAtt").and_then(|v| v.as_str()) == Some("Table.Arn") {
                return Some("table".into());
            }
            r.get("!Sub")
                .and_then(|v| v.as_str())
                .and_then(|s| s.strip_prefix("${Table.Arn}/"))
                .map(str::to_string)
        };
        match r {
            Value::Array(items) => items.iter().filter_map(one).collect(),
            other => one(other).into_iter().collect(),
        }
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && actions(s).iter().any(|a| a == action)
            && names(&s["Resource"])
                .iter()
                .any(|r| r == resource || (r == "index/*" && resource.starts_with("index/")))
    })
}

/// The (operation, resource) pairs of `used` (a [`crate::RequestLog`]'s resources)
/// that the statements of the template's `function` resource do not allow.
pub fn refused(
    function: &str,
    used: &std::collections::BTreeSet<(String, String)>,
) -> Vec<(String, String)> {
    let allowed = statements(&template()["Resources"][function]);
    used.iter()
        .filter(|(op, resource)| !allows(&allowed, &format!("dynamodb:{op}"), resource))
        .cloned()
        .collect()
}
