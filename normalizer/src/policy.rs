//! IAM policy documents as far as reconciliation needs them: which statements allow (or
//! deny) an action on a resource, and whether a grant is precise or inherited through a
//! wildcard.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Statement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
    /// Action patterns; with `not_action`, the statement covers every action but these.
    pub actions: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_action: bool,
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_resource: bool,
    /// The statement has a Condition: it may apply to fewer calls than it names.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conditional: bool,
    /// Trust and resource policies: whom the statement grants to — `*`,
    /// `service:bedrock.amazonaws.com`, `aws:ARN-or-account`, `federated:…`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    /// Conditions that pin a service principal to one caller (confused-deputy guards), as
    /// `aws:sourcearn=VALUE` / `aws:sourceaccount=VALUE`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_pins: Vec<String>,
}

/// Whom a `Principal` names, each as `kind:value` (`*` for anyone).
fn principals(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) if s == "*" => vec!["*".into()],
        Value::Object(map) => {
            let mut out = Vec::new();
            for (kind, who) in map {
                for w in strings(who) {
                    out.push(if w == "*" {
                        "*".to_string()
                    } else {
                        format!("{}:{w}", kind.to_ascii_lowercase())
                    });
                }
            }
            out.sort();
            out.dedup();
            out
        }
        _ => Vec::new(),
    }
}

/// `aws:SourceArn` / `aws:SourceAccount` condition values, whatever the operator.
fn source_pins(condition: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Value::Object(operators) = condition {
        for keys in operators.values() {
            if let Value::Object(keys) = keys {
                for (key, values) in keys {
                    let key = key.to_ascii_lowercase();
                    if key == "aws:sourcearn" || key == "aws:sourceaccount" {
                        out.extend(strings(values).into_iter().map(|v| format!("{key}={v}")));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
    /// The document itself as compact JSON (decoded if it came URL-encoded): what an
    /// artifact that rewrites it (a pinned trust policy) starts from, every condition kept.
    /// Absent in documents recorded before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy document: {0}")]
pub struct PolicyError(String);

/// Whether an operation only reads, by the verbs AWS names read operations with.
pub fn is_read_operation(operation: &str) -> bool {
    [
        "Get", "List", "Describe", "Head", "Select", "Search", "Scan", "Query", "BatchGet",
    ]
    .iter()
    .any(|verb| operation.starts_with(verb))
}

/// `*` matches any run of characters, `?` one character.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // ARNs and action names are ASCII: match their bytes without collecting anything (this
    // runs for every request an IAM replay evaluates).
    if pattern.is_ascii() && text.is_ascii() {
        return glob_units(pattern.as_bytes(), text.as_bytes(), |a, b| {
            a == b || (ignore_case && a.eq_ignore_ascii_case(&b))
        });
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_units(&p, &t, |a, b| {
        a == b || (ignore_case && a.to_lowercase().eq(b.to_lowercase()))
    })
}

/// A unit that can be a glob wildcard.
trait Wild: Copy + PartialEq {
    fn is(self, c: u8) -> bool;
}

impl Wild for u8 {
    fn is(self, c: u8) -> bool {
        self == c
    }
}

impl Wild for char {
    fn is(self, c: u8) -> bool {
        self == char::from(c)
    }
}

/// Iterative matcher with backtracking to the last star: linear for typical patterns.
fn glob_units<T: Wild>(p: &[T], t: &[T], eq: impl Fn(T, T) -> bool) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi].is(b'?') || (!p[pi].is(b'*') && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi].is(b'*') {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| c.is(b'*'))
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Percent-decoding for documents as the IAM API returns them (URL-encoded JSON).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

impl PolicyDocument {
    /// Parses a policy document given as JSON text (plain, or URL-encoded as IAM returns
    /// it) or as an already parsed JSON value.
    pub fn parse(document: &Value) -> Result<PolicyDocument, PolicyError> {
        let parsed;
        let doc = match document {
            Value::String(text) => {
                let trimmed = text.trim_start();
                let json = if trimmed.starts_with('{') {
                    text.clone()
                } else {
                    percent_decode(text)
                        .ok_or_else(|| PolicyError("neither JSON nor URL-encoded JSON".into()))?
                };
                parsed = serde_json::from_str::<Value>(&json)
                    .map_err(|e| PolicyError(format!("not JSON: {e}")))?;
                &parsed
            }
            other => other,
        };
        let statements = match &doc["Statement"] {
            Value::Array(items) => items.iter().collect::<Vec<_>>(),
            Value::Object(_) => vec![&doc["Statement"]],
            _ => return Err(PolicyError("no Statement".into())),
        };
        let mut out = Vec::new();
        for s in statements {
            let effect = match s["Effect"].as_str() {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                other => return Err(PolicyError(format!("Effect {other:?}"))),
            };
            let (actions, not_action) = if s.get("NotAction").is_some() {
                (strings(&s["NotAction"]), true)
            } else {
                (strings(&s["Action"]), false)
            };
            let (resources, not_resource) = if s.get("NotResource").is_some() {
                (strings(&s["NotResource"]), true)
            } else if s.get("Resource").is_some() {
                (strings(&s["Resource"]), false)
            } else {
                // Trust policies name a Principal instead; the resource is the role itself.
                (vec!["*".to_string()], false)
            };
            out.push(Statement {
                sid: s["Sid"].as_str().map(str::to_string),
                effect,
                actions,
                not_action,
                resources,
                not_resource,
                conditional: s.get("Condition").is_some_and(|c| !c.is_null()),
                principals: principals(&s["Principal"]),
                source_pins: source_pins(&s["Condition"]),
            });
        }
        Ok(PolicyDocument {
            statements: out,
            text: Some(doc.to_string()),
        })
    }
}

impl Statement {
    pub fn covers_action(&self, action: &str) -> bool {
        let listed = self.actions.iter().any(|p| glob(p, action, true));
        listed != self.not_action
    }

    pub fn covers_resource(&self, resource: &str) -> bool {
        let listed = self.resources.iter().any(|p| glob(p, resource, false));
        listed != self.not_resource
    }

    pub fn covers(&self, action: &str, resource: &str) -> bool {
        self.covers_action(action) && self.covers_resource(resource)
    }

    /// Why this grant is broader than what it names, if it is: the grant reaches things
    /// through a wildcard rather than by naming them.
    pub fn breadth(&self) -> Option<String> {
        if self.not_action {
            return Some("NotAction: every action but the listed ones".into());
        }
        if self.not_resource {
            return Some("NotResource: every resource but the listed ones".into());
        }
        if let Some(a) = self
            .actions
            .iter()
            .find(|a| a.contains('*') || a.contains('?'))
        {
            return Some(format!("wildcard action {a}"));
        }
        if self.resources.iter().any(|r| r == "*") {
            return Some("wildcard resource *".into());
        }
        None
    }

    pub fn describe(&self) -> String {
        format!(
            "{} {}{} on {}{}{}",
            match self.effect {
                Effect::Allow => "Allow",
                Effect::Deny => "Deny",
            },
            if self.not_action { "all but " } else { "" },
            self.actions.join(", "),
            if self.not_resource { "all but " } else { "" },
            self.resources.join(", "),
            if self.conditional {
                " (with conditions)"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs_follow_iam_rules() {
        assert!(glob("s3:*", "s3:PutObject", true));
        assert!(glob("s3:put*", "s3:PutObject", true), "actions ignore case");
        assert!(
            !glob("arn:aws:s3:::A/*", "arn:aws:s3:::a/x", false),
            "resources do not"
        );
        assert!(glob(
            "arn:aws:s3:::exports/*",
            "arn:aws:s3:::exports/weekly/*/*",
            false
        ));
        assert!(!glob(
            "arn:aws:s3:::exports/*",
            "arn:aws:s3:::exports",
            false
        ));
        assert!(glob("s3:Get?bject", "s3:GetObject", true));
        assert!(glob("*", "", false));
        assert!(glob("a*b*c", "aXXbYYbZc", false));
        assert!(!glob("a*b*c", "aXXbYY", false));
    }

    #[test]
    fn documents_parse_from_text_url_encoding_or_json() {
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"*"}]}"#;
        let a = PolicyDocument::parse(&json!(plain)).unwrap();
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22s3%3APutObject%22%2C%22s3%3AGetObject%22%5D%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let b = PolicyDocument::parse(&json!(encoded)).unwrap();
        let c = PolicyDocument::parse(&serde_json::from_str(plain).unwrap()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!(a.statements[0].covers("s3:GetObject", "arn:aws:s3:::x/y"));
        assert_eq!(
            a.statements[0].breadth().as_deref(),
            Some("wildcard resource *")
        );
        assert!(PolicyDocument::parse(&json!("{\"Statement\": 3}")).is_err());
        assert!(PolicyDocument::parse(&json!("%7Bnot")).is_err());
    }

    #[test]
    fn not_action_and_single_statement_objects() {
        let doc = PolicyDocument::parse(&json!({
            "Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*",
                          "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
        }))
        .unwrap();
        let s = &doc.statements[0];
        assert!(s.covers_action("s3:PutObject"));
        assert!(!s.covers_action("iam:CreateUser"));
        assert!(s.conditional);
        assert!(s.breadth().unwrap().starts_with("NotAction"));
        let precise = PolicyDocument::parse(&json!({
            "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                           "Resource": "arn:aws:s3:::exports/weekly/*"}]
        }))
        .unwrap();
        assert_eq!(precise.statements[0].breadth(), None);
    }
}
