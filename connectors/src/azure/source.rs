//! The azure-api source: the Foundry agents of every subscription into the inventory, each
//! account's diagnostic settings, network injection and tracing connections kept for
//! coverage; with `logging_api`, the Activity Log and the classic agents' run steps read
//! into the store.

use super::logs::{AgentScopes, LogsState, ProjectEndpoint, Pulled};
use super::{AccountTelemetry, AzureSettings, CredentialKind, EntraCredential};
use crate::ConnectorError;
use crate::rest::RestClient;
use crate::source::PullLimits;
use crate::source::{
    AgentView, ApiSource, ApiSummary, AzureSummary, Context, Peers, Source, SourceSummary, Step,
    judge_each, load_state, pulled_source_name, record_read, save_state, snapshot, unjudged,
};
use normalizer::coverage::{Judgement, Weight};
use normalizer::inventory::AgentInventory;
use normalizer::{AgentRef, Coverage, Provider, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const KIND: &str = "azure-api";

/// What an azure-api source last read of its accounts, keyed `SUBSCRIPTION/ACCOUNT`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AzureTelemetryDoc {
    pub read_at: Option<Timestamp>,
    pub accounts: BTreeMap<String, AccountTelemetry>,
    /// How far the Activity Log and the runs were read (with `logging_api`).
    #[serde(default)]
    pub logs: LogsState,
}

pub struct AzureApiSource {
    api: ApiSource,
    settings: AzureSettings,
    credential: CredentialKind,
    logging: Option<PullLimits>,
    summary: SourceSummary,
}

impl AzureApiSource {
    pub fn new(
        api: ApiSource,
        settings: AzureSettings,
        credential: CredentialKind,
        logging: Option<PullLimits>,
    ) -> Self {
        let location = api.location(|| {
            format!(
                "Azure Resource Manager ({})",
                settings.subscriptions.join(", ")
            )
        });
        AzureApiSource {
            summary: SourceSummary::new(&api.name, location),
            api,
            settings,
            credential,
            logging,
        }
    }
}

#[async_trait::async_trait(?Send)]
impl Source for AzureApiSource {
    fn name(&self) -> &str {
        &self.api.name
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    fn steps(&self) -> &[Step] {
        &[Step::ManagedDeclare]
    }

    async fn declare(&mut self, ctx: &dyn Context) -> Result<(), ConnectorError> {
        let credential = self.credential;
        let live = || EntraCredential::from_environment(credential).map(|c| Arc::new(c) as Arc<_>);
        let Some(client) = self.api.rest_client(&mut self.summary, live) else {
            return Ok(());
        };
        self.read(ctx, &client).await
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
        let Some(doc) = load_state::<AzureTelemetryDoc>(ctx, &self.api.name).await? else {
            return Ok(unjudged(agents));
        };
        let diagnostic_sources = peers.named(super::diagnostics::KIND);
        Ok(judge_each(agents, Weight::Configuration, |v| {
            self.coverage_of(v.agent, v.inventory, &doc, &diagnostic_sources)
        }))
    }
}

impl AzureApiSource {
    async fn read(&mut self, ctx: &dyn Context, client: &RestClient) -> Result<(), ConnectorError> {
        let name = self.api.name.clone();
        let history = ctx.inventory().await?;
        let known = history.snapshot_at(Timestamp(i64::MAX));
        let read = super::read(client, &self.settings, &known, ctx.now()).await;
        tracing::info!(source = %name, agents = read.agents, calls = client.calls(), failures = read.failures.len(), "read the Foundry agents");
        let (facts, changed) = record_read(ctx, &history, read.observations).await?;
        // An account whose settings could not be read this time keeps what an earlier scan read.
        let mut doc = load_state::<AzureTelemetryDoc>(ctx, &name)
            .await?
            .unwrap_or_default();
        doc.read_at = Some(ctx.now());
        for (account, telemetry) in read.telemetry {
            let known = doc.accounts.get(&account);
            if telemetry.diagnostic_categories.is_some() || known.is_none() {
                doc.accounts.insert(account, telemetry);
            }
        }
        self.summary.failures = read.failures;
        let mut pulled = None;
        if let Some(limits) = self.logging {
            let scopes = AgentScopes::from_inventory(&snapshot(ctx).await?, &name);
            let read_logs = pull_logs(
                ctx,
                client,
                &self.settings,
                (&read.endpoints, &scopes),
                &mut doc.logs,
                limits,
            )
            .await?;
            self.summary.failures.extend(read_logs.failures);
            pulled = Some((read_logs.tool_calls as u64, read_logs.activity as u64));
        }
        save_state(ctx, &name, &doc).await?;
        self.summary.api = Some(ApiSummary {
            calls: client.calls(),
            facts,
            changes: changed,
            azure: Some(AzureSummary {
                credential: client.credential(),
                subscriptions: self.settings.subscriptions.len(),
                accounts: read.accounts,
                projects: read.projects,
                agents: read.agents,
                tool_calls: pulled.map(|p| p.0),
                activity_entries: pulled.map(|p| p.1),
            }),
            ..ApiSummary::default()
        });
        Ok(())
    }

    /// Coverage of one agent as this source's configuration reads say; only for the agents
    /// this source inventoried.
    fn coverage_of(
        &self,
        agent: &AgentRef,
        inventory: Option<&AgentInventory>,
        doc: &AzureTelemetryDoc,
        diagnostic_sources: &[String],
    ) -> Vec<Coverage> {
        let source = self.api.name.as_str();
        let Some(inventory) = inventory else {
            return Vec::new();
        };
        let Some(platform) = inventory.platform.as_ref().filter(|p| {
            p.value.starts_with("azure-foundry-") && p.provenance.record.source == source
        }) else {
            return Vec::new();
        };
        if agent.provider != Provider::Azure || inventory.deleted.is_some() {
            return Vec::new();
        }
        let project = agent
            .id
            .rsplit_once('/')
            .map(|(p, _)| p)
            .unwrap_or_default();
        let logs = self.logging.map(|limits| super::LogsRead {
            source: pulled_source_name(source),
            days: limits.days,
            activity_read: doc.logs.activity.contains_key(&agent.scope),
            runs_read: doc
                .logs
                .runs
                .contains_key(&format!("{}/{project}", agent.scope)),
        });
        super::coverage(
            agent,
            source,
            &platform.value,
            doc.accounts.get(&super::telemetry_key(agent)),
            logs.as_ref(),
            diagnostic_sources,
        )
    }
}

/// Reads the subscriptions' Activity Log and the projects' recent runs into the store,
/// where the source `NAME.logs` scans them. What was read is written before the state
/// that says so: a scan that stops between the two reads it again rather than losing it.
async fn pull_logs(
    ctx: &dyn Context,
    client: &RestClient,
    settings: &AzureSettings,
    (endpoints, scopes): (&[ProjectEndpoint], &AgentScopes),
    state: &mut LogsState,
    limits: PullLimits,
) -> Result<Pulled, ConnectorError> {
    let started = client.clock(ctx.now());
    let mut pulled = Pulled::default();
    for subscription in &settings.subscriptions {
        let before = state.activity.get(subscription).cloned();
        if let Some(after) = super::logs::pull_activity(
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
        if super::logs::pull_runs(client, project, &mut done, started, limits, &mut pulled).await {
            runs.insert(key, done);
        }
    }
    for (key, bytes) in std::mem::take(&mut pulled.files) {
        ctx.put_pulled(&settings.source, &key, bytes).await?;
    }
    state.runs = runs;
    tracing::info!(source = %settings.source, tool_calls = pulled.tool_calls, activity = pulled.activity, "read the Activity Log and run steps");
    Ok(pulled)
}
