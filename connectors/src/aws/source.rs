//! The aws-api source: before the logs, the Bedrock agents and AgentCore of every region
//! (their roles, functions and knowledge bases teach the logs which calls are whose) with
//! model invocation logging; after them, the declared identity of every role of interest
//! through IAM, the action-group functions and the trails.

use super::agents::AgentsRead;
use super::functions::{FunctionNetwork, FunctionsRead};
use super::{ApiSettings, InvocationLogging, TrailState, Wire};
use crate::source::{
    AgentView, ApiSource, ApiSummary, ApiWire, Context, Peers, Source, SourceSummary, Step,
    load_state, save_state, snapshot,
};
use crate::{ConnectorError, FailureClass};
use normalizer::coverage::{Judgement, Weight};
use normalizer::inventory::{AgentInventory, InventoryHistory};
use normalizer::{Layer, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const KIND: &str = "aws-api";

/// The trails, model invocation logging and functions' networks as the source last read
/// them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TelemetryDoc {
    pub read_at: Timestamp,
    #[serde(default)]
    pub region: String,
    pub trails: Vec<TrailState>,
    #[serde(default)]
    pub invocation_logging: InvocationLogging,
    /// Model invocation logging of every region read (`invocation_logging` is the first's).
    #[serde(default)]
    pub invocation_logging_by_region: BTreeMap<String, InvocationLogging>,
    /// Action-group functions and the VPC each runs in.
    #[serde(default)]
    pub functions: Vec<FunctionNetwork>,
}

pub struct AwsApiSource {
    api: ApiSource,
    /// The configured region (else `AWS_REGION`, else us-east-1), and every region to read.
    region: Option<String>,
    regions: Vec<String>,
    /// What the read before the logs left for the read after them.
    declared: Option<Declared>,
    summary: SourceSummary,
}

/// What the agents' read left for the identity read.
#[derive(Default)]
struct Declared {
    settings: Option<ApiSettings>,
    regions: usize,
    agents: AgentsRead,
    inventory_facts: usize,
    inventory_changes: usize,
    logging_by_region: BTreeMap<String, InvocationLogging>,
    read_failures: Vec<ConnectorError>,
    runtimes: usize,
    gateways: usize,
    memories: usize,
}

impl AwsApiSource {
    /// `location`: the configured URL, said until the wire is open.
    pub fn new(
        api: ApiSource,
        location: String,
        region: Option<String>,
        regions: Vec<String>,
    ) -> Self {
        let summary = SourceSummary::new(&api.name, location);
        AwsApiSource {
            api,
            region,
            regions,
            declared: None,
            summary,
        }
    }

    /// Whether the agent is an AgentCore runtime this source read.
    fn inventoried_runtime(&self, inventory: &AgentInventory) -> bool {
        inventory.platform.as_ref().is_some_and(|p| {
            p.value == super::agentcore::RUNTIME && p.provenance.record.source == self.api.name
        })
    }

    /// The settings of the first region, with the wire opened; `None` (and the failure in
    /// the summary) when the recording cannot be opened.
    fn settings(&mut self) -> Option<ApiSettings> {
        let mut settings = ApiSettings {
            source: self.api.name.clone(),
            region: self
                .region
                .clone()
                .or_else(|| std::env::var("AWS_REGION").ok())
                .unwrap_or_else(|| "us-east-1".into()),
            endpoint: self.api.endpoint.clone(),
            max_attempts: self.api.max_attempts,
            wire: Wire::Live,
            concurrency: self.api.concurrency,
        };
        settings.wire = match &self.api.wire {
            ApiWire::Live => Wire::Live,
            ApiWire::Record(dir) => match super::wire::Recorder::create(dir) {
                Ok(r) => Wire::Record(r),
                Err(e) => {
                    let what = format!("cannot record into {}", dir.display());
                    let failure = ConnectorError::failed(FailureClass::Io, what, e.to_string());
                    self.summary.failures.push(failure);
                    return None;
                }
            },
            ApiWire::Replay(dir) => match super::wire::Replay::open(dir) {
                Ok(r) => Wire::Replay(r),
                Err(e) => {
                    let class = match e {
                        super::wire::ReplayError::Read { .. } => FailureClass::Io,
                        super::wire::ReplayError::Line { .. } => FailureClass::Malformed,
                    };
                    let failure = ConnectorError::from_text(class, &e.to_string());
                    self.summary.failures.push(failure);
                    return None;
                }
            },
        };
        let region = settings.region.clone();
        self.summary.location = self.api.location(|| format!("AWS APIs ({region})"));
        if self.regions.is_empty() {
            self.regions = vec![settings.region.clone()];
        }
        settings.region = self.regions[0].clone();
        Some(settings)
    }
}

#[async_trait::async_trait(?Send)]
impl Source for AwsApiSource {
    fn name(&self) -> &str {
        &self.api.name
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    fn steps(&self) -> &[Step] {
        &[Step::AwsDeclare, Step::AwsComplete]
    }

    async fn declare(&mut self, ctx: &dyn Context) -> Result<(), ConnectorError> {
        let mut declared = Declared::default();
        if let Some(settings) = self.settings() {
            declared.regions = self.regions.len();
            read_agents(ctx, &settings, &self.regions, &mut declared).await?;
            declared.settings = Some(settings);
        }
        self.declared = Some(declared);
        Ok(())
    }

    async fn complete(&mut self, ctx: &dyn Context) -> Result<(), ConnectorError> {
        let declared = self.declared.take().unwrap_or_default();
        if let Some(settings) = &declared.settings {
            read_identity(ctx, settings, declared_parts(&declared), &mut self.summary).await?;
            finish_summary(&mut self.summary, declared);
        }
        Ok(())
    }

    fn summary(&mut self) -> Option<SourceSummary> {
        Some(std::mem::take(&mut self.summary))
    }

    async fn coverage(
        &self,
        ctx: &dyn Context,
        peers: &Peers,
        agents: &[AgentView<'_>],
    ) -> Result<Vec<Vec<Judgement>>, ConnectorError> {
        let doc: Option<TelemetryDoc> = load_state(ctx, &self.api.name).await?;
        // The AgentCore runtimes this source inventoried are judged against the trails of
        // every aws-api source (their accounts' trails may record it).
        let runtimes_here = agents
            .iter()
            .any(|v| v.inventory.is_some_and(|a| self.inventoried_runtime(a)));
        let mut every_trail = Vec::new();
        for peer in peers.named(KIND).into_iter().filter(|_| runtimes_here) {
            let trails = if peer == self.api.name {
                doc.as_ref().map(|d| d.trails.clone())
            } else {
                load_state::<TelemetryDoc>(ctx, &peer)
                    .await?
                    .map(|d| d.trails)
            };
            every_trail.extend(trails.unwrap_or_default());
        }
        let invocation_sources = peers.named(crate::invocation::KIND);
        Ok(agents
            .iter()
            .map(|view| {
                let deleted = view.inventory.is_some_and(|a| a.deleted.is_some());
                // A deleted agent needs no telemetry turned on: its gaps would be noise.
                let mut said = match (&doc, deleted) {
                    (Some(doc), false) => {
                        settings_gaps(view, &self.api.name, doc, &invocation_sources)
                    }
                    _ => Vec::new(),
                };
                if view.inventory.is_some_and(|a| self.inventoried_runtime(a)) {
                    let trails: &[TrailState] = if deleted { &[] } else { &every_trail };
                    said.extend(runtime_coverage(view, &self.api.name, trails));
                }
                said
            })
            .collect())
    }
}

/// The agents, AgentCore and model invocation logging of every region, and the account;
/// the inventory is recorded here.
async fn read_agents(
    ctx: &dyn Context,
    settings: &ApiSettings,
    regions: &[String],
    declared: &mut Declared,
) -> Result<(), ConnectorError> {
    let inventory = ctx.inventory().await?;
    let snapshot = inventory.snapshot_at(Timestamp(i64::MAX));
    let regional = |region: &str| ApiSettings {
        region: region.to_string(),
        ..settings.clone()
    };
    let several = regions.len() > 1;
    // Agents and model invocation logging are regional; IAM and the trails are read once.
    let account = match super::caller_account(&super::sdk_config(settings).await).await {
        Ok(account) => Some(account),
        Err(e) => {
            declared.read_failures.push(e.noting(
                "without the account, agents deleted from AWS are not recorded as removed",
            ));
            None
        }
    };
    for region in regions {
        let in_region = regional(region);
        let sdk = super::sdk_config(&in_region).await;
        let at = several.then_some(region.as_str());
        let read =
            super::agents::read_agents(&sdk, &in_region, account.as_deref(), &snapshot, ctx.now())
                .await;
        tracing::info!(source = %settings.source, region = %region, agents = read.agents, configs = read.configs, failures = read.failures.len(), "read the Bedrock agents");
        declared.agents.absorb(read, at);
        let core = super::agentcore::read_agentcore(
            &sdk,
            &in_region,
            account.as_deref(),
            &snapshot,
            ctx.now(),
        )
        .await;
        tracing::info!(source = %settings.source, region = %region, runtimes = core.runtimes, gateways = core.gateways, failures = core.failures.len(), "read AgentCore");
        declared.runtimes += core.runtimes;
        declared.gateways += core.gateways;
        declared.memories += core.memories;
        declared.agents.absorb(
            AgentsRead {
                observations: core.observations,
                calls: core.calls,
                failures: core.failures,
                roles: core.roles,
                functions: core.functions,
                ..Default::default()
            },
            at,
        );
        match super::read_invocation_logging(&sdk).await {
            Ok(logging) => {
                declared.logging_by_region.insert(region.clone(), logging);
            }
            Err(e) if several => declared.read_failures.push(e.within(region)),
            Err(e) => declared.read_failures.push(e),
        }
    }
    record_agents(ctx, &inventory, declared).await
}

async fn record_agents(
    ctx: &dyn Context,
    inventory: &InventoryHistory,
    declared: &mut Declared,
) -> Result<(), ConnectorError> {
    let observations = std::mem::take(&mut declared.agents.observations);
    declared.inventory_facts = observations.len();
    let changes = inventory.changes(observations);
    declared.inventory_changes = changes.len();
    ctx.record_inventory(changes).await
}

/// What the identity read needs of the agents' read.
struct Parts<'a> {
    agents: &'a AgentsRead,
    logging_by_region: &'a BTreeMap<String, InvocationLogging>,
}

fn declared_parts(declared: &Declared) -> Parts<'_> {
    Parts {
        agents: &declared.agents,
        logging_by_region: &declared.logging_by_region,
    }
}

/// After the logs: the action-group functions (the logs may name more of them), the
/// declared identity of every role of interest (the agents' and their functions', those
/// the logs named, those the agents acted as) and the trails; a call that fails is named
/// and the rest still read.
async fn read_identity(
    ctx: &dyn Context,
    settings: &ApiSettings,
    parts: Parts<'_>,
    summary: &mut SourceSummary,
) -> Result<(), ConnectorError> {
    let known = ctx.identity().await?.declared_at(Timestamp(i64::MAX));
    let attributed: Vec<String> = ctx.attribution().await?.roles.into_keys().collect();
    let acted = ctx.roles_acted_as().await?;
    let lambdas = read_functions(ctx, settings, parts.agents, &known).await?;
    let sdk = super::sdk_config(settings).await;
    let agent_roles: Vec<String> = parts
        .agents
        .roles
        .values()
        .flatten()
        .chain(&lambdas.roles)
        .cloned()
        .collect();
    let roles =
        super::roles_of_interest(&known, attributed.iter().chain(&agent_roles), acted.iter());
    let mut read = super::read_roles(&sdk, settings, &roles, &known, ctx.now()).await;
    read.observations.extend(lambdas.observations);
    read.calls += lambdas.calls;
    read.failures.extend(lambdas.failures);
    let trails = super::read_trails(&sdk).await;
    let doc = TelemetryDoc {
        read_at: ctx.now(),
        region: settings.region.clone(),
        trails: trails.trails.clone(),
        invocation_logging: parts
            .logging_by_region
            .get(&settings.region)
            .cloned()
            .unwrap_or_default(),
        invocation_logging_by_region: parts.logging_by_region.clone(),
        functions: lambdas.networks,
    };
    save_state(ctx, &settings.source, &doc).await?;
    tracing::info!(source = %settings.source, calls = read.calls, roles = read.roles_read, failures = read.failures.len(), "read the declared identity");
    summary.api = Some(ApiSummary {
        calls: read.calls + trails.calls,
        roles_read: read.roles_read,
        policies_read: read.policies_read,
        facts: read.observations.len(),
        trails: trails.trails.len(),
        ..ApiSummary::default()
    });
    summary.failures.extend(read.failures);
    summary.failures.extend(trails.failures);
    let changes: Vec<_> = read
        .observations
        .into_iter()
        .filter(|o| known.would_change(o))
        .collect();
    if let Some(api) = &mut summary.api {
        api.changes += changes.len();
    }
    ctx.record_identity(changes).await
}

/// The functions the logs named and the ones the API listed, each read in its own region.
async fn read_functions(
    ctx: &dyn Context,
    settings: &ApiSettings,
    agents: &AgentsRead,
    known: &normalizer::identity::DeclaredIdentity,
) -> Result<FunctionsRead, ConnectorError> {
    let snapshot = snapshot(ctx).await?;
    let mut functions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for function in snapshot
        .agents
        .iter()
        .flat_map(|a| a.lambda_functions())
        .chain(
            agents
                .functions
                .values()
                .flatten()
                .map(|f| normalizer::inventory::unqualified_function(f).to_string()),
        )
    {
        let region = super::functions::function_region(&function)
            .unwrap_or(&settings.region)
            .to_string();
        functions.entry(region).or_default().insert(function);
    }
    let mut lambdas = FunctionsRead::default();
    for (region, in_region) in &functions {
        let sdk = super::sdk_config(&ApiSettings {
            region: region.clone(),
            ..settings.clone()
        })
        .await;
        lambdas.absorb(
            super::functions::read_functions(&sdk, settings, in_region, known, ctx.now()).await,
        );
    }
    Ok(lambdas)
}

/// The agents' read joins the identity read's summary: calls (one
/// GetModelInvocationLoggingConfiguration per region, one GetCallerIdentity), facts and the
/// failures of both, the agents' first.
fn finish_summary(summary: &mut SourceSummary, declared: Declared) {
    let Some(api) = summary.api.as_mut() else {
        return;
    };
    let agents = declared.agents;
    api.calls += declared.regions as u64 + 1 + agents.calls;
    api.agents = agents.agents;
    api.agent_versions_read = agents.configs;
    api.agentcore_runtimes = declared.runtimes;
    api.agentcore_gateways = declared.gateways;
    api.agentcore_memories = declared.memories;
    api.unresolved = agents.unresolved;
    api.facts += declared.inventory_facts;
    api.changes += declared.inventory_changes;
    let mut failures = agents.failures;
    failures.append(&mut summary.failures);
    failures.extend(declared.read_failures);
    summary.failures = failures;
}

/// What the trails', model invocation logging's and the functions' configuration say is
/// not recorded of the agent; judged in the agent's own region, and only where it was read.
fn settings_gaps(
    view: &AgentView<'_>,
    source: &str,
    doc: &TelemetryDoc,
    invocation_sources: &[String],
) -> Vec<Judgement> {
    let agent = view.agent;
    let functions = view
        .inventory
        .map(AgentInventory::lambda_functions)
        .unwrap_or_default();
    let aliases = view.inventory.map(super::alias_arns).unwrap_or_default();
    let knowledge_bases = view
        .inventory
        .map(super::knowledge_base_arns)
        .unwrap_or_default();
    let logging = doc
        .invocation_logging_by_region
        .get(&agent.location)
        .or(
            (doc.invocation_logging_by_region.is_empty() && doc.region == agent.location)
                .then_some(&doc.invocation_logging),
        )
        .and_then(|logging| {
            super::logging_gap(agent, source, &agent.location, logging, invocation_sources)
        });
    let network = super::functions::network_coverage(agent, source, &functions, &doc.functions);
    super::trail_gaps(
        agent,
        source,
        &doc.trails,
        &functions,
        &aliases,
        &knowledge_bases,
    )
    .into_iter()
    .chain(logging)
    .chain(network)
    .map(|c| Judgement::new(Weight::Settings, c))
    .collect()
}

/// An AgentCore runtime's kernel, network and tools are its own, not a Bedrock agent's:
/// what its configuration says replaces the generic statements (`source`: the aws-api
/// source that read it).
fn runtime_coverage(view: &AgentView<'_>, source: &str, trails: &[TrailState]) -> Vec<Judgement> {
    let Some(inventory) = view.inventory else {
        return Vec::new();
    };
    let live = inventory
        .aliases
        .iter()
        .filter_map(|al| al.value.routed_version.as_deref())
        .find_map(|v| inventory.runtime_config(v))
        .or(inventory.runtime_configs.last())
        .map(|c| &c.value);
    let tools_seen = view
        .events
        .get(&Layer::ToolInvocation)
        .is_some_and(|n| *n > 0);
    super::agentcore::runtime_coverage(view.agent, source, live, tools_seen, trails)
        .into_iter()
        .map(|c| Judgement::new(Weight::Overrides, c))
        .collect()
}
