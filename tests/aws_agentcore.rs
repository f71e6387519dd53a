//! AgentCore inventory through the real bedrock-agentcore-control SDK against moto: a
//! runtime with an endpoint, a gateway with a Lambda target, their roles read as declared
//! identity, the runtime's own coverage, and deletion recorded.

mod common;
use aws_sdk_bedrockagentcorecontrol as agentcore;
use common::*;
use serde_json::Value;

const RUNTIME_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"bedrock-agentcore.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const IMAGE: &str = "111122223333.dkr.ecr.us-east-1.amazonaws.com/support-runtime:2026-11-20";
const TOOLS: &str = "arn:aws:lambda:us-east-1:111122223333:function:crm-tools";

fn config_for(dir: &std::path::Path, endpoint: &str) -> std::path::PathBuf {
    let config = dir.join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"store\"\n\n[[source]]\nname = \"aws\"\nkind = \"aws-api\"\nendpoint = {endpoint:?}\nregion = \"us-east-1\"\nmax_attempts = 1\n"
        ),
    )
    .unwrap();
    config
}

#[test]
fn agentcore_runtimes_and_gateways_are_inventoried_with_their_own_coverage() {
    let Some(moto) = moto_server(&[("MOTO_ACCOUNT_ID", ACCOUNT)]) else {
        return;
    };
    let endpoint = moto.endpoint();
    let runtime_id = block_on(async {
        let sdk = sdk(&endpoint).await;
        let iam = aws_sdk_iam::Client::new(&sdk);
        for role in ["support-runtime", "crm-gateway"] {
            iam.create_role()
                .role_name(role)
                .assume_role_policy_document(RUNTIME_TRUST)
                .send()
                .await
                .unwrap();
        }
        create_function(
            &aws_sdk_lambda::Client::new(&sdk),
            "crm-tools",
            "crm-gateway",
        )
        .await;
        let client = agentcore::Client::new(&sdk);
        let runtime = client
            .create_agent_runtime()
            .agent_runtime_name("support_runtime")
            .agent_runtime_artifact(
                agentcore::types::AgentRuntimeArtifact::ContainerConfiguration(
                    agentcore::types::ContainerConfiguration::builder()
                        .container_uri(IMAGE)
                        .build()
                        .unwrap(),
                ),
            )
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/support-runtime"))
            .network_configuration(
                agentcore::types::NetworkConfiguration::builder()
                    .network_mode(agentcore::types::NetworkMode::Public)
                    .build()
                    .unwrap(),
            )
            .protocol_configuration(
                agentcore::types::ProtocolConfiguration::builder()
                    .server_protocol(agentcore::types::ServerProtocol::Mcp)
                    .build()
                    .unwrap(),
            )
            .environment_variables("DB_PASSWORD", "hunter2-SECRET-VALUE")
            .environment_variables("LOG_LEVEL", "info")
            .send()
            .await
            .unwrap();
        let runtime_id = runtime.agent_runtime_id().to_string();
        client
            .create_agent_runtime_endpoint()
            .agent_runtime_id(&runtime_id)
            .name("prod")
            .send()
            .await
            .unwrap();
        client
            .create_memory()
            .name("support_memory")
            .event_expiry_duration(30)
            .memory_execution_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/support-runtime"))
            .memory_strategies(
                agentcore::types::MemoryStrategyInput::SemanticMemoryStrategy(
                    agentcore::types::SemanticMemoryStrategyInput::builder()
                        .name("customer_facts")
                        .build()
                        .unwrap(),
                ),
            )
            .send()
            .await
            .unwrap();
        let gateway = client
            .create_gateway()
            .name("crm-gateway")
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/crm-gateway"))
            .protocol_type(agentcore::types::GatewayProtocolType::Mcp)
            .authorizer_type(agentcore::types::AuthorizerType::AwsIam)
            .send()
            .await
            .unwrap();
        let gateway_id = gateway.gateway_id();
        let tool = |name: &str| {
            agentcore::types::ToolDefinition::builder()
                .name(name)
                .description("crm")
                .input_schema(
                    agentcore::types::SchemaDefinition::builder()
                        .r#type(agentcore::types::SchemaType::Object)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        };
        client
            .create_gateway_target()
            .gateway_identifier(gateway_id)
            .name("crm")
            .target_configuration(agentcore::types::TargetConfiguration::Mcp(
                agentcore::types::McpTargetConfiguration::Lambda(
                    agentcore::types::McpLambdaTargetConfiguration::builder()
                        .lambda_arn(TOOLS)
                        .tool_schema(agentcore::types::ToolSchema::InlinePayload(vec![
                            tool("findCustomer"),
                            tool("deleteCustomer"),
                        ]))
                        .build()
                        .unwrap(),
                ),
            ))
            .send()
            .await
            .unwrap();
        runtime_id
    });

    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &endpoint);
    let scan = scan_with_credentials(&config);
    assert!(scan.status.success(), "{}", stdout(&scan));
    let summary: Value = serde_json::from_slice(&scan.stdout).unwrap();
    let api = &summary["sources"][0]["api"];
    assert_eq!(
        (
            &api["agentcore_runtimes"],
            &api["agentcore_gateways"],
            &api["agentcore_memories"]
        ),
        (&Value::from(1), &Value::from(1), &Value::from(1)),
        "{summary:#}"
    );
    // Both roles were read as declared identity.
    assert_eq!(api["roles_read"], 2, "{summary:#}");

    let inventory = run(&["--config", config.to_str().unwrap(), "inventory"]);
    let text = stdout(&inventory);
    for expected in [
        "platform        bedrock-agentcore-runtime",
        "live v1         run by endpoint prod",
        "protocol MCP · network PUBLIC · authorizer IAM (SigV4)",
        &format!("artifact {IMAGE}"),
        "environment variables (values not kept): DB_PASSWORD, LOG_LEVEL",
        "platform        bedrock-agentcore-gateway",
        "gateway         READY · MCP · authorizer AWS_IAM",
        &format!("tool            crm (gateway_target, {TOOLS}): deleteCustomer; findCustomer"),
        "platform        bedrock-agentcore-memory",
        "events kept 30 days · long-term: customer_facts (SEMANTIC) · key AWS-owned",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !grep_dir(&dir.path().join("store"), "SECRET-VALUE"),
        "an environment variable's value was stored"
    );

    // Runtimes and gateways in the bill of materials, valid CycloneDX 1.6.
    if let Some(schemas) = schemas_dir() {
        let bom = run(&[
            "--config",
            config.to_str().unwrap(),
            "inventory",
            "--format",
            "cyclonedx",
        ]);
        let bom: Value = serde_json::from_slice(&bom.stdout).unwrap();
        let errors: Vec<String> = bom_validator(&schemas)
            .iter_errors(&bom)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{bom:#}");
        let text = bom.to_string();
        assert!(
            text.contains("support_runtime") && text.contains("crm-gateway"),
            "{bom:#}"
        );
    }

    // The runtime's coverage is its own; the gateway and the memory are inventory, not
    // agents.
    let network = coverage_of(&config, &runtime_id, "network");
    assert_eq!(network["status"], "available_if_enabled", "{network:#}");
    assert!(
        network["setting"]
            .as_str()
            .unwrap()
            .contains("network mode PUBLIC"),
        "{network:#}"
    );
    let kernel = coverage_of(&config, &runtime_id, "kernel");
    assert!(
        kernel["reason"]
            .as_str()
            .unwrap()
            .starts_with("AgentCore Runtime"),
        "{kernel:#}"
    );
    let agents: Vec<&str> = summary["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["agent"]["id"].as_str())
        .collect();
    assert_eq!(agents, [runtime_id.as_str()], "{summary:#}");

    // Deleted in AWS: recorded once, history kept.
    block_on(async {
        agentcore::Client::new(&sdk(&endpoint).await)
            .delete_agent_runtime()
            .agent_runtime_id(&runtime_id)
            .send()
            .await
            .unwrap();
    });
    let scan = scan_with_credentials(&config);
    assert!(scan.status.success(), "{}", stdout(&scan));
    let text = stdout(&run(&["--config", config.to_str().unwrap(), "inventory"]));
    let runtime_part = text
        .split(&format!("aws.{ACCOUNT}.us-east-1.{runtime_id}\n"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        runtime_part.starts_with(
            "  DELETED         bedrock-agentcore-control:ListAgentRuntimes no longer lists it"
        ),
        "{text}"
    );
}

/// GetAgentRuntime's answer for version 1 of `id`, which moto does not keep once the
/// runtime is updated: an HTTP runtime on the public network.
fn runtime_v1(id: &str) -> Value {
    serde_json::json!({
        "agentRuntimeArn": format!("arn:aws:bedrock-agentcore:us-east-1:{ACCOUNT}:runtime/{id}"),
        "agentRuntimeName": "support_runtime",
        "agentRuntimeId": id,
        "agentRuntimeVersion": "1",
        "createdAt": "2026-10-01T09:00:00Z",
        "lastUpdatedAt": "2026-10-01T09:00:00Z",
        "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/support-runtime"),
        "networkConfiguration": { "networkMode": "PUBLIC" },
        "status": "READY",
        "agentRuntimeArtifact": { "containerConfiguration": { "containerUri": format!("{IMAGE}-v1") } },
        "protocolConfiguration": { "serverProtocol": "HTTP" }
    })
}

#[test]
fn an_endpoint_that_runs_an_older_version_is_shown_with_that_version() {
    use common::front::{Answer, Seen, front, segments};
    use std::sync::{Arc, Mutex};
    let Some(moto) = moto_server(&[("MOTO_ACCOUNT_ID", ACCOUNT)]) else {
        return;
    };
    let runtime: Arc<Mutex<String>> = Arc::default();
    let known = runtime.clone();
    let front = front(
        moto.port,
        Arc::new(move |r: &Seen| {
            let id = known.lock().unwrap().clone();
            let seg = segments(&r.path);
            (r.method == "GET" && seg == ["runtimes", id.as_str()] && r.query == "version=1")
                .then(|| Answer::json(runtime_v1(&id)))
                .flatten()
        }),
    );
    let endpoint = front.endpoint();
    let id = block_on(async {
        let sdk = sdk(&endpoint).await;
        aws_sdk_iam::Client::new(&sdk)
            .create_role()
            .role_name("support-runtime")
            .assume_role_policy_document(RUNTIME_TRUST)
            .send()
            .await
            .unwrap();
        let client = agentcore::Client::new(&sdk);
        let artifact = agentcore::types::AgentRuntimeArtifact::ContainerConfiguration(
            agentcore::types::ContainerConfiguration::builder()
                .container_uri(IMAGE)
                .build()
                .unwrap(),
        );
        let public = agentcore::types::NetworkConfiguration::builder()
            .network_mode(agentcore::types::NetworkMode::Public)
            .build()
            .unwrap();
        let role = format!("arn:aws:iam::{ACCOUNT}:role/support-runtime");
        let id = client
            .create_agent_runtime()
            .agent_runtime_name("support_runtime")
            .agent_runtime_artifact(artifact.clone())
            .role_arn(&role)
            .network_configuration(public)
            .send()
            .await
            .unwrap()
            .agent_runtime_id()
            .to_string();
        // prod stays on version 1; the runtime moves to version 2 inside a VPC.
        client
            .create_agent_runtime_endpoint()
            .agent_runtime_id(&id)
            .name("prod")
            .agent_runtime_version("1")
            .send()
            .await
            .unwrap();
        client
            .update_agent_runtime()
            .agent_runtime_id(&id)
            .agent_runtime_artifact(artifact)
            .role_arn(&role)
            .network_configuration(
                agentcore::types::NetworkConfiguration::builder()
                    .network_mode(agentcore::types::NetworkMode::Vpc)
                    .network_mode_config(
                        agentcore::types::VpcConfig::builder()
                            .subnets("subnet-0a1b2c3d")
                            .security_groups("sg-0a1b2c3d")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        id
    });
    *runtime.lock().unwrap() = id.clone();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &endpoint);
    let scan = scan_with_credentials(&config);
    assert!(scan.status.success(), "{}", stdout(&scan));
    let text = stdout(&run(&["--config", config.to_str().unwrap(), "inventory"]));
    for expected in [
        "live v1         run by endpoint prod",
        "READY · protocol HTTP · network PUBLIC",
        &format!("artifact {IMAGE}-v1"),
        "protocol unknown · network VPC (subnets subnet-0a1b2c3d; security groups sg-0a1b2c3d)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Coverage is judged on what prod runs: public egress, no flow log.
    let network = coverage_of(&config, &id, "network");
    assert!(
        network["setting"]
            .as_str()
            .unwrap()
            .contains("network mode PUBLIC"),
        "{network:#}"
    );
}
