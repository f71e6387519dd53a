//! Google Cloud: Vertex AI Agent Engine (`reasoningEngines`, aiplatform v1) read with
//! Application Default Credentials through `google-cloud-auth`, per project and location,
//! every page; the declared requirements each engine points at in Cloud Storage; and each
//! project's audit configuration (`getIamPolicy` → `auditConfigs`), for coverage.
//!
//! A reasoning engine's API record holds how the agent is packaged and deployed, never its
//! model, instructions or tools (they are in the agent's code): the inventory says so with
//! the reason instead of leaving blanks, and never invents them.

pub mod audit;
pub mod dialogflow;
pub mod logging;
pub mod source;

use crate::api_provenance as provenance;
use crate::failure::rest_failure;
use crate::rest::{Bearer, Call, RestClient, RestError};
use crate::{ConnectorError, FailureClass};
use normalizer::inventory::{EngineConfig, Fact, InventorySnapshot, Observation};
use normalizer::{AgentRef, Coverage, CoverageStatus, Layer, Provider, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The OAuth scope every call is made with.
pub const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// `Fact::Platform` of a reasoning engine.
pub const PLATFORM: &str = "vertex-ai-agent-engine";
/// Environment variables that switch telemetry on (their values are kept in recordings).
pub use crate::recording::TELEMETRY_SWITCHES as SWITCHES;

/// What no reasoning engine's record holds.
const STRUCTURAL: [&str; 3] = ["model:", "instructions:", "tools:"];
/// What the project's policies leave unknown, said once per project in the summary.
const PROJECT_WIDE: &str = "roles:";

/// Engines asked for per page (the API's maximum is larger; smaller pages keep each
/// answer small).
const PAGE_SIZE: u32 = 100;

/// Where and how to read.
#[derive(Debug, Clone)]
pub struct GcpSettings {
    /// The configured source name (provenance of every fact read).
    pub source: String,
    pub projects: Vec<String>,
    pub locations: Vec<String>,
    /// A base URL to use instead of every `*.googleapis.com` host (a test server, a
    /// Private Service Connect endpoint).
    pub endpoint: Option<String>,
    /// Projects read at once.
    pub concurrency: usize,
}

impl GcpSettings {
    fn base(&self, host: &str) -> String {
        match &self.endpoint {
            Some(e) => e.trim_end_matches('/').to_string(),
            None => format!("https://{host}"),
        }
    }

    fn url(&self, host: &str, path: &str) -> Result<url::Url, RestError> {
        let text = format!("{}{path}", self.base(host));
        url::Url::parse(&text).map_err(|e| RestError::Transport {
            call: text.clone(),
            reason: format!("not a URL: {e}"),
        })
    }
}

/// Application Default Credentials, as `google-cloud-auth` finds them: the file named by
/// `GOOGLE_APPLICATION_CREDENTIALS` (service-account key, user credentials, workload
/// identity federation), gcloud's application-default login, else the metadata server.
pub struct GoogleAdc {
    credentials: google_cloud_auth::credentials::AccessTokenCredentials,
    described: String,
}

impl GoogleAdc {
    pub fn from_environment() -> Result<GoogleAdc, ConnectorError> {
        crate::rest::use_ring_for_tls();
        let credentials = google_cloud_auth::credentials::Builder::default()
            .with_scopes([CLOUD_PLATFORM])
            .build_access_token_credentials()
            .map_err(|e| {
                let chain = crate::rest::error_chain(&e);
                ConnectorError::failed(FailureClass::Auth, "no Google credentials", chain)
            })?;
        Ok(GoogleAdc {
            credentials,
            described: describe_adc(),
        })
    }
}

/// Which credential ADC will use, from the file's `type` (never its secrets).
fn describe_adc() -> String {
    let file = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| {
                std::path::Path::new(&h).join(".config/gcloud/application_default_credentials.json")
            })
        })
        .filter(|p| p.exists());
    match file {
        Some(path) => {
            let kind = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
                .unwrap_or_else(|| "unknown type".into());
            format!(
                "Application Default Credentials: {kind} from {}",
                path.display()
            )
        }
        None => "Application Default Credentials: the metadata server".into(),
    }
}

#[async_trait::async_trait]
impl Bearer for GoogleAdc {
    async fn token(&self, _audience: &str) -> Result<String, ConnectorError> {
        self.credentials
            .access_token()
            .await
            .map(|t| t.token)
            .map_err(|e| {
                ConnectorError::from_text(FailureClass::Auth, &crate::rest::error_chain(&e))
            })
    }

    fn describe(&self) -> String {
        self.described.clone()
    }
}

/// Data Access audit logging of Vertex AI in one project, as its IAM policy's
/// `auditConfigs` say (Admin Activity logs are always on and cannot be turned off).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataAccessLogs {
    /// Log types on for aiplatform.googleapis.com, directly or through `allServices`.
    pub log_types: BTreeSet<String>,
    /// Principals exempted from them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exempted: Vec<String>,
    /// Log types set by a folder or the organization (`DATA_WRITE from folders/123`):
    /// audit configuration is inherited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherited: Vec<String>,
    /// Ancestors whose policy could not be read, with the reason: logs they turn on are
    /// unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ancestors_unread: Vec<String>,
}

impl DataAccessLogs {
    /// Queries and stream queries are data reads and writes: both types are needed.
    pub fn records_invocations(&self) -> bool {
        self.log_types.contains("DATA_READ") && self.log_types.contains("DATA_WRITE")
    }
}

/// What was read of one project, kept for coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectTelemetry {
    /// `None` when the policy could not be read (the failure is in the scan summary).
    pub data_access: Option<DataAccessLogs>,
}

/// Request-response logging of one publisher model in one project and location
/// (`fetchPublisherModelConfig`): where prompts and responses of calls to it are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ModelLogging {
    On {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sampling_rate: Option<f64>,
        /// `bq://PROJECT.DATASET.TABLE`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        destination: Option<String>,
    },
    Off,
    /// The call failed; Google's reason, and its class (absent in states stored before
    /// failures were classed).
    Unreadable {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        class: Option<FailureClass>,
    },
}

impl ModelLogging {
    fn unreadable(e: &RestError) -> Self {
        ModelLogging::Unreadable {
            reason: e.to_string(),
            class: Some(e.class()),
        }
    }
}

/// The key of a model's logging state: `PROJECT/LOCATION/MODEL`.
pub fn model_key(project: &str, location: &str, model: &str) -> String {
    format!("{project}/{location}/{model}")
}

/// Request-response logging of each (project, location, publisher model): the models the
/// engines were seen calling, in the engines' projects and locations. Publisher models only
/// (`gemini-2.5-flash`, not `endpoints/…`); a call that fails is kept as the reason.
pub async fn read_model_logging(
    client: &RestClient,
    settings: &GcpSettings,
    models: BTreeSet<(String, String, String)>,
) -> BTreeMap<String, ModelLogging> {
    let models: Vec<(String, String, String)> = models
        .into_iter()
        .filter(|(.., m)| !m.contains('/'))
        .collect();
    let read = crate::rest::bounded(models, settings.concurrency, |(project, location, model)| async move {
        let state = match settings.url(
            &format!("{location}-aiplatform.googleapis.com"),
            &format!("/v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}:fetchPublisherModelConfig"),
        ) {
            Ok(url) => match client.json(Call::get("aiplatform", url, CLOUD_PLATFORM)).await {
                Ok(config) => match config.get("loggingConfig") {
                    Some(logging) if logging.get("enabled").and_then(Value::as_bool) == Some(true) => {
                        ModelLogging::On {
                            sampling_rate: logging.get("samplingRate").and_then(Value::as_f64),
                            destination: logging
                                .pointer("/bigqueryDestination/outputUri")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                        }
                    }
                    _ => ModelLogging::Off,
                },
                Err(e) => ModelLogging::unreadable(&e),
            },
            Err(e) => ModelLogging::unreadable(&e),
        };
        (model_key(&project, &location, &model), state)
    })
    .await;
    read.into_iter().collect()
}

/// What reading the projects produced.
#[derive(Debug, Default)]
pub struct GcpRead {
    pub observations: Vec<Observation>,
    pub engines: usize,
    /// Each call that failed, with the project and location: the rest is still read.
    pub failures: Vec<ConnectorError>,
    /// What the API does not say, per engine.
    pub unresolved: Vec<String>,
    pub projects: BTreeMap<String, ProjectTelemetry>,
    /// Conversational Agents (Dialogflow CX) read, with each one's logging settings.
    pub dialogflow_agents: usize,
    pub dialogflow_logging: BTreeMap<String, dialogflow::AgentLogging>,
    /// Projects where the Dialogflow API is off: said, not failures.
    pub notes: Vec<String>,
}

impl GcpRead {
    fn absorb(&mut self, other: GcpRead) {
        self.observations.extend(other.observations);
        self.engines += other.engines;
        self.failures.extend(other.failures);
        self.unresolved.extend(other.unresolved);
        self.projects.extend(other.projects);
        self.dialogflow_agents += other.dialogflow_agents;
        self.dialogflow_logging.extend(other.dialogflow_logging);
        self.notes.extend(other.notes);
    }
}

/// Reads every configured project, `settings.concurrency` at once.
pub async fn read(
    client: &RestClient,
    settings: &GcpSettings,
    known: &InventorySnapshot,
    now: Timestamp,
) -> GcpRead {
    let reads = crate::rest::bounded(settings.projects.clone(), settings.concurrency, |p| {
        read_project(client, settings, p, known, now)
    })
    .await;
    let mut out = GcpRead::default();
    for r in reads {
        out.absorb(r);
    }
    out
}

async fn read_project(
    client: &RestClient,
    settings: &GcpSettings,
    project: String,
    known: &InventorySnapshot,
    now: Timestamp,
) -> GcpRead {
    let mut out = GcpRead::default();
    // Each engine read, with its resource name; its facts are pushed once the project's
    // policy says which roles its identity holds.
    let mut read: Vec<(AgentRef, String, Option<String>, EngineConfig)> = Vec::new();
    for location in &settings.locations {
        let engines = match list_engines(client, settings, &project, location).await {
            Ok(engines) => engines,
            Err(e) => {
                out.failures.push(rest_failure(
                    format!("project {project}, {location}: reasoning engines not listed"),
                    &e,
                ));
                continue;
            }
        };
        let listed_call =
            format!("aiplatform:ListReasoningEngines projects/{project}/locations/{location}");
        let mut listed: BTreeSet<String> = BTreeSet::new();
        for engine in &engines {
            let Some(name) = engine.get("name").and_then(|n| n.as_str()) else {
                out.failures.push(ConnectorError::failed(
                    FailureClass::Malformed,
                    format!("project {project}, {location}"),
                    "a reasoning engine without a name in the answer; not inventoried",
                ));
                continue;
            };
            let Some(id) = name.rsplit('/').next().filter(|i| !i.is_empty()) else {
                continue;
            };
            listed.insert(id.to_string());
            out.engines += 1;
            let mut config = engine_config(engine);
            if let Some(uri) = engine
                .pointer("/spec/packageSpec/requirementsGcsUri")
                .and_then(|u| u.as_str())
                .filter(|u| !u.is_empty())
            {
                match read_requirements(client, settings, uri).await {
                    Ok(lines) => config.requirements = lines,
                    Err(e) => config
                        .unresolved
                        .push(format!("requirements: {uri} could not be read: {e}")),
                }
            }
            match memory_bank(client, settings, name, location).await {
                Ok(memory) => config.memory = memory,
                Err(e) => config.unresolved.push(format!(
                    "memory bank: its memories could not be listed: {e}"
                )),
            }
            let agent = AgentRef {
                provider: Provider::Gcp,
                scope: project.clone(),
                location: location.clone(),
                id: id.to_string(),
                qualifier: None,
            };
            let display = engine
                .get("displayName")
                .and_then(|n| n.as_str())
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            read.push((agent, name.to_string(), display, config));
        }
        // What this location held before and the API no longer lists is gone.
        for gone in known.agents.iter().filter(|a| {
            a.agent.provider == Provider::Gcp
                && a.agent.scope == project
                && &a.agent.location == location
                && a.deleted.is_none()
                && a.platform.as_ref().is_some_and(|p| p.value == PLATFORM)
                && !listed.contains(&a.agent.id)
        }) {
            out.observations.push(Observation {
                time: now,
                agent: gone.agent.clone(),
                fact: Fact::AgentDeleted(format!(
                    "{}: the aiplatform API no longer lists reasoning engine {} in {project}/{location}",
                    settings.source, gone.agent.id
                )),
                provenance: provenance(&settings.source, listed_call.clone()),
            });
        }
    }
    let service_accounts: BTreeSet<String> = read
        .iter()
        .map(|(.., c)| c.service_account.clone())
        .collect();
    let policy = audit_and_roles(client, settings, &project, &service_accounts).await;
    let (telemetry, policies) = match policy {
        Ok(mut policies) => (
            ProjectTelemetry {
                data_access: Some(std::mem::take(&mut policies.data_access)),
            },
            policies,
        ),
        Err(e) => {
            out.failures.push(rest_failure(
                format!("project {project}: IAM policy not read"),
                &e,
            ));
            for (.., config) in &mut read {
                config.unresolved.push(format!(
                    "project roles: the IAM policy of {project} could not be read"
                ));
            }
            (ProjectTelemetry::default(), ProjectPolicies::default())
        }
    };
    out.unresolved.extend(
        policies
            .unreadable
            .iter()
            .map(|u| format!("{project}: {PROJECT_WIDE} {u}")),
    );
    for (agent, name, display, mut config) in read {
        let roles = |of: &RolesOf| -> Vec<String> {
            of.get(&config.service_account)
                .map(|r| r.iter().cloned().collect())
                .unwrap_or_default()
        };
        config.project_roles = roles(&policies.roles_of);
        config.inherited_roles = roles(&policies.inherited_of);
        config.recommendations = policies
            .recommendations
            .get(&config.service_account)
            .cloned()
            .unwrap_or_default();
        config
            .unresolved
            .extend(policies.unreadable.iter().map(|u| format!("roles: {u}")));
        // Model, instructions and tools are missing from every engine's record (said
        // once, in the inventory); what else could not be resolved is this engine's.
        out.unresolved.extend(
            config
                .unresolved
                .iter()
                .filter(|u| {
                    !STRUCTURAL.iter().any(|s| u.starts_with(s)) && !u.starts_with(PROJECT_WIDE)
                })
                .map(|u| format!("{project}/{}/{}: {u}", agent.location, agent.id)),
        );
        let call = format!("aiplatform:GetReasoningEngine {name}");
        let mut push = |fact: Fact| {
            out.observations.push(Observation {
                time: now,
                agent: agent.clone(),
                fact,
                provenance: provenance(&settings.source, call.clone()),
            })
        };
        push(Fact::Platform(PLATFORM.into()));
        if let Some(n) = display {
            push(Fact::Name(n));
        }
        push(Fact::Role(config.service_account.clone()));
        push(Fact::EngineConfig(config));
    }
    // Conversational Agents live in the same locations, and often in `global`.
    let mut locations = settings.locations.clone();
    if !locations.iter().any(|l| l == "global") {
        locations.push("global".into());
    }
    let conversational =
        dialogflow::read_project(client, settings, &project, &locations, known, now).await;
    out.observations.extend(conversational.observations);
    out.dialogflow_agents += conversational.agents;
    out.failures.extend(conversational.failures);
    out.notes.extend(conversational.not_enabled);
    out.dialogflow_logging.extend(conversational.logging);
    out.projects.insert(project, telemetry);
    out
}

/// Every reasoning engine of one project and location, following `nextPageToken`.
async fn list_engines(
    client: &RestClient,
    settings: &GcpSettings,
    project: &str,
    location: &str,
) -> Result<Vec<Value>, RestError> {
    let mut first = settings.url(
        &format!("{location}-aiplatform.googleapis.com"),
        &format!("/v1/projects/{project}/locations/{location}/reasoningEngines"),
    )?;
    first
        .query_pairs_mut()
        .append_pair("pageSize", &PAGE_SIZE.to_string());
    let (engines, _) =
        google_list(client, "aiplatform", first, "reasoningEngines", usize::MAX).await?;
    Ok(engines)
}

/// Every item under `key` of a Google list API, following `nextPageToken` for at most
/// `max_pages` pages; `true` with them when pages remained unread.
async fn google_list(
    client: &RestClient,
    service: &str,
    first: url::Url,
    key: &str,
    max_pages: usize,
) -> Result<(Vec<Value>, bool), RestError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..max_pages {
        let mut url = first.clone();
        if let Some(t) = &token {
            url.query_pairs_mut().append_pair("pageToken", t);
        }
        let page = client.json(Call::get(service, url, CLOUD_PLATFORM)).await?;
        if let Some(items) = page.get(key).and_then(Value::as_array) {
            all.extend(items.iter().cloned());
        }
        match page
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            Some(next) => token = Some(next.to_string()),
            None => return Ok((all, false)),
        }
    }
    Ok((all, true))
}

/// The engine's deployment as the model keeps it: names of variables, never values.
pub fn engine_config(engine: &Value) -> EngineConfig {
    let spec = engine.get("spec").cloned().unwrap_or(Value::Null);
    let text = |v: Option<&Value>| {
        v.and_then(|x| x.as_str())
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    let mut unresolved = vec![
        "model: the reasoningEngines API has no model field; the model is chosen in the agent's code".to_string(),
        "instructions: the reasoningEngines API has no instructions field; they are in the agent's code".to_string(),
        "tools: the reasoningEngines API has no tools field (classMethods are the methods callers invoke, not the agent's tools)".to_string(),
    ];
    let agent_identity = text(spec.get("identityType")).as_deref() == Some("AGENT_IDENTITY");
    let (service_account, defaulted) = match text(spec.get("serviceAccount")) {
        Some(sa) => (sa, false),
        // The engine's own identity: `principal://agents.global.org-…/…/reasoningEngines/ID`,
        // the member IAM bindings name and audit logs record as principalSubject.
        None if agent_identity => match text(spec.get("effectiveIdentity")) {
            Some(principal) => (principal, false),
            None => {
                unresolved.push(
                    "identity: the engine runs as its own agent identity, and the API did not return its principal (spec.effectiveIdentity)".into(),
                );
                (
                    format!(
                        "agent identity of reasoning engine {}",
                        engine
                            .get("name")
                            .and_then(|n| n.as_str())
                            .and_then(|n| n.rsplit('/').next())
                            .unwrap_or("?")
                    ),
                    false,
                )
            }
        },
        None => {
            // `projects/NUMBER/locations/…`: the service agent is named by the number.
            let number = engine
                .get("name")
                .and_then(|n| n.as_str())
                .and_then(|n| n.split('/').nth(1))
                .unwrap_or("PROJECT_NUMBER");
            (
                format!("service-{number}@gcp-sa-aiplatform-re.iam.gserviceaccount.com"),
                true,
            )
        }
    };
    let package = spec.get("packageSpec");
    let source = spec.get("sourceCodeSpec");
    let python = source.and_then(|s| s.get("pythonSpec"));
    let artifact = match (package, python) {
        (Some(p), _) if text(p.get("pickleObjectGcsUri")).is_some() => Some(format!(
            "pickled object {}",
            text(p.get("pickleObjectGcsUri")).unwrap_or_default()
        )),
        (_, Some(py)) => Some(format!(
            "source code ({}.{})",
            text(py.get("entrypointModule")).unwrap_or_else(|| "agent".into()),
            text(py.get("entrypointObject")).unwrap_or_else(|| "root_agent".into())
        )),
        (_, None) if source.is_some() => Some("source code".into()),
        _ => None,
    };
    let python_version = package
        .and_then(|p| text(p.get("pythonVersion")))
        .or_else(|| python.and_then(|py| text(py.get("version"))));
    if package
        .and_then(|p| text(p.get("requirementsGcsUri")))
        .is_none()
    {
        unresolved.push(match source {
            Some(_) => format!(
                "requirements: in {} inside the uploaded source archive, which the API does not return (input only)",
                python
                    .and_then(|py| text(py.get("requirementsFile")))
                    .unwrap_or_else(|| "requirements.txt".into())
            ),
            None => "requirements: the engine names no requirements file".into(),
        });
    }
    let deployment = spec.get("deploymentSpec");
    let list = |field: &str| -> Vec<Value> {
        deployment
            .and_then(|d| d.get(field))
            .and_then(|e| e.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let mut environment: Vec<String> = list("env")
        .iter()
        .filter_map(|e| text(e.get("name")))
        .collect();
    environment.sort();
    let mut switches: Vec<String> = list("env")
        .iter()
        .filter_map(|e| {
            let name = text(e.get("name"))?;
            SWITCHES
                .contains(&name.as_str())
                .then(|| format!("{name}={}", text(e.get("value")).unwrap_or_default()))
        })
        .collect();
    switches.sort();
    let mut secret_environment: Vec<String> = list("secretEnv")
        .iter()
        .filter_map(|e| {
            let name = text(e.get("name"))?;
            let secret = text(e.pointer("/secretRef/secret")).unwrap_or_else(|| "?".into());
            Some(match text(e.pointer("/secretRef/version")) {
                Some(v) => format!("{name} from {secret} (version {v})"),
                None => format!("{name} from {secret} (latest)"),
            })
        })
        .collect();
    secret_environment.sort();
    let mut class_methods: Vec<String> = spec
        .get("classMethods")
        .and_then(|m| m.as_array())
        .map(|methods| methods.iter().filter_map(|m| text(m.get("name"))).collect())
        .unwrap_or_default();
    class_methods.sort();
    class_methods.dedup();
    EngineConfig {
        framework: text(spec.get("agentFramework")),
        service_account,
        service_account_defaulted: defaulted,
        artifact,
        python_version,
        requirements: Vec::new(),
        environment,
        switches,
        secret_environment,
        psc_network_attachment: deployment
            .and_then(|d| text(d.pointer("/pscInterfaceConfig/networkAttachment"))),
        project_roles: Vec::new(),
        inherited_roles: Vec::new(),
        recommendations: Vec::new(),
        memory: None,
        class_methods,
        unresolved,
    }
}

/// Pages of memories read per engine: enough to say how much it keeps and for whom.
const MEMORY_PAGES: usize = 10;

/// What an engine's Memory Bank keeps (v1beta1 `memories`): how many memories, the scope
/// keys they are kept under, and whether they expire — never a memory's text. `None` when
/// it keeps none.
async fn memory_bank(
    client: &RestClient,
    settings: &GcpSettings,
    engine: &str,
    location: &str,
) -> Result<Option<String>, RestError> {
    let mut first = settings.url(
        &format!("{location}-aiplatform.googleapis.com"),
        &format!("/v1beta1/{engine}/memories"),
    )?;
    first
        .query_pairs_mut()
        .append_pair("pageSize", &PAGE_SIZE.to_string());
    let (memories, truncated) =
        google_list(client, "aiplatform", first, "memories", MEMORY_PAGES).await?;
    let count = memories.len();
    let scopes: BTreeSet<String> = memories
        .iter()
        .filter_map(|m| m.get("scope").and_then(Value::as_object))
        .flat_map(|scope| scope.keys().cloned())
        .collect();
    let expiring = memories
        .iter()
        .filter(|m| m.get("expireTime").is_some() || m.get("ttl").is_some())
        .count();
    if count == 0 {
        return Ok(None);
    }
    let mut line = format!(
        "Memory Bank: {}{} memories",
        if truncated { "at least " } else { "" },
        normalizer::thousands(count as u64)
    );
    if !scopes.is_empty() {
        line.push_str(&format!(
            " kept per {}",
            scopes.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    line.push_str(&match expiring {
        0 => ", none expiring".to_string(),
        n if n == count => ", all expiring".to_string(),
        n => format!(", {n} expiring"),
    });
    Ok(Some(line))
}

/// `gs://bucket/path` → its requirement specifiers (comments, options and blank lines
/// left out).
async fn read_requirements(
    client: &RestClient,
    settings: &GcpSettings,
    uri: &str,
) -> Result<Vec<String>, RestError> {
    let not_gcs = || RestError::Transport {
        call: uri.to_string(),
        reason: "not a gs://BUCKET/OBJECT URI".into(),
    };
    let (bucket, object) = uri
        .strip_prefix("gs://")
        .and_then(|r| r.split_once('/'))
        .filter(|(b, o)| !b.is_empty() && !o.is_empty())
        .ok_or_else(not_gcs)?;
    let mut url = settings.url("storage.googleapis.com", "/storage/v1")?;
    url.path_segments_mut()
        .map_err(|_| not_gcs())?
        .extend(["b", bucket, "o", object]);
    url.query_pairs_mut().append_pair("alt", "media");
    let text = client
        .text(&Call::get("storage", url, CLOUD_PLATFORM))
        .await?;
    Ok(parse_requirements(&text))
}

pub fn parse_requirements(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or(l).trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('-'))
        .map(str::to_string)
        .collect()
}

/// Roles granted per service account.
type RolesOf = BTreeMap<String, BTreeSet<String>>;

/// What the IAM policies say of one project: its Data Access logging and the roles its
/// engines' identities hold there, then through its folders and organization (inherited;
/// an ancestor that cannot be read is named, not fatal), and Google's recommendations for
/// those identities.
async fn audit_and_roles(
    client: &RestClient,
    settings: &GcpSettings,
    project: &str,
    service_accounts: &BTreeSet<String>,
) -> Result<ProjectPolicies, RestError> {
    let policy = policy_of(client, settings, &format!("projects/{project}")).await?;
    let mut out = ProjectPolicies::default();
    audit_config(&policy, &mut out.data_access, None);
    roles_in(&policy, service_accounts, None, &mut out.roles_of);
    match ancestors(client, settings, project).await {
        Ok(list) => {
            for ancestor in list {
                match policy_of(client, settings, &ancestor).await {
                    Ok(policy) => {
                        audit_config(&policy, &mut out.data_access, Some(&ancestor));
                        roles_in(
                            &policy,
                            service_accounts,
                            Some(&ancestor),
                            &mut out.inherited_of,
                        );
                    }
                    Err(e) => {
                        out.data_access
                            .ancestors_unread
                            .push(format!("{ancestor}: {e}"));
                        out.unreadable.push(format!(
                            "the IAM policy of {ancestor} could not be read: {e}"
                        ));
                    }
                }
            }
        }
        Err(e) => {
            out.data_access
                .ancestors_unread
                .push(format!("the project's folders and organization: {e}"));
            out.unreadable.push(format!(
                "the project's ancestry (folders, organization) could not be read: {e}"
            ));
        }
    }
    out.data_access.exempted.sort();
    out.data_access.exempted.dedup();
    match recommendations(client, settings, project, service_accounts).await {
        Ok(r) => out.recommendations = r,
        Err(e) => out
            .unreadable
            .push(format!("IAM Recommender could not be read: {e}")),
    }
    Ok(out)
}

/// What the IAM policies of a project and its ancestors said.
#[derive(Debug, Default)]
struct ProjectPolicies {
    data_access: DataAccessLogs,
    roles_of: RolesOf,
    inherited_of: RolesOf,
    recommendations: BTreeMap<String, Vec<String>>,
    /// Ancestors' policies or the recommender that could not be read: the engines' roles
    /// may be incomplete.
    unreadable: Vec<String>,
}

/// The IAM policy (version 3) of `projects/P`, `folders/F` or `organizations/O`.
async fn policy_of(
    client: &RestClient,
    settings: &GcpSettings,
    resource: &str,
) -> Result<Value, RestError> {
    // Projects through v1, folders and organizations through v3, as their references give.
    let version = if resource.starts_with("projects/") {
        "v1"
    } else {
        "v3"
    };
    let url = settings.url(
        "cloudresourcemanager.googleapis.com",
        &format!("/{version}/{resource}:getIamPolicy"),
    )?;
    client
        .json(Call::post(
            "cloudresourcemanager",
            url,
            CLOUD_PLATFORM,
            serde_json::json!({"options": {"requestedPolicyVersion": 3}}),
        ))
        .await
}

/// The project's folders, nearest first, then its organization (`folders/F`,
/// `organizations/O`).
async fn ancestors(
    client: &RestClient,
    settings: &GcpSettings,
    project: &str,
) -> Result<Vec<String>, RestError> {
    let url = settings.url(
        "cloudresourcemanager.googleapis.com",
        &format!("/v1/projects/{project}:getAncestry"),
    )?;
    let answer = client
        .json(Call::post(
            "cloudresourcemanager",
            url,
            CLOUD_PLATFORM,
            serde_json::json!({}),
        ))
        .await?;
    Ok(answer
        .get("ancestor")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let id = a.pointer("/resourceId/id").and_then(Value::as_str)?;
            match a.pointer("/resourceId/type").and_then(Value::as_str)? {
                "folder" => Some(format!("folders/{id}")),
                "organization" => Some(format!("organizations/{id}")),
                _ => None,
            }
        })
        .collect())
}

/// Adds a policy's `auditConfigs` for Vertex AI (its own or `allServices`) to `into`;
/// `from` names the ancestor that set them.
fn audit_config(policy: &Value, into: &mut DataAccessLogs, from: Option<&str>) {
    for config in policy
        .get("auditConfigs")
        .and_then(|a| a.as_array())
        .into_iter()
        .flatten()
    {
        let service = config.get("service").and_then(|s| s.as_str()).unwrap_or("");
        if service != "allServices" && service != "aiplatform.googleapis.com" {
            continue;
        }
        for log in config
            .get("auditLogConfigs")
            .and_then(|l| l.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(kind) = log.get("logType").and_then(|t| t.as_str()) {
                into.log_types.insert(kind.to_string());
                if let Some(ancestor) = from {
                    into.inherited.push(format!("{kind} from {ancestor}"));
                }
            }
            into.exempted.extend(
                log.get("exemptedMembers")
                    .and_then(|m| m.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str().map(str::to_string)),
            );
        }
    }
}

/// The roles a policy grants each of `service_accounts`; `(conditional)` marks a binding a
/// condition limits, `(from ANCESTOR)` one inherited.
fn roles_in(
    policy: &Value,
    service_accounts: &BTreeSet<String>,
    from: Option<&str>,
    into: &mut RolesOf,
) {
    for binding in policy
        .get("bindings")
        .and_then(|b| b.as_array())
        .into_iter()
        .flatten()
    {
        let Some(role) = binding.get("role").and_then(|r| r.as_str()) else {
            continue;
        };
        let mut label = role.to_string();
        if binding.get("condition").is_some() {
            label.push_str(" (conditional)");
        }
        if let Some(ancestor) = from {
            label.push_str(&format!(" (from {ancestor})"));
        }
        for member in binding
            .get("members")
            .and_then(|m| m.as_array())
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str())
        {
            // A service account is `serviceAccount:EMAIL`; an agent identity is its own
            // `principal://…` member.
            let sa = member.strip_prefix("serviceAccount:").unwrap_or(member);
            if service_accounts.contains(sa) {
                into.entry(sa.to_string())
                    .or_default()
                    .insert(label.clone());
            }
        }
    }
}

/// Google IAM Recommender's active role recommendations for the project, for each of
/// `service_accounts`: `SUBTYPE: roles removed → roles added: Google's description`.
async fn recommendations(
    client: &RestClient,
    settings: &GcpSettings,
    project: &str,
    service_accounts: &BTreeSet<String>,
) -> Result<BTreeMap<String, Vec<String>>, RestError> {
    let first = settings.url(
        "recommender.googleapis.com",
        &format!("/v1/projects/{project}/locations/global/recommenders/google.iam.policy.Recommender/recommendations"),
    )?;
    let (recommendations, _) =
        google_list(client, "recommender", first, "recommendations", usize::MAX).await?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rec in &recommendations {
        let state = rec.pointer("/stateInfo/state").and_then(Value::as_str);
        if state.is_some_and(|s| s != "ACTIVE") {
            continue;
        }
        let mut removed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut added: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for op in rec
            .pointer("/content/operationGroups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|g| {
                g.get("operations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
        {
            let filters = op.get("pathFilters");
            let role = filters
                .and_then(|f| f.get("/iamPolicy/bindings/*/role"))
                .and_then(Value::as_str);
            let (member, into) = match op.get("action").and_then(Value::as_str) {
                Some("remove") => (
                    filters
                        .and_then(|f| f.get("/iamPolicy/bindings/*/members/*"))
                        .and_then(Value::as_str),
                    &mut removed,
                ),
                Some("add") => (op.get("value").and_then(Value::as_str), &mut added),
                _ => continue,
            };
            if let (Some(sa), Some(role)) = (
                member.map(|m| m.strip_prefix("serviceAccount:").unwrap_or(m)),
                role,
            ) && service_accounts.contains(sa)
            {
                into.entry(sa.to_string())
                    .or_default()
                    .push(role.to_string());
            }
        }
        let subtype = rec
            .get("recommenderSubtype")
            .and_then(Value::as_str)
            .unwrap_or("RECOMMENDATION");
        let description = rec
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for (sa, roles) in removed {
            let replacement = added.remove(&sa).unwrap_or_default();
            let change = if replacement.is_empty() {
                format!("remove {}", roles.join(", "))
            } else {
                format!("{} → {}", roles.join(", "), replacement.join(", "))
            };
            out.entry(sa)
                .or_default()
                .push(format!("{subtype}: {change}: {description}"));
        }
    }
    Ok(out)
}

/// What can be seen of a reasoning engine, layer by layer, from its deployment and its
/// project's audit configuration; each gap names the setting that closes it.
///
/// `audit_sources` are the gcp-audit-logs sources configured: with none, the audit layers
/// say how to export the logs; with some, that the exports hold nothing of this engine.
/// `models`: the models the engine was seen calling, with their request-response logging.
pub fn coverage(
    agent: &AgentRef,
    source: &str,
    engine: Option<&EngineConfig>,
    project: Option<&ProjectTelemetry>,
    audit_sources: &[String],
    models: &[(&str, Option<&ModelLogging>)],
) -> Vec<Coverage> {
    let at = |layer: Layer, status: CoverageStatus| Coverage {
        agent: agent.clone(),
        layer,
        status,
    };
    let project_id = &agent.scope;
    let location = &agent.location;
    let mut out = vec![at(
        Layer::Kernel,
        CoverageStatus::Unavailable {
            reason: "Agent Engine runs on Google-managed infrastructure: no process or file \
                     telemetry reaches the customer; Security Command Center's Agent Engine \
                     Threat Detection (Premium/Enterprise) reports findings only"
                .into(),
        },
    )];
    out.push(at(
        Layer::Network,
        match engine.and_then(|e| e.psc_network_attachment.as_deref()) {
            Some(attachment) => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: egress goes through your VPC (PSC interface, network attachment {attachment}), where VPC Flow Logs record it; agentward does not read flow logs"
                ),
                how_to_enable: "gcloud compute networks subnets update SUBNET --region REGION --enable-flow-logs (the subnet of the network attachment)".into(),
            },
            None => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: no PSC interface: the engine's egress leaves from Google's network, where nothing of yours records it"
                ),
                how_to_enable: format!(
                    "redeploy with spec.deploymentSpec.pscInterfaceConfig.networkAttachment = projects/{project_id}/regions/{location}/networkAttachments/NAME, then turn on VPC Flow Logs on its subnet"
                ),
            },
        },
    ));
    let switched_on = |name: &str| {
        engine.is_some_and(|e| {
            e.switches.iter().any(|s| {
                s.strip_prefix(name)
                    .is_some_and(|v| v.eq_ignore_ascii_case("=true"))
            })
        })
    };
    let tracing = switched_on("GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY");
    let content_captured =
        tracing && switched_on("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT");
    out.push(at(
        Layer::Prompt,
        if content_captured {
            CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: the engine traces with message content captured (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true): prompts are in its Cloud Trace spans, which agentward does not read"
                ),
                how_to_enable: "read the engine's spans (no Google Cloud setting is missing)".into(),
            }
        } else {
            prompt_logging(source, project_id, location, models)
        },
    ));
    out.push(at(
        Layer::ToolInvocation,
        CoverageStatus::AvailableIfEnabled {
            setting: if tracing {
                format!(
                    "{source}: the engine sets GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY=true: its tool calls are spans in Cloud Trace, which agentward does not read"
                )
            } else {
                format!(
                    "{source}: tool calls are recorded only as Cloud Trace spans, and the engine does not turn tracing on"
                )
            },
            how_to_enable: if tracing {
                "read the engine's spans from Cloud Trace (no Google Cloud setting is missing)".into()
            } else {
                "redeploy with env GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY=true (ADK: enable_tracing=True)".into()
            },
        },
    ));
    let data_access = project.and_then(|p| p.data_access.as_ref());
    out.push(at(
        Layer::IdentityApi,
        match data_access {
            Some(d) if d.records_invocations() && d.exempted.is_empty() => {
                if audit_sources.is_empty() {
                    CoverageStatus::AvailableIfEnabled {
                        setting: format!(
                            "{source}: Data Access audit logs for aiplatform.googleapis.com are on in {project_id}{}, and no gcp-audit-logs source reads them",
                            inherited_note(d)
                        ),
                        how_to_enable: export_audit_logs(project_id),
                    }
                } else {
                    CoverageStatus::AvailableIfEnabled {
                        setting: format!(
                            "{source}: Data Access audit logs for aiplatform.googleapis.com are on in {project_id}{}, yet the exports {} read hold no calls on this engine or by its service account",
                            inherited_note(d),
                            audit_sources.join(", ")
                        ),
                        how_to_enable: format!(
                            "check that the sink routes logName:\"projects/{project_id}/logs/cloudaudit.googleapis.com%2Fdata_access\" to the bucket those sources read; a source reading the Logging API (logging_api) needs roles/logging.privateLogViewer on {project_id} to see Data Access logs"
                        ),
                    }
                }
            }
            Some(d) => CoverageStatus::AvailableIfEnabled {
                setting: if d.records_invocations() {
                    format!(
                        "{source}: Data Access audit logs for aiplatform.googleapis.com in {project_id} exempt {}: their calls are not recorded",
                        d.exempted.join(", ")
                    )
                } else {
                    format!(
                        "{source}: Data Access audit logs (DATA_READ, DATA_WRITE) for aiplatform.googleapis.com are off in {project_id}{}: who queried the engine is not recorded{}",
                        if d.log_types.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " (on: {})",
                                d.log_types.iter().cloned().collect::<Vec<_>>().join(", ")
                            )
                        },
                        if d.ancestors_unread.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " — unless an ancestor whose policy could not be read turns them on ({})",
                                d.ancestors_unread.join("; ")
                            )
                        }
                    )
                },
                how_to_enable: format!(
                    "add to the IAM policy of {project_id}: auditConfigs [{{service: aiplatform.googleapis.com, auditLogConfigs: [{{logType: DATA_READ}}, {{logType: DATA_WRITE}}]}}] (gcloud projects get-iam-policy / set-iam-policy)"
                ),
            },
            None => CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: the IAM policy of {project_id} could not be read, so whether Data Access audit logs are on is unknown (off by default)"
                ),
                how_to_enable: format!(
                    "grant the scanner resourcemanager.projects.getIamPolicy on {project_id}, or turn on Data Access audit logs for aiplatform.googleapis.com"
                ),
            },
        },
    ));
    out.push(at(
        Layer::Control,
        if audit_sources.is_empty() {
            CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: changes to the engine are in Admin Activity audit logs (always on), and no gcp-audit-logs source reads them: only the engine's current configuration is known"
                ),
                how_to_enable: export_audit_logs(project_id),
            }
        } else {
            CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: the exports {} read hold no Admin Activity records of changes to this engine: it was not changed in that period, or the sink leaves them out",
                    audit_sources.join(", ")
                ),
                how_to_enable: format!(
                    "check that the sink routes logName:\"projects/{project_id}/logs/cloudaudit.googleapis.com%2Factivity\" to the bucket those sources read, or that logging_api reads {project_id}"
                ),
            }
        },
    ));
    out
}

/// The prompt layer from the request-response logging of the models the engine was seen
/// calling (in its project and location); `models` pairs each with its state, `None` when
/// it has not been read.
fn prompt_logging(
    source: &str,
    project_id: &str,
    location: &str,
    models: &[(&str, Option<&ModelLogging>)],
) -> CoverageStatus {
    let set_config = |model: &str| {
        format!(
            "POST https://{location}-aiplatform.googleapis.com/v1beta1/projects/{project_id}/locations/{location}/publishers/google/models/{model}:setPublisherModelConfig with publisherModelConfig.loggingConfig {{enabled: true, samplingRate: 1, bigqueryDestination: {{outputUri: \"bq://{project_id}.DATASET\"}}}}"
        )
    };
    if models.is_empty() {
        return CoverageStatus::AvailableIfEnabled {
            setting: format!(
                "{source}: audit logs never carry prompts; the models the engine calls are chosen in its code and none was seen in its audit logs, so their request-response logging cannot be checked"
            ),
            how_to_enable: format!(
                "for each model the agent calls: {}; or env GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY=true with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true",
                set_config("MODEL")
            ),
        };
    }
    let mut on = Vec::new();
    let mut off = Vec::new();
    let mut unknown = Vec::new();
    for (model, state) in models {
        match state {
            Some(ModelLogging::On {
                sampling_rate,
                destination,
            }) => on.push(format!(
                "{model} (sampling {}, to {})",
                sampling_rate.map_or("unset".to_string(), |r| format!("{:.0}%", r * 100.0)),
                destination.as_deref().unwrap_or("no destination")
            )),
            Some(ModelLogging::Off) => off.push(model.to_string()),
            Some(ModelLogging::Unreadable { reason, .. }) => {
                unknown.push(format!("{model}: {reason}"))
            }
            None => unknown.push(format!("{model}: not read yet (the next scan reads it)")),
        }
    }
    if off.is_empty() && unknown.is_empty() {
        return CoverageStatus::AvailableIfEnabled {
            setting: format!(
                "{source}: request-response logging is on in {location} for every model the engine was seen calling ({}): prompts and responses are in BigQuery, which agentward does not read",
                on.join(", ")
            ),
            how_to_enable: "read the BigQuery tables (no Google Cloud setting is missing)".into(),
        };
    }
    let mut said = Vec::new();
    if !off.is_empty() {
        said.push(format!(
            "request-response logging is off in {location} for {}, which the engine was seen calling",
            off.join(", ")
        ));
    }
    if !unknown.is_empty() {
        said.push(format!(
            "its state could not be read for {}",
            unknown.join("; ")
        ));
    }
    if !on.is_empty() {
        said.push(format!("on for {}", on.join(", ")));
    }
    CoverageStatus::AvailableIfEnabled {
        setting: format!("{source}: {}", said.join("; ")),
        how_to_enable: match off.first() {
            Some(model) => set_config(model),
            None => format!(
                "grant the scanner aiplatform.endpoints.get on {project_id} (fetchPublisherModelConfig), or turn logging on: {}",
                set_config("MODEL")
            ),
        },
    }
}

/// ` (DATA_WRITE from folders/1)` when an ancestor sets some of the log types.
fn inherited_note(d: &DataAccessLogs) -> String {
    if d.inherited.is_empty() {
        String::new()
    } else {
        format!(" ({})", d.inherited.join(", "))
    }
}

/// How to get a project's Vertex AI audit logs where a gcp-audit-logs source reads them.
fn export_audit_logs(project_id: &str) -> String {
    format!(
        "set logging_api = true on the gcp-api source to read them through the Logging API (roles/logging.viewer, and roles/logging.privateLogViewer for Data Access logs), or export them with a Logging sink: gcloud logging sinks create agentward-audit storage.googleapis.com/BUCKET --project {project_id} --log-filter='logName:\"cloudaudit.googleapis.com\" AND protoPayload.serviceName=\"aiplatform.googleapis.com\"', then add a source: kind = \"gcp-audit-logs\", url = \"gs://BUCKET\""
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_with_its_own_agent_identity_is_granted_roles_as_that_principal() {
        let principal = "principal://agents.global.org-7781.system.id.goog/resources/aiplatform/projects/123456789012/locations/us-central1/reasoningEngines/42";
        let engine = serde_json::json!({
            "name": "projects/123456789012/locations/us-central1/reasoningEngines/42",
            "spec": {"identityType": "AGENT_IDENTITY", "effectiveIdentity": principal}
        });
        let c = engine_config(&engine);
        assert_eq!(c.service_account, principal);
        assert!(!c.service_account_defaulted);
        let policy = serde_json::json!({"bindings": [
            {"role": "roles/aiplatform.user", "members": [principal, "user:ops@acme.example"]},
            {"role": "roles/storage.objectViewer", "members": ["serviceAccount:other@p.iam.gserviceaccount.com"]}
        ]});
        let mut roles = RolesOf::new();
        roles_in(
            &policy,
            &[principal.to_string()].into_iter().collect(),
            None,
            &mut roles,
        );
        assert_eq!(
            roles
                .get(principal)
                .map(|r| r.iter().cloned().collect::<Vec<_>>()),
            Some(vec!["roles/aiplatform.user".to_string()])
        );
        // Without the principal in the answer, the engine says so rather than guess.
        let unnamed = engine_config(&serde_json::json!({
            "name": "projects/1/locations/l/reasoningEngines/7",
            "spec": {"identityType": "AGENT_IDENTITY"}
        }));
        assert_eq!(
            unnamed.service_account,
            "agent identity of reasoning engine 7"
        );
        assert!(
            unnamed
                .unresolved
                .iter()
                .any(|u| u.starts_with("identity:"))
        );
    }

    #[test]
    fn an_engine_without_service_account_runs_as_the_projects_service_agent() {
        let engine = serde_json::json!({
            "name": "projects/123456789012/locations/us-central1/reasoningEngines/42",
            "displayName": "support",
            "spec": {
                "agentFramework": "langgraph",
                "packageSpec": {"pickleObjectGcsUri": "gs://b/agent.pkl", "requirementsGcsUri": "gs://b/requirements.txt", "pythonVersion": "3.11"},
                "deploymentSpec": {
                    "env": [{"name": "B", "value": "secret-ish"}, {"name": "A", "value": "x"}],
                    "secretEnv": [{"name": "TOKEN", "secretRef": {"secret": "api-token", "version": "3"}}]
                },
                "classMethods": [{"name": "query", "api_mode": ""}, {"name": "stream_query", "api_mode": "stream"}]
            }
        });
        let c = engine_config(&engine);
        assert_eq!(
            c.service_account,
            "service-123456789012@gcp-sa-aiplatform-re.iam.gserviceaccount.com"
        );
        assert!(c.service_account_defaulted);
        assert_eq!(c.framework.as_deref(), Some("langgraph"));
        assert_eq!(c.environment, ["A", "B"]);
        assert_eq!(c.secret_environment, ["TOKEN from api-token (version 3)"]);
        assert_eq!(c.class_methods, ["query", "stream_query"]);
        assert_eq!(
            c.artifact.as_deref(),
            Some("pickled object gs://b/agent.pkl")
        );
        assert!(!format!("{c:?}").contains("secret-ish"));
        // Model, instructions and tools are named as unknown, with the reason.
        assert_eq!(c.unresolved.len(), 3, "{:?}", c.unresolved);
        assert!(
            c.unresolved
                .iter()
                .all(|u| u.contains("agent's code") || u.contains("not the agent's tools"))
        );
    }

    #[test]
    fn source_deployments_say_their_requirements_are_not_returned() {
        let engine = serde_json::json!({
            "name": "projects/p/locations/l/reasoningEngines/1",
            "spec": {"serviceAccount": "agent@p.iam.gserviceaccount.com",
                     "sourceCodeSpec": {"pythonSpec": {"version": "3.12", "entrypointModule": "app.agent", "requirementsFile": "reqs.txt"}}}
        });
        let c = engine_config(&engine);
        assert!(!c.service_account_defaulted);
        assert_eq!(
            c.artifact.as_deref(),
            Some("source code (app.agent.root_agent)")
        );
        assert_eq!(c.python_version.as_deref(), Some("3.12"));
        assert!(
            c.unresolved
                .iter()
                .any(|u| u.contains("reqs.txt") && u.contains("input only")),
            "{:?}",
            c.unresolved
        );
    }

    #[test]
    fn requirements_keep_specifiers_only() {
        assert_eq!(
            parse_requirements(
                "# pinned\ngoogle-cloud-aiplatform[agent_engines,langchain]==1.112.0\n\n-r base.txt\nlanggraph>=0.6  # graph\n--extra-index-url https://x\n"
            ),
            [
                "google-cloud-aiplatform[agent_engines,langchain]==1.112.0",
                "langgraph>=0.6"
            ]
        );
    }

    #[test]
    fn data_access_coverage_names_exactly_what_is_off() {
        let agent = AgentRef {
            provider: Provider::Gcp,
            scope: "acme".into(),
            location: "us-central1".into(),
            id: "1".into(),
            qualifier: None,
        };
        let identity = |d: Option<DataAccessLogs>| {
            let project = ProjectTelemetry { data_access: d };
            coverage(&agent, "gcp", None, Some(&project), &[], &[])
                .into_iter()
                .find(|c| c.layer == Layer::IdentityApi)
                .unwrap()
                .status
                .explanation()
        };
        let read_only = DataAccessLogs {
            log_types: ["DATA_READ".to_string()].into(),
            ..DataAccessLogs::default()
        };
        let off = identity(Some(read_only));
        assert!(off.contains("are off in acme (on: DATA_READ)"), "{off}");
        let both = DataAccessLogs {
            log_types: ["DATA_READ".to_string(), "DATA_WRITE".to_string()].into(),
            ..DataAccessLogs::default()
        };
        let on = identity(Some(both.clone()));
        assert!(on.contains("are on in acme"), "{on}");
        let exempt = identity(Some(DataAccessLogs {
            exempted: vec!["user:ops@acme.com".into()],
            ..both
        }));
        assert!(exempt.contains("exempt user:ops@acme.com"), "{exempt}");
        assert!(identity(None).contains("could not be read"));
    }

    #[test]
    fn the_prompt_layer_names_each_invoked_models_logging() {
        let on = ModelLogging::On {
            sampling_rate: Some(0.25),
            destination: Some("bq://p.logs.rr".into()),
        };
        let statement = |models: &[(&str, Option<&ModelLogging>)]| match prompt_logging(
            "gcp",
            "p",
            "us-central1",
            models,
        ) {
            CoverageStatus::AvailableIfEnabled {
                setting,
                how_to_enable,
            } => (setting, how_to_enable),
            other => panic!("{other:?}"),
        };
        let (setting, how) = statement(&[("gemini-2.5-pro", Some(&on))]);
        assert!(
            setting.contains("on in us-central1 for every model")
                && setting.contains("gemini-2.5-pro (sampling 25%, to bq://p.logs.rr)"),
            "{setting}"
        );
        assert!(how.contains("no Google Cloud setting is missing"));

        let (setting, how) = statement(&[
            ("gemini-2.5-pro", Some(&on)),
            ("gemini-2.5-flash", Some(&ModelLogging::Off)),
        ]);
        assert!(
            setting.contains("off in us-central1 for gemini-2.5-flash")
                && setting.contains("on for gemini-2.5-pro"),
            "{setting}"
        );
        assert!(
            how.contains("/publishers/google/models/gemini-2.5-flash:setPublisherModelConfig"),
            "{how}"
        );

        let denied = ModelLogging::Unreadable {
            reason: "403 Permission denied".into(),
            class: Some(FailureClass::Denied),
        };
        let (setting, how) = statement(&[("gemini-2.5-pro", Some(&denied)), ("text-bison", None)]);
        assert!(
            setting.contains("gemini-2.5-pro: 403 Permission denied")
                && setting.contains("text-bison: not read yet"),
            "{setting}"
        );
        assert!(how.contains("aiplatform.endpoints.get"), "{how}");

        let (setting, _) = statement(&[]);
        assert!(
            setting.contains("none was seen in its audit logs"),
            "{setting}"
        );
    }
}
