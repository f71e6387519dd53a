//! A local evaluator of AWS identity policies, for replaying what was observed against what
//! is proposed: actions and resources with `*` and `?`, `NotAction` and `NotResource`,
//! explicit deny over allow, and the condition operators on strings, ARNs, booleans,
//! numbers and key presence, with `IfExists` and the `ForAnyValue:` / `ForAllValues:` set
//! qualifiers. What it does not implement (policy variables, IP and date operators) is
//! refused when the policy is parsed, never evaluated as something else.
//!
//! Differential-tested against `@cloud-copilot/iam-simulate` (`tests/iam_simulate.rs`).

use crate::EnforcerError;
use normalizer::policy::glob;
use serde_json::Value;
use std::collections::BTreeMap;

/// A request's condition context: lowercase key → its values (one for a single-valued key).
pub type Context = BTreeMap<String, Vec<String>>;

/// One request to evaluate: an IAM action (`s3:PutObject`) on one resource ARN (or `*` for
/// an action that takes none).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Allowed by this statement (`policy#Sid`, or `policy#index` for one without a Sid).
    Allowed {
        by: String,
    },
    ExplicitlyDenied {
        by: String,
    },
    /// No statement allows it.
    ImplicitlyDenied,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }
}

/// A parsed identity policy.
#[derive(Debug, Clone)]
pub struct Policy {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    id: String,
    deny: bool,
    actions: Vec<String>,
    not_action: bool,
    resources: Vec<ResourcePattern>,
    not_resource: bool,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    ArnLike,
    Bool,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    AnyValue,
    AllValues,
}

#[derive(Debug, Clone)]
struct Condition {
    op: Op,
    negated: bool,
    if_exists: bool,
    set: Option<SetOp>,
    key: String,
    values: Vec<String>,
}

fn malformed(reason: &'static str) -> EnforcerError {
    EnforcerError::Document {
        what: "policy to evaluate",
        reason,
    }
}

/// Strings or an array of strings, as IAM allows for Action, Resource and condition values
/// (numbers and booleans are written as text).
fn strings(v: &Value) -> Result<Vec<String>, EnforcerError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(malformed(
            "a value is neither a string nor a list of strings",
        )),
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        v => Ok(vec![one(v)?]),
    }
}

fn operator(name: &str) -> Result<(Op, bool), EnforcerError> {
    use Op::*;
    Ok(match name {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        // ArnEquals takes wildcards as ArnLike does.
        "ArnEquals" | "ArnLike" => (ArnLike, false),
        "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
        "Bool" => (Bool, false),
        "NumericEquals" => (NumericEquals, false),
        "NumericNotEquals" => (NumericEquals, true),
        "NumericLessThan" => (NumericLessThan, false),
        "NumericLessThanEquals" => (NumericLessThanEquals, false),
        "NumericGreaterThan" => (NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (NumericGreaterThanEquals, false),
        "Null" => (Null, false),
        _ => {
            return Err(EnforcerError::Unsupported(format!(
                "condition operator {name}"
            )));
        }
    })
}

fn conditions(block: &Value) -> Result<Vec<Condition>, EnforcerError> {
    let Value::Object(ops) = block else {
        return Err(malformed("Condition is not an object"));
    };
    let mut out = Vec::new();
    for (name, keys) in ops {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetOp::AnyValue), r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetOp::AllValues), r)
        } else {
            (None, name.as_str())
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(r) if r != "Null" => (r, true),
            _ => (rest, false),
        };
        let (op, negated) = operator(rest)?;
        let Value::Object(keys) = keys else {
            return Err(malformed("a condition operator's value is not an object"));
        };
        for (key, values) in keys {
            let values = strings(values)?;
            if values.iter().any(|v| v.contains("${")) {
                return Err(EnforcerError::Unsupported(format!(
                    "policy variables in the condition on {key}"
                )));
            }
            out.push(Condition {
                op,
                negated,
                if_exists,
                set,
                key: key.to_ascii_lowercase(),
                values,
            });
        }
    }
    Ok(out)
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: the patterns and whether negated.
fn element(
    statement: &serde_json::Map<String, Value>,
    plain: &str,
    not: &str,
) -> Result<(Vec<String>, bool), EnforcerError> {
    match (statement.get(plain), statement.get(not)) {
        (Some(v), None) => Ok((strings(v)?, false)),
        (None, Some(v)) => Ok((strings(v)?, true)),
        (Some(_), Some(_)) => Err(malformed(
            "a statement has both an element and its Not form",
        )),
        (None, None) => Err(malformed("a statement lacks Action or Resource")),
    }
}

fn rule(index: usize, statement: &Value) -> Result<Rule, EnforcerError> {
    let Value::Object(s) = statement else {
        return Err(malformed("a statement is not an object"));
    };
    let deny = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => false,
        Some("Deny") => true,
        _ => return Err(malformed("a statement's Effect is neither Allow nor Deny")),
    };
    if s.contains_key("Principal") || s.contains_key("NotPrincipal") {
        return Err(malformed("an identity policy statement names a Principal"));
    }
    let (actions, not_action) = element(s, "Action", "NotAction")?;
    let (resources, not_resource) = element(s, "Resource", "NotResource")?;
    if resources.iter().any(|r| r.contains("${")) {
        return Err(EnforcerError::Unsupported(
            "policy variables in Resource".into(),
        ));
    }
    Ok(Rule {
        id: match s.get("Sid").and_then(Value::as_str) {
            Some(sid) if !sid.is_empty() => sid.to_string(),
            _ => index.to_string(),
        },
        deny,
        actions,
        not_action,
        resources: resources
            .iter()
            .map(|r| ResourcePattern::parse(r))
            .collect(),
        not_resource,
        conditions: s
            .get("Condition")
            .map(conditions)
            .transpose()?
            .unwrap_or_default(),
    })
}

impl Policy {
    /// Parses an identity policy document; `name` is how decisions cite it.
    pub fn parse(name: &str, document: &Value) -> Result<Policy, EnforcerError> {
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => return Err(malformed("the document has no Statement")),
        };
        let rules = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| rule(i, s))
            .collect::<Result<_, _>>()?;
        Ok(Policy {
            name: name.to_string(),
            rules,
        })
    }
}

/// The decision of identity policies on one request: an explicit deny in any of them wins,
/// then an allow in any; otherwise it is implicitly denied.
pub fn evaluate(policies: &[Policy], request: &Request<'_>) -> Decision {
    let by = |at| statement_name(policies, at);
    match verdict(policies, request) {
        Verdict::Allowed(at) => Decision::Allowed { by: by(at) },
        Verdict::Denied(at) => Decision::ExplicitlyDenied { by: by(at) },
        Verdict::Implicit => Decision::ImplicitlyDenied,
    }
}

/// [`evaluate`] with the deciding statement as (policy, statement) indices: what a replay
/// of millions of calls tallies by, naming each statement once at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    Allowed((usize, usize)),
    Denied((usize, usize)),
    Implicit,
}

pub(crate) fn verdict(policies: &[Policy], request: &Request<'_>) -> Verdict {
    if request.action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
        // AWS answers it for every signed caller, whatever the policies say.
        return Verdict::Allowed((usize::MAX, 0));
    }
    let resource = (request.resource, arn_parts(request.resource));
    let mut allowed = None;
    for (p, policy) in policies.iter().enumerate() {
        for (r, rule) in policy.rules.iter().enumerate() {
            if !rule.applies(request, &resource) {
                continue;
            }
            if rule.deny {
                return Verdict::Denied((p, r));
            }
            allowed.get_or_insert((p, r));
        }
    }
    allowed.map_or(Verdict::Implicit, Verdict::Allowed)
}

/// How a decision cites the statement at (policy, statement).
pub(crate) fn statement_name(policies: &[Policy], (p, r): (usize, usize)) -> String {
    match policies.get(p) {
        Some(policy) => format!("{}#{}", policy.name, policy.rules[r].id),
        None => "AWS (GetCallerIdentity needs no permission)".into(),
    }
}

/// A request's resource: its text, and its ARN parts when it is an ARN.
type RequestResource<'a> = (&'a str, Option<[&'a str; 6]>);

impl Rule {
    fn applies(&self, request: &Request<'_>, resource: &RequestResource<'_>) -> bool {
        let action = self
            .actions
            .iter()
            .any(|p| action_matches(p, request.action));
        let resource = self.resources.iter().any(|p| p.matches(resource));
        action != self.not_action
            && resource != self.not_resource
            && self.conditions.iter().all(|c| c.holds(request.context))
    }
}

fn action_matches(pattern: &str, action: &str) -> bool {
    glob(pattern, action, true)
}

/// An ARN's six parts; the last keeps its colons. `None` for text that is not an ARN.
fn arn_parts(arn: &str) -> Option<[&str; 6]> {
    let mut it = arn.splitn(6, ':');
    let parts = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    (parts[0] == "arn").then_some(parts)
}

/// A Resource pattern, split once when the policy is parsed: each ARN part is matched on
/// its own (a wildcard never spans a part's colon), the partition, service, region and
/// account without regard to case, the resource part with it. A pattern with fewer parts
/// has the missing ones as `*`.
#[derive(Debug, Clone)]
enum ResourcePattern {
    Any,
    Arn {
        /// Partition, service, region, account.
        parts: [String; 4],
        /// The resource part's leading type (`function:`, `role/`), literal: AWS takes no
        /// wildcard in it, so a pattern with one there matches nothing. S3's bucket ARNs
        /// have none, and a part without `:` or `/` is all identifier.
        kind: String,
        rest: String,
    },
    Text(String),
}

impl ResourcePattern {
    fn parse(pattern: &str) -> ResourcePattern {
        if pattern == "*" {
            return ResourcePattern::Any;
        }
        let colons = pattern.matches(':').count();
        let padded = if pattern.starts_with("arn:") && colons < 5 {
            format!("{pattern}{}", ":*".repeat(5 - colons))
        } else {
            pattern.to_string()
        };
        let Some(p) = arn_parts(&padded) else {
            return ResourcePattern::Text(pattern.to_string());
        };
        let untyped = p[2] == "s3" && p[3].is_empty() && p[4].is_empty();
        let cut = match p[5].find([':', '/']) {
            Some(i) if !untyped => i + 1,
            _ => 0,
        };
        let (kind, rest) = p[5].split_at(cut);
        ResourcePattern::Arn {
            parts: [p[1], p[2], p[3], p[4]].map(str::to_string),
            kind: kind.to_string(),
            rest: rest.to_string(),
        }
    }

    fn matches(&self, (text, arn): &RequestResource<'_>) -> bool {
        match (self, arn) {
            (ResourcePattern::Any, _) => true,
            (ResourcePattern::Arn { parts, kind, rest }, Some(r)) => {
                (0..4).all(|i| glob(&parts[i], r[i + 1], true))
                    && !kind.contains(['*', '?'])
                    && r[5]
                        .strip_prefix(kind.as_str())
                        .is_some_and(|id| glob(rest, id, false))
            }
            (ResourcePattern::Arn { .. }, None) => false,
            (ResourcePattern::Text(p), _) => glob(p, text, false),
        }
    }
}

fn arn_like(pattern: &str, value: &str) -> bool {
    match (arn_parts(pattern), arn_parts(value)) {
        (Some(p), Some(v)) => (0..6).all(|i| glob(p[i], v[i], false)),
        _ => false,
    }
}

impl Condition {
    /// One context value against the policy's values (any of them).
    fn matches(&self, value: &str) -> bool {
        let number = |s: &str| s.trim().parse::<f64>().ok();
        self.values.iter().any(|p| match self.op {
            Op::StringEquals => p == value,
            Op::StringEqualsIgnoreCase => p.eq_ignore_ascii_case(value),
            Op::StringLike => glob(p, value, false),
            Op::ArnLike => arn_like(p, value),
            Op::Bool => p.eq_ignore_ascii_case(value),
            Op::Null => false,
            numeric => match (number(p), number(value)) {
                (Some(p), Some(v)) => match numeric {
                    Op::NumericEquals => v == p,
                    Op::NumericLessThan => v < p,
                    Op::NumericLessThanEquals => v <= p,
                    Op::NumericGreaterThan => v > p,
                    _ => v >= p,
                },
                _ => false,
            },
        })
    }

    fn holds(&self, context: &Context) -> bool {
        let present = context.get(&self.key).filter(|v| !v.is_empty());
        if self.op == Op::Null {
            // `true` asks that the key be absent, `false` that it be present.
            return self
                .values
                .iter()
                .any(|v| v.eq_ignore_ascii_case("true") == present.is_none());
        }
        let Some(values) = present else {
            // ForAnyValue over nothing is false even with IfExists, as AWS evaluates it;
            // ForAllValues over nothing is vacuously true.
            return match self.set {
                Some(SetOp::AllValues) => true,
                Some(SetOp::AnyValue) => false,
                None => self.if_exists || self.negated,
            };
        };
        let hit = |v: &String| self.matches(v) != self.negated;
        match self.set {
            Some(SetOp::AllValues) => values.iter().all(hit),
            Some(SetOp::AnyValue) => values.iter().any(hit),
            // A negated operator holds when no value matches; a plain one when any does.
            None if self.negated => values.iter().all(hit),
            None => values.iter().any(hit),
        }
    }
}

#[cfg(test)]
mod tests;
