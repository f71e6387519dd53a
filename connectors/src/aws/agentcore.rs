//! Bedrock AgentCore as its control API holds it: each runtime (the latest version and
//! every version an endpoint runs: artifact, network mode, protocol, authorizer, role) and
//! each gateway with its targets (the MCP tools it serves). Environment variables are kept
//! by name only.

use super::agents::{every_page, millis};
use super::{ApiSettings, provenance};
use crate::failure::sdk_failure;
use crate::{ConnectorError, FailureClass};
use aws_sdk_bedrockagentcorecontrol as agentcore;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use normalizer::inventory::{
    Fact, GatewayConfig, InventorySnapshot, MemoryConfig, Observation, RuntimeConfig, Tool,
    ToolOperation,
};
use normalizer::{AgentRef, Provider, Timestamp};
use std::collections::{BTreeMap, BTreeSet};

pub const RUNTIME: &str = "bedrock-agentcore-runtime";
pub const GATEWAY: &str = "bedrock-agentcore-gateway";
pub const MEMORY: &str = "bedrock-agentcore-memory";

/// What reading AgentCore produced.
#[derive(Debug, Default)]
pub struct AgentCoreRead {
    pub observations: Vec<Observation>,
    pub runtimes: usize,
    pub gateways: usize,
    pub memories: usize,
    pub calls: u64,
    pub failures: Vec<ConnectorError>,
    /// Runtime, gateway or memory id → the role it runs as.
    pub roles: BTreeMap<String, BTreeSet<String>>,
    /// Gateway id → the Lambda functions its targets run.
    pub functions: BTreeMap<String, BTreeSet<String>>,
}

/// `arn:aws:bedrock-agentcore:REGION:ACCOUNT:runtime/ID` → the AgentRef of ID.
fn agent_of(arn: &str, id: &str) -> Option<AgentRef> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && !parts[3].is_empty() && !parts[4].is_empty()).then(|| AgentRef {
        provider: Provider::Aws,
        scope: parts[4].to_string(),
        location: parts[3].to_string(),
        id: id.to_string(),
        qualifier: None,
    })
}

fn runtime_config(
    got: &agentcore::operation::get_agent_runtime::GetAgentRuntimeOutput,
) -> RuntimeConfig {
    use agentcore::types::{AgentRuntimeArtifact, Code};
    let artifact = got.agent_runtime_artifact().map(|a| match a {
        AgentRuntimeArtifact::ContainerConfiguration(c) => c.container_uri().to_string(),
        AgentRuntimeArtifact::CodeConfiguration(c) => {
            let code = match c.code() {
                Some(Code::S3(s3)) => format!("s3://{}/{}", s3.bucket(), s3.prefix()),
                _ => "code".to_string(),
            };
            format!(
                "{code} ({}, {})",
                c.runtime().as_str(),
                c.entry_point().join(" ")
            )
        }
        _ => "unknown artifact".to_string(),
    });
    let network = got.network_configuration().map(|n| {
        let mode = n.network_mode().as_str().to_string();
        match n.network_mode_config() {
            Some(vpc) => format!(
                "{mode} (subnets {}; security groups {})",
                vpc.subnets().join(", "),
                vpc.security_groups().join(", ")
            ),
            None => mode,
        }
    });
    let authorizer = Some(
        match got
            .authorizer_configuration()
            .and_then(|a| a.as_custom_jwt_authorizer().ok())
        {
            Some(jwt) => format!("JWT from {}", jwt.discovery_url()),
            None => "IAM (SigV4)".to_string(),
        },
    );
    let mut environment: Vec<String> = got
        .environment_variables()
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default();
    environment.sort();
    RuntimeConfig {
        version: got.agent_runtime_version().to_string(),
        status: Some(got.status().as_str().to_string()),
        role: (!got.role_arn().is_empty()).then(|| got.role_arn().to_string()),
        artifact,
        network,
        protocol: got
            .protocol_configuration()
            .map(|p| p.server_protocol().as_str().to_string()),
        authorizer,
        environment,
    }
}

fn target_tool(
    got: &agentcore::operation::get_gateway_target::GetGatewayTargetOutput,
) -> (Tool, Option<String>) {
    use agentcore::types::{McpTargetConfiguration, TargetConfiguration, ToolSchema};
    let mut operations = Vec::new();
    let mut lambda = None;
    let executor = match got.target_configuration() {
        Some(TargetConfiguration::Mcp(mcp)) => match mcp {
            McpTargetConfiguration::Lambda(l) => {
                if let Some(ToolSchema::InlinePayload(tools)) = l.tool_schema() {
                    operations = tools
                        .iter()
                        .map(|t| ToolOperation {
                            name: t.name().to_string(),
                            detail: None,
                        })
                        .collect();
                    operations.sort();
                }
                lambda = Some(l.lambda_arn().to_string());
                Some(l.lambda_arn().to_string())
            }
            McpTargetConfiguration::McpServer(s) => Some(format!("MCP server {}", s.endpoint())),
            McpTargetConfiguration::OpenApiSchema(_) => Some("OpenAPI".to_string()),
            McpTargetConfiguration::SmithyModel(_) => Some("Smithy model".to_string()),
            McpTargetConfiguration::ApiGateway(_) => Some("API Gateway".to_string()),
            _ => None,
        },
        _ => None,
    };
    (
        Tool {
            name: got.name().to_string(),
            kind: "gateway_target".into(),
            executor,
            signature: None,
            operations,
            state: Some(got.status().as_str().to_string()),
            schema_sha256: None,
        },
        lambda,
    )
}

struct Reader<'a> {
    client: agentcore::Client,
    settings: &'a ApiSettings,
    read: AgentCoreRead,
}

/// What every Get answer of a runtime, gateway or memory says about what it is.
struct Identity<'a> {
    /// `GetAgentRuntime`, `GetGateway`, `GetMemory`.
    operation: &'a str,
    arn: &'a str,
    platform: &'a str,
    created: Timestamp,
    updated: Timestamp,
    name: &'a str,
    role: Option<&'a str>,
}

impl Reader<'_> {
    /// The ids a complete listing gave, or `None` (the failure named) when it failed.
    fn listed<E>(
        &mut self,
        operation: &str,
        result: Result<Vec<String>, aws_sdk_iam::error::SdkError<E, HttpResponse>>,
    ) -> Option<Vec<String>>
    where
        E: std::error::Error + aws_sdk_iam::error::ProvideErrorMetadata + 'static,
    {
        match result {
            Ok(ids) => Some(ids),
            Err(e) => {
                self.read.failures.push(sdk_failure(
                    format!("bedrock-agentcore-control:{operation}"),
                    &e,
                ));
                None
            }
        }
    }

    /// States the resource's platform, name and role, and returns it with the call that
    /// proves them; an ARN that names no account and region is a named failure.
    fn identify(&mut self, id: &str, what: Identity<'_>) -> Option<(AgentRef, String)> {
        let call = format!("bedrock-agentcore-control:{} {id}", what.operation);
        let Some(agent) = agent_of(what.arn, id) else {
            self.read.failures.push(ConnectorError::failed(
                FailureClass::Malformed,
                call.clone(),
                format!("ARN {:?} names no account and region", what.arn),
            ));
            return None;
        };
        self.observe(
            &agent,
            what.created,
            call.clone(),
            Fact::Platform(what.platform.into()),
        );
        self.observe(
            &agent,
            what.updated,
            call.clone(),
            Fact::Name(what.name.into()),
        );
        if let Some(role) = what.role.filter(|r| !r.is_empty()) {
            self.read
                .roles
                .entry(id.to_string())
                .or_default()
                .insert(role.to_string());
            self.observe(&agent, what.updated, call.clone(), Fact::Role(role.into()));
        }
        Some((agent, call))
    }

    fn observe(&mut self, agent: &AgentRef, time: Timestamp, call: String, fact: Fact) {
        self.read.observations.push(Observation {
            time,
            agent: agent.clone(),
            fact,
            provenance: provenance(&self.settings.source, call),
        });
    }

    async fn runtime(&mut self, id: &str) -> Option<AgentRef> {
        self.read.calls += 1;
        let latest = match self
            .client
            .get_agent_runtime()
            .agent_runtime_id(id)
            .send()
            .await
        {
            Ok(got) => got,
            Err(e) => {
                self.read.failures.push(sdk_failure(
                    format!("bedrock-agentcore-control:GetAgentRuntime {id}"),
                    &e,
                ));
                return None;
            }
        };
        let config = runtime_config(&latest);
        let time = millis(latest.last_updated_at());
        let (agent, call) = self.identify(
            id,
            Identity {
                operation: "GetAgentRuntime",
                arn: latest.agent_runtime_arn(),
                platform: RUNTIME,
                created: millis(latest.created_at()),
                updated: time,
                name: latest.agent_runtime_name(),
                role: config.role.as_deref(),
            },
        )?;
        let mut read_versions = BTreeSet::from([config.version.clone()]);
        self.observe(
            &agent,
            time,
            call.clone(),
            Fact::Version(config.version.clone()),
        );
        self.observe(&agent, time, call, Fact::RuntimeConfig(config));
        let endpoints = every_page(
            self.client
                .list_agent_runtime_endpoints()
                .agent_runtime_id(id)
                .into_paginator()
                .send(),
            &mut self.read.calls,
            |page| page.runtime_endpoints().to_vec(),
        )
        .await;
        let endpoints = match endpoints {
            Ok(e) => e,
            Err(e) => {
                self.read.failures.push(sdk_failure(
                    format!("bedrock-agentcore-control:ListAgentRuntimeEndpoints {id}"),
                    &e,
                ));
                return Some(agent);
            }
        };
        let mut live_versions = Vec::new();
        for endpoint in &endpoints {
            let mut call = format!("bedrock-agentcore-control:ListAgentRuntimeEndpoints {id}");
            let mut live = endpoint.live_version().map(str::to_string);
            // A listing may leave the live version out; the endpoint itself says it.
            if live.is_none() {
                self.read.calls += 1;
                match self
                    .client
                    .get_agent_runtime_endpoint()
                    .agent_runtime_id(id)
                    .endpoint_name(endpoint.name())
                    .send()
                    .await
                {
                    Ok(got) => {
                        live = got.live_version().map(str::to_string);
                        call = format!(
                            "bedrock-agentcore-control:GetAgentRuntimeEndpoint {id}/{}",
                            endpoint.name()
                        );
                    }
                    Err(e) => self.read.failures.push(sdk_failure(
                        format!(
                            "bedrock-agentcore-control:GetAgentRuntimeEndpoint {id}/{}",
                            endpoint.name()
                        ),
                        &e,
                    )),
                }
            }
            live_versions.extend(live.clone());
            self.observe(
                &agent,
                millis(endpoint.last_updated_at()),
                call,
                Fact::Alias {
                    id: endpoint.id().to_string(),
                    routed_version: live,
                    name: Some(endpoint.name().to_string()),
                },
            );
        }
        // What an endpoint runs may be an older version than the latest.
        for version in &live_versions {
            if !read_versions.insert(version.to_string()) {
                continue;
            }
            self.read.calls += 1;
            match self
                .client
                .get_agent_runtime()
                .agent_runtime_id(id)
                .agent_runtime_version(version)
                .send()
                .await
            {
                Ok(got) if got.agent_runtime_version() != version => {
                    self.read.failures.push(ConnectorError::failed(
                        FailureClass::Malformed,
                        format!("bedrock-agentcore-control:GetAgentRuntime {id}/{version}"),
                        format!(
                            "answered with version {} instead",
                            got.agent_runtime_version()
                        ),
                    ))
                }
                Ok(got) => {
                    let call = format!("bedrock-agentcore-control:GetAgentRuntime {id}/{version}");
                    let time = millis(got.last_updated_at());
                    self.observe(
                        &agent,
                        time,
                        call.clone(),
                        Fact::Version(version.to_string()),
                    );
                    self.observe(
                        &agent,
                        time,
                        call,
                        Fact::RuntimeConfig(runtime_config(&got)),
                    );
                }
                Err(e) => self.read.failures.push(sdk_failure(
                    format!("bedrock-agentcore-control:GetAgentRuntime {id}/{version}"),
                    &e,
                )),
            }
        }
        Some(agent)
    }

    async fn gateway(
        &mut self,
        id: &str,
        known: &InventorySnapshot,
        now: Timestamp,
    ) -> Option<AgentRef> {
        self.read.calls += 1;
        let got = match self
            .client
            .get_gateway()
            .gateway_identifier(id)
            .send()
            .await
        {
            Ok(got) => got,
            Err(e) => {
                self.read.failures.push(sdk_failure(
                    format!("bedrock-agentcore-control:GetGateway {id}"),
                    &e,
                ));
                return None;
            }
        };
        let time = millis(got.updated_at());
        let (agent, call) = self.identify(
            id,
            Identity {
                operation: "GetGateway",
                arn: got.gateway_arn(),
                platform: GATEWAY,
                created: millis(got.created_at()),
                updated: time,
                name: got.name(),
                role: got.role_arn(),
            },
        )?;
        let authorizer = match got
            .authorizer_configuration()
            .and_then(|a| a.as_custom_jwt_authorizer().ok())
        {
            Some(jwt) => format!(
                "{} from {}",
                got.authorizer_type().as_str(),
                jwt.discovery_url()
            ),
            None => got.authorizer_type().as_str().to_string(),
        };
        self.observe(
            &agent,
            time,
            call,
            Fact::GatewayConfig(GatewayConfig {
                status: Some(got.status().as_str().to_string()),
                protocol: Some(got.protocol_type().as_str().to_string()),
                authorizer: Some(authorizer),
                url: got.gateway_url().map(str::to_string),
            }),
        );
        let targets = every_page(
            self.client
                .list_gateway_targets()
                .gateway_identifier(id)
                .into_paginator()
                .send(),
            &mut self.read.calls,
            |page| page.items().to_vec(),
        )
        .await;
        let targets = match targets {
            Ok(t) => t,
            Err(e) => {
                self.read.failures.push(sdk_failure(
                    format!("bedrock-agentcore-control:ListGatewayTargets {id}"),
                    &e,
                ));
                return Some(agent);
            }
        };
        let mut names = BTreeSet::new();
        for summary in &targets {
            self.read.calls += 1;
            match self
                .client
                .get_gateway_target()
                .gateway_identifier(id)
                .target_id(summary.target_id())
                .send()
                .await
            {
                Ok(target) => {
                    let (tool, lambda) = target_tool(&target);
                    names.insert(tool.name.clone());
                    if let Some(l) = lambda {
                        self.read
                            .functions
                            .entry(id.to_string())
                            .or_default()
                            .insert(l);
                    }
                    self.observe(
                        &agent,
                        millis(target.updated_at()),
                        format!(
                            "bedrock-agentcore-control:GetGatewayTarget {id}/{}",
                            summary.target_id()
                        ),
                        Fact::Tool(tool),
                    );
                }
                Err(e) => {
                    // Unread is not removed: keep what the history holds for it.
                    names.insert(summary.name().to_string());
                    self.read.failures.push(sdk_failure(
                        format!(
                            "bedrock-agentcore-control:GetGatewayTarget {id}/{}",
                            summary.target_id()
                        ),
                        &e,
                    ))
                }
            }
        }
        if let Some(previous) = known.agents.iter().find(|a| a.agent == agent) {
            for gone in previous
                .tools
                .iter()
                .filter(|t| !names.contains(&t.value.name))
            {
                self.observe(
                    &agent,
                    now,
                    format!("bedrock-agentcore-control:ListGatewayTargets {id}"),
                    Fact::ToolRemoved(gone.value.name.clone()),
                );
            }
        }
        Some(agent)
    }

    async fn memory(&mut self, id: &str) -> Option<AgentRef> {
        self.read.calls += 1;
        let got = match self.client.get_memory().memory_id(id).send().await {
            Ok(got) => got,
            Err(e) => {
                self.read.failures.push(sdk_failure(
                    format!("bedrock-agentcore-control:GetMemory {id}"),
                    &e,
                ));
                return None;
            }
        };
        let Some(memory) = got.memory() else {
            self.read.failures.push(ConnectorError::failed(
                FailureClass::Malformed,
                format!("bedrock-agentcore-control:GetMemory {id}"),
                "the answer holds no memory",
            ));
            return None;
        };
        let time = millis(memory.updated_at());
        let (agent, call) = self.identify(
            id,
            Identity {
                operation: "GetMemory",
                arn: memory.arn(),
                platform: MEMORY,
                created: millis(memory.created_at()),
                updated: time,
                name: memory.name(),
                role: memory.memory_execution_role_arn(),
            },
        )?;
        let mut strategies: Vec<String> = memory
            .strategies()
            .iter()
            .map(|s| format!("{} ({})", s.name(), s.r#type().as_str()))
            .collect();
        strategies.sort();
        self.observe(
            &agent,
            time,
            call,
            Fact::MemoryConfig(MemoryConfig {
                status: Some(memory.status().as_str().to_string()),
                event_expiry_days: memory.event_expiry_duration(),
                strategies,
                encryption_key: memory.encryption_key_arn().map(str::to_string),
            }),
        );
        Some(agent)
    }
}

/// Reads every AgentCore runtime, gateway and memory of the region. With `account` (the
/// credentials' own), runtimes and gateways this source read before that the listings no
/// longer hold are recorded as deleted.
pub async fn read_agentcore(
    config: &aws_config::SdkConfig,
    settings: &ApiSettings,
    account: Option<&str>,
    known: &InventorySnapshot,
    now: Timestamp,
) -> AgentCoreRead {
    let mut reader = Reader {
        client: agentcore::Client::new(config),
        settings,
        read: AgentCoreRead::default(),
    };
    let runtimes = every_page(
        reader.client.list_agent_runtimes().into_paginator().send(),
        &mut reader.read.calls,
        |page| {
            page.agent_runtimes()
                .iter()
                .map(|r| r.agent_runtime_id().to_string())
                .collect()
        },
    )
    .await;
    let runtimes = reader.listed("ListAgentRuntimes", runtimes);
    for id in runtimes.iter().flatten() {
        if reader.runtime(id).await.is_some() {
            reader.read.runtimes += 1;
        }
    }
    let gateways = every_page(
        reader.client.list_gateways().into_paginator().send(),
        &mut reader.read.calls,
        |page| {
            page.items()
                .iter()
                .map(|g| g.gateway_id().to_string())
                .collect()
        },
    )
    .await;
    let gateways = reader.listed("ListGateways", gateways);
    for id in gateways.iter().flatten() {
        if reader.gateway(id, known, now).await.is_some() {
            reader.read.gateways += 1;
        }
    }
    let memories = every_page(
        reader.client.list_memories().into_paginator().send(),
        &mut reader.read.calls,
        |page| {
            page.memories()
                .iter()
                .filter_map(|m| m.id().map(str::to_string))
                .collect()
        },
    )
    .await;
    let memories = reader.listed("ListMemories", memories);
    for id in memories.iter().flatten() {
        if reader.memory(id).await.is_some() {
            reader.read.memories += 1;
        }
    }
    let listings = [
        (RUNTIME, "ListAgentRuntimes", runtimes),
        (GATEWAY, "ListGateways", gateways),
        (MEMORY, "ListMemories", memories),
    ];
    if let Some(account) = account {
        for (platform, operation, listed) in &listings {
            // A listing that failed says nothing about what is gone.
            let Some(listed) = listed else { continue };
            for gone in known.agents.iter().filter(|a| {
                a.agent.scope == account
                    && a.agent.location == settings.region
                    && a.deleted.is_none()
                    && a.platform.as_ref().is_some_and(|p| {
                        p.value == *platform && p.provenance.record.source == settings.source
                    })
                    && !listed.contains(&a.agent.id)
            }) {
                let call = format!("bedrock-agentcore-control:{operation}");
                reader.observe(
                    &gone.agent,
                    now,
                    call.clone(),
                    Fact::AgentDeleted(format!("{call} no longer lists it")),
                );
            }
        }
    }
    reader.read
}

const GATEWAY_DATA_EVENTS: &str = "aws cloudtrail put-event-selectors --trail-name TRAIL --advanced-event-selectors \
'[{\"Name\":\"agentcore gateways\",\"FieldSelectors\":[{\"Field\":\"eventCategory\",\"Equals\":[\"Data\"]},\
{\"Field\":\"resources.type\",\"Equals\":[\"AWS::BedrockAgentCore::Gateway\"]}]}]' \
(this replaces the trail's selectors: list its current ones with get-event-selectors and keep them)";

/// What can be seen of an AgentCore runtime's kernel, network and tool layers, from the
/// configuration its endpoints run (see shared/reference/providers.md §1). `tools_seen`:
/// tool events were attributed to it, which a configuration statement never overrides.
pub fn runtime_coverage(
    agent: &AgentRef,
    source: &str,
    live: Option<&RuntimeConfig>,
    tools_seen: bool,
    trails: &[super::TrailState],
) -> Vec<normalizer::Coverage> {
    use normalizer::{Coverage, CoverageStatus, Layer};
    let mut out = vec![Coverage {
        agent: agent.clone(),
        layer: Layer::Kernel,
        status: CoverageStatus::Unavailable {
            reason: "AgentCore Runtime runs each session in an AWS-managed microVM; only the container's \
                     stdout reaches CloudWatch Logs, no process or file telemetry"
                .into(),
        },
    }];
    let network = match live.and_then(|c| c.network.as_deref()) {
        Some("PUBLIC") => Some(CoverageStatus::AvailableIfEnabled {
            setting: format!(
                "{source}: network mode PUBLIC: the runtime's egress leaves from AWS's network, where no flow log records it"
            ),
            how_to_enable: "aws bedrock-agentcore-control update-agent-runtime --agent-runtime-id ID \
                            --network-configuration 'networkMode=VPC,networkModeConfig={subnets=[SUBNET],securityGroups=[SG]}' \
                            (with the other required settings), then VPC Flow Logs on those subnets"
                .into(),
        }),
        Some(vpc) if vpc.starts_with("VPC") => Some(CoverageStatus::AvailableIfEnabled {
            setting: format!(
                "{source}: network mode {vpc}: the runtime's egress is in your VPC, where VPC Flow Logs record it; agentward does not read flow logs"
            ),
            how_to_enable: "aws ec2 create-flow-logs --resource-type Subnet --resource-ids SUBNET \
                            --traffic-type ALL --log-destination-type s3 --log-destination arn:aws:s3:::BUCKET"
                .into(),
        }),
        _ => None,
    };
    out.extend(network.map(|status| Coverage {
        agent: agent.clone(),
        layer: Layer::Network,
        status,
    }));
    if !tools_seen {
        let recording: Vec<&str> = trails
            .iter()
            .filter(|t| {
                t.logging == Some(true)
                    && t.data_event_types
                        .contains("AWS::BedrockAgentCore::Gateway")
            })
            .map(|t| t.name.as_str())
            .collect();
        let setting = if recording.is_empty() {
            "an AgentCore runtime's tool calls through a gateway are InvokeGateway data events \
             (AWS::BedrockAgentCore::Gateway), off by default; its other tool calls are only in \
             its spans (CloudWatch Transaction Search)"
                .to_string()
        } else {
            // Said as it is: the events exist, this report does not hold them.
            format!(
                "{source}: trail {} records InvokeGateway data events, but agentward does not \
                 attribute them to runtimes yet, so none is in this report; its other tool calls \
                 are only in its spans (CloudWatch Transaction Search)",
                recording.join(", ")
            )
        };
        out.push(Coverage {
            agent: agent.clone(),
            layer: Layer::ToolInvocation,
            status: CoverageStatus::AvailableIfEnabled {
                setting,
                how_to_enable: if recording.is_empty() {
                    GATEWAY_DATA_EVENTS.into()
                } else {
                    "read the runtime's spans (aws/spans log group, after CloudWatch Transaction \
                     Search is enabled); no AWS setting is missing for gateway calls"
                        .into()
                },
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_status(trails: &[super::super::TrailState]) -> normalizer::CoverageStatus {
        let agent = AgentRef {
            provider: Provider::Aws,
            scope: "111122223333".into(),
            location: "us-east-1".into(),
            id: "support_runtime-Ab12Cd34Ef".into(),
            qualifier: None,
        };
        let live = RuntimeConfig {
            version: "3".into(),
            network: Some("PUBLIC".into()),
            ..RuntimeConfig::default()
        };
        runtime_coverage(&agent, "aws", Some(&live), false, trails)
            .into_iter()
            .find(|c| c.layer == normalizer::Layer::ToolInvocation)
            .expect("a tool statement")
            .status
    }

    #[test]
    fn gateway_calls_are_named_as_unrecorded_or_as_recorded_but_not_read() {
        let normalizer::CoverageStatus::AvailableIfEnabled { how_to_enable, .. } = tool_status(&[])
        else {
            panic!()
        };
        assert!(
            how_to_enable.contains("AWS::BedrockAgentCore::Gateway"),
            "{how_to_enable}"
        );
        let trail = super::super::TrailState {
            name: "acme-trail".into(),
            home_region: Some("us-east-1".into()),
            multi_region: true,
            logging: Some(true),
            management_events: true,
            data_event_types: ["AWS::BedrockAgentCore::Gateway".to_string()].into(),
            data_selectors: Vec::new(),
        };
        let normalizer::CoverageStatus::AvailableIfEnabled {
            setting,
            how_to_enable,
        } = tool_status(&[trail])
        else {
            panic!()
        };
        assert!(
            setting.contains(
                "trail acme-trail records InvokeGateway data events, but agentward does not"
            ) && !how_to_enable.contains("put-event-selectors"),
            "{setting} / {how_to_enable}"
        );
    }
}
