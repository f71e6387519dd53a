//! A gcp-api source within a scan: the reasoning engines of every project and location
//! into the inventory, each project's audit configuration kept for coverage.

use crate::config::{ApiWire, SourceConfig};
use crate::scan::{
    ApiSummary, GcpSummary, SourceSummary, inventory_history, now, record_read, rest_client,
    telemetry_doc,
};
use crate::store::{Store, StoreError};
use connectors::gcp::{GcpSettings, GoogleAdc, ProjectTelemetry};
use normalizer::inventory::AgentInventory;
use normalizer::{AgentRef, Coverage, Provider, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a gcp-api source last read of its projects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GcpTelemetryDoc {
    pub read_at: Option<Timestamp>,
    pub projects: BTreeMap<String, ProjectTelemetry>,
}

pub async fn scan(
    store: &Store,
    source: &SourceConfig,
    (max_attempts, concurrency): (u32, usize),
) -> Result<SourceSummary, StoreError> {
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
            return Ok(summary);
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
    for (project, telemetry) in read.projects {
        if telemetry.data_access.is_some() || !doc.projects.contains_key(&project) {
            doc.projects.insert(project, telemetry);
        }
    }
    store.put_json(&telemetry_doc(&source.name), &doc).await?;
    summary.failures = read.failures;
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
            policies_read,
        }),
        ..ApiSummary::default()
    });
    Ok(summary)
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
    let ours = inventory.platform.as_ref().is_some_and(|p| {
        p.value == connectors::gcp::PLATFORM && p.provenance.record.source == source
    });
    if agent.provider != Provider::Gcp || !ours || inventory.deleted.is_some() {
        return Vec::new();
    }
    connectors::gcp::coverage(
        agent,
        source,
        inventory.engine.as_ref().map(|e| &e.value),
        doc.projects.get(&agent.scope),
        audit_sources,
    )
}
