//! One scan: every configured source → normalized events and inventory facts → store;
//! then coverage, findings and an audit row from the store's merged state.

use crate::behavior::DRIFT_DOC;
use crate::config::{ApiWire, Config, SourceConfig, SourceKind};
use crate::store::{Store, StoreError};
use bytes::Bytes;
use connectors::cloudtrail::{self, Attribution, Mapper};
use connectors::invocation::{self, InvocationMapper};
use connectors::location::{self, Opened};
use connectors::records::{FileCounts, LogFile, Output, ReadFailure, SkippedObject};
use normalizer::audit::AuditEntry;
use normalizer::baseline::{Baseline, BaselineConfig};
use normalizer::drift::Episode;
use normalizer::identity::{IdentityHistory, IdentityObservation};
use normalizer::inventory::{InventoryHistory, Observation};
use normalizer::{AgentRef, Coverage, Finding, Layer, Timestamp};
use object_store::buffered::BufWriter;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

pub const UNATTRIBUTED: &str = "unattributed";
pub const INVENTORY_DIR: &str = "snapshots/inventory";
pub const IDENTITY_DIR: &str = "snapshots/identity";
/// 1: files leave baseline parts and declared-identity facts.
pub const CURSOR_FORMAT: u32 = 1;
pub const COVERAGE_DOC: &str = "snapshots/coverage.json";
pub const FINDINGS_DOC: &str = "findings/current.json";
pub const FINDINGS_OCSF: &str = "findings/current.ocsf.jsonl";
const CHUNK_BYTES: usize = 256 * 1024;
// S3 rejects multipart parts under 5 MiB; objects below this go up in one PUT.
const WRITER_CAPACITY: usize = 10 * 1024 * 1024;
const COMMIT_EVERY_FILES: usize = 64;
const COMMIT_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot open the store: {0}")]
    OpenStore(connectors::ConnectorError),
    #[error("audit trail: {0}")]
    Audit(#[from] normalizer::ModelError),
    #[error(transparent)]
    Behavior(#[from] crate::behavior::BehaviorError),
}

/// Events of one agent in one file, by layer, in the order of [`Layer::ALL`]: kept per
/// file in the cursor, so it is a bare array.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LayerCounts([u64; 6]);

impl LayerCounts {
    fn add(&mut self, layer: Layer) {
        if let Some(i) = Layer::ALL.iter().position(|l| *l == layer) {
            self.0[i] += 1;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (Layer, u64)> + '_ {
        Layer::ALL.into_iter().zip(self.0).filter(|(_, n)| *n > 0)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// What scanning one log file produced; kept in the cursor so that totals, coverage and
/// a resumed scan do not need the files again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDone {
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    pub counts: FileCounts,
    /// agent key (or `unattributed`) → counts.
    pub agents: BTreeMap<String, LayerCounts>,
    /// What the source itself reported lost in this file (a probe's full ring).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub losses: Vec<connectors::records::Lost>,
}

/// Per-source progress: every file fully written, plus what attribution has learned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceCursor {
    pub source: String,
    pub files: BTreeMap<String, FileDone>,
    /// agent key → the agent, for every key the files mention.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentRef>,
    pub attribution: Attribution,
    /// What every file in `files` left behind; a cursor of an older format lists files
    /// scanned before some output existed (baseline parts, declared identity), and they
    /// are scanned again.
    #[serde(default)]
    pub format: u32,
}

impl SourceCursor {
    fn merge(mine: &mut SourceCursor, theirs: SourceCursor) {
        mine.format = mine.format.max(theirs.format);
        for (k, v) in theirs.files {
            mine.files.entry(k).or_insert(v);
        }
        for (k, v) in theirs.agents {
            mine.agents.entry(k).or_insert(v);
        }
        mine.attribution.merge(&theirs.attribution);
    }
}

pub fn baseline_part(source: &str, unit: &str) -> String {
    format!("baselines/parts/{source}/{unit}.json")
}

pub fn cursor_dir(source: &str) -> String {
    format!("cursors/{source}")
}

pub fn unit_id(source: &str, key: &str) -> String {
    hex::encode(&Sha256::digest(format!("{source}\n{key}").as_bytes())[..12])
}

#[derive(Debug, Clone, Default, Serialize)]
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
    pub failures: Vec<String>,
    /// For API sources: calls made, and what they read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiSummary>,
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

/// The trails as an API source last read them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TelemetryDoc {
    pub read_at: Timestamp,
    #[serde(default)]
    pub region: String,
    pub trails: Vec<connectors::aws::TrailState>,
    #[serde(default)]
    pub invocation_logging: connectors::aws::InvocationLogging,
    /// Model invocation logging of every region read (`invocation_logging` is the first's).
    #[serde(default)]
    pub invocation_logging_by_region: BTreeMap<String, connectors::aws::InvocationLogging>,
    /// Action-group functions and the VPC each runs in.
    #[serde(default)]
    pub functions: Vec<connectors::aws::functions::FunctionNetwork>,
}

pub fn telemetry_doc(source: &str) -> String {
    format!("snapshots/telemetry/{source}.json")
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentSummary {
    pub agent: AgentRef,
    pub name: Option<String>,
    pub events_by_layer: BTreeMap<Layer, u64>,
    pub coverage: Vec<Coverage>,
    /// Its class and why, once baselines exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<normalizer::classes::Classification>,
    /// Its observation track and how long it has been observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<crate::behavior::TrackState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanSummary {
    pub started: Timestamp,
    pub finished: Timestamp,
    pub complete: bool,
    pub sources: Vec<SourceSummary>,
    /// Totals over everything in the store, not just this run.
    pub agents: Vec<AgentSummary>,
    pub unattributed_events: u64,
    pub coverage_gaps: usize,
    /// Drift episodes a human must review (risky or unclassified).
    pub drift_findings: usize,
    /// Unused-excess and inherited-overreach findings.
    pub reconciliation_findings: usize,
    /// What runs left open to a known attack (no guardrail, no prompt-attack filter).
    pub configuration_findings: usize,
    /// Log files whose baseline part is missing (see `agentward baseline show`).
    pub missing_baseline_parts: usize,
    pub quarantine_location: String,
}

pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(d.as_millis() as i64)
}

/// The record mapper of a source, by kind.
enum SourceMapper {
    CloudTrail(Mapper),
    Invocation(InvocationMapper),
    /// A probe spool needs no attribution: the probe attributed every event.
    Probe {
        source: String,
    },
    GcpAudit(connectors::gcp::audit::AuditMapper),
    /// An azure-api source's read logs: attributed when they were read.
    AzureLogs(connectors::azure::logs::LogMapper),
    AzureDiagnostics(connectors::azure::diagnostics::DiagnosticsMapper),
}

impl SourceMapper {
    /// The mapper of a log source; `None` for sources that are not logs. `engines` says
    /// which Vertex AI engine is which (the AWS `attribution` does not).
    fn new(
        source: &SourceConfig,
        attribution: Attribution,
        (engines, deployments): &ManagedAttribution,
    ) -> Option<SourceMapper> {
        match source.kind {
            SourceKind::CloudTrail => Some(SourceMapper::CloudTrail(Mapper::new(
                source.name.clone(),
                attribution,
            ))),
            SourceKind::InvocationLogs(policy) => Some(SourceMapper::Invocation(
                InvocationMapper::new(source.name.clone(), attribution, policy),
            )),
            SourceKind::ProbeSpool => Some(SourceMapper::Probe {
                source: source.name.clone(),
            }),
            SourceKind::GcpAuditLogs => Some(SourceMapper::GcpAudit(
                connectors::gcp::audit::AuditMapper::new(source.name.clone(), engines.clone()),
            )),
            SourceKind::AzureDiagnosticLogs => Some(SourceMapper::AzureDiagnostics(
                connectors::azure::diagnostics::DiagnosticsMapper::new(
                    source.name.clone(),
                    deployments.clone(),
                ),
            )),
            SourceKind::AzureLogs => Some(SourceMapper::AzureLogs(
                connectors::azure::logs::LogMapper {
                    source: source.name.clone(),
                },
            )),
            SourceKind::AwsApi { .. } | SourceKind::GcpApi { .. } | SourceKind::AzureApi { .. } => {
                None
            }
        }
    }

    fn read_log(
        &mut self,
        reader: impl std::io::Read,
        object: &str,
        max_record: usize,
        emit: &mut dyn FnMut(Output),
    ) -> Result<FileCounts, ReadFailure> {
        match self {
            SourceMapper::CloudTrail(m) => {
                cloudtrail::read_log(reader, object, m, max_record, emit)
            }
            SourceMapper::Invocation(m) => {
                invocation::read_log(reader, object, m, max_record, emit)
            }
            SourceMapper::Probe { source } => {
                connectors::probe::read_log(reader, source, object, max_record, emit)
            }
            SourceMapper::GcpAudit(m) => {
                connectors::records::lines::read_records(reader, object, m, max_record, emit)
            }
            SourceMapper::AzureLogs(m) => {
                connectors::records::lines::read_records(reader, object, m, max_record, emit)
            }
            SourceMapper::AzureDiagnostics(m) => {
                connectors::records::lines::read_records(reader, object, m, max_record, emit)
            }
        }
    }

    fn attribution(&self) -> Option<&Attribution> {
        match self {
            SourceMapper::CloudTrail(m) => Some(&m.attribution),
            SourceMapper::Invocation(m) => Some(&m.attribution),
            SourceMapper::Probe { .. }
            | SourceMapper::GcpAudit(_)
            | SourceMapper::AzureLogs(_)
            | SourceMapper::AzureDiagnostics(_) => None,
        }
    }

    fn learn(&mut self, attribution: &Attribution) {
        match self {
            SourceMapper::CloudTrail(m) => m.attribution.merge(attribution),
            SourceMapper::Invocation(m) => m.learn(attribution),
            SourceMapper::Probe { .. }
            | SourceMapper::GcpAudit(_)
            | SourceMapper::AzureLogs(_)
            | SourceMapper::AzureDiagnostics(_) => {}
        }
    }

    fn forget_sightings(&mut self) {
        match self {
            SourceMapper::CloudTrail(m) => m.forget_sightings(),
            SourceMapper::GcpAudit(m) => m.forget_sightings(),
            SourceMapper::AzureDiagnostics(m) => m.forget_sightings(),
            SourceMapper::Invocation(_)
            | SourceMapper::Probe { .. }
            | SourceMapper::AzureLogs(_) => {}
        }
    }
}

/// Which managed agent a log record is about: Vertex AI engines and service accounts;
/// Foundry accounts and deployments.
type ManagedAttribution = (
    connectors::gcp::audit::EngineAttribution,
    connectors::azure::diagnostics::DeploymentAttribution,
);

/// What the parser thread sends to the writer: bytes bound for one object.
struct Chunk {
    path: String,
    bytes: Vec<u8>,
}

/// Output lines buffered per object on the parser thread, handed to the writer in chunks.
struct Partitions {
    buffers: HashMap<String, Vec<u8>>,
    tx: tokio::sync::mpsc::Sender<Chunk>,
}

impl Partitions {
    fn line(&mut self, path: &str, write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>) {
        let buf = match self.buffers.get_mut(path) {
            Some(b) => b,
            None => self.buffers.entry(path.to_string()).or_default(),
        };
        let mark = buf.len();
        if write(buf).is_err() {
            // Serializing our own structs into memory cannot fail; if it ever does, leave
            // no half line behind.
            buf.truncate(mark);
            return;
        }
        buf.push(b'\n');
        if buf.len() >= CHUNK_BYTES {
            let bytes = std::mem::take(buf);
            // The receiver only goes away if the writer failed; that error is reported there.
            let _ = self.tx.blocking_send(Chunk {
                path: path.to_string(),
                bytes,
            });
        }
    }

    fn flush_all(&mut self) {
        for (path, bytes) in self.buffers.drain() {
            if !bytes.is_empty() {
                let _ = self.tx.blocking_send(Chunk { path, bytes });
            }
        }
    }
}

#[derive(Serialize)]
struct QuarantineRow<'a> {
    source: &'a str,
    #[serde(flatten)]
    item: &'a connectors::records::Quarantined,
}

struct FileStats {
    counts: FileCounts,
    agents: BTreeMap<String, LayerCounts>,
    agent_refs: BTreeMap<String, AgentRef>,
    observations: Vec<Observation>,
    identity: Vec<IdentityObservation>,
    losses: Vec<connectors::records::Lost>,
}

/// Parses one file on a blocking thread and writes its outputs. On success every output
/// object of the file is complete; on failure the file must be scanned again (outputs have
/// deterministic names, so a rescan overwrites rather than duplicates).
async fn scan_file(
    store: &Store,
    source_at: &Opened,
    source: &SourceConfig,
    file: &LogFile,
    mut mapper: SourceMapper,
) -> (Option<SourceMapper>, Result<FileStats, String>) {
    let unit = unit_id(&source.name, &file.key);
    let reader = location::blocking_reader(source_at.store.clone(), source_at.child(&file.key));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(32);
    let key = file.key.clone();
    let source_name = source.name.clone();
    let max_record = source.max_record_bytes;
    let parser = tokio::task::spawn_blocking(move || {
        let mut out = Partitions {
            buffers: HashMap::new(),
            tx,
        };
        let mut agents: BTreeMap<String, LayerCounts> = BTreeMap::new();
        let mut agent_refs: BTreeMap<String, AgentRef> = BTreeMap::new();
        let mut observations = Vec::new();
        let mut identity = Vec::new();
        let mut losses = Vec::new();
        let mut baselines: BTreeMap<String, Baseline> = BTreeMap::new();
        let version = env!("CARGO_PKG_VERSION");
        let quarantine_path = format!("quarantine/{source_name}/{unit}.jsonl");
        // Partition names per day and agent, computed once: formatting them per event
        // cost more than writing the event. A file holds few days and agents.
        let mut partitions: HashMap<i64, Vec<(Option<AgentRef>, String, String)>> = HashMap::new();
        let result = mapper.read_log(reader, &key, max_record, &mut |item| match item {
            Output::Mapped(m) => {
                let m = *m;
                let event = &m.event;
                let day = event.time.millis().div_euclid(Timestamp::MS_PER_DAY);
                let of_day = partitions.entry(day).or_default();
                let at = match of_day.iter().position(|(a, _, _)| a == &event.agent) {
                    Some(i) => i,
                    None => {
                        let agent_key = event
                            .agent
                            .as_ref()
                            .map(AgentRef::key)
                            .unwrap_or_else(|| UNATTRIBUTED.to_string());
                        let path = format!(
                            "events/date={}/agent={agent_key}/{unit}.ocsf.jsonl",
                            event.time.utc_date()
                        );
                        of_day.push((event.agent.clone(), agent_key, path));
                        of_day.len() - 1
                    }
                };
                let (_, agent_key, path) = &of_day[at];
                out.line(path, |buf| {
                    normalizer::ocsf::write_event_ocsf(event, version, buf)
                });
                if let Some(agent) = &event.agent {
                    match baselines.get_mut(agent_key) {
                        Some(b) => b.observe(event),
                        None => {
                            let mut b = Baseline::new(agent.clone(), BaselineConfig::default());
                            b.observe(event);
                            baselines.insert(agent_key.clone(), b);
                        }
                    }
                }
                match agents.get_mut(agent_key) {
                    Some(c) => c.add(event.layer),
                    None => {
                        let mut c = LayerCounts::default();
                        c.add(event.layer);
                        agents.insert(agent_key.clone(), c);
                        if let Some(a) = &event.agent {
                            agent_refs.insert(agent_key.clone(), a.unqualified());
                        }
                    }
                }
                observations.extend(m.observations);
                identity.extend(m.identity);
            }
            Output::Lost(l) => losses.push(l),
            Output::Evidence(found) => observations.extend(found),
            Output::Quarantined(q) => {
                let row = QuarantineRow {
                    source: &source_name,
                    item: &q,
                };
                out.line(&quarantine_path, |buf| serde_json::to_writer(buf, &row));
            }
        });
        if result.is_ok() {
            // Written for every scanned file, even one without agent events, so that a
            // missing part always means damage, never "nothing to say".
            let path = baseline_part(&source_name, &unit);
            out.line(&path, |buf| serde_json::to_writer(buf, &baselines));
        }
        out.flush_all();
        (
            mapper,
            result.map(|counts| FileStats {
                counts,
                agents,
                agent_refs,
                observations,
                identity,
                losses,
            }),
        )
    });

    let mut writers: HashMap<String, BufWriter> = HashMap::new();
    let mut write_error: Option<String> = None;
    while let Some(chunk) = rx.recv().await {
        if write_error.is_some() {
            continue; // drain so the parser finishes; the file will be rescanned
        }
        let writer = writers.entry(chunk.path.clone()).or_insert_with(|| {
            BufWriter::with_capacity(
                store.at.store.clone(),
                store.path(&chunk.path),
                WRITER_CAPACITY,
            )
        });
        if let Err(e) = writer.put(Bytes::from(chunk.bytes)).await {
            write_error = Some(format!("writing {}: {e}", chunk.path));
        }
    }
    let (mapper, parsed) = match parser.await {
        Ok(r) => r,
        Err(e) => {
            // The mapper went down with the parser; the caller starts a fresh one.
            return (None, Err(format!("parser for {} failed: {e}", file.key)));
        }
    };
    for (path, mut writer) in writers {
        if write_error.is_some() {
            let _ = writer.abort().await;
        } else if let Err(e) = writer.shutdown().await {
            write_error = Some(format!("writing {path}: {e}"));
        }
    }
    let result = match (parsed, write_error) {
        (Err(e), _) => Err(format!("{}: {e}", file.key)),
        (_, Some(e)) => Err(e),
        (Ok(stats), None) => Ok(stats),
    };
    (Some(mapper), result)
}

struct Pending {
    cursor: SourceCursor,
    /// The stored cursor version `cursor` already includes.
    cursor_version: Option<u64>,
    observations: Vec<Observation>,
    identity: Vec<IdentityObservation>,
    uncommitted_files: usize,
    last_commit: Instant,
}

/// What every CloudTrail source has learned about which agent is which role, function
/// and knowledge base, and what the APIs said about it.
async fn cloudtrail_attribution(store: &Store, config: &Config) -> Result<Attribution, StoreError> {
    let mut all = store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| Attribution::from_inventory(&h.snapshot_at(Timestamp(i64::MAX))))
        .unwrap_or_default();
    for source in config
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::CloudTrail)
    {
        if let Some((_, c)) = store
            .latest::<SourceCursor>(&cursor_dir(&source.name))
            .await?
        {
            all.merge(&c.attribution);
        }
    }
    Ok(all)
}

/// The client of a REST API source (gcp-api, azure-api): live with the provider's
/// credential (`live` is only asked for when needed), recording, or replaying.
pub(crate) fn rest_client(
    source: &SourceConfig,
    max_attempts: u32,
    live: impl FnOnce() -> Result<std::sync::Arc<dyn connectors::rest::Bearer>, String>,
) -> Result<connectors::rest::RestClient, String> {
    use connectors::rest::RestWire;
    let wire = match &source.wire {
        ApiWire::Live => RestWire::Live(live()?),
        ApiWire::Record(dir) => RestWire::record(live()?, dir).map_err(|e| e.to_string())?,
        ApiWire::Replay(dir) => RestWire::replay(dir).map_err(|e| e.to_string())?,
    };
    connectors::rest::RestClient::new(wire, max_attempts)
}

/// The inventory as the store has it, to compare an API read against.
pub(crate) async fn inventory_history(store: &Store) -> Result<InventoryHistory, StoreError> {
    Ok(store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default())
}

/// Records what an API read changed; returns (facts read, facts that changed).
pub(crate) async fn record_read(
    store: &Store,
    history: &InventoryHistory,
    observations: Vec<Observation>,
) -> Result<(usize, usize), StoreError> {
    let facts = observations.len();
    let changes = history.changes(observations);
    let changed = changes.len();
    record_inventory(store, changes).await?;
    Ok((facts, changed))
}

/// Merges inventory facts into the shared history (order-independent: safe to repeat).
pub(crate) async fn record_inventory(
    store: &Store,
    facts: Vec<Observation>,
) -> Result<(), StoreError> {
    if facts.is_empty() {
        return Ok(());
    }
    let mut mine = InventoryHistory::default();
    mine.merge(facts);
    store
        .commit(INVENTORY_DIR, mine, None, |m, theirs| {
            m.merge(theirs.observations)
        })
        .await?;
    Ok(())
}

/// Merges declared-identity facts into the shared history (a union: safe to repeat).
async fn record_identity(store: &Store, facts: Vec<IdentityObservation>) -> Result<(), StoreError> {
    if facts.is_empty() {
        return Ok(());
    }
    let mut mine = IdentityHistory::default();
    mine.merge(facts);
    store
        .commit(IDENTITY_DIR, mine, None, |m, theirs| {
            m.merge(theirs.observations)
        })
        .await?;
    Ok(())
}

async fn commit(store: &Store, source: &str, pending: &mut Pending) -> Result<(), StoreError> {
    // Inventory first: if we stop between the two, the files are read again and their
    // observations merge into the history without duplicates.
    record_inventory(store, std::mem::take(&mut pending.observations)).await?;
    record_identity(store, std::mem::take(&mut pending.identity)).await?;
    let cursor = std::mem::take(&mut pending.cursor);
    let (version, merged) = store
        .commit(
            &cursor_dir(source),
            cursor,
            pending.cursor_version,
            SourceCursor::merge,
        )
        .await?;
    pending.cursor = merged;
    pending.cursor_version = Some(version);
    pending.uncommitted_files = 0;
    pending.last_commit = Instant::now();
    Ok(())
}

async fn scan_source(
    store: &Store,
    config: &Config,
    source: &SourceConfig,
    progress: &indicatif::MultiProgress,
) -> Result<SourceSummary, StoreError> {
    let mut summary = SourceSummary {
        name: source.name.clone(),
        location: source.location.url.clone(),
        ..SourceSummary::default()
    };
    // A directory an API source reads logs into may not exist before its first read.
    let source_at = match location::open(
        &source.location,
        &config.base_dir,
        source.pulled_by.is_some(),
    ) {
        Ok(s) => s,
        Err(e) => {
            summary.failures.push(e.to_string());
            return Ok(summary);
        }
    };
    summary.location = source_at.display.clone();
    let listed = match source.kind {
        SourceKind::CloudTrail => cloudtrail::list(&source_at).await,
        SourceKind::InvocationLogs(_) => invocation::list(&source_at).await,
        SourceKind::ProbeSpool => connectors::probe::list(&source_at).await,
        SourceKind::GcpAuditLogs => connectors::gcp::audit::list(&source_at).await,
        SourceKind::AzureLogs => connectors::azure::logs::list(&source_at).await,
        SourceKind::AzureDiagnosticLogs => connectors::azure::diagnostics::list(&source_at).await,
        SourceKind::AwsApi { .. } | SourceKind::GcpApi { .. } | SourceKind::AzureApi { .. } => {
            return Ok(summary);
        }
    };
    let listing = match listed {
        Ok(l) => l,
        Err(e) => {
            summary.failures.push(e.to_string());
            return Ok(summary);
        }
    };
    summary.files = listing.files.len();
    summary.skipped_objects = listing.skipped;

    let (cursor_version, cursor) = match store
        .latest::<SourceCursor>(&cursor_dir(&source.name))
        .await?
    {
        Some((v, c)) => (Some(v), c),
        None => (
            None,
            SourceCursor {
                source: source.name.clone(),
                format: CURSOR_FORMAT,
                ..SourceCursor::default()
            },
        ),
    };
    let mut cursor = cursor;
    if cursor.format < CURSOR_FORMAT {
        if !cursor.files.is_empty() {
            tracing::warn!(source = %source.name, files = cursor.files.len(), "the store was written by an older agentward; scanning this source's files again to build baselines and declared identity");
            cursor.files.clear();
        }
        cursor.format = CURSOR_FORMAT;
    }
    let snapshot = inventory_history(store)
        .await?
        .snapshot_at(Timestamp(i64::MAX));
    let engines = (
        connectors::gcp::audit::EngineAttribution::from_inventory(&snapshot),
        connectors::azure::diagnostics::DeploymentAttribution::from_inventory(&snapshot),
    );
    let Some(mut mapper) = SourceMapper::new(source, cursor.attribution.clone(), &engines) else {
        return Ok(summary);
    };
    // Records name only a role or a function: the APIs (read first) and the CloudTrail
    // sources (scanned before invocation logs) know which agent runs as which.
    mapper.learn(&cloudtrail_attribution(store, config).await?);
    let mut pending = Pending {
        cursor,
        cursor_version,
        observations: Vec::new(),
        identity: Vec::new(),
        uncommitted_files: 0,
        last_commit: Instant::now(),
    };

    let todo: Vec<&LogFile> = listing
        .files
        .iter()
        .filter(|f| match pending.cursor.files.get(&f.key) {
            Some(done) => {
                done.size != f.size
                    || (done.e_tag.is_some() && f.e_tag.is_some() && done.e_tag != f.e_tag)
            }
            None => true,
        })
        .collect();
    summary.files_already_scanned = listing.files.len() - todo.len();
    let bar = progress.add(indicatif::ProgressBar::new(todo.len() as u64));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} files {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(source.name.clone());

    for file in todo {
        let changed = pending.cursor.files.contains_key(&file.key);
        if changed {
            tracing::warn!(source = %source.name, file = %file.key, "log file changed since it was scanned; scanning it again");
            store
                .delete(&format!(
                    "quarantine/{}/{}.jsonl",
                    source.name,
                    unit_id(&source.name, &file.key)
                ))
                .await?;
        }
        let (returned, result) = scan_file(store, &source_at, source, file, mapper).await;
        mapper = match returned {
            Some(m) => m,
            None => match SourceMapper::new(source, pending.cursor.attribution.clone(), &engines) {
                Some(m) => m,
                None => return Ok(summary),
            },
        };
        bar.inc(1);
        match result {
            Ok(stats) => {
                summary.files_scanned += 1;
                summary.records += stats.counts.records;
                summary.events += stats.counts.events;
                summary.quarantined += stats.counts.quarantined;
                bar.set_message(format!("{} records", summary.records));
                pending.observations.extend(stats.observations);
                pending.identity.extend(stats.identity);
                pending.cursor.files.insert(
                    file.key.clone(),
                    FileDone {
                        size: file.size,
                        e_tag: file.e_tag.clone(),
                        counts: stats.counts,
                        agents: stats.agents,
                        losses: stats.losses,
                    },
                );
                pending.cursor.agents.extend(stats.agent_refs);
                if let Some(attribution) = mapper.attribution() {
                    pending.cursor.attribution = attribution.clone();
                }
                pending.uncommitted_files += 1;
            }
            Err(reason) => {
                mapper.forget_sightings();
                tracing::error!(source = %source.name, file = %file.key, %reason, "file not scanned");
                summary.failures.push(reason);
            }
        }
        if pending.uncommitted_files >= COMMIT_EVERY_FILES
            || (pending.uncommitted_files > 0 && pending.last_commit.elapsed() >= COMMIT_EVERY)
        {
            commit(store, &source.name, &mut pending).await?;
            mapper.learn(&pending.cursor.attribution);
        }
    }
    commit(store, &source.name, &mut pending).await?;
    bar.finish_and_clear();
    Ok(summary)
}

/// What an API source read before the logs were scanned, for the part read after them.
pub struct ApiInventoryPhase {
    summary: SourceSummary,
    settings: Option<connectors::aws::ApiSettings>,
    regions: usize,
    agents: connectors::aws::agents::AgentsRead,
    inventory_facts: usize,
    inventory_changes: usize,
    logging_by_region: BTreeMap<String, connectors::aws::InvocationLogging>,
    read_failures: Vec<String>,
    agentcore_runtimes: usize,
    agentcore_gateways: usize,
    agentcore_memories: usize,
}

/// The first part of an API source, before the logs: the agents (their roles, functions and
/// knowledge bases teach the logs which calls are whose), their functions and model
/// invocation logging, per region. The inventory is recorded here.
async fn api_inventory(
    store: &Store,
    source: &SourceConfig,
    (max_attempts, concurrency): (u32, usize),
) -> Result<ApiInventoryPhase, StoreError> {
    let mut phase = ApiInventoryPhase {
        summary: SourceSummary {
            name: source.name.clone(),
            location: source.location.url.clone(),
            ..SourceSummary::default()
        },
        settings: None,
        regions: 0,
        agents: connectors::aws::agents::AgentsRead::default(),
        inventory_facts: 0,
        inventory_changes: 0,
        logging_by_region: BTreeMap::new(),
        read_failures: Vec::new(),
        agentcore_runtimes: 0,
        agentcore_gateways: 0,
        agentcore_memories: 0,
    };
    let mut settings = connectors::aws::ApiSettings {
        source: source.name.clone(),
        region: source
            .location
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .unwrap_or_else(|| "us-east-1".into()),
        endpoint: source.location.endpoint.clone(),
        max_attempts,
        wire: connectors::aws::Wire::Live,
        concurrency,
    };
    settings.wire = match &source.wire {
        ApiWire::Live => connectors::aws::Wire::Live,
        ApiWire::Record(dir) => match connectors::aws::wire::Recorder::create(dir) {
            Ok(r) => connectors::aws::Wire::Record(r),
            Err(e) => {
                phase
                    .summary
                    .failures
                    .push(format!("cannot record into {}: {e}", dir.display()));
                return Ok(phase);
            }
        },
        ApiWire::Replay(dir) => match connectors::aws::wire::Replay::open(dir) {
            Ok(r) => connectors::aws::Wire::Replay(r),
            Err(e) => {
                phase.summary.failures.push(e.to_string());
                return Ok(phase);
            }
        },
    };
    phase.summary.location = match &source.wire {
        ApiWire::Replay(dir) => format!("recording {}", dir.display()),
        _ => settings
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("AWS APIs ({})", settings.region)),
    };
    let regions: Vec<String> = if source.regions.is_empty() {
        vec![settings.region.clone()]
    } else {
        source.regions.clone()
    };
    settings.region = regions[0].clone();
    phase.regions = regions.len();
    let several = regions.len() > 1;
    let regional = |region: &str| connectors::aws::ApiSettings {
        region: region.to_string(),
        ..settings.clone()
    };
    let inventory = store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default();
    let snapshot = inventory.snapshot_at(Timestamp(i64::MAX));
    // Agents and model invocation logging are regional; IAM and the trails are read once.
    let account = match connectors::aws::caller_account(
        &connectors::aws::sdk_config(&settings).await,
    )
    .await
    {
        Ok(account) => Some(account),
        Err(e) => {
            phase.read_failures.push(format!(
                "{e} (without the account, agents deleted from AWS are not recorded as removed)"
            ));
            None
        }
    };
    for region in &regions {
        let in_region = regional(region);
        let sdk = connectors::aws::sdk_config(&in_region).await;
        let read = connectors::aws::agents::read_agents(
            &sdk,
            &in_region,
            account.as_deref(),
            &snapshot,
            now(),
        )
        .await;
        tracing::info!(source = %source.name, region = %region, agents = read.agents, configs = read.configs, failures = read.failures.len(), "read the Bedrock agents");
        phase
            .agents
            .absorb(read, several.then_some(region.as_str()));
        let core = connectors::aws::agentcore::read_agentcore(
            &sdk,
            &in_region,
            account.as_deref(),
            &snapshot,
            now(),
        )
        .await;
        tracing::info!(source = %source.name, region = %region, runtimes = core.runtimes, gateways = core.gateways, failures = core.failures.len(), "read AgentCore");
        phase.agentcore_runtimes += core.runtimes;
        phase.agentcore_gateways += core.gateways;
        phase.agentcore_memories += core.memories;
        phase.agents.absorb(
            connectors::aws::agents::AgentsRead {
                observations: core.observations,
                calls: core.calls,
                failures: core.failures,
                roles: core.roles,
                functions: core.functions,
                ..Default::default()
            },
            several.then_some(region.as_str()),
        );
        match connectors::aws::read_invocation_logging(&sdk).await {
            Ok(logging) => {
                phase.logging_by_region.insert(region.clone(), logging);
            }
            Err(e) if several => phase.read_failures.push(format!("{region}: {e}")),
            Err(e) => phase.read_failures.push(e),
        }
    }
    let observations = std::mem::take(&mut phase.agents.observations);
    phase.inventory_facts = observations.len();
    let changes = inventory.changes(observations);
    phase.inventory_changes = changes.len();
    record_inventory(store, changes).await?;
    phase.settings = Some(settings);
    Ok(phase)
}

/// The second part of an API source, after the logs: the declared identity of every role
/// of interest (the agents' and their functions', and those the logs named) through the
/// IAM API, and the trails; a call that fails is named and the rest still read.
async fn api_identity(
    store: &Store,
    config: &Config,
    phase: ApiInventoryPhase,
) -> Result<SourceSummary, StoreError> {
    let ApiInventoryPhase {
        mut summary,
        settings,
        regions,
        agents,
        inventory_facts,
        inventory_changes,
        logging_by_region,
        read_failures,
        agentcore_runtimes,
        agentcore_gateways,
        agentcore_memories,
    } = phase;
    let Some(settings) = settings else {
        return Ok(summary);
    };
    let known = store
        .latest::<IdentityHistory>(IDENTITY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default()
        .declared_at(Timestamp(i64::MAX));
    let attributed: Vec<String> = cloudtrail_attribution(store, config)
        .await?
        .roles
        .into_keys()
        .collect();
    let acted: Vec<String> = store
        .latest::<crate::behavior::Rollup>(crate::behavior::BASELINE_DIR)
        .await?
        .map(|(_, r)| r.roles_acted_as())
        .unwrap_or_default();
    // The action-group functions are read after the logs, which may name more of them.
    let snapshot = store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default()
        .snapshot_at(Timestamp(i64::MAX));
    // The functions the logs named and the ones the API listed, each in its own region.
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
        let region = connectors::aws::functions::function_region(&function)
            .unwrap_or(&settings.region)
            .to_string();
        functions.entry(region).or_default().insert(function);
    }
    let mut lambdas = connectors::aws::functions::FunctionsRead::default();
    for (region, in_region) in &functions {
        let sdk = connectors::aws::sdk_config(&connectors::aws::ApiSettings {
            region: region.clone(),
            ..settings.clone()
        })
        .await;
        lambdas.absorb(
            connectors::aws::functions::read_functions(&sdk, &settings, in_region, &known, now())
                .await,
        );
    }
    let sdk = connectors::aws::sdk_config(&settings).await;
    let agent_roles: Vec<String> = agents
        .roles
        .values()
        .flatten()
        .chain(&lambdas.roles)
        .cloned()
        .collect();
    let roles = connectors::aws::roles_of_interest(
        &known,
        attributed.iter().chain(&agent_roles),
        acted.iter(),
    );
    let mut read = connectors::aws::read_roles(&sdk, &settings, &roles, &known, now()).await;
    read.observations.extend(lambdas.observations);
    read.calls += lambdas.calls;
    read.failures.extend(lambdas.failures);
    let trails = connectors::aws::read_trails(&sdk).await;
    store
        .put_json(
            &telemetry_doc(&settings.source),
            &TelemetryDoc {
                read_at: now(),
                region: settings.region.clone(),
                trails: trails.trails.clone(),
                invocation_logging: logging_by_region
                    .get(&settings.region)
                    .cloned()
                    .unwrap_or_default(),
                invocation_logging_by_region: logging_by_region,
                functions: lambdas.networks,
            },
        )
        .await?;
    tracing::info!(source = %settings.source, calls = read.calls, roles = read.roles_read, failures = read.failures.len(), "read the declared identity");
    summary.api = Some(ApiSummary {
        // One GetModelInvocationLoggingConfiguration per region, one GetCallerIdentity.
        calls: read.calls + trails.calls + regions as u64 + 1 + agents.calls,
        agents: agents.agents,
        agent_versions_read: agents.configs,
        agentcore_runtimes,
        agentcore_gateways,
        agentcore_memories,
        unresolved: agents.unresolved,
        roles_read: read.roles_read,
        policies_read: read.policies_read,
        facts: read.observations.len() + inventory_facts,
        changes: inventory_changes,
        trails: trails.trails.len(),
        gcp: None,
        azure: None,
    });
    summary.failures = agents.failures;
    summary.failures.extend(read.failures);
    summary.failures.extend(trails.failures);
    summary.failures.extend(read_failures);
    let changes: Vec<_> = read
        .observations
        .into_iter()
        .filter(|o| known.would_change(o))
        .collect();
    if let Some(api) = &mut summary.api {
        api.changes += changes.len();
    }
    record_identity(store, changes).await?;
    Ok(summary)
}

/// Coverage of every known agent, from every source's cursor.
pub async fn compute_state(
    store: &Store,
    config: &Config,
) -> Result<(Vec<AgentSummary>, u64), StoreError> {
    let history = store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default();
    let snapshot = history.snapshot_at(Timestamp(i64::MAX));
    let mut agents: BTreeMap<String, AgentSummary> = BTreeMap::new();
    let mut unattributed = 0u64;
    let mut per_source: Vec<(&SourceConfig, SourceCursor)> = Vec::new();
    for source in &config.sources {
        if let Some((_, c)) = store
            .latest::<SourceCursor>(&cursor_dir(&source.name))
            .await?
        {
            per_source.push((source, c));
        }
    }
    let mut telemetry: Vec<(&SourceConfig, TelemetryDoc)> = Vec::new();
    for source in config
        .sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::AwsApi { .. }))
    {
        if let Some(doc) = store
            .get_json::<TelemetryDoc>(&telemetry_doc(&source.name))
            .await?
        {
            telemetry.push((source, doc));
        }
    }
    let mut gcp_coverage: Vec<(String, crate::scan_gcp::GcpTelemetryDoc)> = Vec::new();
    for source in config
        .sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::GcpApi { .. }))
    {
        if let Some(doc) = store
            .get_json::<crate::scan_gcp::GcpTelemetryDoc>(&telemetry_doc(&source.name))
            .await?
        {
            gcp_coverage.push((source.name.clone(), doc));
        }
    }
    let mut azure_coverage: Vec<(&SourceConfig, crate::scan_azure::AzureTelemetryDoc)> = Vec::new();
    for source in config
        .sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::AzureApi { .. }))
    {
        if let Some(doc) = store
            .get_json::<crate::scan_azure::AzureTelemetryDoc>(&telemetry_doc(&source.name))
            .await?
        {
            azure_coverage.push((source, doc));
        }
    }
    let audit_sources: Vec<String> = config
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::GcpAuditLogs)
        .map(|s| s.name.clone())
        .collect();
    let diagnostic_sources: Vec<String> = config
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::AzureDiagnosticLogs)
        .map(|s| s.name.clone())
        .collect();
    let invocation_sources: Vec<String> = config
        .sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::InvocationLogs(_)))
        .map(|s| s.name.clone())
        .collect();
    let mut known: BTreeSet<AgentRef> = snapshot.agents.iter().map(|a| a.agent.clone()).collect();
    for (_, cursor) in &per_source {
        known.extend(cursor.agents.values().cloned());
        unattributed += cursor
            .files
            .values()
            .filter_map(|done| done.agents.get(UNATTRIBUTED))
            .map(LayerCounts::total)
            .sum::<u64>();
    }
    for agent in known {
        let inventory = snapshot.agents.iter().find(|a| a.agent == agent);
        // A gateway or a memory is a service, not an agent: it is in the inventory, and
        // its use is judged on the runtimes that make it.
        if inventory.is_some_and(|a| a.is_service()) {
            continue;
        }
        let name = snapshot
            .agents
            .iter()
            .find(|a| a.agent == agent)
            .and_then(|a| a.name.as_ref().map(|n| n.value.clone()));
        let key = agent.key();
        let mut coverage = Vec::new();
        let mut events_by_layer: BTreeMap<Layer, u64> = BTreeMap::new();
        for (source, cursor) in &per_source {
            let mut seen: BTreeMap<Layer, u64> = BTreeMap::new();
            let mut loss: Option<connectors::records::Loss> = None;
            let mut reported_lost: Option<connectors::records::Lost> = None;
            for (file_key, done) in &cursor.files {
                for l in done.losses.iter().filter(|l| l.agents.contains(&agent)) {
                    let total = reported_lost.get_or_insert(connectors::records::Lost {
                        lost: 0,
                        from: l.from,
                        to: l.to,
                        agents: Vec::new(),
                    });
                    total.lost += l.lost;
                    total.from = total.from.min(l.from);
                    total.to = total.to.max(l.to);
                }
                if let Some(c) = done.agents.get(&key) {
                    for (l, n) in c.iter() {
                        *seen.entry(l).or_default() += n;
                    }
                }
                // Spool lines that could not be read are events lost to the agents that
                // file speaks of.
                if source.kind == SourceKind::ProbeSpool
                    && done.counts.quarantined > 0
                    && done.agents.contains_key(&key)
                    && let Some((from, to)) = connectors::probe::file_day(file_key)
                {
                    let total = reported_lost.get_or_insert(connectors::records::Lost {
                        lost: 0,
                        from,
                        to,
                        agents: Vec::new(),
                    });
                    total.lost += done.counts.quarantined;
                    total.from = total.from.min(from);
                    total.to = total.to.max(to);
                }
                if done.counts.quarantined > 0
                    && let Some((from, to)) = connectors::records::file_day(file_key)
                {
                    let l = loss.get_or_insert(connectors::records::Loss { lost: 0, from, to });
                    l.lost += done.counts.quarantined;
                    l.from = l.from.min(from);
                    l.to = l.to.max(to);
                }
            }
            for (l, n) in &seen {
                *events_by_layer.entry(*l).or_default() += n;
            }
            let source_cov = match source.kind {
                // A trail speaks of AWS agents only; other providers' agents in the same
                // store are not missing from it.
                SourceKind::CloudTrail if agent.provider == normalizer::Provider::Aws => {
                    cloudtrail::coverage::bedrock_agent(&agent, &source.name, &seen, loss)
                }
                SourceKind::CloudTrail => Vec::new(),
                SourceKind::GcpAuditLogs if agent.provider == normalizer::Provider::Gcp => {
                    connectors::gcp::audit::coverage(&agent, &source.name, &seen, loss)
                }
                SourceKind::GcpAuditLogs => Vec::new(),
                SourceKind::AzureLogs if agent.provider == normalizer::Provider::Azure => {
                    connectors::azure::logs::coverage(&agent, &source.name, &seen, loss)
                }
                SourceKind::AzureLogs => Vec::new(),
                SourceKind::AzureDiagnosticLogs
                    if agent.provider == normalizer::Provider::Azure =>
                {
                    connectors::azure::diagnostics::coverage(&agent, &source.name, &seen, loss)
                }
                SourceKind::AzureDiagnosticLogs => Vec::new(),
                // APIs describe configuration, not what an agent did.
                SourceKind::AwsApi { .. } => Vec::new(),
                // Read from the API's configuration below: such sources keep no cursor.
                SourceKind::GcpApi { .. } | SourceKind::AzureApi { .. } => Vec::new(),
                // A probe reports only the agents it watched.
                SourceKind::ProbeSpool if agent.provider == normalizer::Provider::SelfHosted => {
                    connectors::probe::coverage(&agent, &source.name, &seen, reported_lost.as_ref())
                }
                SourceKind::ProbeSpool => Vec::new(),
                SourceKind::InvocationLogs(policy)
                    if agent.provider == normalizer::Provider::Aws =>
                {
                    vec![invocation::coverage(
                        &agent,
                        &source.name,
                        seen.get(&Layer::Prompt).copied().unwrap_or(0),
                        policy,
                        loss,
                    )]
                }
                SourceKind::InvocationLogs(_) => Vec::new(),
            };
            // With several sources, a layer is as well covered as its best source.
            for c in source_cov {
                match coverage
                    .iter_mut()
                    .find(|x: &&mut Coverage| x.layer == c.layer)
                {
                    Some(existing) if rank(&existing.status) < rank(&c.status) => *existing = c,
                    Some(_) => {}
                    None => coverage.push(c),
                }
            }
        }
        // What Google Cloud and Azure sources' configuration reads say: it never hides
        // what events showed, and it says more precisely than an absence of events which
        // setting is missing.
        let configured = gcp_coverage
            .iter()
            .flat_map(|(name, doc)| {
                crate::scan_gcp::coverage(&agent, name, inventory, doc, &audit_sources)
            })
            .chain(azure_coverage.iter().flat_map(|(source, doc)| {
                crate::scan_azure::coverage(&agent, source, inventory, doc, &diagnostic_sources)
            }));
        {
            for c in configured {
                match coverage.iter_mut().find(|x| x.layer == c.layer) {
                    // What events showed stays: a configuration read that found "no
                    // events in the window" says less than the events themselves.
                    Some(existing)
                        if rank(&existing.status) < rank(&c.status)
                            || (rank(&existing.status) == rank(&c.status)
                                && rank(&existing.status) <= 1) =>
                    {
                        *existing = c
                    }
                    Some(_) => {}
                    None => coverage.push(c),
                }
            }
        }
        let functions = inventory
            .map(normalizer::inventory::AgentInventory::lambda_functions)
            .unwrap_or_default();
        let aliases = inventory
            .map(connectors::aws::alias_arns)
            .unwrap_or_default();
        let knowledge_bases = inventory
            .map(connectors::aws::knowledge_base_arns)
            .unwrap_or_default();
        // A deleted agent needs no telemetry turned on: its gaps would be noise.
        let telemetry: &[(&SourceConfig, TelemetryDoc)] =
            if inventory.is_some_and(|a| a.deleted.is_some()) {
                &[]
            } else {
                &telemetry
            };
        // What the trails' configuration says is missing is more precise than what the
        // absence of events suggests; it never overrides what events showed.
        for (source, doc) in telemetry {
            // Logging is judged in the agent's own region, and only where it was read.
            let logging =
                doc.invocation_logging_by_region
                    .get(&agent.location)
                    .or((doc.invocation_logging_by_region.is_empty()
                        && doc.region == agent.location)
                        .then_some(&doc.invocation_logging))
                    .and_then(|logging| {
                        connectors::aws::logging_gap(
                            &agent,
                            &source.name,
                            &agent.location,
                            logging,
                            &invocation_sources,
                        )
                    });
            let network = connectors::aws::functions::network_coverage(
                &agent,
                &source.name,
                &functions,
                &doc.functions,
            );
            for gap in connectors::aws::trail_gaps(
                &agent,
                &source.name,
                &doc.trails,
                &functions,
                &aliases,
                &knowledge_bases,
            )
            .into_iter()
            .chain(logging)
            .chain(network)
            {
                match coverage.iter_mut().find(|x| x.layer == gap.layer) {
                    Some(existing) if rank(&existing.status) <= rank(&gap.status) => {
                        *existing = gap
                    }
                    // Events show the layer, but part of it is not recorded: say which
                    // part and how to record it, without calling the layer a gap.
                    Some(existing) => {
                        if let (
                            normalizer::CoverageStatus::Observed { via }
                            | normalizer::CoverageStatus::Degraded { via, .. },
                            normalizer::CoverageStatus::AvailableIfEnabled {
                                setting,
                                how_to_enable,
                            },
                        ) = (&mut existing.status, &gap.status)
                        {
                            via.push_str(&format!(
                                "; not recorded: {setting}; to record it: {how_to_enable}"
                            ));
                        }
                    }
                    None => coverage.push(gap),
                }
            }
        }
        // An AgentCore runtime's kernel, network and tools are its own, not a Bedrock
        // agent's: what its configuration says replaces the generic statements.
        if let Some(inventory) = inventory.filter(|a| {
            a.platform
                .as_ref()
                .is_some_and(|p| p.value == connectors::aws::agentcore::RUNTIME)
        }) {
            let live = inventory
                .aliases
                .iter()
                .filter_map(|al| al.value.routed_version.as_deref())
                .find_map(|v| inventory.runtime_config(v))
                .or(inventory.runtime_configs.last())
                .map(|c| &c.value);
            let source = inventory
                .platform
                .as_ref()
                .map(|p| p.provenance.record.source.clone())
                .unwrap_or_default();
            let tools_seen = events_by_layer
                .get(&Layer::ToolInvocation)
                .is_some_and(|n| *n > 0);
            let trails: Vec<connectors::aws::TrailState> = telemetry
                .iter()
                .flat_map(|(_, doc)| doc.trails.iter().cloned())
                .collect();
            for c in connectors::aws::agentcore::runtime_coverage(
                &agent, &source, live, tools_seen, &trails,
            ) {
                match coverage.iter_mut().find(|x| x.layer == c.layer) {
                    Some(existing) => *existing = c,
                    None => coverage.push(c),
                }
            }
        }
        // The API says the agent has no tools at all: a missing tool layer is no gap.
        if let Some(inventory) = inventory
            && let Some(read) = inventory.configs.first()
            && inventory.tools.is_empty()
            && inventory.configs.iter().all(|c| c.value.tools.is_empty())
            && events_by_layer
                .get(&Layer::ToolInvocation)
                .copied()
                .unwrap_or(0)
                == 0
        {
            let not_applicable = Coverage {
                agent: agent.clone(),
                layer: Layer::ToolInvocation,
                status: normalizer::CoverageStatus::NotApplicable {
                    reason: format!(
                        "{}: the agent has no tools ({}); there are no tool invocations to record",
                        read.provenance.record.source,
                        if agent.provider == normalizer::Provider::Aws {
                            "no action group in its draft or in any version an alias routes to"
                        } else {
                            "its configuration lists none"
                        }
                    ),
                },
            };
            match coverage
                .iter_mut()
                .find(|c| c.layer == Layer::ToolInvocation)
            {
                Some(existing) => *existing = not_applicable,
                None => coverage.push(not_applicable),
            }
        }
        agents.insert(
            key,
            AgentSummary {
                agent,
                name,
                events_by_layer,
                coverage,
                class: None,
                track: None,
            },
        );
    }
    Ok((agents.into_values().collect(), unattributed))
}

fn rank(s: &normalizer::CoverageStatus) -> u8 {
    use normalizer::CoverageStatus::*;
    match s {
        Unavailable { .. } => 0,
        AvailableIfEnabled { .. } => 1,
        Degraded { .. } => 2,
        Observed { .. } => 3,
        // Only ever set from the API's own statement, after every source was weighed.
        NotApplicable { .. } => 4,
    }
}

/// Runs every configured source, then recomputes coverage and findings and appends the
/// scan to the audit trail.
pub async fn run(config: &Config, show_progress: bool) -> Result<ScanSummary, ScanError> {
    let started = now();
    let store = Store::new(
        location::open(&config.store, &config.base_dir, true).map_err(ScanError::OpenStore)?,
    );
    let progress = indicatif::MultiProgress::with_draw_target(if show_progress {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    });
    let mut sources = Vec::new();
    // The APIs' agents first: their roles, functions and knowledge bases attribute the
    // logs' records. Then CloudTrail: invocation logs are attributed with what it learned.
    // The APIs' identity read last: the roles worth reading include those the logs named.
    let mut api_phases = Vec::new();
    let mut gcp_phases = Vec::new();
    for source in &config.sources {
        if let SourceKind::AwsApi {
            max_attempts,
            concurrency,
        } = source.kind
        {
            tracing::info!(source = %source.name, "reading the agents");
            api_phases.push(api_inventory(&store, source, (max_attempts, concurrency)).await?);
        }
    }
    for source in &config.sources {
        if let SourceKind::GcpApi {
            max_attempts,
            concurrency,
            ..
        } = source.kind
        {
            tracing::info!(source = %source.name, "reading the Vertex AI agents");
            gcp_phases
                .push(crate::scan_gcp::scan(&store, source, (max_attempts, concurrency)).await?);
        }
        if let SourceKind::AzureApi {
            max_attempts,
            concurrency,
            credential,
            ..
        } = source.kind
        {
            tracing::info!(source = %source.name, "reading the Foundry agents");
            sources.push(
                crate::scan_azure::scan(&store, source, (max_attempts, concurrency, credential))
                    .await?,
            );
        }
    }
    let mut logs: Vec<&SourceConfig> = config.sources.iter().filter(|s| !s.kind.is_api()).collect();
    logs.sort_by_key(|s| !matches!(s.kind, SourceKind::CloudTrail));
    for source in logs {
        tracing::info!(source = %source.name, "scanning");
        sources.push(scan_source(&store, config, source, &progress).await?);
    }
    for phase in api_phases {
        sources.push(api_identity(&store, config, phase).await?);
    }
    for phase in gcp_phases {
        sources.push(crate::scan_gcp::finish(&store, phase).await?);
    }

    let (mut agents, unattributed_events) = compute_state(&store, config).await?;
    let coverage: Vec<Coverage> = agents.iter().flat_map(|a| a.coverage.clone()).collect();
    store.put_json(COVERAGE_DOC, &coverage).await?;
    let analysis = crate::behavior::Analysis::load(&store, true, config).await?;
    let episodes = analysis.episodes(None, None, None);
    for a in &mut agents {
        let key = a.agent.key();
        a.class = analysis.classes.get(&key).cloned();
        a.track = analysis.tracks.get(&key).cloned();
    }
    let previous_episodes: Vec<Episode> = store.get_json(DRIFT_DOC).await?.unwrap_or_default();
    store.put_json(DRIFT_DOC, &episodes).await?;
    let finished = now();
    let mut findings = Finding::coverage_gaps(&coverage, finished);
    findings.extend(Finding::drift(&episodes, finished));
    let reconciled =
        analysis.reconciliations(&normalizer::reconcile::ReconcileConfig::default(), None);
    findings.extend(Finding::reconciliation(&reconciled, finished));
    let inventory = store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default();
    findings.extend(Finding::configuration(
        &inventory.snapshot_at(Timestamp(i64::MAX)),
        finished,
    ));
    let previous: Vec<Finding> = store.get_json(FINDINGS_DOC).await?.unwrap_or_default();
    store.put_json(FINDINGS_DOC, &findings).await?;
    let mut ocsf = Vec::new();
    for f in &findings {
        ocsf.extend(
            serde_json::to_vec(&normalizer::ocsf::finding_to_ocsf(
                f,
                env!("CARGO_PKG_VERSION"),
            ))
            .unwrap_or_default(),
        );
        ocsf.push(b'\n');
    }
    store.put(FINDINGS_OCSF, ocsf).await?;

    let complete = sources.iter().all(|s| s.failures.is_empty());
    let summary = ScanSummary {
        started,
        finished,
        complete,
        sources,
        coverage_gaps: findings
            .iter()
            .filter(|f| f.kind.name() == "CoverageGap")
            .count(),
        drift_findings: findings.iter().filter(|f| f.kind.name() == "Drift").count(),
        reconciliation_findings: findings
            .iter()
            .filter(|f| matches!(f.kind, normalizer::FindingKind::Reconciliation { .. }))
            .count(),
        configuration_findings: findings
            .iter()
            .filter(|f| matches!(f.kind, normalizer::FindingKind::Configuration { .. }))
            .count(),
        missing_baseline_parts: analysis.missing_parts.len(),
        agents,
        unattributed_events,
        quarantine_location: format!("{}/quarantine/", store.at.display),
    };

    let mut entries = vec![AuditEntry {
        time: finished,
        kind: "scan".into(),
        subject: None,
        summary: format!(
            "scan {}: {} new records, {} events, {} quarantined",
            if complete { "complete" } else { "partial" },
            summary.sources.iter().map(|s| s.records).sum::<u64>(),
            summary.sources.iter().map(|s| s.events).sum::<u64>(),
            summary.sources.iter().map(|s| s.quarantined).sum::<u64>(),
        ),
        evidence: json!({ "sources": summary.sources.iter().map(|s| json!({
            "name": s.name, "files_scanned": s.files_scanned, "records": s.records,
            "events": s.events, "quarantined": s.quarantined, "failures": s.failures,
        })).collect::<Vec<_>>() }),
    }];
    // A finding enters the trail when it appears or changes, not on every scan.
    for f in &findings {
        let unchanged = previous.iter().any(|p| p.uid == f.uid && p.kind == f.kind);
        if !unchanged {
            entries.push(AuditEntry {
                time: finished,
                kind: "finding".into(),
                subject: Some(f.agent.key()),
                summary: f.title.clone(),
                evidence: json!({ "finding": f.uid, "detail": f.detail }),
            });
        }
    }
    // Every episode enters the trail once, and again if its class changes: evolutions
    // too, since absorbing behavior into the baseline is a decision an auditor may question.
    for e in &episodes {
        let known = previous_episodes
            .iter()
            .any(|p| p.uid == e.uid && p.class == e.class);
        if !known {
            entries.push(AuditEntry {
                time: finished,
                kind: "drift".into(),
                subject: Some(e.agent.key()),
                summary: format!(
                    "{} on {}: {}",
                    e.class.label(),
                    e.window_start.utc_date(),
                    e.explanation
                ),
                evidence: json!({
                    "episode": e.uid,
                    "departures": e.departures.iter().map(|d| d.describe()).collect::<Vec<_>>(),
                    "deploy": e.deploy,
                }),
            });
        }
    }
    crate::audit::append(&store, entries).await?;
    store
        .put_json(
            &format!("reports/{}-{}.json", started.millis(), std::process::id()),
            &summary,
        )
        .await?;
    Ok(summary)
}

/// Opens the configured store for reading: a local store that does not exist is an error
/// (a mistyped path must not look like an empty store).
pub fn open_existing_store(config: &Config) -> Result<Store, ScanError> {
    Ok(Store::new(
        location::open(&config.store, &config.base_dir, false).map_err(ScanError::OpenStore)?,
    ))
}
