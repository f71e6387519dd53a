//! The gcp-api source: before the logs, the reasoning engines and Conversational Agents of
//! every project and location into the inventory, each project's audit configuration kept
//! for coverage (and, with `logging_api`, its audit logs pulled into the store); after the
//! logs, the request-response logging of the models the logs showed the engines calling.

use super::logging::{PullLimits, PullState};
use super::{GcpSettings, GoogleAdc, ModelLogging, ProjectTelemetry};
use crate::failure::rest_failure;
use crate::rest::RestClient;
use crate::source::{
    AgentView, ApiSource, ApiSummary, Context, GcpSummary, Peers, Source, SourceSummary, Step,
    judge_each, load_state, record_read, save_state, snapshot, unjudged,
};
use crate::{ConnectorError, FailureClass};
use normalizer::coverage::{Judgement, Weight};
use normalizer::inventory::{AgentInventory, InventorySnapshot};
use normalizer::{AgentRef, Coverage, Provider, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub const KIND: &str = "gcp-api";

/// What a gcp-api source last read of its projects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GcpTelemetryDoc {
    pub read_at: Option<Timestamp>,
    pub projects: BTreeMap<String, ProjectTelemetry>,
    /// `PROJECT/LOCATION/MODEL` → request-response logging of that publisher model.
    #[serde(default)]
    pub model_logging: BTreeMap<String, ModelLogging>,
    /// Conversational Agent (key) → its logging settings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dialogflow: BTreeMap<String, super::dialogflow::AgentLogging>,
    /// Project → how far its audit logs were read through the Logging API.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub logging: BTreeMap<String, PullState>,
}

pub struct GcpApiSource {
    api: ApiSource,
    settings: GcpSettings,
    logging: Option<PullLimits>,
    /// One client for both steps, so a recording holds both.
    client: Option<RestClient>,
    summary: SourceSummary,
}

impl GcpApiSource {
    pub fn new(api: ApiSource, settings: GcpSettings, logging: Option<PullLimits>) -> Self {
        let location = api.location(|| {
            format!(
                "Google Cloud APIs ({} in {})",
                settings.projects.join(", "),
                settings.locations.join(", ")
            )
        });
        GcpApiSource {
            summary: SourceSummary::new(&api.name, location),
            api,
            settings,
            logging,
            client: None,
        }
    }
}

#[async_trait::async_trait(?Send)]
impl Source for GcpApiSource {
    fn name(&self) -> &str {
        &self.api.name
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    fn steps(&self) -> &[Step] {
        &[Step::ManagedDeclare, Step::ManagedComplete]
    }

    async fn declare(&mut self, ctx: &dyn Context) -> Result<(), ConnectorError> {
        let live = || GoogleAdc::from_environment().map(|c| Arc::new(c) as Arc<_>);
        let Some(client) = self.api.rest_client(&mut self.summary, live) else {
            return Ok(());
        };
        self.read(ctx, &client).await?;
        self.client = Some(client);
        Ok(())
    }

    async fn complete(&mut self, ctx: &dyn Context) -> Result<(), ConnectorError> {
        let Some(client) = &self.client else {
            return Ok(());
        };
        read_model_logging(ctx, client, &self.settings, &mut self.summary).await
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
        let Some(doc) = load_state::<GcpTelemetryDoc>(ctx, &self.api.name).await? else {
            return Ok(unjudged(agents));
        };
        let audit_sources = peers.named(super::audit::KIND);
        Ok(judge_each(agents, Weight::Configuration, |v| {
            coverage(v.agent, &self.api.name, v.inventory, &doc, &audit_sources)
        }))
    }
}

impl GcpApiSource {
    /// The engines and agents into the inventory, the projects' configuration into the
    /// source's state, and with `logging_api` the audit logs into the store.
    async fn read(&mut self, ctx: &dyn Context, client: &RestClient) -> Result<(), ConnectorError> {
        let name = self.api.name.clone();
        let history = ctx.inventory().await?;
        let known = history.snapshot_at(Timestamp(i64::MAX));
        let read = super::read(client, &self.settings, &known, ctx.now()).await;
        tracing::info!(source = %name, engines = read.engines, calls = client.calls(), failures = read.failures.len(), "read the reasoning engines");
        let (facts, changed) = record_read(ctx, &history, read.observations).await?;
        let policies_read = read
            .projects
            .values()
            .filter(|p| p.data_access.is_some())
            .count();
        // A project whose policy could not be read this time keeps what an earlier scan read.
        let mut doc = load_state::<GcpTelemetryDoc>(ctx, &name)
            .await?
            .unwrap_or_default();
        doc.read_at = Some(ctx.now());
        doc.dialogflow.extend(read.dialogflow_logging);
        for (project, telemetry) in read.projects {
            if telemetry.data_access.is_some() || !doc.projects.contains_key(&project) {
                doc.projects.insert(project, telemetry);
            }
        }
        self.summary.failures = read.failures;
        let mut log_entries = None;
        if let Some(limits) = self.logging {
            let snapshot = snapshot(ctx).await?;
            let (entries, failures) =
                pull_audit_logs(ctx, client, &self.settings, &snapshot, &mut doc, limits).await?;
            log_entries = Some(entries);
            self.summary.failures.extend(failures);
        }
        save_state(ctx, &name, &doc).await?;
        self.summary.api = Some(ApiSummary {
            calls: client.calls(),
            unresolved: read.unresolved,
            facts,
            changes: changed,
            gcp: Some(GcpSummary {
                credential: client.credential(),
                projects: self.settings.projects.len(),
                locations: self.settings.locations.len(),
                reasoning_engines: read.engines,
                conversational_agents: read.dialogflow_agents,
                notes: read.notes,
                policies_read,
                log_entries,
            }),
            ..ApiSummary::default()
        });
        Ok(())
    }
}

/// Reads each project's new audit-log entries through the Logging API into the store,
/// where the source `NAME.logs` scans them; `doc` keeps how far each project was
/// read. The entries are written before the state that says they were read: a scan that
/// stops between the two reads them again rather than losing them.
async fn pull_audit_logs(
    ctx: &dyn Context,
    client: &RestClient,
    settings: &GcpSettings,
    snapshot: &InventorySnapshot,
    doc: &mut GcpTelemetryDoc,
    limits: PullLimits,
) -> Result<(u64, Vec<ConnectorError>), ConnectorError> {
    // Every engine's identity, in every project's query: an engine calls into other
    // projects too (engines are named by project number, the settings by project id).
    let principals: BTreeSet<String> = snapshot
        .agents
        .iter()
        .filter(|a| a.deleted.is_none() && is_ours(a, &settings.source))
        .filter_map(|a| a.engine.as_ref().map(|e| e.value.service_account.clone()))
        // Agent identities are matched by principalSubject in the filter already.
        .filter(|sa| sa.contains('@'))
        .collect();
    let started = client.clock(ctx.now());
    let reads = crate::rest::bounded(settings.projects.clone(), settings.concurrency, |project| {
        let state = doc.logging.get(&project).cloned();
        let who = &principals;
        async move {
            let read =
                super::logging::pull(client, settings, &project, who, state, started, limits).await;
            (project, read)
        }
    })
    .await;
    let mut entries = 0;
    let mut failures = Vec::new();
    for (project, read) in reads {
        let pulled = match read {
            Ok(pulled) => pulled,
            Err(e) => {
                failures.push(rest_failure(
                    format!("{project}: audit logs not read through the Logging API"),
                    &e,
                ));
                continue;
            }
        };
        for (key, bytes) in pulled.files {
            ctx.put_pulled(&settings.source, &key, bytes).await?;
        }
        entries += pulled.entries as u64;
        tracing::info!(source = %settings.source, %project, entries = pulled.entries, repeated = pulled.repeated, more = pulled.more, "read audit-log entries from the Logging API");
        if pulled.more {
            failures.push(ConnectorError::failed(FailureClass::Limit, project.clone(), format!("audit-log entries remain past {} pages of the Logging API (logging_max_pages); the next scan continues from {}", limits.max_pages, pulled.state.resume_at.as_deref().unwrap_or("the same point"))));
        }
        doc.logging.insert(project, pulled.state);
    }
    Ok((entries, failures))
}

/// After the logs: the request-response logging of every model this source's engines were
/// seen calling (the audit logs just scanned may have shown new ones), in each engine's
/// project and location.
async fn read_model_logging(
    ctx: &dyn Context,
    client: &RestClient,
    settings: &GcpSettings,
    summary: &mut SourceSummary,
) -> Result<(), ConnectorError> {
    let snapshot = snapshot(ctx).await?;
    let models: BTreeSet<(String, String, String)> = snapshot
        .agents
        .iter()
        .filter(|a| a.deleted.is_none() && is_ours(a, &settings.source))
        .flat_map(|a| {
            a.models_invoked.iter().map(|m| {
                (
                    a.agent.scope.clone(),
                    a.agent.location.clone(),
                    m.value.clone(),
                )
            })
        })
        .collect();
    if models.is_empty() {
        return Ok(());
    }
    let read = super::read_model_logging(client, settings, models).await;
    for (key, state) in &read {
        if let ModelLogging::Unreadable { reason, class } = state {
            summary.failures.push(ConnectorError::failed(
                class.unwrap_or(FailureClass::Refused),
                key.clone(),
                format!("request-response logging not read: {reason}"),
            ));
        }
    }
    let mut doc = load_state::<GcpTelemetryDoc>(ctx, &settings.source)
        .await?
        .unwrap_or_default();
    doc.model_logging.extend(read);
    save_state(ctx, &settings.source, &doc).await?;
    if let Some(api) = summary.api.as_mut() {
        api.calls = client.calls();
    }
    Ok(())
}

/// Whether this gcp-api source inventoried the agent.
fn is_ours(inventory: &AgentInventory, source: &str) -> bool {
    inventory
        .platform
        .as_ref()
        .is_some_and(|p| p.value == super::PLATFORM && p.provenance.record.source == source)
}

/// Coverage of one agent as this source's configuration reads say; only for the agents
/// this source inventoried. `audit_sources`: the gcp-audit-logs sources configured.
pub fn coverage(
    agent: &AgentRef,
    source: &str,
    inventory: Option<&AgentInventory>,
    doc: &GcpTelemetryDoc,
    audit_sources: &[String],
) -> Vec<Coverage> {
    let Some(inventory) = inventory else {
        return Vec::new();
    };
    if agent.provider != Provider::Gcp || inventory.deleted.is_some() {
        return Vec::new();
    }
    if inventory.platform.as_ref().is_some_and(|p| {
        p.value == super::dialogflow::PLATFORM && p.provenance.record.source == source
    }) {
        return super::dialogflow::coverage(agent, source, doc.dialogflow.get(&agent.key()));
    }
    if !is_ours(inventory, source) {
        return Vec::new();
    }
    let models: Vec<(&str, Option<&ModelLogging>)> = inventory
        .models_invoked
        .iter()
        .map(|m| {
            let key = super::model_key(&agent.scope, &agent.location, &m.value);
            (m.value.as_str(), doc.model_logging.get(&key))
        })
        .collect();
    super::coverage(
        agent,
        source,
        inventory.engine.as_ref().map(|e| &e.value),
        doc.projects.get(&agent.scope),
        audit_sources,
        &models,
    )
}
