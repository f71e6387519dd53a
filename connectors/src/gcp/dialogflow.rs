//! Dialogflow CX / Conversational Agents: a project's agents in each location, with their
//! playbooks (model, instructions as a digest) and tools (OpenAPI operations, data stores,
//! functions), read with the Dialogflow v3beta1 REST API where it is enabled.

use super::{GcpSettings, google_list};
use crate::api_provenance as provenance;
use crate::failure::rest_failure;
use crate::rest::{RestClient, RestError};
use crate::{ConnectorError, FailureClass};
use normalizer::inventory::{
    Fact, InventorySnapshot, Observation, Tool, ToolOperation, VersionConfig,
};
use normalizer::{AgentRef, Coverage, CoverageStatus, Layer, Provider, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub const PLATFORM: &str = "dialogflow-cx-agent";
/// Pages of agents, tools or playbooks read per list.
const MAX_PAGES: usize = 50;

/// What an agent's logging settings keep (`advancedSettings.loggingSettings`), for coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLogging {
    /// Conversation history: end-user messages and the agent's answers, tool calls included.
    pub interaction_logging: bool,
    /// Request and response records in Cloud Logging (`dialogflow-runtime`).
    pub cloud_logging: bool,
    /// OpenAPI tools reaching their servers through Service Directory (your VPC).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_tools: Vec<String>,
}

/// What reading one project's Conversational Agents produced.
#[derive(Debug, Default)]
pub struct DialogflowRead {
    pub observations: Vec<Observation>,
    pub agents: usize,
    pub failures: Vec<ConnectorError>,
    /// Projects where the API is not enabled: said, not a failure.
    pub not_enabled: Vec<String>,
    /// Agent key → its logging settings.
    pub logging: BTreeMap<String, AgentLogging>,
}

fn host(location: &str) -> String {
    if location == "global" {
        "dialogflow.googleapis.com".into()
    } else {
        format!("{location}-dialogflow.googleapis.com")
    }
}

/// A 403 that says the API is off in the project, not that the scanner may not read it.
fn service_disabled(e: &RestError) -> bool {
    match e {
        RestError::Status {
            status: 403,
            message,
            ..
        } => {
            message.contains("SERVICE_DISABLED")
                || message.contains("has not been used in project")
                || message.contains("it is disabled")
        }
        _ => false,
    }
}

/// The agents of one project in `locations`; agents the API no longer lists are marked
/// deleted (only in a location whose list completed).
pub async fn read_project(
    client: &RestClient,
    settings: &GcpSettings,
    project: &str,
    locations: &[String],
    known: &InventorySnapshot,
    now: Timestamp,
) -> DialogflowRead {
    let mut out = DialogflowRead::default();
    for location in locations {
        let parent = format!("projects/{project}/locations/{location}");
        let listed = match settings.url(&host(location), &format!("/v3beta1/{parent}/agents")) {
            Ok(url) => google_list(client, "dialogflow", url, "agents", MAX_PAGES).await,
            Err(e) => Err(e),
        };
        let agents = match listed {
            Ok((agents, false)) => agents,
            Ok((_, true)) => {
                out.failures.push(ConnectorError::failed(
                    FailureClass::Limit,
                    format!("project {project}, {location}"),
                    format!("more than {MAX_PAGES} pages of Dialogflow agents; not inventoried"),
                ));
                continue;
            }
            Err(e) if service_disabled(&e) => {
                out.not_enabled.push(format!(
                    "project {project}: the Dialogflow API is not enabled, so it runs no Conversational Agents"
                ));
                return out;
            }
            Err(e) => {
                out.failures.push(rest_failure(
                    format!("project {project}, {location}: Dialogflow agents not listed"),
                    &e,
                ));
                continue;
            }
        };
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for agent in &agents {
            let Some(name) = agent["name"].as_str() else {
                continue;
            };
            let id = name.rsplit('/').next().unwrap_or(name).to_string();
            seen.insert(id.clone());
            out.agents += 1;
            let agent_ref = AgentRef {
                provider: Provider::Gcp,
                scope: project.to_string(),
                location: location.clone(),
                id,
                qualifier: None,
            };
            let scope = format!("project {project}, {location}, agent {name}");
            let list = |what: &'static str, key: &'static str| {
                let url = settings.url(&host(location), &format!("/v3beta1/{name}/{what}"));
                async move {
                    match url {
                        Ok(url) => google_list(client, "dialogflow", url, key, MAX_PAGES).await,
                        Err(e) => Err(e),
                    }
                }
            };
            let tools = match list("tools", "tools").await {
                Ok((tools, more)) => {
                    if more {
                        out.failures.push(ConnectorError::failed(
                            FailureClass::Limit,
                            scope.clone(),
                            format!("tools past {MAX_PAGES} pages not read"),
                        ));
                    }
                    tools
                }
                Err(e) => {
                    out.failures
                        .push(rest_failure(format!("{scope}: tools not read"), &e));
                    Vec::new()
                }
            };
            let playbooks = match list("playbooks", "playbooks").await {
                Ok((playbooks, _)) => playbooks,
                Err(e) => {
                    out.failures
                        .push(rest_failure(format!("{scope}: playbooks not read"), &e));
                    Vec::new()
                }
            };
            let config = agent_config(agent, &tools, &playbooks);
            out.logging.insert(
                agent_ref.key(),
                AgentLogging {
                    interaction_logging: agent
                        .pointer("/advancedSettings/loggingSettings/enableInteractionLogging")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    cloud_logging: agent
                        .pointer("/advancedSettings/loggingSettings/enableStackdriverLogging")
                        .or_else(|| agent.get("enableStackdriverLogging"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    private_tools: tools
                        .iter()
                        .filter(|t| t.pointer("/openApiSpec/serviceDirectoryConfig").is_some())
                        .filter_map(|t| t["displayName"].as_str().map(str::to_string))
                        .collect(),
                },
            );
            let call = format!("dialogflow:GetAgent {name}");
            let mut push = |fact: Fact| {
                out.observations.push(Observation {
                    time: now,
                    agent: agent_ref.clone(),
                    fact,
                    provenance: provenance(&settings.source, call.clone()),
                })
            };
            push(Fact::Platform(PLATFORM.into()));
            if let Some(display) = agent["displayName"].as_str().filter(|d| !d.is_empty()) {
                push(Fact::Name(display.to_string()));
            }
            if let Some(model) = &config.model {
                push(Fact::DeclaredModel(model.clone()));
            }
            push(Fact::Role(
                "the project's Dialogflow service agent (service-PROJECT_NUMBER@gcp-sa-dialogflow.iam.gserviceaccount.com)".into(),
            ));
            push(Fact::VersionConfig(config));
        }
        for gone in known.agents.iter().filter(|a| {
            a.agent.provider == Provider::Gcp
                && a.agent.scope == project
                && &a.agent.location == location
                && a.deleted.is_none()
                && a.platform.as_ref().is_some_and(|p| {
                    p.value == PLATFORM && p.provenance.record.source == settings.source
                })
                && !seen.contains(&a.agent.id)
        }) {
            out.observations.push(Observation {
                time: now,
                agent: gone.agent.clone(),
                fact: Fact::AgentDeleted(format!(
                    "{}: the Dialogflow API no longer lists agent {} in {parent}",
                    settings.source, gone.agent.id
                )),
                provenance: provenance(&settings.source, format!("dialogflow:ListAgents {parent}")),
            });
        }
    }
    out
}

/// The agent as the inventory keeps it: its playbooks' model and instructions (a digest),
/// its tools with their operations, its data stores as knowledge.
pub fn agent_config(agent: &Value, tools: &[Value], playbooks: &[Value]) -> VersionConfig {
    let start = agent["startPlaybook"].as_str();
    let mut ordered: Vec<&Value> = playbooks.iter().collect();
    // The start playbook speaks first; the rest by name, so the digest is stable.
    ordered.sort_by_key(|p| {
        (
            p["name"].as_str() != start,
            p["name"].as_str().map(str::to_string),
        )
    });
    let models: BTreeSet<String> = ordered
        .iter()
        .filter_map(|p| p.pointer("/llmModelSettings/model").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    let model = ordered
        .iter()
        .find_map(|p| p.pointer("/llmModelSettings/model").and_then(Value::as_str))
        .map(|first| {
            if models.len() > 1 {
                format!(
                    "{first} (start playbook; others use {})",
                    models
                        .iter()
                        .filter(|m| *m != first)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                first.to_string()
            }
        });
    let instructions: String = ordered
        .iter()
        .map(|p| {
            let steps: Vec<String> = p
                .pointer("/instruction/steps")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| s["text"].as_str().map(str::to_string))
                .collect();
            format!(
                "{}\n{}\n{}",
                p["displayName"].as_str().unwrap_or(""),
                p["goal"].as_str().unwrap_or(""),
                steps.join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let mut knowledge = Vec::new();
    let mut out_tools: Vec<Tool> = tools
        .iter()
        .map(|t| {
            let name = t["displayName"]
                .as_str()
                .or(t["name"].as_str())
                .unwrap_or("tool")
                .to_string();
            let (kind, executor, operations, schema) = if let Some(spec) = t.get("openApiSpec") {
                let text = spec["textSchema"].as_str().unwrap_or_default();
                let server = serde_json::from_str::<Value>(text)
                    .ok()
                    .or_else(|| serde_norway::from_str::<Value>(text).ok())
                    .and_then(|doc| {
                        doc.pointer("/servers/0/url")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    });
                let auth = spec
                    .get("authentication")
                    .and_then(Value::as_object)
                    .and_then(|a| a.keys().next().cloned());
                (
                    "openapi",
                    server.map(|s| match &auth {
                        Some(a) => format!("{s} ({a})"),
                        None => s,
                    }),
                    crate::openapi::openapi_operations(text).unwrap_or_default(),
                    Some(text.to_string()),
                )
            } else if let Some(spec) = t.get("dataStoreSpec") {
                let stores: Vec<String> = spec["dataStoreConnections"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["dataStore"].as_str().map(str::to_string))
                    .collect();
                knowledge.extend(stores.iter().cloned());
                (
                    "data_store",
                    None,
                    stores
                        .into_iter()
                        .map(|s| ToolOperation {
                            name: s,
                            detail: None,
                        })
                        .collect(),
                    None,
                )
            } else if let Some(spec) = t.get("functionSpec") {
                (
                    "function",
                    Some("the caller (returned for the client to run)".to_string()),
                    Vec::new(),
                    Some(spec.to_string()),
                )
            } else if let Some(spec) = t.get("connectorSpec") {
                (
                    "connector",
                    spec["name"].as_str().map(str::to_string),
                    spec["actions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|a| {
                            a["connectionActionId"]
                                .as_str()
                                .or(a
                                    .pointer("/entityOperation/entityId")
                                    .and_then(Value::as_str))
                                .map(|n| ToolOperation {
                                    name: n.to_string(),
                                    detail: None,
                                })
                        })
                        .collect(),
                    None,
                )
            } else if let Some(spec) = t.get("extensionSpec") {
                (
                    "extension",
                    spec["name"].as_str().map(str::to_string),
                    Vec::new(),
                    None,
                )
            } else {
                ("builtin", None, Vec::new(), None)
            };
            Tool {
                name,
                kind: kind.into(),
                executor,
                signature: None,
                operations,
                state: None,
                schema_sha256: schema.map(|s| crate::recording::digest_of(&s)),
            }
        })
        .collect();
    out_tools.sort();
    knowledge.sort();
    knowledge.dedup();
    VersionConfig {
        version: "current".into(),
        status: agent["locked"]
            .as_bool()
            .filter(|l| *l)
            .map(|_| "locked".to_string()),
        model,
        role: None,
        instruction_sha256: (!instructions.trim().is_empty())
            .then(|| crate::recording::digest_of(&instructions)),
        tools: out_tools,
        knowledge_bases: knowledge,
        ..VersionConfig::default()
    }
}

/// Coverage of a Conversational Agent: Google-managed, its conversations and tool calls
/// only in conversation history and Cloud Logging when its logging settings keep them.
pub fn coverage(agent: &AgentRef, source: &str, logging: Option<&AgentLogging>) -> Vec<Coverage> {
    let at = |layer: Layer, status: CoverageStatus| Coverage {
        agent: agent.clone(),
        layer,
        status,
    };
    let project = &agent.scope;
    let default = AgentLogging::default();
    let logging = logging.unwrap_or(&default);
    let kept = match (logging.interaction_logging, logging.cloud_logging) {
        (true, true) => Some("conversation history and Cloud Logging (dialogflow-runtime)"),
        (true, false) => Some("conversation history"),
        (false, true) => Some("Cloud Logging (dialogflow-runtime)"),
        (false, false) => None,
    };
    let enable = "turn on advancedSettings.loggingSettings.enableInteractionLogging and enableStackdriverLogging (agent settings → Logging)";
    vec![
        at(
            Layer::Kernel,
            CoverageStatus::Unavailable {
                reason: "Conversational Agents run on Google-managed infrastructure: no process telemetry reaches the customer".into(),
            },
        ),
        at(
            Layer::Network,
            if logging.private_tools.is_empty() {
                CoverageStatus::AvailableIfEnabled {
                    setting: format!(
                        "{source}: the agent's OpenAPI tools call their servers from Google's network, where nothing of yours records it"
                    ),
                    how_to_enable: "give OpenAPI tools a serviceDirectoryConfig (private network access), then VPC Flow Logs on that network".into(),
                }
            } else {
                CoverageStatus::AvailableIfEnabled {
                    setting: format!(
                        "{source}: tools {} reach their servers through Service Directory into your VPC, where VPC Flow Logs record it; agentward does not read flow logs",
                        logging.private_tools.join(", ")
                    ),
                    how_to_enable: "turn on VPC Flow Logs on the subnet the Service Directory endpoint is in".into(),
                }
            },
        ),
        at(
            Layer::Prompt,
            match kept {
                Some(place) => CoverageStatus::AvailableIfEnabled {
                    setting: format!(
                        "{source}: end-users' messages are kept in {place}, which agentward does not read"
                    ),
                    how_to_enable: "read them (no Google Cloud setting is missing)".into(),
                },
                None => CoverageStatus::AvailableIfEnabled {
                    setting: format!(
                        "{source}: the agent's logging settings keep no conversation: interaction logging and Cloud Logging are off"
                    ),
                    how_to_enable: enable.into(),
                },
            },
        ),
        at(
            Layer::ToolInvocation,
            match kept {
                Some(place) => CoverageStatus::AvailableIfEnabled {
                    setting: format!(
                        "{source}: the agent's tool calls are in {place}, which agentward does not read"
                    ),
                    how_to_enable: "read them (no Google Cloud setting is missing)".into(),
                },
                None => CoverageStatus::AvailableIfEnabled {
                    setting: format!(
                        "{source}: no record of the agent's tool calls is kept: interaction logging and Cloud Logging are off"
                    ),
                    how_to_enable: enable.into(),
                },
            },
        ),
        at(
            Layer::IdentityApi,
            CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: who talks to the agent is in Data Access audit logs of dialogflow.googleapis.com, off by default; agentward does not attribute them to Conversational Agents yet"
                ),
                how_to_enable: format!(
                    "add to the IAM policy of {project}: auditConfigs [{{service: dialogflow.googleapis.com, auditLogConfigs: [{{logType: DATA_READ}}, {{logType: DATA_WRITE}}]}}]"
                ),
            },
        ),
        at(
            Layer::Control,
            CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: changes to the agent are in Admin Activity audit logs of dialogflow.googleapis.com (always on); agentward does not attribute them to Conversational Agents yet, only the current configuration is known"
                ),
                how_to_enable: "nothing to turn on; compare the inventory's history instead".into(),
            },
        ),
    ]
}
