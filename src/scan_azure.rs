//! An azure-api source within a scan: the Foundry agents of every subscription into the
//! inventory, each account's diagnostic settings, network injection and tracing
//! connections kept for coverage.

use crate::config::{ApiWire, SourceConfig};
use crate::scan::{
    ApiSummary, AzureSummary, SourceSummary, inventory_history, now, record_read, rest_client,
    telemetry_doc,
};
use crate::store::{Store, StoreError};
use connectors::azure::logs::{AgentScopes, LogsState, Pulled};
use connectors::azure::{AccountTelemetry, AzureSettings, CredentialKind, EntraCredential};
use connectors::gcp::logging::PullLimits;
use connectors::rest::RestClient;
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
    /// How far the Activity Log and the runs were read (with `logging_api`).
    #[serde(default)]
    pub logs: LogsState,
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
    summary.failures = read.failures;
    let mut pulled = None;
    if let Some(limits) = source.kind.logging() {
        let scopes = AgentScopes::from_inventory(
            &inventory_history(store)
                .await?
                .snapshot_at(Timestamp(i64::MAX)),
            &source.name,
        );
        let read_logs = pull_logs(
            store,
            &client,
            &settings,
            &read.endpoints,
            &scopes,
            &mut doc.logs,
            limits,
        )
        .await?;
        summary.failures.extend(read_logs.failures);
        pulled = Some((read_logs.tool_calls as u64, read_logs.activity as u64));
    }
    store.put_json(&telemetry_doc(&source.name), &doc).await?;
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
            tool_calls: pulled.map(|p| p.0),
            activity_entries: pulled.map(|p| p.1),
        }),
        ..ApiSummary::default()
    });
    Ok(summary)
}

/// Reads the subscriptions' Activity Log and the projects' recent runs into the store,
/// where the source `NAME.logs` scans them. What was read is written before the state
/// that says so: a scan that stops between the two reads it again rather than losing it.
async fn pull_logs(
    store: &Store,
    client: &RestClient,
    settings: &AzureSettings,
    endpoints: &[connectors::azure::logs::ProjectEndpoint],
    scopes: &AgentScopes,
    state: &mut LogsState,
    limits: PullLimits,
) -> Result<Pulled, StoreError> {
    let started = client.clock(now());
    let mut pulled = Pulled::default();
    for subscription in &settings.subscriptions {
        let before = state.activity.get(subscription).cloned();
        if let Some(after) = connectors::azure::logs::pull_activity(
            client,
            settings,
            subscription,
            before,
            scopes,
            (started, limits),
            &mut pulled,
        )
        .await
        {
            state.activity.insert(subscription.clone(), after);
        }
    }
    // Runs are marked read as they are read; the marks are kept only once the files are.
    let mut runs = state.runs.clone();
    for project in endpoints {
        let key = format!(
            "{}/{}/{}",
            project.subscription, project.account, project.project
        );
        let mut done = runs.get(&key).cloned().unwrap_or_default();
        if connectors::azure::logs::pull_runs(
            client,
            project,
            &mut done,
            started,
            limits,
            &mut pulled,
        )
        .await
        {
            runs.insert(key, done);
        }
    }
    let dir = crate::config::pulled_dir(&settings.source);
    for (key, bytes) in std::mem::take(&mut pulled.files) {
        store.put(&format!("{dir}/{key}"), bytes).await?;
    }
    state.runs = runs;
    tracing::info!(source = %settings.source, tool_calls = pulled.tool_calls, activity = pulled.activity, "read the Activity Log and run steps");
    Ok(pulled)
}

/// Coverage of one agent as this source's configuration reads say; only for the agents
/// this source inventoried.
pub fn coverage(
    agent: &AgentRef,
    config: &SourceConfig,
    inventory: Option<&AgentInventory>,
    doc: &AzureTelemetryDoc,
    diagnostic_sources: &[String],
) -> Vec<Coverage> {
    let source = config.name.as_str();
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
    let logs = config
        .kind
        .logging()
        .map(|limits| connectors::azure::LogsRead {
            source: crate::config::pulled_source_name(source),
            days: limits.days,
            activity_read: doc.logs.activity.contains_key(&agent.scope),
            runs_read: doc.logs.runs.contains_key(&format!(
                "{}/{}",
                agent.scope,
                agent
                    .id
                    .rsplit_once('/')
                    .map(|(p, _)| p)
                    .unwrap_or_default()
            )),
        });
    connectors::azure::coverage(
        agent,
        source,
        &platform.value,
        doc.accounts.get(&connectors::azure::telemetry_key(agent)),
        logs.as_ref(),
        diagnostic_sources,
    )
}
