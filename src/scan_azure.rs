//! An azure-api source within a scan: the Foundry agents of every subscription into the
//! inventory, each account's diagnostic settings, network injection and tracing
//! connections kept for coverage.

use crate::config::{ApiWire, SourceConfig};
use crate::scan::{
    ApiSummary, AzureSummary, SourceSummary, inventory_history, now, record_read, rest_client,
    telemetry_doc,
};
use crate::store::{Store, StoreError};
use connectors::azure::{AccountTelemetry, AzureSettings, CredentialKind, EntraCredential};
use normalizer::inventory::AgentInventory;
use normalizer::{AgentRef, Coverage, Provider, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What an azure-api source last read of its accounts, keyed `SUBSCRIPTION/ACCOUNT`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AzureTelemetryDoc {
    pub read_at: Option<Timestamp>,
    pub accounts: BTreeMap<String, AccountTelemetry>,
}

pub async fn scan(
    store: &Store,
    source: &SourceConfig,
    (max_attempts, concurrency, credential): (u32, usize, CredentialKind),
) -> Result<SourceSummary, StoreError> {
    let settings = AzureSettings {
        source: source.name.clone(),
        subscriptions: source.subscriptions.clone(),
        endpoint: source.location.endpoint.clone(),
        concurrency,
    };
    let mut summary = SourceSummary {
        name: source.name.clone(),
        location: match (&source.wire, &settings.endpoint) {
            (ApiWire::Replay(dir), _) => format!("recording {}", dir.display()),
            (_, Some(endpoint)) => endpoint.clone(),
            (_, None) => format!(
                "Azure Resource Manager ({})",
                settings.subscriptions.join(", ")
            ),
        },
        ..SourceSummary::default()
    };
    let client = match rest_client(source, max_attempts, || {
        EntraCredential::from_environment(credential).map(|c| Arc::new(c) as Arc<_>)
    }) {
        Ok(c) => c,
        Err(e) => {
            summary.failures.push(e);
            return Ok(summary);
        }
    };
    let history = inventory_history(store).await?;
    let known = history.snapshot_at(Timestamp(i64::MAX));
    let read = connectors::azure::read(&client, &settings, &known, now()).await;
    tracing::info!(source = %source.name, agents = read.agents, calls = client.calls(), failures = read.failures.len(), "read the Foundry agents");
    let (facts, changed) = record_read(store, &history, read.observations).await?;
    // An account whose settings could not be read this time keeps what an earlier scan read.
    let mut doc = store
        .get_json::<AzureTelemetryDoc>(&telemetry_doc(&source.name))
        .await?
        .unwrap_or_default();
    doc.read_at = Some(now());
    for (account, telemetry) in read.telemetry {
        let known = doc.accounts.get(&account);
        if telemetry.diagnostic_categories.is_some() || known.is_none() {
            doc.accounts.insert(account, telemetry);
        }
    }
    store.put_json(&telemetry_doc(&source.name), &doc).await?;
    summary.failures = read.failures;
    summary.api = Some(ApiSummary {
        calls: client.calls(),
        facts,
        changes: changed,
        azure: Some(AzureSummary {
            credential: client.credential(),
            subscriptions: settings.subscriptions.len(),
            accounts: read.accounts,
            projects: read.projects,
            agents: read.agents,
        }),
        ..ApiSummary::default()
    });
    Ok(summary)
}

/// Coverage of one agent as this source's configuration reads say; only for the agents
/// this source inventoried.
pub fn coverage(
    agent: &AgentRef,
    source: &str,
    inventory: Option<&AgentInventory>,
    doc: &AzureTelemetryDoc,
) -> Vec<Coverage> {
    let Some(inventory) = inventory else {
        return Vec::new();
    };
    let Some(platform) = inventory
        .platform
        .as_ref()
        .filter(|p| p.value.starts_with("azure-foundry-") && p.provenance.record.source == source)
    else {
        return Vec::new();
    };
    if agent.provider != Provider::Azure || inventory.deleted.is_some() {
        return Vec::new();
    }
    connectors::azure::coverage(
        agent,
        source,
        &platform.value,
        doc.accounts.get(&connectors::azure::telemetry_key(agent)),
    )
}
