use crate::{AgentRef, Timestamp};
use serde::{Deserialize, Serialize};

/// Which plane of an agent's behavior an event shows. Coverage is reported per layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Processes, files, syscalls: only a node probe sees these.
    Kernel,
    /// Connections and egress destinations.
    Network,
    /// Prompt and completion content.
    Prompt,
    /// The agent invoking one of its tools (action group, function, MCP tool).
    ToolInvocation,
    /// Calls a principal made against a cloud API.
    IdentityApi,
    /// Changes to the agent itself: deploys, versions, aliases, configuration.
    Control,
}

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::Kernel,
        Layer::Network,
        Layer::Prompt,
        Layer::ToolInvocation,
        Layer::IdentityApi,
        Layer::Control,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Kernel => "kernel",
            Layer::Network => "network",
            Layer::Prompt => "prompt",
            Layer::ToolInvocation => "tool_invocation",
            Layer::IdentityApi => "identity_api",
            Layer::Control => "control",
        }
    }

    pub fn parse(text: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure {
        code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    Unknown,
}

/// Who acted. For assumed roles `arn` is the session ARN and `issuer` the role it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Provider's principal kind, e.g. `AssumedRole`, `IAMUser`, `AWSService`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// The service that made the call on the principal's behalf (`invokedBy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
}

/// Ids that let one event be tied to others across layers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correlation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<u64>,
}

/// Where the raw record behind an event lives, so a reviewer can go back to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPointer {
    /// The configured source name.
    pub source: String,
    /// The object (file) inside the source.
    pub object: String,
    /// Zero-based index of the record inside the object.
    pub index: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The cloud account and region an event happened in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudContext {
    pub provider: crate::Provider,
    pub account: String,
    pub region: String,
}

/// One normalized thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique and stable across rescans (the provider's event id where there is one).
    pub uid: String,
    pub time: Timestamp,
    /// `None` when no agent could be attributed: the event is kept, never dropped.
    pub agent: Option<AgentRef>,
    pub layer: Layer,
    /// The service that handled the call, e.g. `s3.amazonaws.com`.
    pub service: String,
    /// The operation as the provider names it, e.g. `PutObject`.
    pub operation: String,
    pub targets: Vec<Target>,
    pub outcome: Outcome,
    pub principal: Principal,
    pub correlation: Correlation,
    pub source: RawPointer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The model called, when the event is a model invocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Provider's own classification (CloudTrail `eventCategory`: Management, Data, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// Time the provider delivered the record, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_time: Option<String>,
    /// What a model call carried, for prompt-layer events: digests always, text only as
    /// far as the source's policy allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<PromptContent>,
    /// How many occurrences this one event stands for, when more than one: a node probe
    /// sends a behavior once and counts its repeats in the kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The permissions the provider checked and granted for the call, as it names them
    /// (Cloud Audit Logs' `authorizationInfo[].permission` where `granted`): what a
    /// least-privilege role is made of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
}

/// The content of one model call as agentward keeps it. Raw prompt text is sensitive
/// (customer data, secrets pasted into chats): by default only its SHA-256 and a short
/// redacted excerpt are kept, enough to tell calls apart and to spot an injection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptContent {
    /// SHA-256 of the request body exactly as logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_sha256: Option<String>,
    /// The start of the request's text with digit runs and e-mail addresses masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_excerpt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_excerpt: Option<String>,
    /// Full text, only when the source is configured to keep it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// False when the log carried no body (text delivery off, or the body went to a
    /// separate large-payload object).
    pub text_delivered: bool,
}

impl Event {
    /// `service-prefix:Operation`, e.g. `s3:PutObject`: the key baselines group actions by.
    pub fn action(&self) -> String {
        let prefix = self.service.split('.').next().unwrap_or(&self.service);
        format!("{prefix}:{}", self.operation)
    }
}

/// A successful event of the test agent (`AG1` behind alias `prod`), `second` seconds
/// into `day`.
#[cfg(test)]
pub(crate) fn test_event(
    day: i64,
    second: i64,
    layer: Layer,
    operation: &str,
    target: &str,
) -> Event {
    Event {
        uid: format!("{day}-{second}-{operation}-{target}"),
        time: Timestamp(day * Timestamp::MS_PER_DAY + second * 1000),
        agent: Some(crate::agent::test_agent("AG1", Some("prod"))),
        layer,
        service: "s3.amazonaws.com".into(),
        operation: operation.into(),
        targets: vec![Target {
            uid: target.into(),
            kind: None,
            name: None,
        }],
        outcome: Outcome::Success,
        principal: Principal::default(),
        correlation: Correlation::default(),
        source: RawPointer {
            source: "t".into(),
            object: "o".into(),
            index: 0,
        },
        cloud: None,
        src_ip: None,
        user_agent: None,
        model: None,
        category: None,
        read_only: None,
        original_time: None,
        prompt: None,
        count: None,
        permissions: Vec::new(),
    }
}
