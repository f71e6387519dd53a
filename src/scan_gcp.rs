//! A gcp-api source within a scan: the reasoning engines of every project and location
//! into the inventory, each project's audit configuration kept for coverage; after the
//! logs, the request-response logging of the models the logs showed the engines calling.

use crate::config::{ApiWire, SourceConfig};
use crate::scan::{
    ApiSummary, GcpSummary, SourceSummary, inventory_history, now, record_read, rest_client,
    telemetry_doc,
};
use crate::store::{Store, StoreError};
use connectors::gcp::logging::{PullLimits, PullState};
use connectors::gcp::{GcpSettings, GoogleAdc, ModelLogging, ProjectTelemetry};
use connectors::rest::RestClient;
use normalizer::inventory::AgentInventory;
use normalizer::{AgentRef, Coverage, Provider, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

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
    pub dialogflow: BTreeMap<String, connectors::gcp::dialogflow::AgentLogging>,
    /// Project → how far its audit logs were read through the Logging API.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub logging: BTreeMap<String, PullState>,
}

/// A gcp-api source between its inventory read and its read after the logs: one client,
/// so a recording holds both.
pub struct GcpPhase {
    summary: SourceSummary,
    settings: GcpSettings,
    client: Option<RestClient>,
}

pub async fn scan(
    store: &Store,
    source: &SourceConfig,
    (max_attempts, concurrency): (u32, usize),
) -> Result<GcpPhase, StoreError> {
    let settings = GcpSettings {
        source: source.name.clone(),
        projects: source.projects.clone(),
        locations: source.regions.clone(),
        endpoint: source.location.endpoint.clone(),
        concurrency,
    };
    let mut summary = SourceSummary {
        name: source.name.clone(),
        location: match (&source.wire, &settings.endpoint) {
            (ApiWire::Replay(dir), _) => format!("recording {}", dir.display()),
            (_, Some(endpoint)) => endpoint.clone(),
            (_, None) => format!(
                "Google Cloud APIs ({} in {})",
                settings.projects.join(", "),
                settings.locations.join(", ")
            ),
        },
        ..SourceSummary::default()
    };
    let client = match rest_client(source, max_attempts, || {
        GoogleAdc::from_environment().map(|c| Arc::new(c) as Arc<_>)
    }) {
        Ok(c) => c,
        Err(e) => {
            summary.failures.push(e);
            return Ok(GcpPhase {
                summary,
                settings,
                client: None,
            });
        }
    };
    let history = inventory_history(store).await?;
    let known = history.snapshot_at(Timestamp(i64::MAX));
    let read = connectors::gcp::read(&client, &settings, &known, now()).await;
    tracing::info!(source = %source.name, engines = read.engines, calls = client.calls(), failures = read.failures.len(), "read the reasoning engines");
    let (facts, changed) = record_read(store, &history, read.observations).await?;
    let policies_read = read
        .projects
        .values()
        .filter(|p| p.data_access.is_some())
        .count();
    // A project whose policy could not be read this time keeps what an earlier scan read.
    let mut doc = store
        .get_json::<GcpTelemetryDoc>(&telemetry_doc(&source.name))
        .await?
        .unwrap_or_default();
    doc.read_at = Some(now());
    doc.dialogflow.extend(read.dialogflow_logging);
    for (project, telemetry) in read.projects {
        if telemetry.data_access.is_some() || !doc.projects.contains_key(&project) {
            doc.projects.insert(project, telemetry);
        }
    }
    summary.failures = read.failures;
    let mut log_entries = None;
    if let crate::config::SourceKind::GcpApi {
        logging: Some(limits),
        ..
    } = source.kind
    {
        let snapshot = inventory_history(store)
            .await?
            .snapshot_at(Timestamp(i64::MAX));
        let (entries, failures) =
            pull_audit_logs(store, &client, &settings, &snapshot, &mut doc, limits).await?;
        log_entries = Some(entries);
        summary.failures.extend(failures);
    }
    store.put_json(&telemetry_doc(&source.name), &doc).await?;
    summary.api = Some(ApiSummary {
        calls: client.calls(),
        unresolved: read.unresolved,
        facts,
        changes: changed,
        gcp: Some(GcpSummary {
            credential: client.credential(),
            projects: settings.projects.len(),
            locations: settings.locations.len(),
            reasoning_engines: read.engines,
            conversational_agents: read.dialogflow_agents,
            notes: read.notes,
            policies_read,
            log_entries,
        }),
        ..ApiSummary::default()
    });
    Ok(GcpPhase {
        summary,
        settings,
        client: Some(client),
    })
}

/// Reads each project's new audit-log entries through the Logging API into the store,
/// where the source `NAME.logs` scans them; `doc` keeps how far each project was
/// read. The entries are written before the state that says they were read: a scan that
/// stops between the two reads them again rather than losing them.
async fn pull_audit_logs(
    store: &Store,
    client: &RestClient,
    settings: &GcpSettings,
    snapshot: &normalizer::inventory::InventorySnapshot,
    doc: &mut GcpTelemetryDoc,
    limits: PullLimits,
) -> Result<(u64, Vec<String>), StoreError> {
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
    let started = client.clock(now());
    let reads =
        connectors::rest::bounded(settings.projects.clone(), settings.concurrency, |project| {
            let state = doc.logging.get(&project).cloned();
            let who = &principals;
            async move {
                let read = connectors::gcp::logging::pull(
                    client, settings, &project, who, state, started, limits,
                )
                .await;
                (project, read)
            }
        })
        .await;
    let dir = crate::config::pulled_dir(&settings.source);
    let mut entries = 0;
    let mut failures = Vec::new();
    for (project, read) in reads {
        match read {
            Ok(pulled) => {
                for (key, bytes) in pulled.files {
                    store.put(&format!("{dir}/{key}"), bytes).await?;
                }
                entries += pulled.entries as u64;
                tracing::info!(source = %settings.source, %project, entries = pulled.entries, repeated = pulled.repeated, more = pulled.more, "read audit-log entries from the Logging API");
                if pulled.more {
                    failures.push(format!(
                        "{project}: audit-log entries remain past {} pages of the Logging API (logging_max_pages); the next scan continues from {}",
                        limits.max_pages,
                        pulled.state.resume_at.as_deref().unwrap_or("the same point")
                    ));
                }
                doc.logging.insert(project, pulled.state);
            }
            Err(e) => failures.push(format!(
                "{project}: audit logs not read through the Logging API: {e}"
            )),
        }
    }
    Ok((entries, failures))
}

/// After the logs: the request-response logging of every model this source's engines were
/// seen calling (the audit logs just scanned may have shown new ones), in each engine's
/// project and location.
pub async fn finish(store: &Store, phase: GcpPhase) -> Result<SourceSummary, StoreError> {
    let GcpPhase {
        mut summary,
        settings,
        client,
    } = phase;
    let Some(client) = client else {
        return Ok(summary);
    };
    let snapshot = inventory_history(store)
        .await?
        .snapshot_at(Timestamp(i64::MAX));
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
        return Ok(summary);
    }
    let read = connectors::gcp::read_model_logging(&client, &settings, models).await;
    for (key, state) in &read {
        if let ModelLogging::Unreadable { reason } = state {
            summary.failures.push(format!(
                "{key}: request-response logging not read: {reason}"
            ));
        }
    }
    let mut doc = store
        .get_json::<GcpTelemetryDoc>(&telemetry_doc(&settings.source))
        .await?
        .unwrap_or_default();
    doc.model_logging.extend(read);
    store
        .put_json(&telemetry_doc(&settings.source), &doc)
        .await?;
    if let Some(api) = summary.api.as_mut() {
        api.calls = client.calls();
    }
    Ok(summary)
}

/// Whether this gcp-api source inventoried the agent.
fn is_ours(inventory: &AgentInventory, source: &str) -> bool {
    inventory.platform.as_ref().is_some_and(|p| {
        p.value == connectors::gcp::PLATFORM && p.provenance.record.source == source
    })
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
        p.value == connectors::gcp::dialogflow::PLATFORM && p.provenance.record.source == source
    }) {
        return connectors::gcp::dialogflow::coverage(
            agent,
            source,
            doc.dialogflow.get(&agent.key()),
        );
    }
    if !is_ours(inventory, source) {
        return Vec::new();
    }
    let models: Vec<(&str, Option<&ModelLogging>)> = inventory
        .models_invoked
        .iter()
        .map(|m| {
            let key = connectors::gcp::model_key(&agent.scope, &agent.location, &m.value);
            (m.value.as_str(), doc.model_logging.get(&key))
        })
        .collect();
    connectors::gcp::coverage(
        agent,
        source,
        inventory.engine.as_ref().map(|e| &e.value),
        doc.projects.get(&agent.scope),
        audit_sources,
        &models,
    )
}
