//! The Bedrock Agents inventory of a 1,000-agent region through the real SDK, against a
//! loopback server answering in the bedrock-agent wire format (goal: ≤ 10 s), side by
//! side with the same read one agent at a time's worth of work per call, as a ratio.
//!
//! Each agent: DRAFT + one routed version, two action groups per version (an OpenAPI
//! schema with three operations, a function schema), one knowledge base, one alias; 13
//! calls per agent, plus the knowledge base and guardrail they share, read once (3 calls).
//! `AGENTS=N` changes the count.
//!
//! Run: `cargo bench -p connectors --bench agents_inventory`

use connectors::aws::{ApiSettings, Wire, agents::read_agents, sdk_config};
use normalizer::Timestamp;
use normalizer::inventory::InventorySnapshot;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

#[path = "support/loopback.rs"]
mod loopback;

const T: &str = "2026-10-01T09:00:00Z";

fn agent_id(i: usize) -> String {
    format!("AG{i:08}")
}

fn answer(method: &str, path: &str, body: &Value, agents: usize) -> Value {
    let seg: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match (method, seg.as_slice()) {
        ("POST", ["agents"]) => {
            let page: usize = body["nextToken"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let per = 100;
            let items: Vec<Value> = (page * per..((page + 1) * per).min(agents))
                .map(|i| json!({ "agentId": agent_id(i), "agentName": format!("agent-{i}"), "agentStatus": "PREPARED", "updatedAt": T }))
                .collect();
            let next = ((page + 1) * per < agents).then(|| (page + 1).to_string());
            json!({ "agentSummaries": items, "nextToken": next })
        }
        ("GET", ["agents", id]) => json!({ "agent": {
            "agentId": id, "agentName": format!("agent-{id}"), "agentVersion": "DRAFT",
            "agentArn": format!("arn:aws:bedrock:us-east-1:111122223333:agent/{id}"),
            "agentStatus": "PREPARED", "foundationModel": "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "instruction": "You help customers with their orders and never share other customers' data.",
            "idleSessionTTLInSeconds": 600,
            "agentResourceRoleArn": format!("arn:aws:iam::111122223333:role/agent-{id}"),
            "createdAt": T, "updatedAt": T,
            "guardrailConfiguration": { "guardrailIdentifier": "gr-1", "guardrailVersion": "1" }
        }}),
        ("POST", ["agents", _, "agentaliases"]) => json!({ "agentAliasSummaries": [{
            "agentAliasId": "PRODALIAS1", "agentAliasName": "prod", "agentAliasStatus": "PREPARED",
            "routingConfiguration": [{ "agentVersion": "1" }], "createdAt": T, "updatedAt": T
        }]}),
        ("POST", ["agents", _, "agentversions"]) => json!({ "agentVersionSummaries": [
            { "agentName": "a", "agentStatus": "PREPARED", "agentVersion": "DRAFT", "createdAt": T, "updatedAt": T },
            { "agentName": "a", "agentStatus": "PREPARED", "agentVersion": "1", "createdAt": T, "updatedAt": T }
        ]}),
        ("GET", ["agents", id, "agentversions", v]) => json!({ "agentVersion": {
            "agentId": id, "agentName": format!("agent-{id}"), "version": v,
            "agentArn": format!("arn:aws:bedrock:us-east-1:111122223333:agent/{id}"),
            "agentStatus": "PREPARED", "foundationModel": "anthropic.claude-3-haiku-20240307-v1:0",
            "idleSessionTTLInSeconds": 600,
            "agentResourceRoleArn": format!("arn:aws:iam::111122223333:role/agent-{id}"),
            "createdAt": T, "updatedAt": T
        }}),
        ("POST", ["agents", _, "agentversions", _, "actiongroups"]) => {
            json!({ "actionGroupSummaries": [
                { "actionGroupId": "OPENAPI001", "actionGroupName": "orders", "actionGroupState": "ENABLED", "updatedAt": T },
                { "actionGroupId": "FUNCTION01", "actionGroupName": "escalation", "actionGroupState": "ENABLED", "updatedAt": T }
            ]})
        }
        ("GET", ["agents", id, "agentversions", v, "actiongroups", group]) => {
            let mut g = json!({
                "agentId": id, "agentVersion": v, "actionGroupId": group, "actionGroupState": "ENABLED",
                "createdAt": T, "updatedAt": T,
                "actionGroupExecutor": { "lambda": format!("arn:aws:lambda:us-east-1:111122223333:function:tools-{id}") }
            });
            if *group == "OPENAPI001" {
                g["actionGroupName"] = json!("orders");
                g["apiSchema"] = json!({ "payload": json!({ "openapi": "3.0.0", "paths": {
                    "/orders/{id}": { "get": { "operationId": "getOrder" } },
                    "/refunds": { "post": { "operationId": "refund" } },
                    "/orders": { "get": { "operationId": "listOrders" } }
                }}).to_string() });
            } else {
                g["actionGroupName"] = json!("escalation");
                g["functionSchema"] = json!({ "functions": [{ "name": "escalate", "parameters": { "ticket": { "type": "string" } } }] });
            }
            json!({ "agentActionGroup": g })
        }
        ("POST", ["agents", _, "agentversions", _, "knowledgebases"]) => json!({
            "agentKnowledgeBaseSummaries": [{ "knowledgeBaseId": "KB00000001", "knowledgeBaseState": "ENABLED", "updatedAt": T }]
        }),
        // The knowledge base and the guardrail every agent shares: read once per scan.
        ("GET", ["knowledgebases", kb]) => json!({ "knowledgeBase": {
            "knowledgeBaseId": kb, "name": "docs", "roleArn": "arn:aws:iam::111122223333:role/kb",
            "knowledgeBaseArn": format!("arn:aws:bedrock:us-east-1:111122223333:knowledge-base/{kb}"),
            "status": "ACTIVE", "createdAt": T, "updatedAt": T
        }}),
        ("POST", ["knowledgebases", _, "datasources"]) => json!({ "dataSourceSummaries": [] }),
        ("GET", ["guardrails", g]) => json!({
            "name": "g", "guardrailId": g, "guardrailArn": format!("arn:aws:bedrock:us-east-1:111122223333:guardrail/{g}"),
            "version": "1", "status": "READY", "createdAt": T, "updatedAt": T,
            "blockedInputMessaging": "no", "blockedOutputsMessaging": "no"
        }),
        _ => json!({ "message": format!("unexpected {method} {path}") }),
    }
}

/// A keep-alive HTTP/1.1 loopback server; counts the requests it answered.
fn main() {
    let agents: usize = std::env::var("AGENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let (port, served) = loopback::serve(Arc::new(move |method, path, body, _| {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        (
            answer(method, path, &body, agents).to_string(),
            "application/json",
        )
    }));
    // SAFETY: set before any thread reads the environment (the server threads do not).
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "bench");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "bench");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let known = InventorySnapshot {
        at: Timestamp(0),
        agents: Vec::new(),
    };
    let run = |concurrency: usize| {
        let settings = ApiSettings {
            source: "bench".into(),
            region: "us-east-1".into(),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            max_attempts: 3,
            wire: Wire::Live,
            concurrency,
        };
        let before = served.load(Ordering::Relaxed);
        let started = Instant::now();
        let read = runtime.block_on(async {
            let config = sdk_config(&settings).await;
            read_agents(&config, &settings, None, &known, Timestamp(0)).await
        });
        let elapsed = started.elapsed().as_secs_f64();
        assert!(read.failures.is_empty(), "{:?}", read.failures);
        assert_eq!(read.agents, agents);
        (
            elapsed,
            served.load(Ordering::Relaxed) - before,
            read.observations.len(),
        )
    };
    println!("Bedrock Agents inventory, {agents} agents, loopback wire-format server");
    println!(
        "{:<36}{:>9}{:>9}{:>11}{:>9}",
        "", "wall s", "calls", "calls/s", "facts"
    );
    let mut figures = Vec::new();
    for concurrency in [1, 8] {
        let (elapsed, calls, facts) = run(concurrency);
        println!(
            "{:<36}{:>9.2}{:>9}{:>11.0}{:>9}",
            format!("agentward, {concurrency} agent(s) at once"),
            elapsed,
            calls,
            calls as f64 / elapsed,
            facts
        );
        figures.push(elapsed);
    }
    let (one, eight) = (figures[0], figures[1]);
    println!("8 at once vs 1 at a time: {:.2}x faster", one / eight);
    println!(
        "goal 10 s per 1,000 agents: {:.1}x under it ({:.2} ms per agent)",
        10.0 * agents as f64 / 1000.0 / eight,
        eight * 1000.0 / agents as f64
    );
}
