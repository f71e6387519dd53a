//! What recordings of provider APIs share, on the AWS SDK path (`aws::wire`, below the SDK)
//! and the REST path (`rest`): the file a recording directory holds, how a text kept only
//! as its digest reads, and the redaction every answer goes through before it is written —
//! secrets replaced, instructions kept as their SHA-256 so digests match a live scan's.

use sha2::{Digest, Sha256};

/// The file of a recording directory: one exchange per line.
pub const EXCHANGES: &str = "exchanges.jsonl";

/// How a text reduced to its digest reads in a recording.
pub const DIGEST_PREFIX: &str = "agentward-sha256:";

/// Environment variables that switch telemetry on: their values are not secrets, and what
/// they say decides coverage, so they are kept (Vertex AI Agent Engine's).
pub const TELEMETRY_SWITCHES: [&str; 2] = [
    "GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
];

/// The SHA-256 of a text, or the digest a recording kept in its place.
pub fn digest_of(text: &str) -> String {
    match text.strip_prefix(DIGEST_PREFIX) {
        Some(kept) => kept.to_string(),
        None => hex::encode(Sha256::digest(text.as_bytes())),
    }
}

/// What becomes of one field of an answer.
enum Fate {
    Redacted,
    Digested,
    Kept,
}

/// Where a field stands: the key of the nearest object or list above its object, and the
/// `name` its object gives (an environment entry's).
struct Field<'a> {
    key: &'a str,
    value: &'a serde_json::Value,
    parent: Option<&'a str>,
    name: Option<&'a str>,
}

/// Fields of the AWS APIs' answers replaced outright (credentials, environment variables),
/// whatever their case.
const SDK_SECRET: [&str; 6] = [
    "SecretAccessKey",
    "SessionToken",
    "Password",
    "Variables",
    "Authorization",
    "clientSecret",
];
/// Fields of the AWS APIs' answers read only as digests anyway.
const SDK_DIGESTED: [&str; 3] = [
    "instruction",
    "basePromptTemplate",
    "collaborationInstruction",
];

/// Fields of the REST APIs' answers whose values never enter a recording: keys, a hosted
/// agent's environment, what a Memory Bank remembers about people (`fact`), and `value` —
/// but only in the entries of an `env` list (Vertex `deploymentSpec.env[]`), where it is an
/// environment value, and not for the telemetry switches.
const REST_SECRET: [&str; 4] = ["value", "environment_variables", "key", "fact"];
/// Fields of the REST APIs' answers kept only as their digest.
const REST_DIGESTED: [&str; 1] = ["instructions"];

/// An AWS API's answer as a recording keeps it; other answers (IAM's XML) as they are.
pub fn redact_sdk_answer(answer: &str) -> String {
    redact(answer, &|f: &Field| {
        if SDK_SECRET.iter().any(|s| s.eq_ignore_ascii_case(f.key)) {
            Fate::Redacted
        } else if SDK_DIGESTED.contains(&f.key) && f.value.is_string() {
            Fate::Digested
        } else {
            Fate::Kept
        }
    })
}

/// A Google Cloud or Azure API's answer as a recording keeps it.
pub fn redact_rest_answer(answer: &str) -> String {
    redact(answer, &|f: &Field| {
        let scalar = !f.value.is_object() && !f.value.is_array();
        let env_value =
            f.parent == Some("env") && !f.name.is_some_and(|n| TELEMETRY_SWITCHES.contains(&n));
        let secret = REST_SECRET.contains(&f.key) && (f.key != "value" || env_value) && scalar;
        if secret || (f.key == "environment_variables" && f.value.is_object()) {
            Fate::Redacted
        } else if REST_DIGESTED.contains(&f.key) && f.value.is_string() {
            Fate::Digested
        } else {
            Fate::Kept
        }
    })
}

fn redact(answer: &str, fate: &dyn Fn(&Field) -> Fate) -> String {
    match serde_json::from_str::<serde_json::Value>(answer) {
        Ok(mut v) => {
            walk(&mut v, None, fate);
            v.to_string()
        }
        Err(_) => answer.to_string(),
    }
}

fn walk(v: &mut serde_json::Value, parent: Option<&str>, fate: &dyn Fn(&Field) -> Fate) {
    match v {
        serde_json::Value::Object(map) => {
            let name = map.get("name").and_then(|n| n.as_str()).map(str::to_string);
            for (k, field) in map.iter_mut() {
                let at = Field {
                    key: k,
                    value: field,
                    parent,
                    name: name.as_deref(),
                };
                match fate(&at) {
                    Fate::Redacted => *field = serde_json::Value::String("REDACTED".into()),
                    Fate::Digested => {
                        let text = field.as_str().unwrap_or_default();
                        *field = serde_json::Value::String(format!(
                            "{DIGEST_PREFIX}{}",
                            digest_of(text)
                        ));
                    }
                    Fate::Kept => walk(field, Some(k), fate),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, parent, fate)),
        _ => {}
    }
}
