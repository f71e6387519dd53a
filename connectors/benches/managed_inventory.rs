//! The managed-platform inventories of 500 Vertex AI reasoning engines across 10 projects
//! and 500 Azure AI Foundry agents across 10 accounts (one project each), through the
//! gcp-api and azure-api reads (REST client, JSON parsing, requirements from Cloud Storage,
//! IAM policies; ARM accounts, deployments, diagnostic settings, projects, connections,
//! both agent lists), against a loopback server answering in the published API shapes
//! (goal: both in ≤ 10 s), side by side at half the size to show calls and time grow
//! linearly, and one project or account at a time vs the default four.
//!
//! Vertex, per project: one page of 50 engines, each with a requirements file in Cloud
//! Storage, and its IAM policy: 52 calls. Foundry, per account: deployments, diagnostic
//! settings, projects, connections, one page of 50 classic agents, the versioned agents: 6
//! calls, plus one accounts list. `PROJECTS=N` / `ENGINES=N` change the sizes.
//!
//! Run: `cargo bench -p connectors --bench managed_inventory`

use connectors::azure::AzureSettings;
use connectors::gcp::{GcpSettings, read};
use connectors::rest::{Bearer, RestClient, RestWire};
use normalizer::Timestamp;
use normalizer::inventory::InventorySnapshot;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

#[path = "support/loopback.rs"]
mod loopback;

struct Fixed;

#[async_trait::async_trait]
impl Bearer for Fixed {
    async fn token(&self, _audience: &str) -> Result<String, connectors::ConnectorError> {
        Ok("bench-token".into())
    }

    fn describe(&self) -> String {
        "a fixed bench token".into()
    }
}

fn answer(method: &str, path: &str, engines: usize, port: u16) -> (String, &'static str) {
    let path = path.split('?').next().unwrap_or("");
    if let Some(azure) = foundry(path, engines, port) {
        return (azure.to_string(), "application/json");
    }
    if method == "POST" && path.ends_with(":getIamPolicy") {
        let body = json!({"version": 3, "etag": "x", "bindings": [
            {"role": "roles/aiplatform.user", "members": ["serviceAccount:agent-1@p.iam.gserviceaccount.com"]}],
            "auditConfigs": [{"service": "aiplatform.googleapis.com", "auditLogConfigs": [{"logType": "DATA_READ"}]}]});
        return (body.to_string(), "application/json");
    }
    if path.starts_with("/storage/v1/b/") {
        return (
            "google-cloud-aiplatform[agent_engines,langchain]==1.121.0\nlanggraph==0.6.7\nlangchain-google-vertexai==2.0.27\n".into(),
            "text/plain",
        );
    }
    let seg: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let [
        "v1",
        "projects",
        project,
        "locations",
        location,
        "reasoningEngines",
    ] = seg.as_slice()
    {
        let items: Vec<_> = (0..engines)
            .map(|i| json!({
                "name": format!("projects/100000000001/locations/{location}/reasoningEngines/{i}"),
                "displayName": format!("{project}-agent-{i}"),
                "spec": {
                    "agentFramework": "langgraph",
                    "serviceAccount": format!("agent-{i}@{project}.iam.gserviceaccount.com"),
                    "packageSpec": {
                        "pickleObjectGcsUri": format!("gs://{project}-staging/agent-{i}/agent_engine.pkl"),
                        "requirementsGcsUri": format!("gs://{project}-staging/agent-{i}/requirements.txt"),
                        "pythonVersion": "3.12"
                    },
                    "deploymentSpec": {"env": [{"name": "LOG_LEVEL", "value": "INFO"}],
                                       "secretEnv": [{"name": "API_KEY", "secretRef": {"secret": "api-key", "version": "1"}}]},
                    "classMethods": [{"name": "query"}, {"name": "stream_query"}]
                },
                "createTime": "2026-10-01T09:00:00Z",
                "updateTime": "2026-11-01T09:00:00Z"
            }))
            .collect();
        return (
            json!({ "reasoningEngines": items }).to_string(),
            "application/json",
        );
    }
    ("{}".into(), "application/json")
}

/// Azure Resource Manager and the Foundry data plane: `acct-NN` accounts (as many as the
/// bench asks for by listing them) with one project `pNN` each, of `engines` classic agents.
fn foundry(path: &str, engines: usize, port: u16) -> Option<serde_json::Value> {
    let accounts = ACCOUNTS.load(Ordering::Relaxed);
    let account = |k: usize| {
        format!(
            "/subscriptions/bench/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct-{k:02}"
        )
    };
    if path == "/subscriptions/bench/providers/Microsoft.CognitiveServices/accounts" {
        let value: Vec<_> = (0..accounts)
            .map(|k| json!({"id": account(k), "name": format!("acct-{k:02}"), "kind": "AIServices", "location": "eastus", "properties": {}}))
            .collect();
        return Some(json!({ "value": value }));
    }
    if let Some(rest) = path.strip_prefix("/subscriptions/bench/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct-") {
        let (k, tail) = rest.split_at(2);
        return Some(match tail {
            "/deployments" => json!({"value": [{"name": "gpt-4o-prod", "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}, "raiPolicyName": "Microsoft.DefaultV2"}}]}),
            "/projects" => json!({"value": [{"id": format!("{}/projects/p{k}", account(k.parse().unwrap_or(0))), "name": format!("acct-{k}/p{k}"),
                "identity": {"principalId": format!("principal-{k}")},
                "properties": {"endpoints": {"AI Foundry API": format!("http://127.0.0.1:{port}/api/projects/p{k}")}}}]}),
            _ => json!({"value": []}),
        });
    }
    if let Some(rest) = path.strip_prefix("/api/projects/p") {
        if rest.ends_with("/agents") {
            return Some(json!({"object": "list", "data": [], "has_more": false}));
        }
        let data: Vec<_> = (0..engines)
            .map(|i| json!({"id": format!("asst_{i:04}"), "object": "assistant", "name": format!("agent-{i}"), "model": "gpt-4o-prod",
                "instructions": "Answer from the policy library; never read out payment details.",
                "tools": [{"type": "file_search"}, {"type": "function", "function": {"name": "get_order", "parameters": {"type": "object"}}}],
                "tool_resources": {"file_search": {"vector_store_ids": ["vs_policies"]}}}))
            .collect();
        return Some(
            json!({"object": "list", "data": data, "has_more": false, "last_id": format!("asst_{:04}", engines.saturating_sub(1))}),
        );
    }
    None
}

/// How many Foundry accounts the accounts list holds for the run in progress.
static ACCOUNTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn main() {
    let size = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let (projects, engines) = (size("PROJECTS", 10), size("ENGINES", 50));
    let (port, served) = loopback::serve(Arc::new(move |method, path, _, port| {
        answer(method, path, engines, port)
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let known = InventorySnapshot {
        at: Timestamp(0),
        agents: Vec::new(),
    };
    let run = |projects: usize, concurrency: usize| {
        let settings = GcpSettings {
            source: "bench".into(),
            projects: (0..projects).map(|p| format!("acme-{p:02}")).collect(),
            locations: vec!["us-central1".into()],
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            concurrency,
        };
        let client = RestClient::new(RestWire::Live(Arc::new(Fixed)), 3).unwrap();
        let before = served.load(Ordering::Relaxed);
        let started = Instant::now();
        let out = runtime.block_on(read(&client, &settings, &known, Timestamp(0)));
        let elapsed = started.elapsed().as_secs_f64();
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert_eq!(out.engines, projects * engines);
        (
            elapsed,
            served.load(Ordering::Relaxed) - before,
            out.observations.len(),
        )
    };
    let run_azure = |accounts: usize, concurrency: usize| {
        ACCOUNTS.store(accounts, Ordering::Relaxed);
        let settings = AzureSettings {
            source: "bench".into(),
            subscriptions: vec!["bench".into()],
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            concurrency,
        };
        let client = RestClient::new(RestWire::Live(Arc::new(Fixed)), 3).unwrap();
        let before = served.load(Ordering::Relaxed);
        let started = Instant::now();
        let out = runtime.block_on(connectors::azure::read(
            &client,
            &settings,
            &known,
            Timestamp(0),
        ));
        let elapsed = started.elapsed().as_secs_f64();
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert_eq!(out.agents, accounts * engines);
        (
            elapsed,
            served.load(Ordering::Relaxed) - before,
            out.observations.len(),
        )
    };
    println!("Managed-platform inventories, {engines} agents per project, loopback REST server");
    println!(
        "{:<48}{:>9}{:>9}{:>11}{:>9}",
        "", "wall s", "calls", "calls/s", "facts"
    );
    let mut total = 0.0;
    for (platform, unit) in [("Vertex", "projects"), ("Foundry", "accounts")] {
        let mut figures = Vec::new();
        for (n, concurrency) in [(projects / 2, 4), (projects, 1), (projects, 4)] {
            let (elapsed, calls, facts) = if platform == "Vertex" {
                run(n, concurrency)
            } else {
                run_azure(n, concurrency)
            };
            println!(
                "{:<48}{:>9.2}{:>9}{:>11.0}{:>9}",
                format!(
                    "{platform}: {} agents, {n} {unit}, {concurrency} at once",
                    n * engines
                ),
                elapsed,
                calls,
                calls as f64 / elapsed,
                facts
            );
            figures.push((elapsed, calls));
        }
        let (half, one, four) = (figures[0], figures[1], figures[2]);
        println!(
            "  {platform}: twice the {unit}: {:.2}x the calls, {:.2}x the time; 4 at once vs 1: {:.2}x faster",
            four.1 as f64 / half.1 as f64,
            four.0 / half.0,
            one.0 / four.0
        );
        total += four.0;
    }
    println!(
        "goal 10 s for {} engines + {} Foundry agents: {total:.2} s, {:.1}x under it",
        projects * engines,
        projects * engines,
        10.0 / total
    );
}
