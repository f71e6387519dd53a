//! Bedrock Agents as the bedrock-agent API holds them now: the DRAFT and every version an
//! alias routes to, each with its tools (one entry per OpenAPI operation or function),
//! knowledge bases, guardrail, prompt overrides, memory and collaborators. Instructions,
//! templates and schemas are reduced to SHA-256 digests here and never leave this module
//! as text.

use super::{ApiSettings, provenance};
use crate::failure::sdk_failure;
use crate::openapi::openapi_operations;
use crate::recording::digest_of;
use crate::{ConnectorError, FailureClass};
use aws_sdk_bedrockagent as bedrock_agent;
use bedrock_agent::types::{AgentActionGroup, AgentCollaboratorSummary};
use futures::StreamExt;
use normalizer::inventory::{
    AgentInventory, Collaborator, Fact, InventorySnapshot, Observation, PromptOverride, Tool,
    ToolOperation, VersionConfig,
};
use normalizer::{AgentRef, Provider, Timestamp};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// What reading the agents produced.
#[derive(Debug, Default)]
pub struct AgentsRead {
    pub observations: Vec<Observation>,
    pub agents: usize,
    /// Versions whose configuration was read (DRAFT and every routed version).
    pub configs: usize,
    pub calls: u64,
    /// Each call that failed, with the operation and the agent: the rest is still read.
    pub failures: Vec<ConnectorError>,
    /// What the API points at but this read could not resolve (a schema kept in S3).
    pub unresolved: Vec<String>,
    /// Agent id → its resource role and its action groups' Lambda functions: the
    /// identities behind the agent.
    pub roles: BTreeMap<String, BTreeSet<String>>,
    pub functions: BTreeMap<String, BTreeSet<String>>,
}

impl AgentsRead {
    /// Adds another region's read; with several regions, failures name theirs.
    pub fn absorb(&mut self, other: AgentsRead, region: Option<&str>) {
        let named = |f: String| match region {
            Some(r) => format!("{r}: {f}"),
            None => f,
        };
        let scoped = |f: ConnectorError| match region {
            Some(r) => f.within(r),
            None => f,
        };
        self.observations.extend(other.observations);
        self.agents += other.agents;
        self.configs += other.configs;
        self.calls += other.calls;
        self.failures.extend(other.failures.into_iter().map(scoped));
        self.unresolved
            .extend(other.unresolved.into_iter().map(named));
        for (id, roles) in other.roles {
            self.roles.entry(id).or_default().extend(roles);
        }
        for (id, functions) in other.functions {
            self.functions.entry(id).or_default().extend(functions);
        }
    }
}

/// Every item of a list operation, each page counted as a call; a page that fails fails
/// the list (what the pages before it held is not a complete answer).
pub(super) async fn every_page<Page, Item, E>(
    mut pages: aws_smithy_async::future::pagination_stream::PaginationStream<Result<Page, E>>,
    calls: &mut u64,
    items: impl Fn(Page) -> Vec<Item>,
) -> Result<Vec<Item>, E> {
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        *calls += 1;
        all.extend(items(page?));
    }
    Ok(all)
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// An AWS timestamp at millisecond precision, as the model keeps time.
pub(super) fn millis(t: &aws_smithy_types::DateTime) -> Timestamp {
    Timestamp(t.secs() * 1000 + i64::from(t.subsec_nanos() / 1_000_000))
}

/// `arn:aws:bedrock:REGION:ACCOUNT:agent/ID` → (account, region).
fn account_and_region(arn: &str) -> Option<(String, String)> {
    let mut parts = arn.split(':');
    let (_, _, _, region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (!account.is_empty() && !region.is_empty()).then(|| (account.to_string(), region.to_string()))
}

/// The action group as a tool, and where its OpenAPI schema is when it is kept in S3
/// (bucket, key): its operations are read from there.
fn action_group_tool(
    group: &AgentActionGroup,
    unresolved: &mut Vec<String>,
    agent: &str,
) -> (Tool, Option<(String, String)>) {
    use bedrock_agent::types::{ActionGroupExecutor, ApiSchema, FunctionSchema};
    let executor = match group.action_group_executor() {
        Some(ActionGroupExecutor::Lambda(arn)) => Some(arn.clone()),
        Some(ActionGroupExecutor::CustomControl(c)) => Some(c.as_str().to_string()),
        _ => None,
    };
    let mut operations = Vec::new();
    let mut schema_sha256 = None;
    let mut in_s3 = None;
    match group.api_schema() {
        Some(ApiSchema::Payload(payload)) => {
            schema_sha256 = Some(sha256(payload));
            match openapi_operations(payload) {
                Ok(ops) => operations = ops,
                Err(reason) => unresolved.push(format!(
                    "agent {agent} action group {}: {reason}",
                    group.action_group_name()
                )),
            }
        }
        Some(ApiSchema::S3(s3)) => match (s3.s3_bucket_name(), s3.s3_object_key()) {
            (Some(bucket), Some(key)) => in_s3 = Some((bucket.to_string(), key.to_string())),
            _ => unresolved.push(format!(
                "agent {agent} action group {}: its OpenAPI schema is in S3 but the API names no bucket and key, so its operations are not listed",
                group.action_group_name()
            )),
        },
        _ => {}
    }
    if let Some(FunctionSchema::Functions(functions)) = group.function_schema() {
        for f in functions {
            let params: BTreeSet<&str> = f
                .parameters()
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            operations.push(ToolOperation {
                name: f.name().to_string(),
                detail: Some(format!(
                    "function({})",
                    params.into_iter().collect::<Vec<_>>().join(", ")
                )),
            });
        }
        operations.sort();
    }
    let signature = group
        .parent_action_signature()
        .map(|s| s.as_str().to_string());
    let tool = Tool {
        name: group.action_group_name().to_string(),
        kind: if signature.is_some() {
            "builtin".into()
        } else {
            "action_group".into()
        },
        executor,
        signature,
        operations,
        state: Some(group.action_group_state().as_str().to_string()),
        schema_sha256,
    };
    (tool, in_s3)
}

/// Where a version's S3-kept schemas are read from: the scan's own configuration.
#[derive(Clone, Copy)]
struct SchemaSource<'a> {
    config: &'a aws_config::SdkConfig,
    settings: &'a ApiSettings,
}

impl SchemaSource<'_> {
    /// Fills the tool's operations from its schema in S3; a read that fails is named.
    async fn complete(
        &self,
        tool: &mut Tool,
        (bucket, key): (String, String),
        agent: &str,
        out: &mut OneAgent,
    ) {
        out.calls += 1;
        let text =
            match super::schemas::read_schema(self.config, self.settings, &bucket, &key).await {
                Ok(text) => text,
                Err(e) => {
                    let note = format!("agent {agent} action group {}", tool.name);
                    out.failures.push(e.noting(note));
                    return;
                }
            };
        tool.schema_sha256 = Some(sha256(&text));
        match openapi_operations(&text) {
            Ok(ops) => tool.operations = ops,
            Err(reason) => out.unresolved.push(format!(
                "agent {agent} action group {} (s3://{bucket}/{key}): {reason}",
                tool.name
            )),
        }
    }
}

fn collaborator(c: &AgentCollaboratorSummary) -> Collaborator {
    Collaborator {
        name: c.collaborator_name().to_string(),
        alias_arn: c
            .agent_descriptor()
            .and_then(|d| d.alias_arn())
            .map(str::to_string),
        relay: Some(c.relay_conversation_history().as_str().to_string()),
    }
}

fn prompt_overrides(
    config: Option<&bedrock_agent::types::PromptOverrideConfiguration>,
) -> Vec<PromptOverride> {
    use bedrock_agent::types::CreationMode;
    let Some(config) = config else {
        return Vec::new();
    };
    let mut out: Vec<PromptOverride> = config
        .prompt_configurations()
        .iter()
        .filter(|p| {
            p.prompt_creation_mode() == Some(&CreationMode::Overridden)
                || p.parser_mode() == Some(&CreationMode::Overridden)
                || p.foundation_model().is_some()
                || p.prompt_state() == Some(&bedrock_agent::types::PromptState::Disabled)
        })
        .map(|p| PromptOverride {
            prompt_type: p
                .prompt_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| "UNKNOWN".into()),
            state: p.prompt_state().map(|s| s.as_str().to_string()),
            template_sha256: (p.prompt_creation_mode() == Some(&CreationMode::Overridden))
                .then(|| p.base_prompt_template().map(digest_of))
                .flatten(),
            model: p.foundation_model().map(str::to_string),
            parser: (p.parser_mode() == Some(&CreationMode::Overridden))
                .then(|| config.override_lambda().map(str::to_string))
                .flatten(),
        })
        .collect();
    out.sort();
    out
}

fn memory(config: Option<&bedrock_agent::types::MemoryConfiguration>) -> Option<String> {
    let config = config?;
    if config.enabled_memory_types().is_empty() {
        return None;
    }
    let kinds: Vec<&str> = config
        .enabled_memory_types()
        .iter()
        .map(|m| m.as_str())
        .collect();
    Some(format!(
        "{} for {} days",
        kinds.join(", "),
        config.storage_days()
    ))
}

/// The parts of a version both GetAgent and GetAgentVersion return.
struct VersionHeader<'a> {
    version: &'a str,
    status: &'a str,
    model: Option<&'a str>,
    role: &'a str,
    instruction: Option<&'a str>,
    guardrail: Option<&'a bedrock_agent::types::GuardrailConfiguration>,
    prompts: Option<&'a bedrock_agent::types::PromptOverrideConfiguration>,
    memory: Option<&'a bedrock_agent::types::MemoryConfiguration>,
    collaboration: Option<&'a bedrock_agent::types::AgentCollaboration>,
}

impl VersionHeader<'_> {
    fn config(&self) -> VersionConfig {
        VersionConfig {
            version: self.version.to_string(),
            status: Some(self.status.to_string()),
            model: self.model.map(str::to_string),
            role: (!self.role.is_empty()).then(|| self.role.to_string()),
            instruction_sha256: self.instruction.map(digest_of),
            guardrail: self.guardrail.and_then(|g| {
                g.guardrail_identifier()
                    .map(|id| normalizer::inventory::Guardrail {
                        id: id.to_string(),
                        version: g.guardrail_version().map(str::to_string),
                    })
            }),
            prompt_overrides: prompt_overrides(self.prompts),
            memory: memory(self.memory),
            collaboration: self.collaboration.map(|c| c.as_str().to_string()),
            ..VersionConfig::default()
        }
    }
}

/// One agent read in full; failures are collected, never abort the agent's other parts.
#[derive(Default)]
struct OneAgent {
    observations: Vec<Observation>,
    configs: usize,
    calls: u64,
    failures: Vec<ConnectorError>,
    unresolved: Vec<String>,
    role: Option<String>,
    functions: BTreeSet<String>,
}

/// Reads the action groups, knowledge bases and collaborators of one version into its
/// configuration; returns when each tool last changed.
async fn complete_version(
    client: &bedrock_agent::Client,
    schemas: SchemaSource<'_>,
    id: &str,
    config: &mut VersionConfig,
    out: &mut OneAgent,
) -> BTreeMap<String, Timestamp> {
    let version = config.version.clone();
    let mut tool_changed: BTreeMap<String, Timestamp> = BTreeMap::new();
    let groups = every_page(
        client
            .list_agent_action_groups()
            .agent_id(id)
            .agent_version(&version)
            .into_paginator()
            .send(),
        &mut out.calls,
        |page| page.action_group_summaries().to_vec(),
    )
    .await;
    match groups {
        Ok(groups) => {
            for summary in groups {
                out.calls += 1;
                match client
                    .get_agent_action_group()
                    .agent_id(id)
                    .agent_version(&version)
                    .action_group_id(summary.action_group_id())
                    .send()
                    .await
                {
                    Ok(got) => {
                        let Some(group) = got.agent_action_group() else {
                            continue;
                        };
                        let (mut tool, in_s3) = action_group_tool(group, &mut out.unresolved, id);
                        if let Some(location) = in_s3 {
                            schemas.complete(&mut tool, location, id, out).await;
                        }
                        if let Some(Ok(lambda)) =
                            group.action_group_executor().map(|e| e.as_lambda())
                        {
                            out.functions.insert(lambda.clone());
                        }
                        tool_changed.insert(tool.name.clone(), millis(group.updated_at()));
                        config.tools.push(tool);
                    }
                    Err(e) => out.failures.push(sdk_failure(
                        format!(
                            "bedrock-agent:GetAgentActionGroup {id}/{version}/{}",
                            summary.action_group_id()
                        ),
                        &e,
                    )),
                }
            }
            config.tools.sort();
        }
        Err(e) => out.failures.push(sdk_failure(
            format!("bedrock-agent:ListAgentActionGroups {id}/{version}"),
            &e,
        )),
    }
    let kbs = every_page(
        client
            .list_agent_knowledge_bases()
            .agent_id(id)
            .agent_version(&version)
            .into_paginator()
            .send(),
        &mut out.calls,
        |page| page.agent_knowledge_base_summaries().to_vec(),
    )
    .await;
    match kbs {
        Ok(kbs) => {
            config.knowledge_bases = kbs
                .iter()
                .filter(|k| k.knowledge_base_state().as_str() != "DISABLED")
                .map(|k| k.knowledge_base_id().to_string())
                .collect();
            config.knowledge_bases.sort();
        }
        Err(e) => out.failures.push(sdk_failure(
            format!("bedrock-agent:ListAgentKnowledgeBases {id}/{version}"),
            &e,
        )),
    }
    if config
        .collaboration
        .as_deref()
        .is_some_and(|c| c != "DISABLED")
    {
        let collaborators = every_page(
            client
                .list_agent_collaborators()
                .agent_id(id)
                .agent_version(&version)
                .into_paginator()
                .send(),
            &mut out.calls,
            |page| page.agent_collaborator_summaries().to_vec(),
        )
        .await;
        match collaborators {
            Ok(list) => {
                config.collaborators = list.iter().map(collaborator).collect();
                config.collaborators.sort();
            }
            Err(e) => out.failures.push(sdk_failure(
                format!("bedrock-agent:ListAgentCollaborators {id}/{version}"),
                &e,
            )),
        }
    }
    tool_changed
}

async fn read_agent(
    client: &bedrock_agent::Client,
    schemas: SchemaSource<'_>,
    settings: &ApiSettings,
    id: String,
    known: &InventorySnapshot,
    now: Timestamp,
) -> OneAgent {
    let mut out = OneAgent::default();
    out.calls += 1;
    let got = match client.get_agent().agent_id(&id).send().await {
        Ok(got) => got,
        Err(e) => {
            out.failures
                .push(sdk_failure(format!("bedrock-agent:GetAgent {id}"), &e));
            return out;
        }
    };
    let Some(draft) = got.agent() else {
        out.failures.push(ConnectorError::failed(
            FailureClass::Malformed,
            format!("bedrock-agent:GetAgent {id}"),
            "the answer holds no agent",
        ));
        return out;
    };
    let Some((account, region)) = account_and_region(draft.agent_arn()) else {
        out.failures.push(ConnectorError::failed(
            FailureClass::Malformed,
            format!("bedrock-agent:GetAgent {id}"),
            format!(
                "agentArn {:?} names no account and region",
                draft.agent_arn()
            ),
        ));
        return out;
    };
    let agent = AgentRef {
        provider: Provider::Aws,
        scope: account,
        location: region,
        id: id.clone(),
        qualifier: None,
    };
    let reader = AgentReader {
        client,
        schemas,
        source: settings.source.as_str(),
        previous: known.agents.iter().find(|a| a.agent == agent),
        agent,
        id: &id,
        now,
    };
    reader.read_draft(draft, &mut out).await;
    let routed = reader.read_aliases(&mut out).await;
    reader.read_versions(&mut out).await;
    // Only versions an alias routes to run; each is immutable, so its creation time is
    // when its configuration took effect.
    for version in routed.iter().filter(|v| v.as_str() != "DRAFT") {
        reader.read_routed(version, &mut out).await;
    }
    out
}

/// One agent being read: what its facts are recorded against.
struct AgentReader<'a> {
    client: &'a bedrock_agent::Client,
    schemas: SchemaSource<'a>,
    source: &'a str,
    agent: AgentRef,
    id: &'a str,
    /// What the store had of the agent: what it holds beyond what the API lists was removed.
    previous: Option<&'a AgentInventory>,
    now: Timestamp,
}

impl AgentReader<'_> {
    fn observe(&self, out: &mut OneAgent, time: Timestamp, call: String, fact: Fact) {
        out.observations.push(Observation {
            time,
            agent: self.agent.clone(),
            fact,
            provenance: provenance(self.source, call),
        })
    }

    /// The draft: name, model, role, guardrail, and its tools and knowledge bases (the
    /// agent's current ones).
    async fn read_draft(&self, draft: &bedrock_agent::types::Agent, out: &mut OneAgent) {
        let id = self.id;
        let draft_time = millis(draft.updated_at());
        let header = VersionHeader {
            version: "DRAFT",
            status: draft.agent_status().as_str(),
            model: draft.foundation_model(),
            role: draft.agent_resource_role_arn(),
            instruction: draft.instruction(),
            guardrail: draft.guardrail_configuration(),
            prompts: draft.prompt_override_configuration(),
            memory: draft.memory_configuration(),
            collaboration: draft.agent_collaboration(),
        };
        let mut draft_config = header.config();
        let get_agent = format!("bedrock-agent:GetAgent {id}");
        let name = Fact::Name(draft.agent_name().to_string());
        self.observe(out, draft_time, get_agent.clone(), name);
        if let Some(model) = &draft_config.model {
            let fact = Fact::DeclaredModel(model.clone());
            self.observe(out, draft_time, get_agent.clone(), fact);
        }
        if let Some(role) = &draft_config.role {
            out.role = Some(role.clone());
            let fact = Fact::Role(role.clone());
            self.observe(out, draft_time, get_agent.clone(), fact);
        }
        if let Some(g) = &draft_config.guardrail {
            let fact = Fact::Guardrail {
                id: g.id.clone(),
                version: g.version.clone(),
            };
            self.observe(out, draft_time, get_agent.clone(), fact);
        }
        if draft_config.guardrail.is_none() && self.previous.is_some_and(|p| p.guardrail.is_some())
        {
            self.observe(out, self.now, get_agent.clone(), Fact::GuardrailRemoved);
        }
        let tool_changed =
            complete_version(self.client, self.schemas, id, &mut draft_config, out).await;
        let draft_read_time = tool_changed
            .values()
            .copied()
            .fold(draft_time, Timestamp::max);
        for tool in &draft_config.tools {
            self.observe(
                out,
                tool_changed.get(&tool.name).copied().unwrap_or(draft_time),
                format!("bedrock-agent:GetAgentActionGroup {id}/DRAFT/{}", tool.name),
                Fact::Tool(tool.clone()),
            );
        }
        for kb in &draft_config.knowledge_bases {
            self.observe(
                out,
                draft_read_time,
                format!("bedrock-agent:ListAgentKnowledgeBases {id}/DRAFT"),
                Fact::KnowledgeBase(kb.clone()),
            );
        }
        self.draft_removals(&draft_config, out);
        let config = Fact::VersionConfig(draft_config);
        self.observe(out, draft_read_time, get_agent, config);
        out.configs += 1;
    }

    /// What the store holds beyond the draft's tools and knowledge bases was removed, where
    /// the draft's lists were read whole.
    fn draft_removals(&self, draft: &VersionConfig, out: &mut OneAgent) {
        let Some(previous) = self.previous else {
            return;
        };
        let id = self.id;
        let listing_failed = |out: &OneAgent, what: &str| {
            out.failures
                .iter()
                .map(|f| f.to_string())
                .any(|f| f.contains(what) && f.contains(&format!("{id}/DRAFT")))
        };
        let draft_tools: BTreeSet<&str> = draft.tools.iter().map(|t| t.name.as_str()).collect();
        if !listing_failed(out, "ActionGroup") {
            for gone in previous
                .tools
                .iter()
                .filter(|t| !draft_tools.contains(t.value.name.as_str()))
            {
                self.observe(
                    out,
                    self.now,
                    format!("bedrock-agent:ListAgentActionGroups {id}/DRAFT"),
                    Fact::ToolRemoved(gone.value.name.clone()),
                );
            }
        }
        if !listing_failed(out, "ListAgentKnowledgeBases") {
            for gone in previous
                .knowledge_bases
                .iter()
                .filter(|k| !draft.knowledge_bases.contains(&k.value))
            {
                self.observe(
                    out,
                    self.now,
                    format!("bedrock-agent:ListAgentKnowledgeBases {id}/DRAFT"),
                    Fact::KnowledgeBaseRemoved(gone.value.clone()),
                );
            }
        }
    }

    /// Every alias and the version it routes to; aliases the store has but the API no
    /// longer lists were deleted. Returns the routed versions.
    async fn read_aliases(&self, out: &mut OneAgent) -> BTreeSet<String> {
        let id = self.id;
        let pages = self
            .client
            .list_agent_aliases()
            .agent_id(id)
            .into_paginator()
            .send();
        let aliases = every_page(pages, &mut out.calls, |page| {
            page.agent_alias_summaries().to_vec()
        })
        .await;
        let mut routed: BTreeSet<String> = BTreeSet::new();
        let aliases = match aliases {
            Ok(aliases) => aliases,
            Err(e) => {
                out.failures.push(sdk_failure(
                    format!("bedrock-agent:ListAgentAliases {id}"),
                    &e,
                ));
                return routed;
            }
        };
        let call = format!("bedrock-agent:ListAgentAliases {id}");
        for alias in &aliases {
            let version = alias
                .routing_configuration()
                .first()
                .and_then(|r| r.agent_version())
                .map(str::to_string);
            routed.extend(version.clone());
            let fact = Fact::Alias {
                id: alias.agent_alias_id().to_string(),
                routed_version: version,
                name: Some(alias.agent_alias_name().to_string()),
            };
            self.observe(out, millis(alias.updated_at()), call.clone(), fact);
        }
        for gone in self
            .previous
            .iter()
            .flat_map(|p| &p.aliases)
            .filter(|a| !aliases.iter().any(|x| x.agent_alias_id() == a.value.id))
        {
            let fact = Fact::AliasDeleted(gone.value.id.clone());
            self.observe(out, self.now, call.clone(), fact);
        }
        routed
    }

    /// Every numbered version; versions the store has but the API no longer lists were
    /// deleted.
    async fn read_versions(&self, out: &mut OneAgent) {
        let id = self.id;
        let pages = self
            .client
            .list_agent_versions()
            .agent_id(id)
            .into_paginator()
            .send();
        let versions = every_page(pages, &mut out.calls, |page| {
            page.agent_version_summaries().to_vec()
        })
        .await;
        let versions = match versions {
            Ok(versions) => versions,
            Err(e) => {
                return out.failures.push(sdk_failure(
                    format!("bedrock-agent:ListAgentVersions {id}"),
                    &e,
                ));
            }
        };
        let call = format!("bedrock-agent:ListAgentVersions {id}");
        let numbered: Vec<_> = versions
            .iter()
            .filter(|v| v.agent_version() != "DRAFT")
            .collect();
        for v in &numbered {
            let fact = Fact::Version(v.agent_version().to_string());
            self.observe(out, millis(v.created_at()), call.clone(), fact);
        }
        let Some(previous) = self.previous else {
            return;
        };
        for gone in previous
            .configs
            .iter()
            .map(|c| &c.value.version)
            .chain(previous.versions.iter().map(|v| &v.value))
            .filter(|v| *v != "DRAFT")
            .filter(|v| !numbered.iter().any(|x| x.agent_version() == v.as_str()))
            .collect::<BTreeSet<_>>()
        {
            let fact = Fact::VersionDeleted(gone.clone());
            self.observe(out, self.now, call.clone(), fact);
        }
    }

    /// One version an alias routes to, in full.
    async fn read_routed(&self, version: &str, out: &mut OneAgent) {
        let id = self.id;
        out.calls += 1;
        let got = self
            .client
            .get_agent_version()
            .agent_id(id)
            .agent_version(version)
            .send()
            .await;
        let got = match got {
            Ok(got) => got,
            Err(e) => {
                return out.failures.push(sdk_failure(
                    format!("bedrock-agent:GetAgentVersion {id}/{version}"),
                    &e,
                ));
            }
        };
        let Some(v) = got.agent_version() else {
            return out.failures.push(ConnectorError::failed(
                FailureClass::Malformed,
                format!("bedrock-agent:GetAgentVersion {id}/{version}"),
                "the answer holds no agent version",
            ));
        };
        let header = VersionHeader {
            version: v.version(),
            status: v.agent_status().as_str(),
            model: v.foundation_model(),
            role: v.agent_resource_role_arn(),
            instruction: v.instruction(),
            guardrail: v.guardrail_configuration(),
            prompts: v.prompt_override_configuration(),
            memory: v.memory_configuration(),
            collaboration: v.agent_collaboration(),
        };
        let mut config = header.config();
        complete_version(self.client, self.schemas, id, &mut config, out).await;
        self.observe(
            out,
            millis(v.created_at()),
            format!("bedrock-agent:GetAgentVersion {id}/{version}"),
            Fact::VersionConfig(config),
        );
        out.configs += 1;
    }
}

/// Reads every agent of the region: ListAgents, then each agent's DRAFT, aliases, versions
/// and the configuration of every routed version, `settings.concurrency` at a time. `known`
/// is the inventory so far: what it holds and the API no longer has is recorded as
/// removed; with `account` (the credentials' own), that includes agents of that account
/// and region read before that ListAgents no longer lists.
pub async fn read_agents(
    config: &aws_config::SdkConfig,
    settings: &ApiSettings,
    account: Option<&str>,
    known: &InventorySnapshot,
    now: Timestamp,
) -> AgentsRead {
    let client = bedrock_agent::Client::new(config);
    let mut read = AgentsRead::default();
    let listed = every_page(
        client.list_agents().into_paginator().send(),
        &mut read.calls,
        |page| page.agent_summaries().to_vec(),
    )
    .await;
    let ids: Vec<String> = match listed {
        Ok(list) => list.iter().map(|a| a.agent_id().to_string()).collect(),
        Err(e) => {
            read.failures
                .push(sdk_failure("bedrock-agent:ListAgents", &e));
            return read;
        }
    };
    // Only agents this source read before: their absence is a change the API itself shows.
    // An agent only the logs name is declared deleted by the logs (DeleteAgent), not by
    // this listing's silence.
    if let Some(account) = account {
        for gone in known.agents.iter().filter(|a| {
            a.agent.provider == Provider::Aws
                && a.agent.scope == account
                && a.agent.location == settings.region
                && a.deleted.is_none()
                && a.configs
                    .iter()
                    .any(|c| c.provenance.record.source == settings.source)
                && !ids.contains(&a.agent.id)
        }) {
            read.observations.push(Observation {
                time: now,
                agent: gone.agent.clone(),
                fact: Fact::AgentDeleted("bedrock-agent:ListAgents no longer lists it".into()),
                provenance: provenance(&settings.source, "bedrock-agent:ListAgents".into()),
            });
        }
    }
    let client = &client;
    let mut agents = futures::stream::iter(ids.into_iter().map(|id| async move {
        let one = read_agent(
            client,
            SchemaSource { config, settings },
            settings,
            id.clone(),
            known,
            now,
        )
        .await;
        (id, one)
    }))
    .buffer_unordered(settings.concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    agents.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, one) in agents {
        read.agents += 1;
        read.configs += one.configs;
        read.calls += one.calls;
        read.observations.extend(one.observations);
        read.failures.extend(one.failures);
        read.unresolved.extend(one.unresolved);
        if let Some(role) = one.role {
            read.roles.entry(id.clone()).or_default().insert(role);
        }
        if !one.functions.is_empty() {
            read.functions.insert(id, one.functions);
        }
    }
    read_attachments(config, settings, &mut read).await;
    read
}

/// Reads each knowledge base and guardrail version the versions read name, once, and
/// states it for every agent that uses it; a knowledge base's role joins the agent's
/// identities.
async fn read_attachments(
    config: &aws_config::SdkConfig,
    settings: &ApiSettings,
    read: &mut AgentsRead,
) {
    let mut kb_users: BTreeMap<String, BTreeSet<AgentRef>> = BTreeMap::new();
    let mut guardrail_users: BTreeMap<(String, Option<String>), BTreeSet<AgentRef>> =
        BTreeMap::new();
    for obs in &read.observations {
        if let Fact::VersionConfig(c) = &obs.fact {
            for kb in &c.knowledge_bases {
                kb_users
                    .entry(kb.clone())
                    .or_default()
                    .insert(obs.agent.clone());
            }
            if let Some(g) = &c.guardrail {
                guardrail_users
                    .entry((g.id.clone(), g.version.clone()))
                    .or_default()
                    .insert(obs.agent.clone());
            }
        }
    }
    let agent_client = bedrock_agent::Client::new(config);
    let kbs: Vec<_> = futures::stream::iter(
        kb_users
            .keys()
            .map(|id| super::attachments::read_knowledge_base(&agent_client, id)),
    )
    .buffered(settings.concurrency.max(1))
    .collect()
    .await;
    for (kb, (id, users)) in kbs.into_iter().zip(&kb_users) {
        read.calls += kb.calls;
        read.failures.extend(kb.failures);
        let Some((time, found)) = kb.found else {
            continue;
        };
        for agent in users {
            if let Some(role) = &found.role {
                read.roles
                    .entry(agent.id.clone())
                    .or_default()
                    .insert(role.clone());
            }
            read.observations.push(Observation {
                time,
                agent: agent.clone(),
                fact: Fact::KnowledgeBaseConfig(found.clone()),
                provenance: provenance(
                    &settings.source,
                    format!("bedrock-agent:GetKnowledgeBase {id}"),
                ),
            });
        }
    }
    let guardrail_client = aws_sdk_bedrock::Client::new(config);
    let guardrails: Vec<_> = futures::stream::iter(guardrail_users.keys().map(|(id, version)| {
        super::attachments::read_guardrail(&guardrail_client, id, version.as_deref())
    }))
    .buffered(settings.concurrency.max(1))
    .collect()
    .await;
    for (guardrail, ((id, _), users)) in guardrails.into_iter().zip(&guardrail_users) {
        read.calls += guardrail.calls;
        read.failures.extend(guardrail.failures);
        let Some((time, found)) = guardrail.found else {
            continue;
        };
        for agent in users {
            read.observations.push(Observation {
                time,
                agent: agent.clone(),
                fact: Fact::GuardrailConfig(found.clone()),
                provenance: provenance(
                    &settings.source,
                    format!("bedrock:GetGuardrail {id} v{}", found.version),
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_operations_come_from_json_and_yaml_alike() {
        let json = r#"{"openapi":"3.0.0","paths":{"/refunds":{"post":{"operationId":"issueRefund"}},"/orders/{id}":{"get":{}}}}"#;
        let yaml = "openapi: 3.0.0\npaths:\n  /refunds:\n    post:\n      operationId: issueRefund\n  /orders/{id}:\n    get: {}\n";
        let expected = vec![
            ToolOperation {
                name: "GET /orders/{id}".into(),
                detail: Some("GET /orders/{id}".into()),
            },
            ToolOperation {
                name: "issueRefund".into(),
                detail: Some("POST /refunds".into()),
            },
        ];
        assert_eq!(openapi_operations(json).unwrap(), expected);
        assert_eq!(openapi_operations(yaml).unwrap(), expected);
        assert!(openapi_operations("just: [text").is_err());
        let no_paths = openapi_operations("{\"openapi\":\"3.0.0\"}").unwrap_err();
        assert_eq!(no_paths.class(), crate::FailureClass::Malformed);
        assert_eq!(no_paths.to_string(), "the OpenAPI schema has no `paths`");
    }

    #[test]
    fn agent_arns_give_account_and_region() {
        assert_eq!(
            account_and_region("arn:aws:bedrock:eu-west-1:111122223333:agent/K7QX2M4TZP"),
            Some(("111122223333".into(), "eu-west-1".into()))
        );
        assert_eq!(account_and_region("not-an-arn"), None);
    }
}
