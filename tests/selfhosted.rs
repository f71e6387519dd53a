//! The second quickstart example, end to end through the binary: a self-hosted agent's
//! probe spool (recorded from a real agent by scripts/make-selfhosted-example.py) scanned
//! into inventory, coverage, baselines and drift; and the probe's own loss reports
//! degrading exactly the agents they name.

mod common;
use common::*;
use normalizer::node::SpoolRecord;
use normalizer::{AgentRef, Provider, Timestamp};
use serde_json::Value;
use std::path::Path;

const AGENT: &str = "selfhosted.prod-eu-1.agents.deployment_support-bot";

fn scan_example(store: &Path) -> std::path::PathBuf {
    let config = repo_root().join("examples/selfhosted-agent/agentward.toml");
    let text = stdout(&run_on(&config, store, &["scan"]));
    assert!(text.contains("0 quarantined"), "{text}");
    assert!(
        text.contains("events not attributed to an agent: 0"),
        "{text}"
    );
    config
}

fn json_of(config: &Path, store: &Path, args: &[&str]) -> Value {
    serde_json::from_slice(&run_on(config, store, args).stdout).unwrap()
}

#[test]
fn the_selfhosted_example_is_one_deployment_with_the_inventory_its_processes_show() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = scan_example(&store);

    let inventory = json_of(&config, &store, &["inventory", "--format", "json"]);
    let agents = inventory["agents"].as_array().unwrap();
    assert_eq!(
        agents.len(),
        1,
        "four pods across a rollout are one Deployment"
    );
    let agent = &agents[0];
    assert_eq!(
        agent["agent"],
        serde_json::json!({"provider": "self_hosted", "scope": "prod-eu-1", "location": "agents", "id": "deployment/support-bot"})
    );
    assert_eq!(agent["name"]["value"], "support-bot");
    assert_eq!(agent["platform"]["value"], "self-hosted Deployment");

    let package = |name: &str| {
        agent["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["value"]["name"] == name)
            .map(|p| p["value"].clone())
            .unwrap_or_else(|| panic!("{name} in {:#}", agent["packages"]))
    };
    assert_eq!(package("langgraph")["version"], "1.2.22");
    assert_eq!(package("langgraph")["role"], "agent framework");
    assert_eq!(package("openai")["version"], "1.109.1");
    assert_eq!(package("mcp")["version"], "1.30.0");

    let servers: Vec<(String, i64)> = agent["mcp_servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["value"]["name"].as_str().unwrap().to_string(),
                m["since"].as_i64().unwrap(),
            )
        })
        .collect();
    let day = |text: &str| Timestamp::parse_rfc3339(text).unwrap().millis();
    assert_eq!(servers.len(), 2, "{servers:?}");
    assert_eq!(servers[0].0, "mcp_server_time");
    assert!(
        servers[0].1 < day("2026-11-01T10:00:00Z"),
        "the declared one from the first day"
    );
    assert_eq!(servers[1].0, "mcp_server_fetch");
    assert!(
        (day("2026-11-11T14:00:00Z")..day("2026-11-11T15:00:00Z")).contains(&servers[1].1),
        "the undeclared one from the injected session on"
    );
    // Every fact points at the spool line that proves it.
    let record = &agent["mcp_servers"][1]["provenance"]["record"];
    assert_eq!(
        agent["mcp_servers"][1]["provenance"]["kind"],
        "node_runtime"
    );
    assert!(
        record["object"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-11/")
    );
    let endpoints: Vec<&str> = agent["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"]["address"].as_str().unwrap())
        .collect();
    assert!(endpoints.contains(&"127.0.0.1:18080") && endpoints.contains(&"127.0.0.1:18443"));

    let coverage = json_of(&config, &store, &["coverage", "--format", "json"]);
    let layer = |name: &str| {
        coverage
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["layer"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(layer("kernel")["status"], "observed");
    assert_eq!(layer("network")["status"], "observed");
    assert_eq!(layer("prompt")["status"], "unavailable");
    assert_eq!(layer("identity_api")["status"], "available_if_enabled");
}

#[test]
fn the_injected_session_is_risky_drift_and_the_normal_days_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = scan_example(&store);
    let drift = json_of(&config, &store, &["drift", "--all", "--format", "json"]);
    let episodes = drift.as_array().unwrap();
    assert_eq!(episodes.len(), 1, "{drift:#}");
    let episode = &episodes[0];
    assert_eq!(
        episode["uid"],
        format!("agentward:drift:{AGENT}:2026-11-11")
    );
    assert_eq!(episode["class"]["class"], "risky_drift");
    assert!(episode["deploy"].is_null());
    let departures = episode["departures"].as_array().unwrap();
    let new = |action: &str, resource: &str| {
        departures.iter().any(|d| {
            d["kind"] == "new_behavior"
                && d["behavior"]["action"] == action
                && d["behavior"]["resource"] == resource
        })
    };
    assert!(new(
        "process:exec",
        "/opt/support-bot/.venv/bin/python -m mcp_server_fetch"
    ));
    assert!(new("network:connect_tcp", "127.0.0.1:18443"));
    // The rollout to new pods on day 7 changed nothing the agent does.
    assert!(!departures.iter().any(|d| {
        d["behavior"]["resource"]
            .as_str()
            .is_some_and(|r| r.contains("mcp_server_time"))
    }));

    // Repeats counted in the kernel reach the baseline as volume: the declared MCP server
    // ran on every one of the 14 days, two sessions a day, sent once per pod.
    let baseline = json_of(
        &config,
        &store,
        &["baseline", "show", AGENT, "--format", "json"],
    );
    let text = baseline.to_string();
    assert!(text.contains("mcp_server_time"), "{text:.400}");
}

fn spool_line(record: &SpoolRecord) -> String {
    serde_json::to_string(record).unwrap() + "\n"
}

fn agent(id: &str) -> AgentRef {
    AgentRef {
        provider: Provider::SelfHosted,
        scope: "node-1".into(),
        location: "host".into(),
        id: format!("agent/{id}"),
        qualifier: None,
    }
}

/// A probe's exec event of `of` at `at`, with the name fact it proves, as the spool line's
/// JSON (the wire format the scan reads).
fn exec(of: &AgentRef, at: i64) -> SpoolRecord {
    let agent = serde_json::to_value(of).unwrap();
    let source = serde_json::json!({ "source": "probe:node-1", "object": "", "index": 0 });
    serde_json::from_value(serde_json::json!({
        "record": "event",
        "event": {
            "uid": format!("node-1-{at}-{}", of.id),
            "time": at,
            "agent": agent,
            "layer": "kernel",
            "service": "process",
            "operation": "exec",
            "targets": [{ "uid": "python3 agent.py", "kind": "command" }],
            "outcome": { "status": "success" },
            "principal": { "kind": "process" },
            "correlation": {},
            "source": source,
        },
        "observations": [{
            "time": at,
            "agent": agent,
            "fact": "name",
            "value": of.id,
            "provenance": { "kind": "node_runtime", "record": source },
        }],
    }))
    .unwrap()
}

#[test]
fn a_probe_loss_degrades_exactly_the_agents_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool/2026-11-20");
    std::fs::create_dir_all(&spool).unwrap();
    let (a, b, c) = (agent("alpha"), agent("beta"), agent("gamma"));
    let t = Timestamp::parse_rfc3339("2026-11-20T10:00:00Z")
        .unwrap()
        .millis();
    let text = [
        spool_line(&exec(&a, t)),
        spool_line(&exec(&b, t + 1)),
        spool_line(&exec(&c, t + 1)),
        spool_line(&SpoolRecord::Loss {
            host: "node-1".into(),
            from: Timestamp(t),
            to: Timestamp(t + 10_000),
            lost: 37,
            agents: vec![a.clone()],
        }),
    ]
    .concat();
    std::fs::write(spool.join("node-1-1-000001.jsonl"), text).unwrap();
    // A later file with one line that cannot be read: beta may be missing an event too.
    let damaged = [
        spool_line(&exec(&b, t + 2)),
        "{\"record\":\"event\",\"event\":{\"ui\n".to_string(),
    ]
    .concat();
    std::fs::write(spool.join("node-1-2-000002.jsonl"), damaged).unwrap();
    let config = dir.path().join("agentward.toml");
    std::fs::write(
        &config,
        "[store]\nurl = \"store\"\n\n[[source]]\nname = \"node-1\"\nkind = \"probe-spool\"\nurl = \"spool\"\n",
    )
    .unwrap();
    let out = run(&["--config", config.to_str().unwrap(), "scan"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let alpha = coverage_of(&config, &a.id, "kernel");
    assert_eq!(alpha["status"], "degraded", "{alpha:#}");
    assert_eq!(alpha["lost"], 37);
    assert_eq!(alpha["from"], t);
    let beta = coverage_of(&config, &b.id, "kernel");
    assert_eq!(beta["status"], "degraded", "{beta:#}");
    assert_eq!(
        beta["lost"], 1,
        "the unreadable line, not alpha's ring losses"
    );
    assert_eq!(
        beta["from"],
        Timestamp::parse_rfc3339("2026-11-20T00:00:00Z")
            .unwrap()
            .millis()
    );
    assert_eq!(
        coverage_of(&config, &b.id, "prompt")["status"],
        "unavailable"
    );
}
