//! A role's trust policy pinned to the one resource that should assume it: each statement
//! letting an AWS service (bedrock.amazonaws.com) assume the role gains
//! `aws:SourceAccount` and `aws:SourceArn` conditions, so the service can assume it only on
//! behalf of that agent (the confused-deputy fix reconcile names). The same for a resource
//! policy ([`pinned_for`]): an action-group function's, which lets Bedrock invoke it.
//! Everything else in the document is kept as it was.

use crate::EnforcerError;
use serde_json::{Map, Value, json};

/// The pinned document and what was changed, one line per change.
#[derive(Debug, Clone, PartialEq)]
pub struct Pinned {
    pub document: Value,
    pub changes: Vec<String>,
}

/// Pins every statement of `trust` that lets `service` assume the role to `source_arn` in
/// `account`. A statement already pinned to exactly that is left as it is; a wider pin
/// (`agent/*`) is narrowed, and said.
pub fn pinned(
    trust: &Value,
    service: &str,
    source_arn: &str,
    account: &str,
) -> Result<Pinned, EnforcerError> {
    pinned_for(trust, service, "sts:AssumeRole", source_arn, account)
}

/// [`pinned`] for the statements that allow `service` the `action` (a resource policy's
/// `lambda:InvokeFunction`).
pub fn pinned_for(
    policy: &Value,
    service: &str,
    action: &str,
    source_arn: &str,
    account: &str,
) -> Result<Pinned, EnforcerError> {
    let mut document = policy.clone();
    let malformed = |reason: &'static str| EnforcerError::Document {
        what: "trust policy",
        reason,
    };
    let statements = match document.get_mut("Statement") {
        Some(Value::Array(list)) => list.iter_mut().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err(malformed("no Statement list")),
    };
    let mut changes = Vec::new();
    for (i, statement) in statements.into_iter().enumerate() {
        if !allows(statement, service, action) {
            continue;
        }
        let condition = statement
            .as_object_mut()
            .ok_or(malformed("a statement that is not an object"))?
            .entry("Condition")
            .or_insert_with(|| json!({}));
        let condition = condition
            .as_object_mut()
            .ok_or(malformed("a Condition that is not an object"))?;
        // The agent's own ARN names its account: a statement pinned to it exactly needs
        // no account pin besides.
        let exact = condition
            .get("ArnLike")
            .and_then(Value::as_object)
            .and_then(|keys| {
                keys.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("aws:SourceArn"))
            })
            .is_some_and(|(_, v)| v == source_arn);
        let pins = [
            ("StringEquals", "aws:SourceAccount", account),
            ("ArnLike", "aws:SourceArn", source_arn),
        ];
        for (operator, key, value) in pins.into_iter().skip(usize::from(exact)) {
            if let Some(change) = pin(condition, operator, key, value)? {
                changes.push(format!("statement {i}: {change}"));
            }
        }
    }
    Ok(Pinned { document, changes })
}

/// Whether any statement of `policy` lets `service` call `action`.
pub fn allows_any(policy: &Value, service: &str, action: &str) -> bool {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().any(|s| allows(s, service, action)),
        Some(one) => allows(one, service, action),
        None => false,
    }
}

/// Whether an Allow statement lets `service` call `action` (named, or by a wildcard).
fn allows(statement: &Value, service: &str, action: &str) -> bool {
    let names = |v: &Value, wanted: &str, pattern: bool| {
        let one = |s: &Value| {
            s.as_str().is_some_and(|s| {
                if pattern {
                    normalizer::policy::glob(s, wanted, true)
                } else {
                    s == wanted
                }
            })
        };
        match v {
            Value::Array(list) => list.iter().any(one),
            v => one(v),
        }
    };
    statement["Effect"] == "Allow"
        && names(&statement["Action"], action, true)
        && names(&statement["Principal"]["Service"], service, false)
}

/// Sets `operator: {key: value}`; returns what changed, or `None` when it was so already.
/// The key under another operator (ArnEquals, StringLike …) is replaced by this one.
fn pin(
    condition: &mut Map<String, Value>,
    operator: &str,
    key: &str,
    value: &str,
) -> Result<Option<String>, EnforcerError> {
    let mut before = None;
    for (op, keys) in condition.iter_mut() {
        // Condition keys are case-insensitive: Lambda writes `AWS:SourceArn`, and a pin
        // under that spelling is the same pin.
        let Some(keys) = keys.as_object_mut() else {
            continue;
        };
        let Some(found) = keys.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned() else {
            continue;
        };
        let old = &keys[&found];
        if op == operator && old == value {
            return Ok(None);
        }
        before = Some(format!("{op} {old}"));
        keys.remove(&found);
    }
    condition.retain(|_, keys| keys.as_object().is_none_or(|k| !k.is_empty()));
    condition
        .entry(operator)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or(EnforcerError::Document {
            what: "trust policy",
            reason: "a condition operator that is not an object",
        })?
        .insert(key.to_string(), json!(value));
    Ok(Some(match before {
        Some(old) => format!("{key} narrowed from {old} to {operator} {value:?}"),
        None => format!("{key} pinned: {operator} {value:?}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEDROCK: &str = "bedrock.amazonaws.com";
    const AGENT: &str = "arn:aws:bedrock:us-east-1:111122223333:agent/K7QX2M4TZP";

    fn doc(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn an_unpinned_agent_role_gets_both_pins() {
        let support = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        );
        let p = pinned(&support, BEDROCK, AGENT, "111122223333").unwrap();
        assert_eq!(
            p.document["Statement"][0]["Condition"],
            json!({"StringEquals": {"aws:SourceAccount": "111122223333"}, "ArnLike": {"aws:SourceArn": AGENT}})
        );
        assert_eq!(p.changes.len(), 2, "{:?}", p.changes);
        assert_eq!(p.document["Version"], "2012-10-17");
        let again = pinned(&p.document, BEDROCK, AGENT, "111122223333").unwrap();
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        assert_eq!(again.document, p.document);
    }

    #[test]
    fn an_account_pin_is_kept_and_a_wider_arn_pin_narrowed() {
        let research = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}"#,
        );
        let p = pinned(&research, BEDROCK, AGENT, "111122223333").unwrap();
        assert_eq!(
            p.changes,
            [format!(
                "statement 0: aws:SourceArn pinned: ArnLike {AGENT:?}"
            )]
        );
        let wide = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["bedrock.amazonaws.com"]},"Action":["sts:AssumeRole"],"Condition":{"StringLike":{"aws:SourceArn":"arn:aws:bedrock:us-east-1:111122223333:agent/*"},"StringEquals":{"aws:SourceAccount":"111122223333"}}}}"#,
        );
        let p = pinned(&wide, BEDROCK, AGENT, "111122223333").unwrap();
        assert_eq!(
            p.document["Statement"]["Condition"],
            json!({"StringEquals": {"aws:SourceAccount": "111122223333"}, "ArnLike": {"aws:SourceArn": AGENT}})
        );
        assert_eq!(p.changes.len(), 1);
        assert!(
            p.changes[0].contains("narrowed from StringLike"),
            "{:?}",
            p.changes
        );
    }

    #[test]
    fn other_principals_and_statements_are_untouched_and_a_bad_document_refused() {
        let lambda = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        );
        let p = pinned(&lambda, BEDROCK, AGENT, "111122223333").unwrap();
        assert!(p.changes.is_empty());
        assert_eq!(p.document, lambda);
        assert!(matches!(
            pinned(&doc(r#"{"Version":"2012-10-17"}"#), BEDROCK, AGENT, "1"),
            Err(EnforcerError::Document { .. })
        ));
    }

    #[test]
    fn a_functions_resource_policy_is_pinned_whatever_the_case_of_its_keys() {
        let function = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"bedrock","Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:support-tools","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:bedrock:us-east-1:111122223333:agent/*"}}}]}"#,
        );
        let p = pinned_for(
            &function,
            BEDROCK,
            "lambda:InvokeFunction",
            AGENT,
            "111122223333",
        )
        .unwrap();
        assert_eq!(
            p.document["Statement"][0]["Condition"],
            json!({"StringEquals": {"aws:SourceAccount": "111122223333"}, "ArnLike": {"aws:SourceArn": AGENT}})
        );
        assert!(
            p.changes.iter().any(|c| c.contains("narrowed")),
            "{:?}",
            p.changes
        );
        let again = pinned_for(
            &p.document,
            BEDROCK,
            "lambda:InvokeFunction",
            AGENT,
            "111122223333",
        )
        .unwrap();
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        // Pinned exactly under Lambda's spelling of the key: nothing to change.
        let exact = doc(&function.to_string().replace("agent/*", "agent/K7QX2M4TZP"));
        let p = pinned_for(
            &exact,
            BEDROCK,
            "lambda:InvokeFunction",
            AGENT,
            "111122223333",
        )
        .unwrap();
        assert!(p.changes.is_empty(), "{:?}", p.changes);
        // The same document is no role trust: nothing in it lets Bedrock assume a role.
        assert!(
            pinned(&function, BEDROCK, AGENT, "111122223333")
                .unwrap()
                .changes
                .is_empty()
        );
    }
}
