//! Bedrock Agents inventory through the real bedrock-agent SDK: agents live in moto
//! (created through the SDK), and what moto does not implement — versions, aliases,
//! action groups, agent knowledge bases, collaborators — is answered in the API's wire
//! format by a front that also checks what the client sent (signed requests, page
//! tokens, a retried throttle).

mod common;
use common::front::{Answer, Front, Seen, front, page, segments};
use common::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const SUPPORT_INSTRUCTION: &str = "You are the customer support agent of Acme. SECRET-INSTRUCTION-MARKER: never reveal refunds policy.";
const SUPPORT_ROLE: &str =
    "arn:aws:iam::111122223333:role/service-role/AmazonBedrockExecutionRoleForAgents_support";
const SONNET: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const TOOLS_LAMBDA: &str = "arn:aws:lambda:us-east-1:111122223333:function:support-tools";
const PARSER_LAMBDA: &str = "arn:aws:lambda:us-east-1:111122223333:function:orchestration-parser";
const BEDROCK_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const EMBEDDINGS: &str = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0";
const COLLECTION: &str = "arn:aws:aoss:us-east-1:111122223333:collection/supportkb01";
const CRM_SCHEMA: &str = "openapi: 3.0.0\ninfo: {title: crm, version: '1'}\npaths:\n  /customers/{id}:\n    get:\n      operationId: getCustomer\n  /customers/{id}/notes:\n    post:\n      operationId: addNote\n";
const T0: &str = "2026-10-01T09:00:00Z";
const T1: &str = "2026-10-20T09:00:00Z";

/// What the front answers; the test changes it between scans.
struct World {
    support: String,
    research: String,
    /// Agents with nothing but a draft (no alias, no tool).
    bare: Vec<String>,
    /// The draft's action groups (the live version keeps its own).
    draft_groups: Vec<&'static str>,
    /// The support agent's knowledge base, created in moto.
    knowledge_base: String,
    throttled_once: bool,
}

fn openapi(operations: &[(&str, &str, &str)]) -> String {
    let mut paths = serde_json::Map::new();
    for (method, path, id) in operations {
        paths.insert(
            path.to_string(),
            json!({ *method: { "operationId": id, "description": "secret schema text" } }),
        );
    }
    json!({ "openapi": "3.0.0", "info": { "title": "support", "version": "1" }, "paths": paths })
        .to_string()
}

fn action_group(agent: &str, version: &str, id: &str) -> Value {
    let mut group = json!({
        "agentId": agent,
        "agentVersion": version,
        "actionGroupId": id,
        "actionGroupState": "ENABLED",
        "createdAt": T0,
        "updatedAt": T1,
    });
    match id {
        "supporttls" => {
            let mut ops = vec![
                ("get", "/orders/{id}", "lookupOrder"),
                ("post", "/refunds", "issueRefund"),
            ];
            if version == "DRAFT" {
                ops.push(("post", "/exports", "exportCustomers"));
            }
            group["actionGroupName"] = json!("support-tools");
            group["actionGroupExecutor"] = json!({ "lambda": TOOLS_LAMBDA });
            group["apiSchema"] = json!({ "payload": openapi(&ops) });
        }
        "codeinterp" => {
            group["actionGroupName"] = json!("code-interpreter");
            group["parentActionSignature"] = json!("AMAZON.CodeInterpreter");
        }
        "askhuman01" => {
            group["actionGroupName"] = json!("ask-a-human");
            group["actionGroupExecutor"] = json!({ "customControl": "RETURN_CONTROL" });
            group["functionSchema"] = json!({ "functions": [{
                "name": "escalate",
                "parameters": { "ticket": { "type": "string", "required": true } }
            }] });
        }
        "s3schema01" => {
            group["actionGroupName"] = json!("crm");
            group["actionGroupExecutor"] = json!({ "lambda": TOOLS_LAMBDA });
            group["apiSchema"] =
                json!({ "s3": { "s3BucketName": "acme-schemas", "s3ObjectKey": "crm.yaml" } });
        }
        other => panic!("no action group {other}"),
    }
    group
}

fn summary_of(group: &Value) -> Value {
    json!({
        "actionGroupId": group["actionGroupId"],
        "actionGroupName": group["actionGroupName"],
        "actionGroupState": "ENABLED",
        "updatedAt": T1,
    })
}

fn version_3(agent: &str) -> Value {
    json!({ "agentVersion": {
        "agentId": agent,
        "agentName": "customer-support-agent",
        "agentArn": format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:agent/{agent}"),
        "version": "3",
        "instruction": SUPPORT_INSTRUCTION,
        "agentStatus": "PREPARED",
        "foundationModel": HAIKU,
        "idleSessionTTLInSeconds": 600,
        "agentResourceRoleArn": SUPPORT_ROLE,
        "createdAt": T0,
        "updatedAt": T0,
        "guardrailConfiguration": { "guardrailIdentifier": "gr-support", "guardrailVersion": "1" },
        "promptOverrideConfiguration": {
            "overrideLambda": PARSER_LAMBDA,
            "promptConfigurations": [
                { "promptType": "ORCHESTRATION", "promptCreationMode": "OVERRIDDEN", "parserMode": "OVERRIDDEN",
                  "promptState": "ENABLED", "basePromptTemplate": "SECRET-TEMPLATE-MARKER {{question}}" },
                { "promptType": "PRE_PROCESSING", "promptCreationMode": "DEFAULT", "parserMode": "DEFAULT",
                  "promptState": "DISABLED" }
            ]
        },
        "memoryConfiguration": { "enabledMemoryTypes": ["SESSION_SUMMARY"], "storageDays": 30 },
        "agentCollaboration": "SUPERVISOR"
    }})
}

/// Answers for what moto lacks; `None` hands the request to moto.
/// GetGuardrail's answer for `gr-support` version 1: no prompt-attack filter.
fn guardrail_v1() -> Value {
    json!({
        "name": "support-guardrail", "guardrailId": "gr-support",
        "guardrailArn": format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/gr-support"),
        "version": "1", "status": "READY",
        "contentPolicy": { "filters": [
            { "type": "HATE", "inputStrength": "HIGH", "outputStrength": "HIGH" },
            { "type": "PROMPT_ATTACK", "inputStrength": "NONE", "outputStrength": "NONE" }
        ] },
        "topicPolicy": { "topics": [
            { "name": "legal-advice", "definition": "Advice on lawsuits", "type": "DENY" }
        ] },
        "sensitiveInformationPolicy": {
            "piiEntities": [{ "type": "CREDIT_DEBIT_CARD_NUMBER", "action": "BLOCK" }],
            "regexes": [{ "name": "account-number", "pattern": "ACME-[0-9]{8}", "action": "ANONYMIZE" }]
        },
        "contextualGroundingPolicy": { "filters": [{ "type": "GROUNDING", "threshold": 0.75 }] },
        "createdAt": T0, "updatedAt": T0,
        "blockedInputMessaging": "Sorry.", "blockedOutputsMessaging": "Sorry."
    })
}

/// The knowledge base's data sources (moto has none): a bucket prefix and a web crawl.
fn data_source(kb: &str, id: &str) -> Value {
    let configuration = match id {
        "DSTICKETS1" => json!({ "type": "S3", "s3Configuration": {
            "bucketArn": "arn:aws:s3:::acme-support-kb", "inclusionPrefixes": ["tickets/"] } }),
        _ => json!({ "type": "WEB", "webConfiguration": { "sourceConfiguration": {
            "urlConfiguration": { "seedUrls": [{ "url": "https://help.acme.example/" }] } } } }),
    };
    json!({ "knowledgeBaseId": kb, "dataSourceId": id, "name": id.to_lowercase(),
            "status": "AVAILABLE", "dataSourceConfiguration": configuration,
            "createdAt": T0, "updatedAt": T0 })
}

fn answer(world: &Mutex<World>, request: &Seen) -> Option<Answer> {
    let mut w = world.lock().unwrap();
    let seg = segments(&request.path);
    match (request.method.as_str(), seg.as_slice()) {
        ("GET", ["guardrails", "gr-support"]) if request.query == "guardrailVersion=1" => {
            return Answer::json(guardrail_v1());
        }
        ("POST", ["knowledgebases", kb, "datasources"]) => {
            let items: Vec<Value> = ["DSTICKETS1", "DSHELPWEB1"]
                .iter()
                .map(|id| {
                    let d = data_source(kb, id);
                    json!({ "knowledgeBaseId": kb, "dataSourceId": id, "name": d["name"],
                            "status": "AVAILABLE", "updatedAt": T0 })
                })
                .collect();
            let (items, next) = page(&items, 1, request);
            return Answer::json(json!({ "dataSourceSummaries": items, "nextToken": next }));
        }
        ("GET", ["knowledgebases", kb, "datasources", id]) => {
            return Answer::json(json!({ "dataSource": data_source(kb, id) }));
        }
        _ => {}
    }
    if seg.first() != Some(&"agents") || seg.len() < 3 {
        return None;
    }
    let agent = seg[1].to_string();
    let support = agent == w.support;
    let bare = w.bare.contains(&agent);
    if !support && !bare && agent != w.research {
        return Answer::error(404, "ResourceNotFoundException", "no such agent");
    }
    match (request.method.as_str(), &seg[2..]) {
        ("POST", ["agentaliases"]) if bare => Answer::json(json!({ "agentAliasSummaries": [] })),
        ("POST", ["agentaliases"]) if !support => Some(Answer {
            status: 200,
            error_type: None,
            body: r#"{"agentAliasSummaries": [{"agentAliasId": 42,"#.to_string(),
        }),
        ("POST", ["agentaliases"]) => {
            let aliases: Vec<Value> = [
                ("TSTALIASID", "AgentTestAlias", "DRAFT"),
                ("PRODALIAS1", "prod", "3"),
                ("STAGEALIAS", "staging", "3"),
            ]
            .iter()
            .map(|(id, name, version)| {
                json!({ "agentAliasId": id, "agentAliasName": name, "agentAliasStatus": "PREPARED",
                            "routingConfiguration": [{ "agentVersion": version }],
                            "createdAt": T0, "updatedAt": T0 })
            })
            .collect();
            let (items, next) = page(&aliases, 1, request);
            Answer::json(json!({ "agentAliasSummaries": items, "nextToken": next }))
        }
        ("POST", ["agentversions"]) => {
            let versions: Vec<&str> = if support {
                vec!["DRAFT", "1", "2", "3"]
            } else {
                vec!["DRAFT"]
            };
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| json!({ "agentName": "x", "agentStatus": "PREPARED", "agentVersion": v, "createdAt": T0, "updatedAt": T0 }))
                .collect();
            let (items, next) = page(&versions, 2, request);
            Answer::json(json!({ "agentVersionSummaries": items, "nextToken": next }))
        }
        ("GET", ["agentversions", "3"]) if support => {
            if !w.throttled_once {
                w.throttled_once = true;
                return Answer::error(429, "ThrottlingException", "Rate exceeded");
            }
            Answer::json(version_3(&agent))
        }
        ("POST", ["agentversions", version, "actiongroups"]) => {
            let groups: Vec<&str> = match (support, *version) {
                (false, _) => vec![],
                (true, "DRAFT") => w.draft_groups.clone(),
                (true, _) => vec!["supporttls", "askhuman01"],
            };
            let items: Vec<Value> = groups
                .iter()
                .map(|g| summary_of(&action_group(&agent, version, g)))
                .collect();
            Answer::json(json!({ "actionGroupSummaries": items }))
        }
        ("GET", ["agentversions", version, "actiongroups", id]) => {
            Answer::json(json!({ "agentActionGroup": action_group(&agent, version, id) }))
        }
        ("POST", ["agentversions", _, "knowledgebases"]) => {
            let kbs: Vec<Value> = if support {
                vec![
                    json!({ "knowledgeBaseId": w.knowledge_base, "knowledgeBaseState": "ENABLED", "updatedAt": T0 }),
                ]
            } else {
                vec![]
            };
            Answer::json(json!({ "agentKnowledgeBaseSummaries": kbs }))
        }
        ("POST", ["agentversions", "3", "agentcollaborators"]) if support => Answer::json(json!({
            "agentCollaboratorSummaries": [{
                "agentId": agent, "agentVersion": "3", "collaboratorId": "COLLAB0001",
                "agentDescriptor": { "aliasArn": format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:agent-alias/REFUNDS001/LIVE000001") },
                "collaborationInstruction": "Hand refunds to this agent",
                "relayConversationHistory": "TO_COLLABORATOR",
                "collaboratorName": "refunds-agent",
                "createdAt": T0, "lastUpdatedAt": T0
            }]
        })),
        _ => Answer::error(
            400,
            "ValidationException",
            "unexpected request in this test",
        ),
    }
}

/// moto with the two agents created through the SDK (via the front, which makes moto's
/// answers readable), and the front that serves the rest.
fn agents_world() -> Option<(Moto, Front, Arc<Mutex<World>>)> {
    let moto = moto_server(&[("MOTO_ACCOUNT_ID", ACCOUNT)])?;
    let world = Arc::new(Mutex::new(World {
        support: String::new(),
        research: String::new(),
        bare: Vec::new(),
        draft_groups: vec!["supporttls", "askhuman01", "codeinterp", "s3schema01"],
        knowledge_base: String::new(),
        throttled_once: false,
    }));
    let routed = world.clone();
    let front = front(moto.port, Arc::new(move |r: &Seen| answer(&routed, r)));
    // The crm action group keeps its schema in S3.
    for (path, body) in [
        ("/acme-schemas", ""),
        ("/acme-schemas/crm.yaml", CRM_SCHEMA),
    ] {
        let answer = http(moto.port, "PUT", path, body.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let (support, research, kb) = block_on(async {
        let config = sdk(&front.endpoint()).await;
        let iam = aws_sdk_iam::Client::new(&config);
        for (name, path) in [
            (
                "AmazonBedrockExecutionRoleForAgents_support",
                "/service-role/",
            ),
            ("research-agent", "/"),
            ("support-kb", "/"),
        ] {
            iam.create_role()
                .role_name(name)
                .path(path)
                .assume_role_policy_document(BEDROCK_TRUST)
                .send()
                .await
                .unwrap();
        }
        iam.create_role()
            .role_name("support-agent-tools")
            .assume_role_policy_document(LAMBDA_TRUST)
            .send()
            .await
            .unwrap();
        let lambda = aws_sdk_lambda::Client::new(&config);
        create_function(&lambda, "support-tools", "support-agent-tools").await;
        // As the console adds it: any Bedrock agent may invoke the tools.
        lambda
            .add_permission()
            .function_name("support-tools")
            .statement_id("bedrock-agents")
            .action("lambda:InvokeFunction")
            .principal("bedrock.amazonaws.com")
            .send()
            .await
            .unwrap();
        let client = aws_sdk_bedrockagent::Client::new(&config);
        let support = client
            .create_agent()
            .agent_name("customer-support-agent")
            .agent_resource_role_arn(SUPPORT_ROLE)
            .foundation_model(SONNET)
            .instruction(SUPPORT_INSTRUCTION)
            .send()
            .await
            .unwrap();
        let research = client
            .create_agent()
            .agent_name("research-assistant")
            .agent_resource_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/research-agent"))
            .foundation_model(HAIKU)
            .instruction("Answer research questions from the knowledge base only.")
            .send()
            .await
            .unwrap();
        let kb = client
            .create_knowledge_base()
            .name("support-articles")
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/support-kb"))
            .knowledge_base_configuration(
                aws_sdk_bedrockagent::types::KnowledgeBaseConfiguration::builder()
                    .r#type(aws_sdk_bedrockagent::types::KnowledgeBaseType::Vector)
                    .vector_knowledge_base_configuration(
                        aws_sdk_bedrockagent::types::VectorKnowledgeBaseConfiguration::builder()
                            .embedding_model_arn(EMBEDDINGS)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .storage_configuration(
                aws_sdk_bedrockagent::types::StorageConfiguration::builder()
                    .r#type(aws_sdk_bedrockagent::types::KnowledgeBaseStorageType::OpensearchServerless)
                    .opensearch_serverless_configuration(
                        aws_sdk_bedrockagent::types::OpenSearchServerlessConfiguration::builder()
                            .collection_arn(COLLECTION)
                            .vector_index_name("support")
                            .field_mapping(
                                aws_sdk_bedrockagent::types::OpenSearchServerlessFieldMapping::builder()
                                    .vector_field("v")
                                    .text_field("t")
                                    .metadata_field("m")
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        (
            support.agent().unwrap().agent_id().to_string(),
            research.agent().unwrap().agent_id().to_string(),
            kb.knowledge_base().unwrap().knowledge_base_id().to_string(),
        )
    });
    {
        let mut w = world.lock().unwrap();
        w.support = support;
        w.research = research;
        w.knowledge_base = kb;
    }
    Some((moto, front, world))
}

fn api_only_config(dir: &std::path::Path, endpoint: &str) -> std::path::PathBuf {
    let config = dir.join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"store\"\n\n\
             [[source]]\nname = \"aws\"\nkind = \"aws-api\"\nendpoint = {endpoint:?}\nregion = \"us-east-1\"\nmax_attempts = 3\n"
        ),
    )
    .unwrap();
    config
}

fn inventory_text(config: &std::path::Path) -> String {
    let out = run(&["--config", config.to_str().unwrap(), "inventory"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn api_summary(scan: &std::process::Output) -> Value {
    let summary: Value = serde_json::from_slice(&scan.stdout).unwrap();
    summary["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "aws")
        .unwrap()
        .clone()
}

#[test]
fn bedrock_inventory_shows_what_each_alias_runs_and_how_the_draft_differs() {
    let Some((_moto, front, world)) = agents_world() else {
        return;
    };
    let (support, research) = {
        let w = world.lock().unwrap();
        (w.support.clone(), w.research.clone())
    };
    let dir = tempfile::tempdir().unwrap();
    let config = api_only_config(dir.path(), &front.endpoint());
    let scan = scan_with_credentials(&config);
    // The research agent's alias list is malformed: partial, named, the rest complete.
    assert_eq!(scan.status.code(), Some(2), "{}", stderr(&scan));
    let source = api_summary(&scan);
    assert_eq!(source["api"]["agents"], 2, "{source}");
    assert_eq!(source["api"]["agent_versions_read"], 3, "{source}");
    let failures: Vec<&str> = source["failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with(&format!("bedrock-agent:ListAgentAliases {research}:")),
        "{failures:?}"
    );
    // The schema kept in S3 was read with the scan's credentials: nothing unresolved.
    assert_eq!(source["api"]["unresolved"], json!([]), "{source}");

    // Every page was fetched with the token the previous one gave, signed.
    let alias_pages: Vec<Value> = front
        .requests_to("POST", &format!("/agents/{support}/agentaliases"))
        .iter()
        .map(|s| s.body["nextToken"].clone())
        .collect();
    assert_eq!(
        alias_pages,
        vec![Value::Null, json!("page-1"), json!("page-2")]
    );
    assert!(front.seen.lock().unwrap().iter().all(|s| s.signed));
    // The throttled version read was retried and then read.
    assert_eq!(
        front
            .requests_to("GET", &format!("/agents/{support}/agentversions/3"))
            .len(),
        2
    );

    let text = inventory_text(&config);
    for expected in [
        "prod (PRODALIAS1) → version 3",
        "live v3",
        "routed by prod, staging",
        &format!("PREPARED · model {HAIKU} · role {SUPPORT_ROLE}"),
        "tool support-tools (action_group, arn:aws:lambda:us-east-1:111122223333:function:support-tools): issueRefund [POST /refunds]; lookupOrder [GET /orders/{id}]",
        "tool ask-a-human (action_group, RETURN_CONTROL): escalate [function(ticket)]",
        "guardrail gr-support v1 (support-guardrail)",
        "content filters (input/output): HATE HIGH/HIGH, PROMPT_ATTACK NONE/NONE",
        "no prompt-attack filter on input",
        "denied topics: legal-advice",
        "sensitive information: CREDIT_DEBIT_CARD_NUMBER BLOCK, regex account-number ANONYMIZE",
        "contextual grounding: GROUNDING >= 0.75",
        &format!(
            "support-articles · VECTOR (embeddings by {EMBEDDINGS}) · OPENSEARCH_SERVERLESS {COLLECTION} · role arn:aws:iam::{ACCOUNT}:role/support-kb"
        ),
        "source dstickets1 (S3): arn:aws:s3:::acme-support-kb/tickets/",
        "source dshelpweb1 (WEB): https://help.acme.example/",
        &format!("prompt ORCHESTRATION: template replaced, parser {PARSER_LAMBDA}"),
        "prompt PRE_PROCESSING: step DISABLED",
        "memory SESSION_SUMMARY for 30 days",
        "SUPERVISOR of refunds-agent",
        "draft differs from what prod, staging runs (v3):",
        &format!("model: {SONNET} (was {HAIKU})"),
        "guardrail: none (was gr-support v1)",
        "tools: +code-interpreter, +crm, +support-tools.exportCustomers",
        "tool code-interpreter (builtin AMAZON.CodeInterpreter, -)",
        "tool crm (action_group, arn:aws:lambda:us-east-1:111122223333:function:support-tools): addNote [POST /customers/{id}/notes]; getCustomer [GET /customers/{id}]",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // What runs reads tickets and the web through a guardrail that screens no prompt
    // attacks: a finding on the live version, not on the draft.
    let findings = run(&[
        "--config",
        config.to_str().unwrap(),
        "findings",
        "--format",
        "json",
    ]);
    let findings: Value = serde_json::from_slice(&findings.stdout).unwrap();
    let configuration: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "configuration")
        .collect();
    assert_eq!(configuration.len(), 1, "{findings:#}");
    assert_eq!(configuration[0]["check"], "no-prompt-attack-filter");
    assert_eq!(configuration[0]["subject"], "v3 (routed by prod, staging)");
    assert!(
        configuration[0]["detail"]
            .as_str()
            .unwrap()
            .contains("knowledge base")
            && configuration[0]["detail"]
                .as_str()
                .unwrap()
                .contains("arn:aws:s3:::acme-support-kb/tickets/"),
        "{:#}",
        configuration[0]
    );
    // Texts are kept as digests only.
    let store = dir.path().join("store");
    for marker in [
        "SECRET-INSTRUCTION-MARKER",
        "SECRET-TEMPLATE-MARKER",
        "secret schema text",
    ] {
        assert!(!grep_dir(&store, marker), "{marker} was stored");
    }

    // A re-read of an unchanged configuration records nothing new.
    let again = scan_with_credentials(&config);
    assert_eq!(
        api_summary(&again)["api"]["changes"],
        0,
        "{}",
        stdout(&again)
    );

    // An action group deleted from the draft leaves the agent's current tools.
    world.lock().unwrap().draft_groups = vec!["supporttls", "askhuman01", "s3schema01"];
    scan_with_credentials(&config);
    let text = inventory_text(&config);
    let draft_part = text.split("draft  ").nth(1).unwrap_or_default();
    assert!(!draft_part.contains("code-interpreter"), "{text}");
    let current: Vec<&str> = text.lines().filter(|l| l.starts_with("  tool ")).collect();
    assert_eq!(current.len(), 3, "{current:?}");
    assert!(!current.iter().any(|l| l.contains("code-interpreter")));

    // An agent deleted in AWS stays in the history, marked deleted, and leaves the BOM.
    block_on(async {
        aws_sdk_bedrockagent::Client::new(&sdk(&front.endpoint()).await)
            .delete_agent()
            .agent_id(&research)
            .send()
            .await
            .unwrap();
    });
    let scan = scan_with_credentials(&config);
    assert!(scan.status.success(), "{}", stderr(&scan));
    let text = inventory_text(&config);
    let research_part = text
        .split(&format!("aws.{ACCOUNT}.us-east-1.{research}\n"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        research_part.starts_with("  DELETED         bedrock-agent:ListAgents no longer lists it"),
        "{text}"
    );
    let support_part = text
        .split(&format!("aws.{ACCOUNT}.us-east-1.{support}\n"))
        .nth(1)
        .unwrap_or_default();
    assert!(!support_part.starts_with("  DELETED"), "{text}");
    let bom = run(&[
        "--config",
        config.to_str().unwrap(),
        "inventory",
        "--format",
        "cyclonedx",
    ]);
    let bom = stdout(&bom);
    assert!(bom.contains("customer-support-agent"), "{bom}");
    assert!(!bom.contains("research-assistant"), "{bom}");
    assert_eq!(
        api_summary(&scan_with_credentials(&config))["api"]["changes"],
        0,
        "the deletion is recorded once"
    );
}

#[test]
fn a_recorded_scan_replays_offline_to_the_same_inventory_and_names_what_is_missing() {
    let Some((moto, front, world)) = agents_world() else {
        return;
    };
    let support = world.lock().unwrap().support.clone();
    let live_dir = tempfile::tempdir().unwrap();
    let config = api_only_config(live_dir.path(), &front.endpoint());
    let recording = live_dir.path().join("recording");
    let recorded = bin()
        .args(["--config", config.to_str().unwrap(), "record"])
        .arg(&recording)
        .args(["--format", "json"])
        .env("AWS_ACCESS_KEY_ID", "AKIDLIVESECRET")
        .env("AWS_SECRET_ACCESS_KEY", "live-secret-key")
        .output()
        .unwrap();
    assert_eq!(recorded.status.code(), Some(2), "{}", stderr(&recorded));
    let live_failures = api_summary(&recorded)["failures"].clone();
    let live_inventory = inventory_text(&config);
    let exchanges = recording.join("aws").join("exchanges.jsonl");
    let kept = std::fs::read_to_string(&exchanges).unwrap();
    for secret in [
        "SECRET-INSTRUCTION-MARKER",
        "SECRET-TEMPLATE-MARKER",
        "AKIDLIVESECRET",
        "live-secret-key",
    ] {
        assert!(!kept.contains(secret), "{secret} is in the recording");
    }
    // AWS is gone: the replay reads nothing but the recording.
    drop(moto);
    let replay = |store_dir: &std::path::Path| {
        let offline = api_only_config(store_dir, "http://127.0.0.1:9");
        let out = bin()
            .args(["--config", offline.to_str().unwrap(), "scan", "--replay"])
            .arg(&recording)
            .args(["--format", "json"])
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        (offline, out)
    };
    let offline_dir = tempfile::tempdir().unwrap();
    let (offline, replayed) = replay(offline_dir.path());
    assert_eq!(replayed.status.code(), Some(2), "{}", stderr(&replayed));
    assert_eq!(api_summary(&replayed)["failures"], live_failures);
    let body = |text: &str| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&inventory_text(&offline)), body(&live_inventory));

    // A call the recording lacks is named, and the rest is still read.
    let version_read = format!("\"path\":\"/agents/{support}/agentversions/3\"");
    let without: Vec<&str> = kept
        .lines()
        .filter(|l| !(l.contains(&version_read) && l.contains("\"method\":\"GET\"")))
        .collect();
    assert!(without.len() < kept.lines().count());
    std::fs::write(&exchanges, without.join("\n")).unwrap();
    let partial_dir = tempfile::tempdir().unwrap();
    let (partial, replayed) = replay(partial_dir.path());
    let failures = api_summary(&replayed)["failures"].to_string();
    assert!(
        failures.contains(&format!(
            "bedrock-agent:GetAgentVersion {support}/3: dispatch failure"
        )) && failures.contains(&format!(
            "the recording has no answer for bedrock us-east-1 GET /agents/{support}/agentversions/3"
        )),
        "{failures}"
    );
    let text = inventory_text(&partial);
    assert!(
        text.contains("prod (PRODALIAS1) → version 3") && !text.contains("live v3"),
        "{text}"
    );
}

fn reconcile_json(config: &std::path::Path) -> Value {
    let out = run(&[
        "--config",
        config.to_str().unwrap(),
        "reconcile",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn item_titles(reconciled: &Value, agent: &str) -> Vec<String> {
    reconciled
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["agent"]["id"] == agent)
        .flat_map(|r| r["items"].as_array().unwrap().clone())
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn unpinned_trust_and_invoke_grants_are_overreach_until_pinned_to_the_agent() {
    let Some((_moto, front, world)) = agents_world() else {
        return;
    };
    let support = world.lock().unwrap().support.clone();
    let dir = tempfile::tempdir().unwrap();
    let config = api_only_config(dir.path(), &front.endpoint());
    let scan = scan_with_credentials(&config);
    assert_eq!(scan.status.code(), Some(2), "{}", stderr(&scan));
    let titles = item_titles(&reconcile_json(&config), &support);
    assert!(
        titles.contains(&"action-group function support-tools can be invoked through Bedrock by any Bedrock agent in any account (no aws:SourceArn or aws:SourceAccount condition)".to_string()),
        "{titles:#?}"
    );
    assert!(
        titles.contains(&"the agent's role can be assumed by Bedrock on behalf of any Bedrock agent in any account (no aws:SourceArn or aws:SourceAccount condition)".to_string()),
        "{titles:#?}"
    );
    // The knowledge base's role (read through GetKnowledgeBase) trusts Bedrock for any
    // knowledge base.
    let kb = world.lock().unwrap().knowledge_base.clone();
    assert!(
        titles.contains(&format!("knowledge base {kb}'s role can be assumed by Bedrock on behalf of any Bedrock knowledge base in any account (no aws:SourceArn or aws:SourceAccount condition)")),
        "{titles:#?}"
    );
    // The function runs outside any VPC: its egress cannot be seen anywhere.
    let network = coverage_of(&config, &support, "network");
    assert_eq!(network["status"], "unavailable", "{network}");
    assert!(
        network["reason"]
            .as_str()
            .unwrap()
            .contains("outside any VPC, whose egress no log records: support-tools"),
        "{network}"
    );

    // Pinned to this agent, the invoke grant is no longer overreach.
    block_on(async {
        let lambda = aws_sdk_lambda::Client::new(&sdk(&front.endpoint()).await);
        lambda
            .remove_permission()
            .function_name("support-tools")
            .statement_id("bedrock-agents")
            .send()
            .await
            .unwrap();
        lambda
            .add_permission()
            .function_name("support-tools")
            .statement_id("bedrock-support-agent")
            .action("lambda:InvokeFunction")
            .principal("bedrock.amazonaws.com")
            .source_arn(format!(
                "arn:aws:bedrock:us-east-1:{ACCOUNT}:agent/{support}"
            ))
            .send()
            .await
            .unwrap();
    });
    scan_with_credentials(&config);
    let titles = item_titles(&reconcile_json(&config), &support);
    assert!(
        !titles
            .iter()
            .any(|t| t.contains("support-tools can be invoked")),
        "{titles:#?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("the agent's role can be assumed"))
    );
}

#[test]
fn every_configured_region_is_read_and_judged_by_its_own_logging() {
    let Some((_moto, front, world)) = agents_world() else {
        return;
    };
    let support = world.lock().unwrap().support.clone();
    // An agent in Ireland, and model invocation logging on (with text) in Virginia only.
    let ireland = block_on(async {
        let eu = sdk_in(&front.endpoint(), "eu-west-1").await;
        let created = aws_sdk_bedrockagent::Client::new(&eu)
            .create_agent()
            .agent_name("eu-helpdesk")
            .agent_resource_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/research-agent"))
            .foundation_model(HAIKU)
            .instruction("Answer helpdesk questions for European customers only.")
            .send()
            .await
            .unwrap();
        let us = sdk(&front.endpoint()).await;
        invocation_logging_to_s3(&us, "acme-invocations", None).await;
        created.agent().unwrap().agent_id().to_string()
    });
    world.lock().unwrap().bare.push(ireland.clone());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"store\"\n\n[[source]]\nname = \"aws\"\nkind = \"aws-api\"\nendpoint = {:?}\nregions = [\"us-east-1\", \"eu-west-1\"]\nmax_attempts = 3\n",
            front.endpoint()
        ),
    )
    .unwrap();
    let scan = scan_with_credentials(&config);
    let source = api_summary(&scan);
    assert_eq!(source["api"]["agents"], 3, "{source}");
    // The research agent's malformed alias list is named with its region.
    assert!(
        source["failures"][0]
            .as_str()
            .unwrap()
            .starts_with("us-east-1: bedrock-agent:ListAgentAliases "),
        "{source}"
    );
    let prompt = |id: &str| coverage_of(&config, id, "prompt");
    let eu = prompt(&ireland);
    assert_eq!(eu["agent"]["location"], "eu-west-1");
    assert!(
        eu["setting"]
            .as_str()
            .unwrap()
            .contains("model invocation logging is off in eu-west-1"),
        "{eu}"
    );
    let us = prompt(&support);
    assert!(
        us["setting"]
            .as_str()
            .unwrap()
            .contains("prompts are delivered to s3://acme-invocations"),
        "{us}"
    );
}

/// One CloudTrail record of `event` made by a session of `role` (named without its path,
/// as sessions name it).
fn record_by(role: &str, session: &str, source: &str, event: &str, n: u32) -> String {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLE:{session}"),
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"),
            "accountId": ACCOUNT
        },
        "eventTime": format!("2026-10-06T14:00:{n:02}Z"),
        "eventSource": source,
        "eventName": event,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "bedrock.amazonaws.com",
        "userAgent": "bedrock.amazonaws.com",
        "requestParameters": { "modelId": SONNET, "bucketName": "exports", "key": format!("r{n}.json") },
        "responseElements": null,
        "requestID": format!("REQ-{n}"),
        "eventID": format!("evt-{n:012}"),
        "readOnly": event != "PutObject",
        "eventType": "AwsApiEvent",
        "managementEvent": event != "PutObject",
        "recipientAccountId": ACCOUNT,
        "eventCategory": if event == "PutObject" { "Data" } else { "Management" }
    })
    .to_string()
}

#[test]
fn logs_of_agents_created_before_them_are_attributed_through_the_api() {
    let Some((_moto, front, world)) = agents_world() else {
        return;
    };
    let support = world.lock().unwrap().support.clone();
    let dir = tempfile::tempdir().unwrap();
    // The logs begin long after CreateAgent: nothing in them says whose these calls are.
    let day = dir.path().join(format!(
        "trail/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/10/06"
    ));
    std::fs::create_dir_all(&day).unwrap();
    let records = [
        record_by(
            "AmazonBedrockExecutionRoleForAgents_support",
            "BedrockAgent-1a2b3c4d",
            "bedrock.amazonaws.com",
            "InvokeModel",
            1,
        ),
        record_by(
            "support-agent-tools",
            "support-tools",
            "s3.amazonaws.com",
            "PutObject",
            2,
        ),
    ];
    std::fs::write(
        day.join(format!(
            "{ACCOUNT}_CloudTrail_us-east-1_20261006T1400Z_0001.json"
        )),
        format!("{{\"Records\":[{}]}}", records.join(",")),
    )
    .unwrap();
    let config = api_only_config(dir.path(), &front.endpoint());
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[source]]\nname = \"trail\"\nkind = \"cloudtrail\"\nurl = {:?}\n",
        dir.path().join("trail").display().to_string()
    ));
    std::fs::write(&config, text).unwrap();
    let scan = scan_with_credentials(&config);
    let summary: Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert_eq!(summary["unattributed_events"], 0, "{summary:#}");
    let agent = summary["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"]["id"] == support.as_str())
        .unwrap_or_else(|| panic!("{summary:#}"));
    let total: u64 = agent["events_by_layer"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(total, 2, "{agent:#}");
}
