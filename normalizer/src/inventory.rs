//! The runtime-derived inventory (AI-BOM) as a history of observed facts, so that the
//! inventory "as it was at 14:32 last Tuesday" can be answered, and every field says
//! where it came from.

use crate::{AgentRef, RawPointer, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvenanceKind {
    /// Read from the provider's API or the provider's own record of an API call.
    ProviderApi,
    /// Seen by the node probe in what the process actually did.
    NodeRuntime,
    /// Taken from a manifest or configuration someone wrote.
    DeclaredManifest,
    /// Concluded from behavior (e.g. a model the agent's role was seen calling).
    Inferred,
}

impl ProvenanceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvenanceKind::ProviderApi => "provider_api",
            ProvenanceKind::NodeRuntime => "node_runtime",
            ProvenanceKind::DeclaredManifest => "declared_manifest",
            ProvenanceKind::Inferred => "inferred",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Provenance {
    pub kind: ProvenanceKind,
    /// The record that proves the fact.
    pub record: RecordRef,
}

/// [`RawPointer`] plus the provider's id of the record, orderable for deterministic output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    pub source: String,
    pub object: String,
    pub index: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
}

/// Provenance from the provider's API, pointing at record `index` of a test object.
#[cfg(test)]
pub(crate) fn test_provenance(index: u64) -> Provenance {
    Provenance {
        kind: ProvenanceKind::ProviderApi,
        record: RecordRef {
            source: "t".into(),
            object: "o".into(),
            index,
            record_id: None,
        },
    }
}

impl RecordRef {
    pub fn new(raw: &RawPointer, record_id: Option<&str>) -> Self {
        RecordRef {
            source: raw.source.clone(),
            object: raw.object.clone(),
            index: raw.index,
            record_id: record_id.map(str::to_string),
        }
    }
}

impl std::fmt::Display for RecordRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}#{}", self.source, self.object, self.index)?;
        if let Some(id) = &self.record_id {
            write!(f, " ({id})")?;
        }
        Ok(())
    }
}

/// A tool the agent can call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    /// `action_group`, `mcp_server`, `function`, `builtin` …
    pub kind: String,
    /// What runs it: a Lambda ARN, `RETURN_CONTROL`, a command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// What the model can call through it: one entry per OpenAPI operation or function.
    /// Empty when only the tool itself is known (a log names the action group, not its
    /// schema).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<ToolOperation>,
    /// `ENABLED` / `DISABLED` when the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// SHA-256 of the schema the operations come from; the schema itself is not kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_sha256: Option<String>,
}

/// A Lambda function ARN without its version or alias qualifier: the function a version
/// belongs to.
pub fn unqualified_function(arn: &str) -> &str {
    let parts: Vec<&str> = arn.splitn(8, ':').collect();
    if parts.len() == 8 && parts[5] == "function" {
        &arn[..arn.len() - parts[7].len() - 1]
    } else {
        arn
    }
}

/// One callable operation of a tool.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ToolOperation {
    /// The operationId or function name the model sees.
    pub name: String,
    /// `POST /refunds` for HTTP operations, the parameters for functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A prompt step whose template or parser was replaced.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PromptOverride {
    /// `PRE_PROCESSING`, `ORCHESTRATION`, `KNOWLEDGE_BASE_RESPONSE_GENERATION`, …
    pub prompt_type: String,
    /// `ENABLED` / `DISABLED`: a disabled pre-processing step skips its checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// SHA-256 of the replaced template; the text is never kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_sha256: Option<String>,
    /// A model other than the agent's that runs this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The Lambda that parses this step's output, when the parser is overridden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parser: Option<String>,
}

/// Another agent this one can delegate to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Collaborator {
    pub name: String,
    /// The collaborator's alias ARN: the version it runs is that alias's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_arn: Option<String>,
    /// Whether the conversation history is handed over (`TO_COLLABORATOR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
}

/// One version of an agent's configuration as the provider holds it: `DRAFT` (what the
/// console edits) or a numbered, immutable version an alias can route to.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VersionConfig {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// SHA-256 of the instructions; the text is never kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knowledge_bases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<Guardrail>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompt_overrides: Vec<PromptOverride>,
    /// The memory kept between sessions (`SESSION_SUMMARY for 30 days`); `None` is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// `SUPERVISOR`, `SUPERVISOR_ROUTER` or `DISABLED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collaboration: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collaborators: Vec<Collaborator>,
}

impl VersionConfig {
    /// How `self` differs from `other`, one line per field, for "the draft is not what
    /// runs" statements. Hashes say only that text changed, never what it says.
    pub fn differences(&self, other: &VersionConfig) -> Vec<String> {
        fn opt(v: &Option<String>) -> &str {
            v.as_deref().unwrap_or("none")
        }
        fn names<'a, T>(list: &'a [T], name: impl Fn(&'a T) -> String) -> BTreeSet<String> {
            list.iter().map(name).collect()
        }
        fn set_change(
            field: &str,
            mine: BTreeSet<String>,
            theirs: BTreeSet<String>,
        ) -> Option<String> {
            let added: Vec<&String> = mine.difference(&theirs).collect();
            let removed: Vec<&String> = theirs.difference(&mine).collect();
            if added.is_empty() && removed.is_empty() {
                return None;
            }
            let mut parts: Vec<String> = added.iter().map(|a| format!("+{a}")).collect();
            parts.extend(removed.iter().map(|r| format!("-{r}")));
            Some(format!("{field}: {}", parts.join(", ")))
        }
        let mut out = Vec::new();
        for (field, mine, theirs) in [
            ("model", &self.model, &other.model),
            ("role", &self.role, &other.role),
            ("memory", &self.memory, &other.memory),
            ("collaboration", &self.collaboration, &other.collaboration),
        ] {
            if mine != theirs {
                out.push(format!("{field}: {} (was {})", opt(mine), opt(theirs)));
            }
        }
        if self.instruction_sha256 != other.instruction_sha256 {
            out.push("instructions: changed".to_string());
        }
        if self.guardrail != other.guardrail {
            let show = |g: &Option<Guardrail>| {
                g.as_ref()
                    .map(|g| format!("{} v{}", g.id, g.version.as_deref().unwrap_or("?")))
                    .unwrap_or_else(|| "none".into())
            };
            out.push(format!(
                "guardrail: {} (was {})",
                show(&self.guardrail),
                show(&other.guardrail)
            ));
        }
        // A tool and each of its operations (`tool.operation`); an operation is only
        // listed when its tool is on both sides.
        let entries = |c: &VersionConfig| {
            let mut set = names(&c.tools, |t: &Tool| t.name.clone());
            for t in &c.tools {
                set.extend(
                    t.operations
                        .iter()
                        .map(|o| format!("{}.{}", t.name, o.name)),
                );
            }
            set
        };
        let (mine, theirs) = (entries(self), entries(other));
        let on_both: BTreeSet<String> = names(&self.tools, |t: &Tool| t.name.clone())
            .intersection(&names(&other.tools, |t: &Tool| t.name.clone()))
            .cloned()
            .collect();
        let keep = |e: &&String| {
            e.split_once('.')
                .is_none_or(|(tool, _)| on_both.contains(tool))
        };
        out.extend(set_change(
            "tools",
            mine.iter().filter(keep).cloned().collect(),
            theirs.iter().filter(keep).cloned().collect(),
        ));
        let changed_tools: Vec<&str> = self
            .tools
            .iter()
            .filter(|t| {
                other
                    .tools
                    .iter()
                    .any(|o| o.name == t.name && o.operations == t.operations && o != *t)
            })
            .map(|t| t.name.as_str())
            .collect();
        if !changed_tools.is_empty() {
            out.push(format!(
                "tools reconfigured (executor, schema or state): {}",
                changed_tools.join(", ")
            ));
        }
        out.extend(set_change(
            "knowledge bases",
            names(&self.knowledge_bases, Clone::clone),
            names(&other.knowledge_bases, Clone::clone),
        ));
        if self.prompt_overrides != other.prompt_overrides {
            out.push("prompt overrides: changed".to_string());
        }
        out.extend(set_change(
            "collaborators",
            names(&self.collaborators, |c: &Collaborator| c.name.clone()),
            names(&other.collaborators, |c: &Collaborator| c.name.clone()),
        ));
        out
    }
}

/// One version of an AgentCore runtime: what runs and how it is reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RuntimeConfig {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `container URI` or `code (RUNTIME, entry point)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// `PUBLIC`, or `VPC` with its subnets and security groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// `HTTP`, `MCP` or `A2A`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `IAM (SigV4)` or the JWT issuer's discovery URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<String>,
    /// Names of the environment variables set; their values are never kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<String>,
}

impl RuntimeConfig {
    /// Whether the runtime's egress leaves from the provider's network (no flow logs).
    pub fn public_network(&self) -> bool {
        self.network.as_deref() == Some("PUBLIC")
    }
}

/// A role granted to an agent's identity, where, and what it allows (Azure RBAC: a role
/// assignment joined to its role definition).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    /// The role's name (`Storage Blob Data Contributor`).
    pub role: String,
    /// Where it applies: a subscription, resource group or resource id.
    pub scope: String,
    /// Control-plane operations allowed and carved out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_actions: Vec<String>,
    /// Data-plane operations allowed and carved out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_data_actions: Vec<String>,
    /// The assignment's ABAC condition, when one narrows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Which of the agent's identities holds it, when the agent can act as more than one
    /// (a Foundry agent's own agent identity and its project's managed identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

impl RoleGrant {
    /// Whether the grant allows every operation of its kind at its scope (`*`).
    pub fn is_unbounded(&self) -> bool {
        self.condition.is_none()
            && (self.actions.iter().any(|a| a == "*") || self.data_actions.iter().any(|a| a == "*"))
    }
}

/// A Vertex AI Agent Engine reasoning engine as the API describes it. The API holds how the
/// agent is packaged and deployed, never its model, instructions or tools: those are in
/// the agent's code, and `unresolved` says so rather than leaving the fields blank.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EngineConfig {
    /// `spec.agentFramework` (free text: `google-adk`, `langchain`, `langgraph` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// The identity it runs as; when `spec.serviceAccount` is unset, the project's
    /// Reasoning Engine service agent (`service_account_defaulted`).
    pub service_account: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub service_account_defaulted: bool,
    /// `pickled object gs://…` or `source code (MODULE.OBJECT)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python_version: Option<String>,
    /// The requirements as declared (one specifier per entry), read from where the spec
    /// points; empty with `unresolved` naming why when they could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<String>,
    /// Names of the environment variables set; their values are never kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<String>,
    /// `NAME=VALUE` of the few variables that are telemetry switches, not secrets
    /// (`GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY`): what they say decides coverage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub switches: Vec<String>,
    /// `NAME from SECRET (version V)`: which secret each variable carries, not its value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_environment: Vec<String>,
    /// The PSC interface's network attachment, when egress goes through the customer's
    /// VPC; `None` is Google's network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psc_network_attachment: Option<String>,
    /// Roles the project's IAM policy grants the service account (`(conditional)` when a
    /// condition limits the binding).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub project_roles: Vec<String>,
    /// Roles it holds through the project's folders and organization
    /// (`roles/storage.admin (from folders/123)`); an ancestor whose policy could not be
    /// read is named in `unresolved`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherited_roles: Vec<String>,
    /// Google IAM Recommender's active recommendations for the service account
    /// (`REPLACE_ROLE: roles/editor → roles/bigquery.dataViewer: …`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recommendations: Vec<String>,
    /// What its Memory Bank keeps between sessions (`Memory Bank: 1,204 memories kept per
    /// user_id, none expiring`); `None` when it keeps nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// The methods callers can invoke (`query`, `stream_query` …): not the agent's tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_methods: Vec<String>,
    /// What the inventory cannot say from the API, each with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
}

/// An AgentCore gateway: the MCP front door that turns targets into tools.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GatewayConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `AWS_IAM`, `CUSTOM_JWT` (with the discovery URL) or `NONE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// An AgentCore memory: what agents keep between sessions, for how long, under whose role.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MemoryConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// How long raw events are kept.
    pub event_expiry_days: i32,
    /// Each long-term strategy: `NAME (TYPE)`, what is extracted and kept beyond the events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strategies: Vec<String>,
    /// The customer-managed key, when not AWS-owned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<String>,
}

/// A knowledge base an agent retrieves from, as the provider describes it: whoever can
/// write into its sources can put text in front of the model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KnowledgeBaseConfig {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The identity the provider assumes to read the sources and the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `VECTOR (embeddings by MODEL)`, `KENDRA`, `SQL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Where the index lives: `OPENSEARCH_SERVERLESS arn:…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_sources: Vec<DataSource>,
}

/// Where a knowledge base's content comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DataSource {
    pub name: String,
    /// `S3`, `WEB`, `CONFLUENCE`, `SHAREPOINT`, `SALESFORCE`, `CUSTOM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The bucket and prefixes, the seed URLs, the host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// One content filter of a guardrail; `None` on a side means that side is not filtered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContentFilter {
    /// `PROMPT_ATTACK`, `HATE`, `INSULTS`, `MISCONDUCT`, `SEXUAL`, `VIOLENCE` (Bedrock);
    /// `JAILBREAK`, `INDIRECT_PROMPT_ATTACK`, `SELF_HARM`, `PROTECTED_MATERIAL_TEXT` … (Azure).
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// What one version of a guardrail checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GuardrailConfig {
    pub id: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_filters: Vec<ContentFilter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied_topics: Vec<String>,
    /// `EMAIL ANONYMIZE`, `regex account-number BLOCK`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_information: Vec<String>,
    /// `3 custom words`, `PROFANITY`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub word_filters: Vec<String>,
    /// `GROUNDING >= 0.75`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounding: Vec<String>,
}

impl GuardrailConfig {
    /// Whether what reaches the model is checked for injected instructions at all:
    /// Bedrock's `PROMPT_ATTACK` input filter, or Azure's Indirect Attack filter (its
    /// Jailbreak filter screens only the user's own prompt, not documents or tool output).
    pub fn filters_prompt_attacks(&self) -> bool {
        self.content_filters.iter().any(|f| {
            (f.kind == "PROMPT_ATTACK" || f.kind == "INDIRECT_PROMPT_ATTACK")
                && f.input.as_deref().is_some_and(|s| s != "NONE")
        })
    }

    /// The guardrail in one line per policy, for reports.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.content_filters.is_empty() {
            let filters: Vec<String> = self
                .content_filters
                .iter()
                .map(|f| {
                    format!(
                        "{} {}/{}",
                        f.kind,
                        f.input.as_deref().unwrap_or("off"),
                        f.output.as_deref().unwrap_or("off")
                    )
                })
                .collect();
            out.push(format!(
                "content filters (input/output): {}",
                filters.join(", ")
            ));
        }
        if !self.filters_prompt_attacks() {
            out.push("no prompt-attack filter on input".to_string());
        }
        for (label, list) in [
            ("denied topics", &self.denied_topics),
            ("sensitive information", &self.sensitive_information),
            ("word filters", &self.word_filters),
            ("contextual grounding", &self.grounding),
        ] {
            if !list.is_empty() {
                out.push(format!("{label}: {}", list.join(", ")));
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "fact", content = "value", rename_all = "snake_case")]
pub enum Fact {
    Name(String),
    /// The model the configuration names.
    DeclaredModel(String),
    /// A model the agent was seen calling.
    ModelInvoked(String),
    /// The identity the agent runs as.
    Role(String),
    Tool(Tool),
    ToolRemoved(String),
    KnowledgeBase(String),
    KnowledgeBaseRemoved(String),
    Guardrail {
        id: String,
        version: Option<String>,
    },
    GuardrailRemoved,
    Version(String),
    Alias {
        id: String,
        routed_version: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    AliasInvoked(String),
    /// The whole configuration of one version, read from the provider's API.
    VersionConfig(VersionConfig),
    /// A version the provider no longer has.
    VersionDeleted(String),
    /// An alias the provider no longer has.
    AliasDeleted(String),
    /// The agent itself is gone; the text says how that is known (`DeleteAgent` in the
    /// logs, or the API no longer listing it).
    AgentDeleted(String),
    /// A knowledge base the agent uses, described by the provider.
    KnowledgeBaseConfig(KnowledgeBaseConfig),
    /// What a guardrail version the agent uses checks.
    GuardrailConfig(GuardrailConfig),
    /// What kind of thing this is: `bedrock-agent`, `bedrock-agentcore-runtime`,
    /// `bedrock-agentcore-gateway`.
    Platform(String),
    /// One version of an AgentCore runtime.
    RuntimeConfig(RuntimeConfig),
    /// An AgentCore gateway's configuration.
    GatewayConfig(GatewayConfig),
    /// An AgentCore memory's configuration.
    MemoryConfig(MemoryConfig),
    /// A Vertex AI Agent Engine reasoning engine's deployment.
    EngineConfig(EngineConfig),
    /// Every role granted to the identity the agent runs as, as last read (an empty list:
    /// none).
    IdentityGrants(Vec<RoleGrant>),
    /// A framework, model SDK or MCP SDK the process loaded (node probe).
    RuntimePackage(crate::node::RuntimePackage),
    /// An MCP server the process started (node probe).
    McpServer(crate::node::McpServer),
    /// Model weights the process opened (node probe): the file's path.
    ModelFile(String),
    /// A destination the process connected to (node probe).
    Endpoint(crate::node::Endpoint),
}

impl Fact {
    /// Sightings only matter the first time; configuration facts matter at every change.
    pub fn is_sighting(&self) -> bool {
        matches!(
            self,
            Fact::ModelInvoked(_) | Fact::AliasInvoked(_) | Fact::Version(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Observation {
    pub time: Timestamp,
    pub agent: AgentRef,
    #[serde(flatten)]
    pub fact: Fact,
    pub provenance: Provenance,
}

/// Every fact ever observed, kept in time order; small (configuration changes and first
/// sightings), so it is stored whole and merged between concurrent scanners.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InventoryHistory {
    pub observations: Vec<Observation>,
}

impl InventoryHistory {
    /// Adds observations; the result is independent of the order they arrive in, so two
    /// scanners merging each other's work converge on the same history.
    pub fn merge(&mut self, incoming: impl IntoIterator<Item = Observation>) {
        let mut all: BTreeSet<Observation> =
            std::mem::take(&mut self.observations).into_iter().collect();
        all.extend(incoming);
        let mut first_sighting: BTreeMap<(AgentRef, Fact), Observation> = BTreeMap::new();
        let mut kept = Vec::with_capacity(all.len());
        for obs in all {
            if obs.fact.is_sighting() {
                let key = (obs.agent.clone(), obs.fact.clone());
                match first_sighting.get(&key) {
                    Some(existing) if existing.time <= obs.time => {}
                    _ => {
                        first_sighting.insert(key, obs);
                    }
                }
            } else {
                kept.push(obs);
            }
        }
        kept.extend(first_sighting.into_values());
        kept.sort_by(|a, b| (a.time, &a.agent, &a.fact).cmp(&(b.time, &b.agent, &b.fact)));
        self.observations = kept;
    }

    /// The inventory in force at `at`: every agent known by then, each field at its latest
    /// value not after `at`.
    pub fn snapshot_at(&self, at: Timestamp) -> InventorySnapshot {
        let mut agents: BTreeMap<AgentRef, AgentInventory> = BTreeMap::new();
        for obs in self.observations.iter().filter(|o| o.time <= at) {
            let entry = agents
                .entry(obs.agent.clone())
                .or_insert_with(|| AgentInventory::new(obs.agent.clone(), obs.time));
            entry.apply(obs);
        }
        InventorySnapshot {
            at,
            agents: agents.into_values().collect(),
        }
    }

    /// The observations in `incoming` that would change the current inventory (a re-read
    /// of an unchanged configuration adds nothing to the history).
    pub fn changes(&self, incoming: Vec<Observation>) -> Vec<Observation> {
        let mut current: BTreeMap<AgentRef, AgentInventory> = self
            .snapshot_at(Timestamp(i64::MAX))
            .agents
            .into_iter()
            .map(|a| (a.agent.clone(), a))
            .collect();
        incoming
            .into_iter()
            .filter(|obs| {
                let Some(before) = current.get_mut(&obs.agent) else {
                    let mut fresh = AgentInventory::new(obs.agent.clone(), obs.time);
                    fresh.apply(obs);
                    current.insert(obs.agent.clone(), fresh);
                    return true;
                };
                let mut after = before.clone();
                after.apply(obs);
                after.last_changed = before.last_changed;
                let changed = after != *before;
                *before = after;
                changed
            })
            .collect()
    }

    /// Observations after `since` and not after `until`, in time order: "what changed".
    pub fn changes_between(&self, since: Timestamp, until: Timestamp) -> Vec<&Observation> {
        self.observations
            .iter()
            .filter(|o| o.time > since && o.time <= until)
            .collect()
    }
}

/// A value together with when it took effect and the record that proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub since: Timestamp,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routed_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Guardrail {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInventory {
    pub agent: AgentRef,
    pub first_seen: Timestamp,
    pub last_changed: Timestamp,
    pub name: Option<Sourced<String>>,
    pub declared_model: Option<Sourced<String>>,
    pub models_invoked: Vec<Sourced<String>>,
    pub role: Option<Sourced<String>>,
    pub tools: Vec<Sourced<Tool>>,
    pub knowledge_bases: Vec<Sourced<String>>,
    pub guardrail: Option<Sourced<Guardrail>>,
    pub versions: Vec<Sourced<String>>,
    pub aliases: Vec<Sourced<Alias>>,
    /// Each version's configuration as read from the API (`DRAFT` included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<Sourced<VersionConfig>>,
    /// The knowledge bases of any version read, as the provider describes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knowledge_base_configs: Vec<Sourced<KnowledgeBaseConfig>>,
    /// The guardrail versions of any version read, with what they check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrail_configs: Vec<Sourced<GuardrailConfig>>,
    /// `bedrock-agentcore-runtime`, `bedrock-agentcore-gateway`; `None` is a Bedrock agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Sourced<String>>,
    /// Each AgentCore runtime version read (the latest and every one an endpoint runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_configs: Vec<Sourced<RuntimeConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Sourced<GatewayConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Sourced<MemoryConfig>>,
    /// The roles its identity holds, as last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_grants: Option<Sourced<Vec<RoleGrant>>>,
    /// A Vertex AI reasoning engine's deployment, as last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<Sourced<EngineConfig>>,
    /// Set when the agent was deleted: its history stays, it runs no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Sourced<String>>,
    /// What a node probe saw the agent's processes load, start, open and reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Sourced<crate::node::RuntimePackage>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mcp_servers: Vec<Sourced<crate::node::McpServer>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_files: Vec<Sourced<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<Sourced<crate::node::Endpoint>>,
}

/// Replaces the entry with the same key; restating an identical value keeps the time and
/// record that first established it.
fn upsert<T: PartialEq, K: PartialEq>(
    list: &mut Vec<Sourced<T>>,
    item: Sourced<T>,
    key: impl Fn(&T) -> K,
) {
    let k = key(&item.value);
    match list.iter_mut().find(|s| key(&s.value) == k) {
        Some(existing) if existing.value == item.value => {}
        Some(existing) => *existing = item,
        None => list.push(item),
    }
}

impl AgentInventory {
    fn new(agent: AgentRef, first_seen: Timestamp) -> Self {
        AgentInventory {
            agent,
            first_seen,
            last_changed: first_seen,
            name: None,
            declared_model: None,
            models_invoked: Vec::new(),
            role: None,
            tools: Vec::new(),
            knowledge_bases: Vec::new(),
            guardrail: None,
            versions: Vec::new(),
            aliases: Vec::new(),
            configs: Vec::new(),
            knowledge_base_configs: Vec::new(),
            guardrail_configs: Vec::new(),
            platform: None,
            runtime_configs: Vec::new(),
            gateway: None,
            memory: None,
            engine: None,
            identity_grants: None,
            deleted: None,
            packages: Vec::new(),
            mcp_servers: Vec::new(),
            model_files: Vec::new(),
            endpoints: Vec::new(),
        }
    }

    /// Every Lambda function (unqualified) that runs one of the agent's tools, in the
    /// current tools or in any version read.
    pub fn lambda_functions(&self) -> Vec<String> {
        let current = self.tools.iter().map(|t| &t.value);
        let versions = self.configs.iter().flat_map(|c| c.value.tools.iter());
        current
            .chain(versions)
            .filter_map(|t| t.executor.as_deref())
            .filter(|e| e.starts_with("arn:") && e.contains(":lambda:"))
            .map(|e| unqualified_function(e).to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The configuration an alias routes to, when that version was read.
    pub fn config(&self, version: &str) -> Option<&Sourced<VersionConfig>> {
        self.configs.iter().find(|c| c.value.version == version)
    }

    /// A service agents use (an AgentCore gateway or memory), not an agent: inventoried,
    /// judged through the agents that use it.
    pub fn is_service(&self) -> bool {
        self.platform.as_ref().is_some_and(|p| {
            p.value == "bedrock-agentcore-gateway" || p.value == "bedrock-agentcore-memory"
        })
    }

    /// The AgentCore runtime version an endpoint runs, when it was read.
    pub fn runtime_config(&self, version: &str) -> Option<&Sourced<RuntimeConfig>> {
        self.runtime_configs
            .iter()
            .find(|c| c.value.version == version)
    }

    /// What a guardrail version checks, when it was read.
    pub fn guardrail_config(&self, guardrail: &Guardrail) -> Option<&GuardrailConfig> {
        self.guardrail_configs.iter().map(|g| &g.value).find(|g| {
            g.id == guardrail.id && g.version == guardrail.version.as_deref().unwrap_or("DRAFT")
        })
    }

    /// Each alias with the configuration it routes to: what actually runs.
    pub fn live(&self) -> Vec<(&Alias, Option<&Sourced<VersionConfig>>)> {
        self.aliases
            .iter()
            .map(|a| {
                let config = a
                    .value
                    .routed_version
                    .as_deref()
                    .and_then(|v| self.config(v));
                (&a.value, config)
            })
            .collect()
    }

    fn apply(&mut self, obs: &Observation) {
        let sourced = |v| Sourced {
            value: v,
            since: obs.time,
            provenance: obs.provenance.clone(),
        };
        self.last_changed = obs.time;
        // A fact observed after the deletion means the agent exists after all (a listing
        // that missed it); facts from before it are its history.
        if self
            .deleted
            .as_ref()
            .is_some_and(|d| obs.time > d.since && !matches!(obs.fact, Fact::AgentDeleted(_)))
        {
            self.deleted = None;
        }
        // Re-stating an unchanged value (UpdateAgent repeats the name) is not a change:
        // keep the time and record that first established it.
        let set = |slot: &mut Option<Sourced<String>>, v: &String| {
            if slot.as_ref().is_none_or(|cur| &cur.value != v) {
                *slot = Some(sourced(v.clone()));
            }
        };
        match &obs.fact {
            Fact::Name(n) => set(&mut self.name, n),
            Fact::DeclaredModel(m) => set(&mut self.declared_model, m),
            Fact::ModelInvoked(m) => {
                upsert(&mut self.models_invoked, sourced(m.clone()), Clone::clone)
            }
            Fact::Role(r) => set(&mut self.role, r),
            Fact::Tool(t) => upsert(
                &mut self.tools,
                Sourced {
                    value: t.clone(),
                    since: obs.time,
                    provenance: obs.provenance.clone(),
                },
                |t: &Tool| t.name.clone(),
            ),
            Fact::ToolRemoved(name) => self.tools.retain(|t| &t.value.name != name),
            Fact::KnowledgeBase(kb) => {
                upsert(&mut self.knowledge_bases, sourced(kb.clone()), Clone::clone)
            }
            Fact::KnowledgeBaseRemoved(kb) => self.knowledge_bases.retain(|k| &k.value != kb),
            Fact::Guardrail { id, version } => {
                self.guardrail = Some(Sourced {
                    value: Guardrail {
                        id: id.clone(),
                        version: version.clone(),
                    },
                    since: obs.time,
                    provenance: obs.provenance.clone(),
                })
            }
            Fact::GuardrailRemoved => self.guardrail = None,
            Fact::Version(v) => upsert(&mut self.versions, sourced(v.clone()), Clone::clone),
            Fact::Alias {
                id,
                routed_version,
                name,
            } => {
                let unchanged = self.aliases.iter().any(|a| {
                    &a.value.id == id
                        && &a.value.routed_version == routed_version
                        && (name.is_none() || &a.value.name == name)
                });
                if !unchanged {
                    let name = name.clone().or_else(|| {
                        self.aliases
                            .iter()
                            .find(|a| &a.value.id == id)
                            .and_then(|a| a.value.name.clone())
                    });
                    upsert(
                        &mut self.aliases,
                        Sourced {
                            value: Alias {
                                id: id.clone(),
                                routed_version: routed_version.clone(),
                                name,
                            },
                            since: obs.time,
                            provenance: obs.provenance.clone(),
                        },
                        |a: &Alias| a.id.clone(),
                    )
                }
            }
            Fact::AliasDeleted(id) => self.aliases.retain(|a| &a.value.id != id),
            Fact::VersionDeleted(v) => {
                self.versions.retain(|x| &x.value != v);
                self.configs.retain(|c| &c.value.version != v);
            }
            Fact::VersionConfig(config) => {
                if self.config(&config.version).map(|c| &c.value) != Some(config) {
                    upsert(
                        &mut self.configs,
                        Sourced {
                            value: config.clone(),
                            since: obs.time,
                            provenance: obs.provenance.clone(),
                        },
                        |c: &VersionConfig| c.version.clone(),
                    )
                }
            }
            Fact::KnowledgeBaseConfig(kb) => upsert(
                &mut self.knowledge_base_configs,
                Sourced {
                    value: kb.clone(),
                    since: obs.time,
                    provenance: obs.provenance.clone(),
                },
                |k: &KnowledgeBaseConfig| k.id.clone(),
            ),
            Fact::GuardrailConfig(g) => upsert(
                &mut self.guardrail_configs,
                Sourced {
                    value: g.clone(),
                    since: obs.time,
                    provenance: obs.provenance.clone(),
                },
                |g: &GuardrailConfig| (g.id.clone(), g.version.clone()),
            ),
            Fact::Platform(p) => set(&mut self.platform, p),
            Fact::RuntimeConfig(r) => upsert(
                &mut self.runtime_configs,
                Sourced {
                    value: r.clone(),
                    since: obs.time,
                    provenance: obs.provenance.clone(),
                },
                |r: &RuntimeConfig| r.version.clone(),
            ),
            Fact::GatewayConfig(g) => {
                if self.gateway.as_ref().is_none_or(|cur| &cur.value != g) {
                    self.gateway = Some(Sourced {
                        value: g.clone(),
                        since: obs.time,
                        provenance: obs.provenance.clone(),
                    });
                }
            }
            Fact::MemoryConfig(m) => {
                if self.memory.as_ref().is_none_or(|cur| &cur.value != m) {
                    self.memory = Some(Sourced {
                        value: m.clone(),
                        since: obs.time,
                        provenance: obs.provenance.clone(),
                    });
                }
            }
            Fact::EngineConfig(e) => {
                if self.engine.as_ref().is_none_or(|cur| &cur.value != e) {
                    self.engine = Some(Sourced {
                        value: e.clone(),
                        since: obs.time,
                        provenance: obs.provenance.clone(),
                    });
                }
            }
            Fact::IdentityGrants(g) => {
                if self
                    .identity_grants
                    .as_ref()
                    .is_none_or(|cur| &cur.value != g)
                {
                    self.identity_grants = Some(Sourced {
                        value: g.clone(),
                        since: obs.time,
                        provenance: obs.provenance.clone(),
                    });
                }
            }
            Fact::RuntimePackage(p) => upsert(
                &mut self.packages,
                Sourced {
                    value: p.clone(),
                    since: obs.time,
                    provenance: obs.provenance.clone(),
                },
                |p: &crate::node::RuntimePackage| {
                    (p.ecosystem.clone(), p.name.clone(), p.path.clone())
                },
            ),
            Fact::McpServer(m) => upsert(
                &mut self.mcp_servers,
                Sourced {
                    value: m.clone(),
                    since: obs.time,
                    provenance: obs.provenance.clone(),
                },
                |m: &crate::node::McpServer| (m.name.clone(), m.command.clone()),
            ),
            Fact::ModelFile(path) => upsert(
                &mut self.model_files,
                Sourced {
                    value: path.clone(),
                    since: obs.time,
                    provenance: obs.provenance.clone(),
                },
                Clone::clone,
            ),
            Fact::Endpoint(e) => upsert(
                &mut self.endpoints,
                Sourced {
                    value: e.clone(),
                    since: obs.time,
                    provenance: obs.provenance.clone(),
                },
                Clone::clone,
            ),
            Fact::AgentDeleted(how) => {
                if self.deleted.is_none() {
                    self.deleted = Some(sourced(how.clone()));
                }
            }
            Fact::AliasInvoked(id) => {
                if !self.aliases.iter().any(|a| &a.value.id == id) {
                    self.aliases.push(Sourced {
                        value: Alias {
                            id: id.clone(),
                            routed_version: None,
                            name: None,
                        },
                        since: obs.time,
                        provenance: obs.provenance.clone(),
                    });
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventorySnapshot {
    pub at: Timestamp,
    pub agents: Vec<AgentInventory>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> AgentRef {
        crate::agent::test_agent("AGENT1", None)
    }

    fn obs(t: i64, fact: Fact) -> Observation {
        Observation {
            time: Timestamp(t),
            agent: agent(),
            fact,
            provenance: Provenance {
                kind: ProvenanceKind::ProviderApi,
                record: RecordRef {
                    source: "trail".into(),
                    object: "f.json.gz".into(),
                    index: t as u64,
                    record_id: None,
                },
            },
        }
    }

    #[test]
    fn snapshot_at_shows_the_model_in_force_then_not_the_latest() {
        let mut h = InventoryHistory::default();
        h.merge([
            obs(10, Fact::DeclaredModel("model-v1".into())),
            obs(50, Fact::DeclaredModel("model-v2".into())),
        ]);
        assert_eq!(
            h.snapshot_at(Timestamp(20)).agents[0]
                .declared_model
                .as_ref()
                .unwrap()
                .value,
            "model-v1"
        );
        assert_eq!(
            h.snapshot_at(Timestamp(60)).agents[0]
                .declared_model
                .as_ref()
                .unwrap()
                .value,
            "model-v2"
        );
        assert!(h.snapshot_at(Timestamp(5)).agents.is_empty());
    }

    #[test]
    fn merge_is_order_independent_and_keeps_first_sighting() {
        let a = vec![
            obs(30, Fact::ModelInvoked("m".into())),
            obs(10, Fact::Name("support".into())),
        ];
        let b = vec![
            obs(20, Fact::ModelInvoked("m".into())),
            obs(10, Fact::Name("support".into())),
        ];
        let mut x = InventoryHistory::default();
        x.merge(a.clone());
        x.merge(b.clone());
        let mut y = InventoryHistory::default();
        y.merge(b);
        y.merge(a);
        assert_eq!(x, y);
        assert_eq!(x.observations.len(), 2);
        let snap = x.snapshot_at(Timestamp(100));
        assert_eq!(snap.agents[0].models_invoked[0].since, Timestamp(20));
    }

    #[test]
    fn a_deleted_agent_keeps_its_history_and_a_later_sighting_revives_it() {
        let mut h = InventoryHistory::default();
        h.merge([
            obs(10, Fact::Name("support".into())),
            obs(20, Fact::AgentDeleted("DeleteAgent".into())),
            obs(
                25,
                Fact::AgentDeleted("ListAgents no longer lists it".into()),
            ),
        ]);
        let before = h.snapshot_at(Timestamp(15));
        assert!(before.agents[0].deleted.is_none());
        let after = h.snapshot_at(Timestamp(30));
        let deleted = after.agents[0].deleted.as_ref().expect("deleted at 20");
        assert_eq!(
            (deleted.since, deleted.value.as_str()),
            (Timestamp(20), "DeleteAgent")
        );
        assert_eq!(after.agents[0].name.as_ref().unwrap().value, "support");
        // A re-read deletion adds nothing to the history.
        assert!(
            h.changes(vec![obs(40, Fact::AgentDeleted("again".into()))])
                .is_empty()
        );
        h.merge([obs(50, Fact::Name("support-2".into()))]);
        assert!(h.snapshot_at(Timestamp(60)).agents[0].deleted.is_none());
    }
}
