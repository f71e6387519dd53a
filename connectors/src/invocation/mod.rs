//! Amazon Bedrock model invocation logs delivered to S3: one gzip'd JSON-lines object per
//! delivery under `AWSLogs/ACCOUNT/BedrockModelInvocationLogs/REGION/YYYY/MM/DD/HH/`, one
//! record per model call (schemaType `ModelInvocationLog`). Each becomes a prompt-layer
//! event carrying the call's `requestId` — the same id the CloudTrail record of the call
//! has — so a prompt can be tied to what the agent then did.
//!
//! Prompt text is customer data: what is kept of it is the source's [`PromptText`] policy.

use crate::ConnectorError;
use crate::attribution::Attribution;
use crate::location::Opened;
use crate::records::lines::read_json_lines;
use crate::records::{FileCounts, Listing, Mapped, NotARecord, Output, ReadFailure};
use normalizer::coverage::{Coverage, CoverageStatus};
use normalizer::event::{CloudContext, PromptContent, Target};
use normalizer::identity::role_key;
use normalizer::{
    AgentRef, Correlation, Event, Layer, Outcome, Principal, Provider, RawPointer, Timestamp,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

const EXCERPT_CHARS: usize = 240;

/// What is kept of prompt and completion text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PromptText {
    /// SHA-256 digests only.
    Hash,
    /// Digests and the first 240 characters with digit runs and e-mail addresses masked.
    #[default]
    Redacted,
    /// Digests and the full text.
    Full,
}

impl PromptText {
    pub fn parse(text: &str) -> Option<PromptText> {
        match text {
            "hash" => Some(PromptText::Hash),
            "redacted" => Some(PromptText::Redacted),
            "full" => Some(PromptText::Full),
            _ => None,
        }
    }
}

/// Objects of an invocation-log destination, oldest first (keys carry the delivery hour).
pub async fn list(source: &Opened) -> Result<Listing, ConnectorError> {
    let mut listing = crate::records::list_objects(source, |key| {
        let in_logs = key.split('/').any(|p| p == "BedrockModelInvocationLogs");
        if in_logs && key.split('/').any(|p| p == "data") {
            Some("large request/response body that a log record points to (inputBodyS3Path); its digest is not taken".into())
        } else if in_logs && (key.ends_with(".json.gz") || key.ends_with(".json")) {
            None
        } else {
            Some("not a model invocation log (…/BedrockModelInvocationLogs/…/*.json.gz)".into())
        }
    })
    .await?;
    listing.files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(listing)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    #[serde(borrow, default)]
    schema_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    account_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    identity: Option<Identity>,
    #[serde(borrow, default)]
    region: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    request_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    operation: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    model_id: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    error_code: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    input: Option<Body<'a>>,
    #[serde(borrow, default)]
    output: Option<Body<'a>>,
    #[serde(borrow, default)]
    request_metadata: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Identity {
    arn: Option<String>,
}

/// `input` and `output` share a shape: a body inline, or a pointer to one, and a count.
#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow, default, alias = "inputBodyJson", alias = "outputBodyJson")]
    body: Option<&'a RawValue>,
    #[serde(default, alias = "inputTokenCount", alias = "outputTokenCount")]
    tokens: Option<u64>,
}

/// Maps invocation-log records; attributes them with what CloudTrail taught about the
/// agents' roles.
pub struct InvocationMapper {
    pub source: String,
    pub attribution: Attribution,
    pub policy: PromptText,
    /// role key → agent ids running as it.
    roles: BTreeMap<String, BTreeSet<String>>,
}

impl InvocationMapper {
    pub fn new(source: String, attribution: Attribution, policy: PromptText) -> Self {
        let mut mapper = InvocationMapper {
            source,
            attribution: Attribution::default(),
            policy,
            roles: BTreeMap::new(),
        };
        mapper.learn(&attribution);
        mapper
    }

    /// Adds what another source learned (a CloudTrail scan that ran since).
    pub fn learn(&mut self, attribution: &Attribution) {
        self.attribution.merge(attribution);
        self.roles.clear();
        for (role, agents) in &self.attribution.roles {
            self.roles
                .entry(role_key(role))
                .or_default()
                .extend(agents.iter().cloned());
        }
    }

    fn map(&self, object: &str, index: u64, bytes: &[u8]) -> Result<Mapped, NotARecord> {
        let rec: Record<'_> = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a model invocation log record: {e}"))?;
        if rec
            .schema_type
            .as_deref()
            .is_some_and(|t| t != "ModelInvocationLog")
        {
            return Err(format!(
                "schemaType {:?} is not ModelInvocationLog",
                rec.schema_type.as_deref().unwrap_or_default()
            ));
        }
        let time = Timestamp::parse_rfc3339(&rec.timestamp)
            .map_err(|_| format!("timestamp {:?} is not RFC 3339", rec.timestamp))?;
        let account = rec.account_id.as_deref().unwrap_or("unknown").to_string();
        let region = rec.region.as_deref().unwrap_or("unknown").to_string();
        let raw = RawPointer {
            source: self.source.clone(),
            object: object.to_string(),
            index,
        };
        let arn = rec.identity.and_then(|i| i.arn);
        let principal = principal_of(arn.as_deref());
        let agent = principal
            .issuer
            .as_deref()
            .and_then(|role| self.roles.get(&role_key(role)))
            .and_then(|agents| {
                // A role several agents share cannot say which one made the call.
                let mut it = agents.iter();
                let first = it.next()?;
                it.next().is_none().then_some(first)
            })
            .and_then(|id| self.attribution.agent_ref(id, None));
        let model = rec.model_id.to_string();
        let target = if model.starts_with("arn:") {
            model.clone()
        } else {
            format!("arn:aws:bedrock:{region}::foundation-model/{model}")
        };
        let uid = match rec.request_id.as_deref() {
            Some(id) => format!("invocation-{id}"),
            None => hex::encode(
                &Sha256::digest([object.as_bytes(), &index.to_le_bytes(), bytes].concat())[..16],
            ),
        };
        let prompt = self.content(rec.input.as_ref(), rec.output.as_ref());
        let trace_id = rec
            .request_metadata
            .and_then(|m| serde_json::from_str::<serde_json::Value>(m.get()).ok())
            .and_then(|m| m["traceId"].as_str().map(str::to_string));
        let event = Event {
            uid,
            time,
            agent,
            layer: Layer::Prompt,
            service: "bedrock.amazonaws.com".into(),
            operation: rec
                .operation
                .as_deref()
                .unwrap_or("InvokeModel")
                .to_string(),
            targets: vec![Target {
                uid: target,
                kind: Some("AWS::Bedrock::FoundationModel".into()),
                name: None,
            }],
            outcome: match rec.error_code {
                None => Outcome::Success,
                Some(code) => Outcome::Failure {
                    code: code.to_string(),
                    message: None,
                },
            },
            principal,
            correlation: Correlation {
                request_id: rec.request_id.as_deref().map(str::to_string),
                trace_id,
                ..Correlation::default()
            },
            source: raw,
            cloud: Some(CloudContext {
                provider: Provider::Aws,
                account,
                region,
            }),
            src_ip: None,
            user_agent: None,
            model: Some(model),
            category: Some("ModelInvocationLog".into()),
            read_only: None,
            original_time: Some(rec.timestamp.to_string()),
            prompt: Some(prompt),
            count: None,
            permissions: Vec::new(),
        };
        Ok(Mapped {
            event,
            observations: Vec::new(),
            identity: Vec::new(),
        })
    }

    fn content<'a>(&self, input: Option<&Body<'a>>, output: Option<&Body<'a>>) -> PromptContent {
        let (input_body, output_body) = (body_of(input), body_of(output));
        let digest = |text: Option<&str>| text.map(|t| hex::encode(Sha256::digest(t.as_bytes())));
        let text_of = |raw: Option<&str>| raw.map(texts_in);
        let (input_text, output_text) = (text_of(input_body), text_of(output_body));
        let keep = |text: &Option<String>, policy: PromptText| match policy {
            PromptText::Hash => (None, None),
            PromptText::Redacted => (text.as_deref().map(redacted_excerpt), None),
            PromptText::Full => (text.as_deref().map(redacted_excerpt), text.clone()),
        };
        let (input_excerpt, input_full) = keep(&input_text, self.policy);
        let (output_excerpt, output_full) = keep(&output_text, self.policy);
        PromptContent {
            input_sha256: digest(input_body),
            output_sha256: digest(output_body),
            input_excerpt,
            output_excerpt,
            input_text: input_full,
            output_text: output_full,
            input_tokens: input.and_then(|b| b.tokens),
            output_tokens: output.and_then(|b| b.tokens),
            text_delivered: input_body.is_some(),
        }
    }
}

fn body_of<'a>(b: Option<&Body<'a>>) -> Option<&'a str> {
    b.and_then(|b| b.body).map(RawValue::get)
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` → an assumed-role principal whose
/// issuer is the role.
fn principal_of(arn: Option<&str>) -> Principal {
    let Some(arn) = arn else {
        return Principal {
            kind: "Unknown".into(),
            ..Principal::default()
        };
    };
    if let Some((head, rest)) = arn.split_once(":assumed-role/")
        && let Some((role, session)) = rest.split_once('/')
    {
        return Principal {
            kind: "AssumedRole".into(),
            arn: Some(arn.to_string()),
            account: head.rsplit(':').next().map(str::to_string),
            issuer: Some(format!("{}:role/{role}", head.replace(":sts:", ":iam:"))),
            session_name: Some(session.to_string()),
            ..Principal::default()
        };
    }
    Principal {
        kind: if arn.contains(":user/") {
            "IAMUser"
        } else {
            "Unknown"
        }
        .into(),
        arn: Some(arn.to_string()),
        ..Principal::default()
    }
}

/// The human-readable text of a request or response body, whatever the model's schema:
/// every string under `text`, `prompt`, `inputText`, `system` or a string `content`.
fn texts_in(raw: &str) -> String {
    fn walk(v: &serde_json::Value, key: Option<&str>, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s)
                if matches!(
                    key,
                    Some(
                        "text"
                            | "prompt"
                            | "inputText"
                            | "system"
                            | "content"
                            | "outputText"
                            | "completion"
                    )
                ) =>
            {
                out.push(s.clone())
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, key, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| walk(v, Some(k), out)),
            _ => {}
        }
    }
    let mut parts = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) {
        walk(&v, None, &mut parts);
    }
    parts.join(" | ")
}

/// The first characters of a text with what most often identifies a person masked:
/// runs of 4+ digits (account, card, phone, order numbers) and e-mail addresses.
pub fn redacted_excerpt(text: &str) -> String {
    let mut out = String::new();
    let mut truncated = false;
    for word in text.split_inclusive(char::is_whitespace) {
        if out.chars().count() >= EXCERPT_CHARS {
            truncated = true;
            break;
        }
        let trimmed = word.trim_end();
        if trimmed.contains('@') && trimmed.contains('.') {
            out.push_str("[email]");
        } else {
            out.push_str(&mask_digit_runs(trimmed));
        }
        out.push_str(&word[trimmed.len()..]);
    }
    if out.chars().count() > EXCERPT_CHARS {
        out = out.chars().take(EXCERPT_CHARS).collect();
        truncated = true;
    }
    if truncated {
        out.push('…');
    }
    out
}

fn mask_digit_runs(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 4 {
            out.push_str(&"#".repeat(run.len()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in word.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Reads one invocation-log object (gzip detected from content), emitting an event per
/// record and a quarantined item, with its reason, per line that is not one.
pub fn read_log(
    reader: impl Read,
    object: &str,
    mapper: &mut InvocationMapper,
    max_record: usize,
    emit: &mut dyn FnMut(Output),
) -> Result<FileCounts, ReadFailure> {
    read_json_lines(reader, object, max_record, emit, &mut |index, bytes| {
        mapper
            .map(object, index, bytes)
            .map(|m| Output::Mapped(Box::new(m)))
    })
}

/// Prompt-layer coverage of one agent from an invocation-log source; records lost to
/// quarantine degrade it.
pub fn coverage(
    agent: &AgentRef,
    source: &str,
    prompt_events: u64,
    policy: PromptText,
    loss: Option<crate::records::Loss>,
) -> Coverage {
    let status = if prompt_events > 0 {
        CoverageStatus::Observed {
            via: format!(
                "Bedrock model invocation logs ({source}): every model call's request and response, kept as {}",
                match policy {
                    PromptText::Hash => "SHA-256 digests",
                    PromptText::Redacted => "digests and a redacted excerpt",
                    PromptText::Full => "digests and full text",
                }
            ),
        }
    } else {
        CoverageStatus::AvailableIfEnabled {
            setting: format!(
                "the invocation logs in {source} hold no model call of this agent: logging was off for its region, or text delivery was"
            ),
            how_to_enable: "aws bedrock put-model-invocation-logging-configuration --logging-config \
                            '{\"s3Config\":{\"bucketName\":\"BUCKET\"},\"textDataDeliveryEnabled\":true}'"
                .into(),
        }
    };
    let status = match (loss, status) {
        (Some(l), CoverageStatus::Observed { via }) => CoverageStatus::Degraded {
            via,
            lost: l.lost,
            from: l.from,
            to: l.to,
            reason: "invocation log lines could not be read and are quarantined; model calls in that window may be missing".into(),
        },
        (_, status) => status,
    };
    Coverage {
        agent: agent.clone(),
        layer: Layer::Prompt,
        status,
    }
}

#[cfg(test)]
mod tests;

pub const KIND: &str = "bedrock-invocation-logs";

/// Model invocation logs, as a log source reads them, with what is kept of prompt text.
pub struct InvocationFormat(pub PromptText);

#[async_trait::async_trait]
impl crate::source::LogFormat for InvocationFormat {
    async fn list(&self, at: &Opened) -> Result<Listing, ConnectorError> {
        list(at).await
    }

    fn mapper(
        &self,
        source: &str,
        attribution: Attribution,
        _known: &normalizer::InventorySnapshot,
    ) -> Box<dyn crate::source::RecordMapper> {
        Box::new(InvocationMapper::new(
            source.to_string(),
            attribution,
            self.0,
        ))
    }

    fn provider(&self) -> normalizer::Provider {
        normalizer::Provider::Aws
    }

    fn coverage(
        &self,
        source: &str,
        agent: &AgentRef,
        tally: &crate::source::Tally,
    ) -> Vec<Coverage> {
        let prompts = tally.seen.get(&Layer::Prompt).copied().unwrap_or(0);
        vec![coverage(agent, source, prompts, self.0, tally.loss)]
    }
}

impl crate::source::RecordMapper for InvocationMapper {
    fn read(
        &mut self,
        reader: &mut dyn Read,
        object: &str,
        max_record: usize,
        emit: &mut dyn FnMut(Output),
    ) -> Result<FileCounts, ReadFailure> {
        read_log(reader, object, self, max_record, emit)
    }

    fn attribution(&self) -> Option<&Attribution> {
        Some(&self.attribution)
    }

    fn learn(&mut self, attribution: &Attribution) {
        InvocationMapper::learn(self, attribution)
    }
}
