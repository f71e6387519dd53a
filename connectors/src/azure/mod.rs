//! Azure AI Foundry: the `Microsoft.CognitiveServices` accounts (kind `AIServices`) of each
//! subscription, their projects and model deployments through ARM, and each project's
//! agents through its data plane — classic agents (`/assistants`, `api-version=v1`) and
//! the newer versioned agents (`/agents`, `api-version=2025-11-15-preview`) — with tokens
//! from `azure_identity`. An agent's `model` is a deployment name: it is joined to the
//! deployment's real model and version. Each account's diagnostic settings, network
//! injection and each project's Application Insights connection are kept for coverage.

pub mod diagnostics;
pub mod logs;
pub mod source;

use crate::api_provenance as provenance;
use crate::failure::rest_failure;
use crate::rest::{Bearer, Call, RestClient, RestError};
use crate::{ConnectorError, FailureClass};
use normalizer::inventory::{
    ContentFilter, Fact, Guardrail, GuardrailConfig, InventorySnapshot, Observation, RoleGrant,
    Tool, VersionConfig,
};
use normalizer::{AgentRef, Coverage, CoverageStatus, Layer, Provider, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Token audiences: Azure Resource Manager, and Foundry projects' data plane.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
pub const FOUNDRY_SCOPE: &str = "https://ai.azure.com/.default";
pub const ARM_API: &str = "2025-06-01";
pub const DIAGNOSTICS_API: &str = "2021-05-01-preview";
pub const CLASSIC_API: &str = "v1";
pub const AGENTS_API: &str = "2025-11-15-preview";
pub const AUTHORIZATION_API: &str = "2022-04-01";
/// RAI policies are not versioned: the one version is what the account holds now.
const RAI_VERSION: &str = "current";
/// `Fact::Platform` of a classic agent; a versioned agent's is `azure-foundry-` + its kind.
pub const CLASSIC: &str = "azure-foundry-classic-agent";
const PAGE: u32 = 100;

/// Where and how to read.
#[derive(Debug, Clone)]
pub struct AzureSettings {
    pub source: String,
    pub subscriptions: Vec<String>,
    /// A base URL instead of `https://management.azure.com` (a test server, a sovereign
    /// cloud). Project data planes are reached at the endpoints ARM gives.
    pub endpoint: Option<String>,
    /// Accounts read at once.
    pub concurrency: usize,
}

impl AzureSettings {
    fn arm(&self, path: &str, api_version: &str) -> Result<url::Url, RestError> {
        let base = self
            .endpoint
            .as_deref()
            .unwrap_or("https://management.azure.com")
            .trim_end_matches('/');
        let mut url =
            url::Url::parse(&format!("{base}{path}")).map_err(|e| RestError::Transport {
                call: path.to_string(),
                reason: format!("not a URL: {e}"),
            })?;
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        Ok(url)
    }
}

/// Which Entra ID credential to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CredentialKind {
    /// A client secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), else
    /// workload identity (`AZURE_FEDERATED_TOKEN_FILE`), else a managed identity whose
    /// endpoint the environment names (`IDENTITY_ENDPOINT`), else the Azure CLI's login.
    #[default]
    Auto,
    ClientSecret,
    WorkloadIdentity,
    /// The VM / AKS / App Service identity (IMDS or `IDENTITY_ENDPOINT`).
    ManagedIdentity,
    AzureCli,
}

impl CredentialKind {
    pub fn parse(text: &str) -> Option<CredentialKind> {
        Some(match text {
            "auto" => CredentialKind::Auto,
            "client-secret" => CredentialKind::ClientSecret,
            "workload-identity" => CredentialKind::WorkloadIdentity,
            "managed-identity" => CredentialKind::ManagedIdentity,
            "azure-cli" => CredentialKind::AzureCli,
            _ => return None,
        })
    }
}

/// An `azure_identity` credential as the REST client's bearer.
pub struct EntraCredential {
    inner: Arc<dyn azure_core::credentials::TokenCredential>,
    described: String,
}

impl EntraCredential {
    pub fn from_environment(kind: CredentialKind) -> Result<EntraCredential, ConnectorError> {
        crate::rest::use_ring_for_tls();
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let failed = |what: &str, e: azure_core::Error| {
            ConnectorError::failed(FailureClass::Auth, what, e.to_string())
        };
        let kind = match kind {
            CredentialKind::Auto if env("AZURE_CLIENT_SECRET").is_some() => {
                CredentialKind::ClientSecret
            }
            CredentialKind::Auto if env("AZURE_FEDERATED_TOKEN_FILE").is_some() => {
                CredentialKind::WorkloadIdentity
            }
            CredentialKind::Auto if env("IDENTITY_ENDPOINT").is_some() => {
                CredentialKind::ManagedIdentity
            }
            CredentialKind::Auto => CredentialKind::AzureCli,
            other => other,
        };
        let (inner, described): (Arc<dyn azure_core::credentials::TokenCredential>, String) =
            match kind {
                CredentialKind::ClientSecret => {
                    let (Some(tenant), Some(client), Some(secret)) = (
                        env("AZURE_TENANT_ID"),
                        env("AZURE_CLIENT_ID"),
                        env("AZURE_CLIENT_SECRET"),
                    ) else {
                        return Err(ConnectorError::failed(
                            FailureClass::Auth,
                            "a client secret needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET",
                            "",
                        ));
                    };
                    let credential = azure_identity::ClientSecretCredential::new(
                        &tenant,
                        client.clone(),
                        secret.into(),
                        None,
                    )
                    .map_err(|e| failed("client secret credential", e))?;
                    (
                        credential,
                        format!("Entra ID client secret (tenant {tenant}, client {client})"),
                    )
                }
                CredentialKind::WorkloadIdentity => (
                    azure_identity::WorkloadIdentityCredential::new(None)
                        .map_err(|e| failed("workload identity credential", e))?,
                    "Entra ID workload identity (AZURE_FEDERATED_TOKEN_FILE)".into(),
                ),
                CredentialKind::ManagedIdentity => (
                    azure_identity::ManagedIdentityCredential::new(None)
                        .map_err(|e| failed("managed identity credential", e))?,
                    match env("IDENTITY_ENDPOINT") {
                        Some(_) => "managed identity (IDENTITY_ENDPOINT)".into(),
                        None => "managed identity (instance metadata service)".into(),
                    },
                ),
                CredentialKind::AzureCli | CredentialKind::Auto => (
                    azure_identity::AzureCliCredential::new(None)
                        .map_err(|e| failed("Azure CLI credential", e))?,
                    "the Azure CLI's login (az account get-access-token)".into(),
                ),
            };
        Ok(EntraCredential { inner, described })
    }
}

#[async_trait::async_trait]
impl Bearer for EntraCredential {
    async fn token(&self, audience: &str) -> Result<String, ConnectorError> {
        self.inner
            .get_token(&[audience], None)
            .await
            .map(|t| t.token.secret().to_string())
            .map_err(|e| {
                ConnectorError::from_text(FailureClass::Auth, &crate::rest::error_chain(&e))
            })
    }

    fn describe(&self) -> String {
        self.described.clone()
    }
}

/// What coverage needs of one account and its projects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountTelemetry {
    /// Resource-log categories a diagnostic setting sends somewhere, with where
    /// (`RequestResponse → workspace …`); `None` when the settings could not be read.
    pub diagnostic_categories: Option<BTreeMap<String, String>>,
    /// The subnet agents' egress is injected into (Standard setup with your VNet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_injection: Option<String>,
    /// Projects with an Application Insights connection (Foundry tracing's destination).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub traced_projects: BTreeSet<String>,
}

/// What reading the subscriptions produced.
#[derive(Debug, Default)]
pub struct AzureRead {
    pub observations: Vec<Observation>,
    pub accounts: usize,
    pub projects: usize,
    pub agents: usize,
    pub failures: Vec<ConnectorError>,
    /// Keyed by `SUBSCRIPTION/ACCOUNT` ([`telemetry_key`]).
    pub telemetry: BTreeMap<String, AccountTelemetry>,
    /// The projects whose data plane answered, for reading their runs.
    pub endpoints: Vec<logs::ProjectEndpoint>,
}

/// The account an agent belongs to: `SUBSCRIPTION`, `LOCATION`, `ACCOUNT/PROJECT/AGENT`.
pub fn account_of(agent: &AgentRef) -> Option<&str> {
    agent.id.split('/').next()
}

/// Where an agent's account telemetry is kept.
pub fn telemetry_key(agent: &AgentRef) -> String {
    format!("{}/{}", agent.scope, account_of(agent).unwrap_or_default())
}

/// Every item of an ARM list, following `nextLink`.
async fn arm_list(client: &RestClient, first: url::Url) -> Result<Vec<Value>, RestError> {
    let mut all = Vec::new();
    let mut next = Some(first);
    while let Some(url) = next.take() {
        let page = client.json(Call::get("arm", url, ARM_SCOPE)).await?;
        all.extend(page["value"].as_array().cloned().unwrap_or_default());
        if let Some(link) = page["nextLink"].as_str().filter(|l| !l.is_empty()) {
            next = Some(url::Url::parse(link).map_err(|e| RestError::Parse {
                call: "arm nextLink".into(),
                reason: format!("{link:?} is not a URL: {e}"),
            })?);
        }
    }
    Ok(all)
}

/// One page of a data-plane list: `PAGE` items in `order`, after the cursor.
fn cursor_url(base: &url::Url, api_version: &str, order: &str, after: Option<&str>) -> url::Url {
    let mut url = base.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("api-version", api_version);
        q.append_pair("limit", &PAGE.to_string());
        q.append_pair("order", order);
        if let Some(a) = after {
            q.append_pair("after", a);
        }
    }
    url
}

/// Every item of a data-plane list (`data`, `has_more`, `last_id` → `after`).
async fn cursor_list(
    client: &RestClient,
    service: &str,
    base: &url::Url,
    api_version: &str,
) -> Result<Vec<Value>, RestError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let url = cursor_url(base, api_version, "asc", after.as_deref());
        let page = client.json(Call::get(service, url, FOUNDRY_SCOPE)).await?;
        let items = page["data"].as_array().cloned().unwrap_or_default();
        let more = page["has_more"].as_bool().unwrap_or(false);
        let last = page["last_id"].as_str().map(str::to_string).or_else(|| {
            items
                .last()
                .and_then(|i| i["id"].as_str().map(str::to_string))
        });
        all.extend(items);
        match (more, last) {
            (true, Some(l)) if after.as_deref() != Some(l.as_str()) => after = Some(l),
            (true, _) => {
                return Err(RestError::Parse {
                    call: format!("{service} {}", base.path()),
                    reason: "has_more without a new last_id: the list cannot go on".into(),
                });
            }
            (false, _) => return Ok(all),
        }
    }
}

pub async fn read(
    client: &RestClient,
    settings: &AzureSettings,
    known: &InventorySnapshot,
    now: Timestamp,
) -> AzureRead {
    let mut out = AzureRead::default();
    let mut accounts: Vec<(String, Value)> = Vec::new();
    for subscription in &settings.subscriptions {
        let url = match settings.arm(
            &format!(
                "/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/accounts"
            ),
            ARM_API,
        ) {
            Ok(u) => u,
            Err(e) => {
                out.failures.push(e.into());
                continue;
            }
        };
        match arm_list(client, url).await {
            Ok(list) => accounts.extend(
                list.into_iter()
                    .filter(|a| a["kind"] == "AIServices")
                    .map(|a| (subscription.clone(), a)),
            ),
            Err(e) => out.failures.push(rest_failure(
                format!("subscription {subscription}: accounts not listed"),
                &e,
            )),
        }
    }
    let reads = crate::rest::bounded(accounts, settings.concurrency, |(subscription, account)| {
        read_account(client, settings, subscription, account, known, now)
    })
    .await;
    for r in reads {
        out.observations.extend(r.observations);
        out.accounts += r.accounts;
        out.projects += r.projects;
        out.agents += r.agents;
        out.failures.extend(r.failures);
        out.telemetry.extend(r.telemetry);
        out.endpoints.extend(r.endpoints);
    }
    out
}

/// `deployment name → "MODEL VERSION (FORMAT)"`, and each deployment's RAI policy;
/// `listed` is false when the deployments could not be read.
struct Deployments {
    by_name: BTreeMap<String, (String, Option<String>)>,
    listed: bool,
}

impl Deployments {
    fn model(&self, deployment: &str, account: &str) -> String {
        match self.by_name.get(deployment) {
            Some((model, _)) => format!("{model} (deployment {deployment})"),
            None if self.listed => {
                format!("deployment {deployment} (not found in account {account})")
            }
            None => {
                format!("deployment {deployment} (the deployments of {account} could not be read)")
            }
        }
    }

    fn rai_policy(&self, deployment: &str) -> Option<String> {
        self.by_name.get(deployment).and_then(|(_, r)| r.clone())
    }
}

/// Every item of an ARM list under the account (or any resource id).
async fn list_under(
    client: &RestClient,
    settings: &AzureSettings,
    path: &str,
    api_version: &str,
) -> Result<Vec<Value>, RestError> {
    arm_list(client, settings.arm(path, api_version)?).await
}

/// One account being read: what its agents are read against.
struct Account<'a> {
    client: &'a RestClient,
    settings: &'a AzureSettings,
    subscription: &'a str,
    name: String,
    location: String,
    known: &'a InventorySnapshot,
    now: Timestamp,
}

/// What reading one account has gathered: the read itself, role definitions read once, and
/// agent identities' grants by principal (`None` when unread: agents of one blueprint or of
/// a project's shared identity hold the same ones).
struct AccountRead {
    out: AzureRead,
    telemetry: AccountTelemetry,
    definitions: BTreeMap<String, Value>,
    principal_grants: BTreeMap<String, Option<Vec<RoleGrant>>>,
}

impl AccountRead {
    fn fail(&mut self, account: &str, what: &str, e: RestError) {
        self.out
            .failures
            .push(rest_failure(format!("account {account}: {what}"), &e));
    }
}

/// What a project's agents share: its identity and that identity's grants (`None` unread).
struct ProjectScope<'a> {
    name: String,
    service: String,
    endpoint: url::Url,
    principal: Option<&'a str>,
    identity: Option<String>,
    grants: Option<Vec<RoleGrant>>,
}

impl ProjectScope<'_> {
    fn url(&self, path: &str) -> url::Url {
        let mut url = self.endpoint.clone();
        let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }
}

async fn read_account(
    client: &RestClient,
    settings: &AzureSettings,
    subscription: String,
    account: Value,
    known: &InventorySnapshot,
    now: Timestamp,
) -> AzureRead {
    let id = account["id"].as_str().unwrap_or_default().to_string();
    let at = Account {
        client,
        settings,
        subscription: &subscription,
        name: account["name"].as_str().unwrap_or_default().to_string(),
        location: account["location"].as_str().unwrap_or_default().to_string(),
        known,
        now,
    };
    let mut read = AccountRead {
        out: AzureRead {
            accounts: 1,
            ..AzureRead::default()
        },
        telemetry: AccountTelemetry {
            network_injection: account["properties"]["networkInjections"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|n| n["scenario"] == "agent")
                .and_then(|n| n["subnetArmId"].as_str().map(str::to_string)),
            ..AccountTelemetry::default()
        },
        definitions: BTreeMap::new(),
        principal_grants: BTreeMap::new(),
    };
    let deployments = read_deployments(&at, &id, &mut read).await;
    let rai_policies = read_rai_policies(&at, &id, &mut read).await;
    read_diagnostic_settings(&at, &id, &mut read).await;
    match list_under(client, settings, &format!("{id}/projects"), ARM_API).await {
        Ok(projects) => {
            for project in &projects {
                read_project(&at, project, (&deployments, &rai_policies), &mut read).await;
            }
        }
        Err(e) => read.fail(&at.name, "projects not listed", e),
    }
    let AccountRead {
        mut out, telemetry, ..
    } = read;
    out.telemetry
        .insert(format!("{subscription}/{}", at.name), telemetry);
    out
}

/// The account's deployments: the model and version each runs, and its content filter.
async fn read_deployments(at: &Account<'_>, id: &str, read: &mut AccountRead) -> Deployments {
    let path = format!("{id}/deployments");
    let by_name = match list_under(at.client, at.settings, &path, ARM_API).await {
        Ok(list) => list
            .iter()
            .filter_map(|d| {
                let model = &d["properties"]["model"];
                Some((
                    d["name"].as_str()?.to_string(),
                    (
                        format!(
                            "{} {} ({})",
                            model["name"].as_str().unwrap_or("?"),
                            model["version"].as_str().unwrap_or("unversioned"),
                            model["format"].as_str().unwrap_or("?")
                        ),
                        d["properties"]["raiPolicyName"]
                            .as_str()
                            .map(str::to_string),
                    ),
                ))
            })
            .collect(),
        Err(e) => {
            let what = "deployments not listed (agents' models stay deployment names)";
            read.fail(&at.name, what, e);
            return Deployments {
                by_name: BTreeMap::new(),
                listed: false,
            };
        }
    };
    Deployments {
        by_name,
        listed: true,
    }
}

/// What each content filter (RAI policy) of the account checks, for the agents' guardrails.
async fn read_rai_policies(
    at: &Account<'_>,
    id: &str,
    read: &mut AccountRead,
) -> BTreeMap<String, GuardrailConfig> {
    let path = format!("{id}/raiPolicies");
    match list_under(at.client, at.settings, &path, ARM_API).await {
        Ok(list) => list
            .iter()
            .filter_map(|p| {
                let name = p["name"].as_str()?;
                Some((name.to_string(), rai_policy(name, &p["properties"])))
            })
            .collect(),
        Err(e) => {
            let what = "RAI policies not read (what the guardrails filter is unknown)";
            read.fail(&at.name, what, e);
            BTreeMap::new()
        }
    }
}

/// Which log categories the account's diagnostic settings send, and where.
async fn read_diagnostic_settings(at: &Account<'_>, id: &str, read: &mut AccountRead) {
    let path = format!("{id}/providers/Microsoft.Insights/diagnosticSettings");
    let list = match list_under(at.client, at.settings, &path, DIAGNOSTICS_API).await {
        Ok(list) => list,
        Err(e) => return read.fail(&at.name, "diagnostic settings not read", e),
    };
    let mut categories = BTreeMap::new();
    for setting in &list {
        let props = &setting["properties"];
        let to = [
            "workspaceId",
            "storageAccountId",
            "eventHubAuthorizationRuleId",
            "marketplacePartnerId",
        ]
        .iter()
        .find_map(|k| props[*k].as_str())
        .unwrap_or("nowhere")
        .to_string();
        for log in props["logs"].as_array().into_iter().flatten() {
            if log["enabled"].as_bool() != Some(true) {
                continue;
            }
            let category = log["category"]
                .as_str()
                .or(log["categoryGroup"].as_str())
                .unwrap_or("?");
            categories.insert(category.to_string(), to.clone());
        }
    }
    read.telemetry.diagnostic_categories = Some(categories);
}

/// One project: whether it is traced, its identity's grants, and its agents (classic and
/// versioned) through its data plane; agents it no longer lists are marked deleted.
async fn read_project(
    at: &Account<'_>,
    project: &Value,
    (deployments, rai_policies): (&Deployments, &BTreeMap<String, GuardrailConfig>),
    read: &mut AccountRead,
) {
    read.out.projects += 1;
    let project_id = project["id"].as_str().unwrap_or_default();
    // `ACCOUNT/PROJECT` in ARM's `name`.
    let project_name = project["name"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let connections = format!("{project_id}/connections");
    match list_under(at.client, at.settings, &connections, ARM_API).await {
        Ok(connections) => {
            if connections
                .iter()
                .any(|c| c["properties"]["category"] == "AppInsights")
            {
                read.telemetry.traced_projects.insert(project_name.clone());
            }
        }
        Err(e) => read.fail(
            &at.name,
            &format!("project {project_name}: connections not read"),
            e,
        ),
    }
    let principal = project["identity"]["principalId"]
        .as_str()
        .filter(|p| !p.is_empty());
    // What the agents' identity may do across the subscription; `None` when unread.
    let grants = match principal {
        Some(p) => {
            let what = format!(
                "project {project_name}: role assignments of its managed identity not read"
            );
            grants_of(at, p, &what, read).await
        }
        None => None,
    };
    let Some(endpoint) = project["properties"]["endpoints"]["AI Foundry API"]
        .as_str()
        .and_then(|e| url::Url::parse(e).ok())
    else {
        read.out.failures.push(ConnectorError::failed(
            FailureClass::Malformed,
            format!("account {}, project {project_name}", at.name),
            "ARM gives no \"AI Foundry API\" endpoint; its agents are not read",
        ));
        return;
    };
    read.out.endpoints.push(logs::ProjectEndpoint {
        subscription: at.subscription.to_string(),
        location: at.location.clone(),
        account: at.name.clone(),
        project: project_name.clone(),
        endpoint: endpoint.clone(),
    });
    let scope = ProjectScope {
        service: format!("foundry {}/{project_name}", at.name),
        identity: principal
            .map(|p| format!("project {project_name} managed identity (principal {p})")),
        name: project_name,
        endpoint,
        principal,
        grants,
    };
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let mut complete = true;
    for list in [AgentList::Classic, AgentList::Versioned] {
        let (path, api_version, what, _) = list.endpoint();
        match cursor_list(at.client, &scope.service, &scope.url(path), api_version).await {
            Ok(items) => {
                for item in &items {
                    let ours = (deployments, rai_policies);
                    if let Some(id) = read_agent(at, &scope, list, item, ours, read).await {
                        listed.insert(id);
                    }
                }
            }
            Err(e) => {
                complete = false;
                let what = format!("project {}: {what} not listed", scope.name);
                read.fail(&at.name, &what, e);
            }
        }
    }
    if complete {
        mark_deleted(at, &scope.name, &listed, &mut read.out);
    }
}

/// The grants a principal holds in the subscription, `None` (and the failure said as `what`)
/// when its role assignments cannot be read.
async fn grants_of(
    at: &Account<'_>,
    principal: &str,
    what: &str,
    read: &mut AccountRead,
) -> Option<Vec<RoleGrant>> {
    let got = role_grants(
        at.client,
        at.settings,
        at.subscription,
        principal,
        &mut read.definitions,
    )
    .await;
    match got {
        Ok(g) => Some(g),
        Err(e) => {
            read.fail(&at.name, what, e);
            None
        }
    }
}

/// One listed agent into the inventory, with the identity it acts as and its older
/// versions; its id, when it is an agent.
async fn read_agent(
    at: &Account<'_>,
    scope: &ProjectScope<'_>,
    list: AgentList,
    item: &Value,
    (deployments, rai_policies): (&Deployments, &BTreeMap<String, GuardrailConfig>),
    read: &mut AccountRead,
) -> Option<String> {
    let (agent_id, platform, config) = list.config(item, deployments, &at.name)?;
    let agent = AgentRef {
        provider: Provider::Azure,
        scope: at.subscription.to_string(),
        location: at.location.clone(),
        id: format!("{}/{}/{agent_id}", at.name, scope.name),
        qualifier: None,
    };
    let (agent_role, agent_grants) = identity_of(at, scope, list, item, &agent_id, read).await;
    read.out.agents += 1;
    let settings = at.settings;
    if let Some(rai) = config
        .guardrail
        .as_ref()
        .and_then(|g| rai_policies.get(&g.id))
    {
        read.out.observations.push(Observation {
            time: at.now,
            agent: agent.clone(),
            fact: Fact::GuardrailConfig(rai.clone()),
            provenance: provenance(&settings.source, format!("arm:ListRaiPolicies {}", at.name)),
        });
    }
    let latest_version = config.version.clone();
    let (_, _, _, operation) = list.endpoint();
    push_agent(
        &mut read.out,
        settings,
        &agent,
        &format!("foundry:{operation} {}/{agent_id}", scope.name),
        at.now,
        &platform,
        item["name"].as_str(),
        (agent_role.as_deref(), agent_grants.as_ref()),
        VersionConfig {
            role: agent_role.clone(),
            ..config
        },
    );
    if list == AgentList::Versioned && latest_version != "1" {
        let versions = (agent_id.as_str(), latest_version.as_str(), agent_role);
        older_versions(at, scope, &agent, versions, deployments, read).await;
    }
    Some(agent.id)
}

/// The identity an agent acts as and its grants: a versioned agent's own Entra agent
/// identity (read once per principal) beside the project's, else the project's.
async fn identity_of(
    at: &Account<'_>,
    scope: &ProjectScope<'_>,
    list: AgentList,
    item: &Value,
    agent_id: &str,
    read: &mut AccountRead,
) -> (Option<String>, Option<Vec<RoleGrant>>) {
    let own = match list {
        AgentList::Versioned => AgentIdentity::of(item),
        AgentList::Classic => None,
    };
    let Some(own) = own else {
        return (scope.identity.clone(), scope.grants.clone());
    };
    let held = match read.principal_grants.get(&own.principal) {
        Some(known) => known.clone(),
        None => {
            let what = format!(
                "project {}: role assignments of agent {agent_id}'s agent identity not read",
                scope.name
            );
            let got = grants_of(at, &own.principal, &what, read).await;
            read.principal_grants
                .insert(own.principal.clone(), got.clone());
            got
        }
    };
    (
        Some(own.label.clone()),
        own.grants_with_project(
            held,
            scope.identity.as_deref().zip(scope.grants.as_ref()),
            scope.principal.is_some(),
        ),
    )
}

/// What ran before a versioned agent's latest version: each older version's configuration,
/// so a change of tools or model can be traced.
async fn older_versions(
    at: &Account<'_>,
    scope: &ProjectScope<'_>,
    agent: &AgentRef,
    (agent_id, latest_version, role): (&str, &str, Option<String>),
    deployments: &Deployments,
    read: &mut AccountRead,
) {
    let path = format!("agents/{agent_id}/versions");
    let versions = match cursor_list(at.client, &scope.service, &scope.url(&path), AGENTS_API).await
    {
        Ok(v) => v,
        Err(e) => {
            let what = format!(
                "project {}: older versions of agent {agent_id} not read",
                scope.name
            );
            return read.fail(&at.name, &what, e);
        }
    };
    for older in versions
        .iter()
        .filter(|v| v["version"].as_str() != Some(latest_version))
    {
        let (_, older_config) = version_config(older, Some(latest_version), deployments, &at.name);
        read.out.observations.push(Observation {
            time: at.now,
            agent: agent.clone(),
            fact: Fact::VersionConfig(VersionConfig {
                role: role.clone(),
                ..older_config
            }),
            provenance: provenance(
                &at.settings.source,
                format!("foundry:ListAgentVersions {}/{agent_id}", scope.name),
            ),
        });
    }
}

/// Agents the store knows in a project whose lists were read whole but no longer name them.
fn mark_deleted(at: &Account<'_>, project: &str, listed: &BTreeSet<String>, out: &mut AzureRead) {
    let prefix = format!("{}/{project}/", at.name);
    for gone in at.known.agents.iter().filter(|a| {
        a.agent.provider == Provider::Azure
            && a.agent.scope == at.subscription
            && a.agent.id.starts_with(&prefix)
            && a.deleted.is_none()
            && !listed.contains(&a.agent.id)
    }) {
        out.observations.push(Observation {
            time: at.now,
            agent: gone.agent.clone(),
            fact: Fact::AgentDeleted(format!(
                "{}: project {project} of {} no longer lists it",
                at.settings.source, at.name
            )),
            provenance: provenance(&at.settings.source, format!("foundry:ListAgents {project}")),
        });
    }
}

#[allow(clippy::too_many_arguments)]
fn push_agent(
    out: &mut AzureRead,
    settings: &AzureSettings,
    agent: &AgentRef,
    call: &str,
    now: Timestamp,
    platform: &str,
    name: Option<&str>,
    (identity, grants): (Option<&str>, Option<&Vec<RoleGrant>>),
    config: VersionConfig,
) {
    let mut push = |fact: Fact| {
        out.observations.push(Observation {
            time: now,
            agent: agent.clone(),
            fact,
            provenance: provenance(&settings.source, call.to_string()),
        })
    };
    push(Fact::Platform(platform.to_string()));
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        push(Fact::Name(n.to_string()));
    }
    if let Some(m) = &config.model {
        push(Fact::DeclaredModel(m.clone()));
    }
    if let Some(i) = identity {
        push(Fact::Role(i.to_string()));
    }
    if let Some(g) = grants {
        push(Fact::IdentityGrants(g.clone()));
    }
    push(Fact::VersionConfig(config));
}

/// An RAI policy as a guardrail: each content filter by kind with what it does to prompts
/// (input) and completions (output) — `BLOCK Medium`, `ANNOTATE`, `NONE` when disabled —
/// and custom blocklists as word filters. Jailbreak is a direct prompt attack; Indirect
/// Attack (text in documents and tool output that tries to instruct the model) is the
/// filter that screens what others write.
fn rai_policy(name: &str, properties: &Value) -> GuardrailConfig {
    let mut filters: BTreeMap<String, ContentFilter> = BTreeMap::new();
    for f in properties["contentFilters"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let label = f["name"].as_str().unwrap_or("unknown");
        let kind = match label.to_ascii_lowercase().as_str() {
            "jailbreak" => "JAILBREAK".to_string(),
            "indirect attack" => "INDIRECT_PROMPT_ATTACK".to_string(),
            "selfharm" | "self harm" | "self-harm" => "SELF_HARM".to_string(),
            other => other.replace([' ', '-'], "_").to_ascii_uppercase(),
        };
        let action = if f["enabled"].as_bool() == Some(false) {
            "NONE".to_string()
        } else if f["blocking"].as_bool() == Some(true) {
            match f["severityThreshold"].as_str() {
                Some(t) => format!("BLOCK {t}"),
                None => "BLOCK".to_string(),
            }
        } else {
            "ANNOTATE".to_string()
        };
        let entry = filters.entry(kind.clone()).or_insert(ContentFilter {
            kind,
            input: None,
            output: None,
        });
        match f["source"].as_str() {
            Some("Completion") => entry.output = Some(action),
            _ => entry.input = Some(action),
        }
    }
    GuardrailConfig {
        id: name.to_string(),
        version: RAI_VERSION.into(),
        name: Some(name.to_string()),
        status: properties["mode"].as_str().map(|m| format!("mode {m}")),
        content_filters: filters.into_values().collect(),
        word_filters: properties["customBlocklists"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| {
                Some(format!(
                    "blocklist {} ({}, {})",
                    b["blocklistName"].as_str()?,
                    b["source"].as_str().unwrap_or("Prompt"),
                    if b["blocking"].as_bool() == Some(true) {
                        "blocking"
                    } else {
                        "annotating"
                    }
                ))
            })
            .collect(),
        ..GuardrailConfig::default()
    }
}

/// A versioned agent's own Entra agent identity (`instance_identity`, with the blueprint
/// it was created from): what tools authenticating as the agent present.
struct AgentIdentity {
    principal: String,
    label: String,
}

impl AgentIdentity {
    fn of(agent: &Value) -> Option<Self> {
        let own = &agent["instance_identity"];
        let principal = own["principal_id"].as_str().filter(|p| !p.is_empty())?;
        let mut label = format!("agent identity {principal}");
        let mut about = Vec::new();
        if let Some(client) = own["client_id"].as_str().filter(|c| !c.is_empty()) {
            about.push(format!("client {client}"));
        }
        if let Some(blueprint) = agent["blueprint"]["principal_id"]
            .as_str()
            .filter(|b| !b.is_empty())
        {
            about.push(format!("blueprint {blueprint}"));
        }
        if let Some(status) = own["status"].as_str().filter(|s| *s != "active") {
            about.push(format!("{status}: Entra issues it no tokens"));
        }
        if !about.is_empty() {
            label.push_str(&format!(" ({})", about.join(", ")));
        }
        Some(Self {
            principal: principal.to_string(),
            label,
        })
    }

    /// What the agent may do: its agent identity's grants and, labelled apart, its
    /// project's managed identity's, which tools set to authenticate as the project still
    /// use (and published agents were reported to fall back to). `None` when either
    /// identity's assignments are unread.
    fn grants_with_project(
        &self,
        own: Option<Vec<RoleGrant>>,
        project: Option<(&str, &Vec<RoleGrant>)>,
        project_has_identity: bool,
    ) -> Option<Vec<RoleGrant>> {
        let own = own?;
        if project_has_identity && project.is_none() {
            return None;
        }
        let held_by = |grants: &[RoleGrant], holder: &str| -> Vec<RoleGrant> {
            grants
                .iter()
                .map(|g| RoleGrant {
                    holder: Some(holder.to_string()),
                    ..g.clone()
                })
                .collect()
        };
        let mut all = held_by(&own, &format!("its agent identity {}", self.principal));
        if let Some((name, grants)) = project {
            all.extend(held_by(grants, name));
        }
        Some(all)
    }
}

/// Every role assignment of `principal` in the subscription (at the subscription, its
/// resource groups and resources, every page), each joined to its role definition; a
/// definition is read once per account.
async fn role_grants(
    client: &RestClient,
    settings: &AzureSettings,
    subscription: &str,
    principal: &str,
    definitions: &mut BTreeMap<String, Value>,
) -> Result<Vec<RoleGrant>, RestError> {
    let mut url = settings.arm(
        &format!("/subscriptions/{subscription}/providers/Microsoft.Authorization/roleAssignments"),
        AUTHORIZATION_API,
    )?;
    url.query_pairs_mut()
        .append_pair("$filter", &format!("principalId eq '{principal}'"));
    let assignments = arm_list(client, url).await?;
    let mut out = Vec::with_capacity(assignments.len());
    for assignment in &assignments {
        let props = &assignment["properties"];
        let (Some(definition_id), Some(scope)) =
            (props["roleDefinitionId"].as_str(), props["scope"].as_str())
        else {
            return Err(RestError::Parse {
                call: format!("arm:ListRoleAssignments {principal}"),
                reason: format!(
                    "role assignment {} without roleDefinitionId or scope",
                    assignment["id"].as_str().unwrap_or("?")
                ),
            });
        };
        let definition = match definitions.get(definition_id) {
            Some(d) => d.clone(),
            None => {
                let read = client
                    .json(Call::get(
                        "arm",
                        settings.arm(definition_id, AUTHORIZATION_API)?,
                        ARM_SCOPE,
                    ))
                    .await?;
                definitions.insert(definition_id.to_string(), read.clone());
                read
            }
        };
        let permissions = &definition["properties"]["permissions"];
        let all = |key: &str| -> Vec<String> {
            let mut list: Vec<String> = permissions
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|p| p[key].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            list.sort();
            list.dedup();
            list
        };
        out.push(RoleGrant {
            role: definition["properties"]["roleName"]
                .as_str()
                .unwrap_or(definition_id)
                .to_string(),
            scope: scope.to_string(),
            actions: all("actions"),
            not_actions: all("notActions"),
            data_actions: all("dataActions"),
            not_data_actions: all("notDataActions"),
            condition: props["condition"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            holder: None,
        });
    }
    out.sort();
    Ok(out)
}

/// The tools of an assistant or prompt agent, one entry per tool (a function, an OpenAPI
/// operation, an MCP server, a built-in).
fn tools_of(tools: &Value) -> Vec<Tool> {
    let mut out: Vec<Tool> = tools
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let kind = t["type"].as_str().unwrap_or("unknown").to_string();
            let (name, executor, operations, schema) = match kind.as_str() {
                "function" => (
                    t["function"]["name"]
                        .as_str()
                        .unwrap_or("function")
                        .to_string(),
                    Some("the caller (returned for the client to run)".to_string()),
                    Vec::new(),
                    Some(t["function"]["parameters"].to_string()),
                ),
                "openapi" => {
                    let spec = t["openapi"]["spec"].to_string();
                    (
                        t["openapi"]["name"]
                            .as_str()
                            .unwrap_or("openapi")
                            .to_string(),
                        t["openapi"]["spec"]["servers"][0]["url"]
                            .as_str()
                            .map(str::to_string),
                        crate::openapi::openapi_operations(&spec).unwrap_or_default(),
                        Some(spec),
                    )
                }
                "mcp" => (
                    t["server_label"].as_str().unwrap_or("mcp").to_string(),
                    t["server_url"].as_str().map(str::to_string),
                    t["allowed_tools"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|n| n.as_str())
                        .map(|n| normalizer::inventory::ToolOperation {
                            name: n.to_string(),
                            detail: None,
                        })
                        .collect(),
                    None,
                ),
                other => (other.to_string(), None, Vec::new(), None),
            };
            Tool {
                name,
                kind: match kind.as_str() {
                    "function" | "openapi" | "mcp" => kind.clone(),
                    _ => "builtin".into(),
                },
                executor,
                signature: None,
                operations,
                state: None,
                schema_sha256: schema.map(|s| crate::recording::digest_of(&s)),
            }
        })
        .collect();
    out.sort();
    out
}

fn knowledge_of(resources: &Value) -> Vec<String> {
    let mut out: Vec<String> = resources["file_search"]["vector_store_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(|v| format!("vector store {v}")))
        .chain(
            resources["azure_ai_search"]["indexes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| {
                    format!(
                        "Azure AI Search index {} (connection {})",
                        i["index_name"].as_str().unwrap_or("?"),
                        i["index_connection_id"].as_str().unwrap_or("?")
                    )
                }),
        )
        .collect();
    out.sort();
    out
}

/// The two agent APIs of a Foundry project.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AgentList {
    /// `/assistants`, `api-version=v1`: one configuration per agent.
    Classic,
    /// `/agents`, `2025-11-15-preview`: named agents with versions; the latest is read.
    Versioned,
}

impl AgentList {
    /// Path under the project endpoint, api-version, the name used in messages, and the
    /// operation that answered (provenance).
    fn endpoint(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            AgentList::Classic => (
                "assistants",
                CLASSIC_API,
                "classic agents",
                "ListAgents(v1)",
            ),
            AgentList::Versioned => ("agents", AGENTS_API, "versioned agents", "ListAgents"),
        }
    }

    /// The agent's id, platform and configuration, from one list item.
    fn config(
        self,
        item: &Value,
        deployments: &Deployments,
        account: &str,
    ) -> Option<(String, String, VersionConfig)> {
        match self {
            AgentList::Classic => {
                let id = item["id"].as_str()?.to_string();
                let config = agent_config(item, "classic", None, None, deployments, account);
                Some((id, CLASSIC.to_string(), config))
            }
            AgentList::Versioned => {
                let id = item["name"].as_str().or(item["id"].as_str())?.to_string();
                let (kind, config) =
                    version_config(&item["versions"]["latest"], None, deployments, account);
                Some((id, format!("azure-foundry-{kind}-agent"), config))
            }
        }
    }
}

/// One version of a versioned agent (an `agent.version` object): its kind and
/// configuration; `superseded_by` names the latest when this one is older.
fn version_config(
    version: &Value,
    superseded_by: Option<&str>,
    deployments: &Deployments,
    account: &str,
) -> (String, VersionConfig) {
    let definition = &version["definition"];
    let kind = definition["kind"].as_str().unwrap_or("unknown").to_string();
    let mut status = match definition["image"].as_str() {
        Some(image) => format!("{kind} agent, image {image}"),
        None => format!("{kind} agent"),
    };
    if let Some(latest) = superseded_by {
        status.push_str(&format!(", superseded by version {latest}"));
    }
    let config = agent_config(
        definition,
        version["version"].as_str().unwrap_or("latest"),
        Some(status),
        definition["rai_config"]["rai_policy_name"].as_str(),
        deployments,
        account,
    );
    (kind, config)
}

/// A configuration as the model keeps it, from an assistant or a version's definition
/// (both name `model`, `instructions`, `tools`, `tool_resources`); the guardrail is the
/// agent's RAI policy, else its deployment's.
fn agent_config(
    definition: &Value,
    version: &str,
    status: Option<String>,
    rai_policy: Option<&str>,
    deployments: &Deployments,
    account: &str,
) -> VersionConfig {
    let deployment = definition["model"].as_str().unwrap_or_default();
    let rai = rai_policy
        .map(str::to_string)
        .or_else(|| deployments.rai_policy(deployment));
    VersionConfig {
        version: version.to_string(),
        status,
        model: (!deployment.is_empty()).then(|| deployments.model(deployment, account)),
        role: None,
        instruction_sha256: definition["instructions"]
            .as_str()
            .filter(|i| !i.is_empty())
            .map(crate::recording::digest_of),
        tools: tools_of(&definition["tools"]),
        knowledge_bases: knowledge_of(&definition["tool_resources"]),
        guardrail: rai.map(|id| Guardrail {
            id,
            version: Some(RAI_VERSION.into()),
        }),
        ..VersionConfig::default()
    }
}

/// What can be seen of a Foundry agent, layer by layer, from its account's settings.
/// The logs an azure-api source reads (`logging_api`): the source that scans them, and how
/// many days back runs are read.
pub struct LogsRead {
    pub source: String,
    pub days: u32,
    /// The agent's subscription's Activity Log was read by an earlier or this scan.
    pub activity_read: bool,
    /// The agent's project's runs were listed.
    pub runs_read: bool,
}

pub fn coverage(
    agent: &AgentRef,
    source: &str,
    platform: &str,
    telemetry: Option<&AccountTelemetry>,
    logs: Option<&LogsRead>,
    diagnostic_sources: &[String],
) -> Vec<Coverage> {
    let at = |layer: Layer, status: CoverageStatus| Coverage {
        agent: agent.clone(),
        layer,
        status,
    };
    let account = account_of(agent).unwrap_or("ACCOUNT");
    let project = agent.id.split('/').nth(1).unwrap_or("PROJECT");
    let mut out = vec![at(
        Layer::Kernel,
        CoverageStatus::Unavailable {
            reason: if platform.contains("hosted") {
                "a hosted agent's container runs on Microsoft-managed compute; no process telemetry of it is published".into()
            } else {
                "Foundry Agent Service runs agents on Microsoft-managed infrastructure: no process or file telemetry reaches the customer".into()
            },
        },
    )];
    out.push(at(
        Layer::Network,
        match telemetry.and_then(|t| t.network_injection.as_deref()) {
            Some(subnet) => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: agents' egress is injected into your subnet {subnet}, where VNet flow logs record it; agentward does not read flow logs"
                ),
                how_to_enable: "az network watcher flow-log create --vnet VNET --name agents-egress --storage-account ACCOUNT (on the subnet's VNet)".into(),
            },
            None => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: account {account} injects no network: agents' egress leaves from Microsoft's network, unrecorded"
                ),
                how_to_enable: "recreate the account with the standard agent setup and your own VNet (properties.networkInjections: [{scenario: agent, subnetArmId: SUBNET}]), then VNet flow logs".into(),
            },
        },
    ));
    let traced = telemetry.is_some_and(|t| t.traced_projects.contains(project));
    out.push(at(
        Layer::Prompt,
        CoverageStatus::AvailableIfEnabled {
            setting: if traced {
                format!(
                    "{source}: project {project} sends traces to Application Insights; prompts are in them only with content recording on, and agentward does not read them; RequestResponse logs carry no payload"
                )
            } else {
                format!(
                    "{source}: RequestResponse logs carry no prompt; project {project} has no Application Insights connection for Foundry tracing"
                )
            },
            how_to_enable: if traced {
                "set AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED=true in the agent's client and read the traces (no Azure setting is missing for tracing)".into()
            } else {
                format!("connect an Application Insights resource to project {project} (Foundry portal: Observability → Tracing), with content recording on")
            },
        },
    ));
    let tools = match logs {
        None => CoverageStatus::AvailableIfEnabled {
            setting: format!(
                "{source}: tool calls are in each thread's run steps (GET /threads/ID/runs/ID/steps) and in traces{}; this source does not read them",
                if traced { "" } else { " (not connected)" }
            ),
            how_to_enable: format!(
                "set logging_api = true on the azure-api source {source} to read the run steps of recent runs"
            ),
        },
        Some(read) if platform == CLASSIC && read.runs_read => CoverageStatus::Observed {
            via: format!(
                "{}: run steps of the runs of the last {} days read (threads created in that window); no tool call in them",
                read.source, read.days
            ),
        },
        Some(read) if platform == CLASSIC => CoverageStatus::AvailableIfEnabled {
            setting: format!(
                "{}: the runs of project {project} could not be listed (the scan summary says why)",
                read.source
            ),
            how_to_enable: format!("grant the scanner the Azure AI User role on project {project}"),
        },
        Some(read) => CoverageStatus::AvailableIfEnabled {
            setting: format!(
                "{}: run steps exist for classic agents only; a versioned agent's tool calls are in its traces{}",
                read.source,
                if traced {
                    ", which agentward does not read"
                } else {
                    " (no Application Insights connection)"
                }
            ),
            how_to_enable: format!(
                "connect an Application Insights resource to project {project} (Foundry portal: Observability → Tracing)"
            ),
        },
    };
    out.push(at(Layer::ToolInvocation, tools));
    let categories = telemetry.and_then(|t| t.diagnostic_categories.as_ref());
    let sent = |name: &str| {
        categories.and_then(|c| {
            c.get(name)
                .or_else(|| c.get("allLogs"))
                .or_else(|| (name == "Audit").then(|| c.get("audit")).flatten())
        })
    };
    out.push(at(
        Layer::IdentityApi,
        match (categories, sent("Audit"), sent("RequestResponse")) {
            (None, ..) => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: the diagnostic settings of {account} could not be read; Audit and RequestResponse logs are off unless a setting sends them"
                ),
                how_to_enable: format!("grant the scanner Microsoft.Insights/diagnosticSettings/read on {account}"),
            },
            (Some(_), Some(audit), Some(requests)) if diagnostic_sources.is_empty() => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: {account} sends Audit logs to {audit} and RequestResponse logs (caller object id, operation, status) to {requests}; no azure-diagnostic-logs source reads them"
                ),
                how_to_enable: "archive them to a storage account too (a diagnostic setting with storageAccountId), then add a source: kind = \"azure-diagnostic-logs\", url = \"az://insights-logs-requestresponse\"".into(),
            },
            (Some(_), Some(_), Some(_)) => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: {account} sends Audit and RequestResponse logs, yet the archives {} read hold no call attributable to this agent (no record through a deployment only it uses)",
                    diagnostic_sources.join(", ")
                ),
                how_to_enable: format!("check that a diagnostic setting of {account} archives to the storage account those sources read; calls through a deployment several agents share cannot be told apart"),
            },
            (Some(_), audit, requests) => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: no diagnostic setting of {account} sends {}: who called the agents is not recorded beyond the Activity Log's control-plane calls",
                    [("Audit", audit.is_none()), ("RequestResponse", requests.is_none())]
                        .iter()
                        .filter(|(_, missing)| *missing)
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                how_to_enable: format!(
                    "az monitor diagnostic-settings create --name agentward --resource ACCOUNT_ID --logs '[{{\"category\":\"Audit\",\"enabled\":true}},{{\"category\":\"RequestResponse\",\"enabled\":true}}]' --workspace WORKSPACE_ID (account {account})"
                ),
            },
        },
    ));
    out.push(at(
        Layer::Control,
        match logs {
            Some(read) if read.activity_read => CoverageStatus::Observed {
                via: format!(
                    "{}: Activity Log read (Microsoft.CognitiveServices, {} days back at first); no change to {account} or project {project} in it",
                    read.source, read.days
                ),
            },
            Some(read) => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{}: the Activity Log of subscription {} could not be read (the scan summary says why)",
                    read.source, agent.scope
                ),
                how_to_enable: format!("grant the scanner Microsoft.Insights/eventtypes/values/read (Reader) on subscription {}", agent.scope),
            },
            None => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: changes to {account} and its projects are in the Activity Log (always on, 90 days); this source does not read it, only the current configuration"
                ),
                how_to_enable: format!("set logging_api = true on the azure-api source {source} to read the Activity Log (no Azure setting is missing)"),
            },
        },
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_agent_identity_says_it_gets_no_tokens_and_an_agent_without_one_has_none() {
        let own = AgentIdentity::of(&serde_json::json!({
            "name": "router",
            "instance_identity": {"principal_id": "p-1", "client_id": "c-1", "status": "disabled"}
        }))
        .unwrap();
        assert_eq!(own.principal, "p-1");
        assert_eq!(
            own.label,
            "agent identity p-1 (client c-1, disabled: Entra issues it no tokens)"
        );
        assert!(AgentIdentity::of(&serde_json::json!({"name": "legacy"})).is_none());
        assert!(
            AgentIdentity::of(&serde_json::json!({"instance_identity": {"principal_id": ""}}))
                .is_none()
        );
        // The project identity's assignments unread: the agent's whole set is unknown.
        assert!(
            own.grants_with_project(Some(Vec::new()), None, true)
                .is_none()
        );
        assert_eq!(
            own.grants_with_project(Some(Vec::new()), None, false),
            Some(Vec::new())
        );
    }

    fn agent() -> AgentRef {
        AgentRef {
            provider: Provider::Azure,
            scope: "sub".into(),
            location: "swedencentral".into(),
            id: "acme-eu/research/asst_1".into(),
            qualifier: None,
        }
    }

    fn layer(telemetry: &AccountTelemetry, layer: Layer) -> String {
        coverage(&agent(), "foundry", CLASSIC, Some(telemetry), None, &[])
            .into_iter()
            .find(|c| c.layer == layer)
            .unwrap()
            .status
            .explanation()
    }

    #[test]
    fn network_injection_and_log_categories_decide_their_layers() {
        let mut t = AccountTelemetry {
            diagnostic_categories: Some(BTreeMap::new()),
            ..AccountTelemetry::default()
        };
        assert!(layer(&t, Layer::Network).contains("injects no network"));
        assert!(layer(&t, Layer::IdentityApi).contains("sends Audit or RequestResponse"));
        t.network_injection = Some("/subscriptions/s/virtualNetworks/v/subnets/agents".into());
        assert!(
            layer(&t, Layer::Network)
                .contains("into your subnet /subscriptions/s/virtualNetworks/v/subnets/agents")
        );
        // The `allLogs` category group sends every category, Audit and RequestResponse too.
        t.diagnostic_categories = Some([("allLogs".to_string(), "workspace w".to_string())].into());
        assert!(
            layer(&t, Layer::IdentityApi)
                .contains("sends Audit logs to workspace w and RequestResponse logs"),
            "{}",
            layer(&t, Layer::IdentityApi)
        );
        assert!(
            layer(&t, Layer::IdentityApi).contains("no azure-diagnostic-logs source reads them")
        );
        // With an archive read, the statement says what it did not show.
        let read = coverage(
            &agent(),
            "foundry",
            CLASSIC,
            Some(&t),
            None,
            &["diag".into()],
        )
        .into_iter()
        .find(|c| c.layer == Layer::IdentityApi)
        .unwrap()
        .status
        .explanation();
        assert!(
            read.contains("the archives diag read hold no call attributable to this agent"),
            "{read}"
        );
        t.diagnostic_categories = None;
        assert!(layer(&t, Layer::IdentityApi).contains("could not be read"));
    }

    #[test]
    fn a_model_is_its_deployment_joined_or_named_as_missing() {
        let mut deployments = Deployments {
            by_name: [(
                "prod".to_string(),
                ("gpt-4o 2024-11-20 (OpenAI)".to_string(), None),
            )]
            .into(),
            listed: true,
        };
        assert_eq!(
            deployments.model("prod", "acme"),
            "gpt-4o 2024-11-20 (OpenAI) (deployment prod)"
        );
        assert_eq!(
            deployments.model("gone", "acme"),
            "deployment gone (not found in account acme)"
        );
        deployments.listed = false;
        assert_eq!(
            deployments.model("gone", "acme"),
            "deployment gone (the deployments of acme could not be read)"
        );
    }
}
