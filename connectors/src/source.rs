//! The one trait every kind of source implements, the steps of a scan it takes part in (in
//! the order they run, stated once), and the port through which it reads and records what
//! the store holds. A source reads its provider; it never opens the store itself.
//!
//! Two shapes of source: an API source (aws-api, gcp-api, azure-api) implements [`Source`]
//! directly; a log source is a [`LogSource`] around its [`LogFormat`] (how its objects are
//! listed and read, and what its events say of coverage), whose files the pipeline reads
//! with a cursor.

use crate::ConnectorError;
use crate::attribution::Attribution;
use crate::location::Opened;
use crate::records::lines::{RecordMap, SightingMapper};
use crate::records::{FileCounts, Listing, Loss, Lost, Output, ReadFailure, SkippedObject};
use crate::rest::{Bearer, RestClient, RestWire};
use normalizer::coverage::{Judgement, Weight};
use normalizer::identity::{IdentityHistory, IdentityObservation};
use normalizer::inventory::{AgentInventory, InventoryHistory, InventorySnapshot, Observation};
use normalizer::{AgentRef, Coverage, Layer, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::io::Read;

/// The steps of a scan, in the order they run: where one source's output is another's
/// input, the order says so here and nowhere else. Sources of one step run in the order
/// the configuration lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// The AWS APIs' agents first: the roles, functions and knowledge bases they name
    /// attribute the logs' records, also of agents created before the logs begin.
    AwsDeclare,
    /// Google Cloud's and Azure's agents: their engines, service accounts and deployments
    /// attribute those providers' log records; the logs these APIs pull into the store
    /// (`NAME.logs`) are written here, before they are observed. (No AWS fact feeds them:
    /// they follow AWS only so that a scan's steps keep one order.)
    ManagedDeclare,
    /// CloudTrail before every other log: its control-plane records teach which role,
    /// function and knowledge base is whose, and invocation logs name only a role.
    AttributingLogs,
    /// Every other log.
    Logs,
    /// After the logs, the AWS declared identity: the roles and functions worth reading
    /// include those the logs named and the roles the agents were seen acting as.
    AwsComplete,
    /// After the logs, Google Cloud's request-response logging of the models the logs
    /// showed the engines calling.
    ManagedComplete,
}

/// What a scan reads and records of the store, for a source: the store's own paths and
/// formats stay the pipeline's.
#[async_trait::async_trait]
pub trait Context: Send + Sync {
    /// The scan's clock.
    fn now(&self) -> Timestamp;
    /// The inventory as the store has it.
    async fn inventory(&self) -> Result<InventoryHistory, ConnectorError>;
    /// Merges inventory facts into the store's history (order-independent, safe to repeat).
    async fn record_inventory(&self, facts: Vec<Observation>) -> Result<(), ConnectorError>;
    /// The declared identity (roles, policies) as the store has it.
    async fn identity(&self) -> Result<IdentityHistory, ConnectorError>;
    async fn record_identity(&self, facts: Vec<IdentityObservation>) -> Result<(), ConnectorError>;
    /// A source's own state (what it last read of its provider's configuration), as JSON.
    async fn state(&self, source: &str) -> Result<Option<Vec<u8>>, ConnectorError>;
    async fn put_state(&self, source: &str, json: Vec<u8>) -> Result<(), ConnectorError>;
    /// Writes an object a source read of its provider's logs, for `NAME.logs` to observe.
    async fn put_pulled(
        &self,
        source: &str,
        key: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ConnectorError>;
    /// What the inventory and every CloudTrail source learned of which role, function and
    /// knowledge base is whose agent.
    async fn attribution(&self) -> Result<Attribution, ConnectorError>;
    /// The roles the agents' baselines show them acting as.
    async fn roles_acted_as(&self) -> Result<Vec<String>, ConnectorError>;
}

/// A source's state, parsed; a state that does not parse is the store's damage.
pub async fn load_state<T: DeserializeOwned>(
    ctx: &dyn Context,
    source: &str,
) -> Result<Option<T>, ConnectorError> {
    let Some(bytes) = ctx.state(source).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ConnectorError::Malformed {
            what: format!("the stored state of {source} is malformed"),
            detail: e.to_string(),
        })
}

pub async fn save_state<T: Serialize>(
    ctx: &dyn Context,
    source: &str,
    state: &T,
) -> Result<(), ConnectorError> {
    let json = serde_json::to_vec_pretty(state).map_err(|e| ConnectorError::Malformed {
        what: format!("the state of {source} is malformed"),
        detail: e.to_string(),
    })?;
    ctx.put_state(source, json).await
}

/// The inventory as of now.
pub async fn snapshot(ctx: &dyn Context) -> Result<InventorySnapshot, ConnectorError> {
    Ok(ctx.inventory().await?.snapshot_at(Timestamp(i64::MAX)))
}

/// Records what an API read changed against `history`; returns (facts read, facts that
/// changed).
pub async fn record_read(
    ctx: &dyn Context,
    history: &InventoryHistory,
    observations: Vec<Observation>,
) -> Result<(usize, usize), ConnectorError> {
    let facts = observations.len();
    let changes = history.changes(observations);
    let changed = changes.len();
    ctx.record_inventory(changes).await?;
    Ok((facts, changed))
}

/// The sources configured beside this one, by kind: a source's coverage may name them
/// (the invocation-log source that would record prompts, say).
#[derive(Debug, Clone, Default)]
pub struct Peers(pub Vec<(&'static str, String)>);

impl Peers {
    pub fn named(&self, kind: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.clone())
            .collect()
    }
}

/// What a source is told of one agent when it judges coverage.
pub struct AgentView<'a> {
    pub agent: &'a AgentRef,
    pub inventory: Option<&'a AgentInventory>,
    /// The agent's events by layer, over every source.
    pub events: &'a BTreeMap<Layer, u64>,
    /// What this source's files showed of it (log sources).
    pub tally: &'a Tally,
}

/// One log source's share of one agent: events by layer, records lost to quarantine (and
/// the period their files cover), and the events the source itself reported lost.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub seen: BTreeMap<Layer, u64>,
    pub loss: Option<Loss>,
    pub reported_lost: Option<Lost>,
}

/// Every agent's statements from `say`, each of one weight.
pub fn judge_each(
    agents: &[AgentView<'_>],
    weight: Weight,
    say: impl Fn(&AgentView<'_>) -> Vec<Coverage>,
) -> Vec<Vec<Judgement>> {
    agents
        .iter()
        .map(|a| {
            say(a)
                .into_iter()
                .map(|c| Judgement::new(weight, c))
                .collect()
        })
        .collect()
}

/// One kind of source.
// Not `Send`: a scan runs its sources one after another on one task, and the SDKs'
// paginators make futures the compiler cannot prove `Send` for every lifetime.
#[async_trait::async_trait(?Send)]
pub trait Source: Send + Sync {
    fn name(&self) -> &str;
    /// Its kind as the configuration names it (`cloudtrail`, `aws-api`, …).
    fn kind(&self) -> &'static str;
    /// The steps it takes part in; its summary is taken after the last.
    fn steps(&self) -> &[Step];
    /// Reads what the provider's APIs declare (inventory, the attribution it seeds) and
    /// records it.
    async fn declare(&mut self, _ctx: &dyn Context) -> Result<(), ConnectorError> {
        Ok(())
    }
    /// How its log files are listed and read, for a source that has files to observe.
    fn log_format(&self) -> Option<&dyn LogFormat> {
        None
    }
    /// What needs the other sources first (the identity read for the roles the logs named).
    async fn complete(&mut self, _ctx: &dyn Context) -> Result<(), ConnectorError> {
        Ok(())
    }
    /// What it read, after its last step (a log source's summary is the pipeline's).
    fn summary(&mut self) -> Option<SourceSummary> {
        None
    }
    /// Its statements on the layers it can speak for, of every agent (`agents[i]` → the
    /// statements about it).
    async fn coverage(
        &self,
        ctx: &dyn Context,
        peers: &Peers,
        agents: &[AgentView<'_>],
    ) -> Result<Vec<Vec<Judgement>>, ConnectorError>;
}

/// How one kind of log is listed, read and judged.
#[async_trait::async_trait]
pub trait LogFormat: Send + Sync {
    /// Every object under the source, as a file to read or a skipped object with the reason.
    async fn list(&self, at: &Opened) -> Result<Listing, ConnectorError>;
    /// A mapper seeded with what attribution the source's cursor learned and the inventory.
    fn mapper(
        &self,
        source: &str,
        attribution: Attribution,
        known: &InventorySnapshot,
    ) -> Box<dyn RecordMapper>;
    /// The period a file covers when its quarantined records are events lost to the agents
    /// it speaks of (a probe spool's), not only unreadable records.
    fn lost_events_window(&self, _key: &str) -> Option<(Timestamp, Timestamp)> {
        None
    }
    /// The provider whose agents its records speak of: other providers' agents in the same
    /// store are not missing from it.
    fn provider(&self) -> normalizer::Provider;
    /// What its events say of one of its provider's agents (`tally`: this source's share).
    fn coverage(&self, source: &str, agent: &AgentRef, tally: &Tally) -> Vec<Coverage>;
}

/// Reads one file of a log source into outputs, in file order.
pub trait RecordMapper: Send {
    fn read(
        &mut self,
        reader: &mut dyn Read,
        object: &str,
        max_record: usize,
        emit: &mut dyn FnMut(Output),
    ) -> Result<FileCounts, ReadFailure>;
    /// What it learned of which role, function and knowledge base is whose, if it learns.
    fn attribution(&self) -> Option<&Attribution> {
        None
    }
    /// What the other sources learned since it was made.
    fn learn(&mut self, _attribution: &Attribution) {}
    /// A file failed half-way: forget what it said once, so the rescan says it again.
    fn forget_sightings(&mut self) {}
}

/// A line-per-record source whose mapper says each model sighting once.
impl<A: Send> RecordMapper for SightingMapper<A>
where
    SightingMapper<A>: RecordMap,
{
    fn read(
        &mut self,
        reader: &mut dyn Read,
        object: &str,
        max_record: usize,
        emit: &mut dyn FnMut(Output),
    ) -> Result<FileCounts, ReadFailure> {
        crate::records::lines::read_records(reader, object, self, max_record, emit)
    }

    fn forget_sightings(&mut self) {
        SightingMapper::forget_sightings(self)
    }
}

/// A log source: a name and its format; the pipeline reads its files.
pub struct LogSource {
    pub name: String,
    pub kind: &'static str,
    pub step: Step,
    pub format: Box<dyn LogFormat>,
}

#[async_trait::async_trait(?Send)]
impl Source for LogSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        self.kind
    }

    fn steps(&self) -> &[Step] {
        std::slice::from_ref(&self.step)
    }

    fn log_format(&self) -> Option<&dyn LogFormat> {
        Some(self.format.as_ref())
    }

    async fn coverage(
        &self,
        _ctx: &dyn Context,
        _peers: &Peers,
        agents: &[AgentView<'_>],
    ) -> Result<Vec<Vec<Judgement>>, ConnectorError> {
        Ok(judge_each(agents, Weight::Events, |a| {
            if a.agent.provider != self.format.provider() {
                return Vec::new();
            }
            self.format.coverage(&self.name, a.agent, a.tally)
        }))
    }
}

/// How much of its logs an API source reads through the API in one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullLimits {
    /// How far back the first read goes.
    pub days: u32,
    /// Pages read per project or subscription and scan; the rest waits for the next scan.
    pub max_pages: u32,
}

/// The name of the log source an API source's pulled logs are scanned as.
pub fn pulled_source_name(api: &str) -> String {
    format!("{api}.logs")
}

/// What one source did in one scan.
#[derive(Debug, Default, Serialize)]
pub struct SourceSummary {
    pub name: String,
    pub location: String,
    pub files: usize,
    pub files_scanned: usize,
    pub files_already_scanned: usize,
    pub records: u64,
    pub events: u64,
    pub quarantined: u64,
    pub skipped_objects: Vec<SkippedObject>,
    /// Why the source (or some of its files) could not be scanned; empty when complete.
    #[serde(serialize_with = "crate::failures_as_text")]
    pub failures: Vec<ConnectorError>,
    /// For API sources: calls made, and what they read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiSummary>,
}

impl SourceSummary {
    pub fn new(name: &str, location: String) -> Self {
        SourceSummary {
            name: name.to_string(),
            location,
            ..SourceSummary::default()
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ApiSummary {
    pub calls: u64,
    /// Bedrock agents read, and how many of their versions (DRAFT and routed) in full.
    pub agents: usize,
    pub agent_versions_read: usize,
    #[serde(default)]
    pub agentcore_runtimes: usize,
    #[serde(default)]
    pub agentcore_gateways: usize,
    #[serde(default)]
    pub agentcore_memories: usize,
    /// What the APIs point at but could not be resolved (e.g. a schema kept in S3).
    pub unresolved: Vec<String>,
    pub roles_read: usize,
    pub policies_read: usize,
    pub facts: usize,
    /// Facts that differ from what the store already had (only these are recorded).
    pub changes: usize,
    /// CloudTrail trails described (their state is in `snapshots/telemetry/`).
    pub trails: usize,
    /// For a gcp-api source: what it read instead of Bedrock agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcp: Option<GcpSummary>,
    /// For an azure-api source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureSummary>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AzureSummary {
    pub credential: String,
    pub subscriptions: usize,
    /// AIServices accounts, their projects, and the agents (classic and versioned) read.
    pub accounts: usize,
    pub projects: usize,
    pub agents: usize,
    /// With `logging_api`: tool calls read from run steps, Activity Log entries read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_entries: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct GcpSummary {
    pub credential: String,
    pub projects: usize,
    pub locations: usize,
    pub reasoning_engines: usize,
    /// Dialogflow CX / Conversational Agents read.
    #[serde(default)]
    pub conversational_agents: usize,
    /// What was found absent rather than failed (an API not enabled in a project).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Projects whose IAM policy (audit configuration, roles) was read.
    pub policies_read: usize,
    /// Audit-log entries read through the Logging API (when `logging_api` is on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_entries: Option<u64>,
}

/// How an API source talks to its provider: live, live while recording every exchange
/// into a directory, or replaying such a recording offline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ApiWire {
    #[default]
    Live,
    /// Live, with every answer also written to this recording directory.
    Record(std::path::PathBuf),
    /// From this recording directory, through the same SDK parsing.
    Replay(std::path::PathBuf),
}

/// No judgement of any agent: a source whose state is not there (yet) says nothing.
pub fn unjudged(agents: &[AgentView<'_>]) -> Vec<Vec<Judgement>> {
    agents.iter().map(|_| Vec::new()).collect()
}

/// What every API source is configured with.
#[derive(Debug, Clone)]
pub struct ApiSource {
    pub name: String,
    pub wire: ApiWire,
    pub endpoint: Option<String>,
    pub max_attempts: u32,
    pub concurrency: usize,
}

impl ApiSource {
    /// The source's REST client: live with the provider's credential (`live` is only asked
    /// for when needed), recording, or replaying. Without one the source reads nothing, and
    /// the failure is in `summary`.
    pub fn rest_client(
        &self,
        summary: &mut SourceSummary,
        live: impl FnOnce() -> Result<std::sync::Arc<dyn Bearer>, ConnectorError>,
    ) -> Option<RestClient> {
        let client = || {
            let wire = match &self.wire {
                ApiWire::Live => RestWire::Live(live()?),
                ApiWire::Record(dir) => RestWire::record(live()?, dir)?,
                ApiWire::Replay(dir) => RestWire::replay(dir)?,
            };
            RestClient::new(wire, self.max_attempts)
        };
        client().map_err(|e| summary.failures.push(e)).ok()
    }

    /// Where it reads, as the summary says it.
    pub fn location(&self, live: impl FnOnce() -> String) -> String {
        match (&self.wire, &self.endpoint) {
            (ApiWire::Replay(dir), _) => format!("recording {}", dir.display()),
            (_, Some(endpoint)) => endpoint.clone(),
            (_, None) => live(),
        }
    }
}
