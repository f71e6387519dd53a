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
fn the_selfhosted_example_is_two_deployments_with_the_inventory_their_processes_show() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = scan_example(&store);

    let inventory = json_of(&config, &store, &["inventory", "--format", "json"]);
    let agents = inventory["agents"].as_array().unwrap();
    let ids: Vec<&str> = agents
        .iter()
        .map(|a| a["agent"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["deployment/kb-indexer", "deployment/support-bot"],
        "four pods across a rollout are one Deployment, and the indexer another"
    );
    let indexer = &agents[0];
    assert_eq!(indexer["name"]["value"], "kb-indexer");
    assert!(
        indexer["mcp_servers"]
            .as_array()
            .is_none_or(|m| m.is_empty()),
        "{indexer:#}"
    );
    let agent = &agents[1];
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
    // Each endpoint with the name the agent looked it up by (the fetch server's connect
    // by number has none).
    let endpoints: Vec<(&str, Option<&str>)> = agent["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["value"]["address"].as_str().unwrap(),
                e["value"]["name"].as_str(),
            )
        })
        .collect();
    assert!(
        endpoints.contains(&(
            "127.0.0.1:18080",
            Some("model-gateway.agents.svc.cluster.local")
        )) && endpoints.contains(&("127.0.0.1:18443", Some("paste.exfil.example")))
            && endpoints.contains(&("127.0.0.1:9", None)),
        "{endpoints:?}"
    );

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
    assert!(new("dns:query_A", "paste.exfil.example"));
    // The gateway's name is looked up every session: no departure.
    assert!(
        !departures
            .iter()
            .any(|d| { d["behavior"]["resource"] == "model-gateway.agents.svc.cluster.local" })
    );
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

/// `probe run --ship-to` opens the destination before loading anything: a place it cannot
/// ship to is refused at once, with the reason, not after a day of spooling.
#[test]
fn a_ship_to_place_that_cannot_be_used_is_refused_before_the_probe_starts() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let out = bin()
        .args([
            "probe",
            "run",
            "--watch-cgroup",
            "agentward-test-none",
            "--duration",
            "1",
        ])
        .arg("--spool")
        .arg(&spool)
        .args(["--ship-to", "ftp://spool.example/node-1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--ship-to ftp://spool.example/node-1") && err.contains("unsupported scheme"),
        "{err}"
    );
    let out = bin()
        .args(["probe", "run", "--ship-endpoint", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--ship-to"),
        "an endpoint needs a destination: {}",
        stderr(&out)
    );
}

/// Whether this test may load eBPF programs (root); if not it says so, and fails under
/// AGENTWARD_REQUIRE_KERNEL.
fn as_root(test: &str) -> bool {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        let reason = "not root: loading eBPF programs needs CAP_BPF and CAP_PERFMON";
        assert!(
            std::env::var_os("AGENTWARD_REQUIRE_KERNEL").is_none(),
            "{test}: {reason}, and AGENTWARD_REQUIRE_KERNEL is set"
        );
        eprintln!(
            "SKIPPED {test}: {reason} (set AGENTWARD_REQUIRE_KERNEL=1 to make this a failure)"
        );
    }
    root
}

/// Starts `probe run` and returns once it is watching (its status is written).
fn watching(mut probe: std::process::Command, spool: &Path) -> std::process::Child {
    let child = probe
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !spool.join("status").is_dir() && started.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child
}

/// Runs `program` inside the cgroup `path` and waits for it.
fn run_in_cgroup(path: &Path, program: &str) {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo $$ > {}/cgroup.procs && {program}",
            path.display()
        ))
        .status()
        .unwrap();
    assert!(status.success(), "{program} in {}", path.display());
}

/// Every record of the spool files under `spool`.
fn spool_records(spool: &Path) -> Vec<SpoolRecord> {
    let mut records = Vec::new();
    for day in std::fs::read_dir(spool).unwrap().flatten() {
        if day.file_name() == "status" {
            continue;
        }
        for file in std::fs::read_dir(day.path()).unwrap().flatten() {
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(std::fs::File::open(file.path()).unwrap()),
                &mut text,
            )
            .unwrap();
            records.extend(text.lines().map(|l| serde_json::from_str(l).unwrap()));
        }
    }
    records
}

/// As root, in a kubelet's cgroup layout with no pod log directories: the pods' owners
/// come from the Kubernetes API (TLS with the cluster CA, the service account token,
/// every page of this node's pods, each ReplicaSet and Job once), a pod named like a
/// StatefulSet's is its Deployment's, and a pod started after the probe is read again
/// from the API before its events are attributed.
#[test]
fn pod_owners_come_from_the_kubernetes_api_and_new_pods_are_looked_up() {
    use common::spec_server::{Reply, SpecServer};
    use std::sync::atomic::{AtomicBool, Ordering};
    if !as_root("pod_owners_come_from_the_kubernetes_api_and_new_pods_are_looked_up") {
        return;
    }
    const TOKEN: &str = "node-probe-service-account-token";
    const INGEST: &str = "0f3c2a9e-5b7d-4c1e-9a8f-2d6b4e8c1a70";
    const EVAL: &str = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
    // A pod whose ReplicaSet the probe may not read.
    const RANKER: &str = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";
    let second_pod = std::sync::Arc::new(AtomicBool::new(false));
    let pod = |uid: &str, name: &str, owner_kind: &str, owner: &str| {
        serde_json::json!({
            "metadata": {"name": name, "namespace": "agents", "uid": uid,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner_kind, "name": owner,
                                              "uid": "o", "controller": true, "blockOwnerDeletion": true}]},
            "spec": {"nodeName": "test-node"}, "status": {"phase": "Running"}})
    };
    let status_error = |code: u16, reason: &str| Reply {
        status: code,
        ..Reply::json(
            serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                         "status": "Failure", "reason": reason, "code": code,
                                         "message": format!("{reason} (test API)")}),
        )
    };
    let api = SpecServer::start_tls(std::sync::Arc::new({
        let second_pod = second_pod.clone();
        move |r: &common::spec_server::Request| {
            if r.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                return status_error(401, "Unauthorized");
            }
            match r.path.as_str() {
                "/api/v1/pods" => {
                    if r.param("fieldSelector").as_deref() != Some("spec.nodeName=test-node")
                        || r.param("limit").is_none()
                    {
                        return status_error(400, "BadRequest");
                    }
                    match r.param("continue").as_deref() {
                        None => Reply::json(serde_json::json!({
                            "kind": "PodList", "apiVersion": "v1",
                            "metadata": {"resourceVersion": "10", "continue": "page-2"},
                            "items": [pod(INGEST, "ingest-2", "ReplicaSet", "ingest-6f7d8c9b5"),
                                      pod(RANKER, "ranker-5c6d7f8b94-h4n2w", "ReplicaSet", "ranker-5c6d7f8b94")]})),
                        Some("page-2") => Reply::json(serde_json::json!({
                            "kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "10"},
                            "items": if second_pod.load(Ordering::SeqCst) {
                                vec![pod(EVAL, "nightly-eval-29384756-bn7xq", "Job", "nightly-eval-29384756")]
                            } else { vec![] }})),
                        Some(_) => status_error(410, "Expired"),
                    }
                }
                "/apis/apps/v1/namespaces/agents/replicasets/ingest-6f7d8c9b5" => {
                    Reply::json(serde_json::json!({"kind": "ReplicaSet", "metadata": {
                        "name": "ingest-6f7d8c9b5", "namespace": "agents", "ownerReferences": [
                            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ingest", "uid": "d",
                             "controller": true, "blockOwnerDeletion": true}]}}))
                }
                "/apis/apps/v1/namespaces/agents/replicasets/ranker-5c6d7f8b94" => {
                    status_error(403, "Forbidden")
                }
                "/apis/batch/v1/namespaces/agents/jobs/nightly-eval-29384756" => {
                    Reply::json(serde_json::json!({"kind": "Job", "metadata": {
                        "name": "nightly-eval-29384756", "namespace": "agents", "ownerReferences": [
                            {"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly-eval", "uid": "c",
                             "controller": true, "blockOwnerDeletion": true}]}}))
                }
                _ => status_error(404, "NotFound"),
            }
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let pod_logs = dir.path().join("pods");
    std::fs::create_dir(&pod_logs).unwrap();
    let spool = dir.path().join("spool");
    let top = node_probe::cgroup::cgroup2_root()
        .expect("cgroup v2 is mounted")
        .join(format!("agentward-test-k8sapi-{}", std::process::id()));
    let burstable = top.join("kubepods/burstable");
    let container = |uid: &str| burstable.join(format!("pod{uid}")).join("ab".repeat(32));
    std::fs::create_dir_all(container(INGEST)).unwrap();
    std::fs::create_dir_all(container(RANKER)).unwrap();
    let mut probe = bin();
    probe
        .args([
            "probe",
            "run",
            "--flush-every",
            "1",
            "--duration",
            "10",
            "--node",
            "test-node",
        ])
        .arg("--watch-cgroup")
        .arg(&top)
        .arg("--k8s-api")
        .arg(api.https_url())
        .arg("--k8s-ca-file")
        .arg(repo_root().join("tests/data/test-ca.pem"))
        .arg("--k8s-token-file")
        .arg(&token)
        .arg("--pod-log-dir")
        .arg(&pod_logs)
        .arg("--spool")
        .arg(&spool);
    let probe = watching(probe, &spool);
    run_in_cgroup(&container(INGEST), "cat /etc/hostname > /dev/null");
    run_in_cgroup(&container(RANKER), "cat /etc/hostname > /dev/null");
    // A pod the kubelet starts now: the API lists it from here on.
    std::fs::create_dir_all(container(EVAL)).unwrap();
    second_pod.store(true, Ordering::SeqCst);
    run_in_cgroup(&container(EVAL), "cat /etc/hostname > /dev/null");
    let out = probe.wait_with_output().unwrap();
    for uid in [INGEST, RANKER, EVAL] {
        let _ = std::fs::remove_dir(container(uid));
        let _ = std::fs::remove_dir(burstable.join(format!("pod{uid}")));
    }
    for d in [burstable.clone(), top.join("kubepods"), top.clone()] {
        let _ = std::fs::remove_dir(d);
    }
    assert!(out.status.success(), "{}", stderr(&out));

    let mut owners = std::collections::BTreeMap::new();
    for record in spool_records(&spool) {
        if let SpoolRecord::Event { event, .. } = record
            && event.operation == "exec"
            && event.targets[0].uid == "cat /etc/hostname"
        {
            owners.insert(
                event.agent.as_ref().unwrap().key(),
                event.category.clone().unwrap(),
            );
        }
    }
    let keys: Vec<&String> = owners.keys().collect();
    assert_eq!(
        keys,
        [
            "selfhosted.test-node.agents.cronjob_nightly-eval",
            "selfhosted.test-node.agents.deployment_ingest",
            "selfhosted.test-node.agents.deployment_ranker"
        ],
        "{owners:?}"
    );
    assert!(
        owners["selfhosted.test-node.agents.deployment_ingest"].contains(
            "pod agents/ingest-2 (uid 0f3c2a9e-5b7d-4c1e-9a8f-2d6b4e8c1a70) from the Kubernetes API: ReplicaSet ingest-6f7d8c9b5 → Deployment ingest"
        ),
        "{owners:?}"
    );
    // The ReplicaSet it may not read: the Deployment from its name, and why.
    assert!(
        owners["selfhosted.test-node.agents.deployment_ranker"]
            .contains("(from the ReplicaSet's name: it could not be read: GET"),
        "{owners:?}"
    );
    let status = stdout(
        &bin()
            .args(["probe", "status", "--spool"])
            .arg(&spool)
            .output()
            .unwrap(),
    );
    assert!(
        status.contains(&format!(
            "pods: Kubernetes API {} (node test-node): 3 pods read",
            api.https_url()
        )),
        "{status}"
    );
    // Every page, and each owner's owner read once however often the pods are listed.
    let pages = api.requests_to("GET", "/api/v1/pods");
    assert!(pages.len() >= 4, "two reads of two pages: {}", pages.len());
    assert!(
        pages
            .iter()
            .any(|r| r.param("continue").as_deref() == Some("page-2"))
    );
    assert_eq!(
        api.requests_to(
            "GET",
            "/apis/apps/v1/namespaces/agents/replicasets/ingest-6f7d8c9b5"
        )
        .len(),
        1
    );
}

/// As root: `probe run --ship-to` ships each spool file as it flushes, and nothing stays
/// behind but the status.
#[test]
fn a_running_probe_ships_its_spool_files_as_it_flushes() {
    if !as_root("a_running_probe_ships_its_spool_files_as_it_flushes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (spool, shipped) = (dir.path().join("spool"), dir.path().join("shipped"));
    let cgroup = node_probe::cgroup::cgroup2_root()
        .expect("cgroup v2 is mounted")
        .join(format!("agentward-test-ship-{}", std::process::id()));
    std::fs::create_dir(&cgroup).expect("creating a test cgroup");
    let mut probe = bin();
    probe
        .args(["probe", "run", "--flush-every", "1", "--duration", "4"])
        .arg("--watch-cgroup")
        .arg(format!("{}=shipper", cgroup.display()))
        .arg("--spool")
        .arg(&spool)
        .arg("--ship-to")
        .arg(&shipped);
    let probe = watching(probe, &spool);
    run_in_cgroup(&cgroup, "cat /etc/hostname > /dev/null && ls / > /dev/null");
    let out = probe.wait_with_output().unwrap();
    let _ = std::fs::remove_dir(&cgroup);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains(&format!(
            "shipped to {}",
            shipped.canonicalize().unwrap().display()
        )),
        "{report}"
    );
    let files_in = |root: &Path| -> Vec<String> {
        let mut found = Vec::new();
        for day in std::fs::read_dir(root).into_iter().flatten().flatten() {
            if day.file_name() == "status" {
                continue;
            }
            for f in std::fs::read_dir(day.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                found.push(f.file_name().to_string_lossy().into_owned());
            }
        }
        found
    };
    let shipped_files = files_in(&shipped);
    assert!(
        !shipped_files.is_empty() && shipped_files.iter().all(|f| f.ends_with(".jsonl.gz")),
        "{shipped_files:?}"
    );
    assert_eq!(
        files_in(&spool),
        Vec::<String>::new(),
        "every finished file left the spool"
    );
    assert!(
        spool.join("status").is_dir(),
        "the status stays for probe status"
    );
}

/// As root: `probe record-syscalls` records what a real process in a watched cgroup enters;
/// `artifacts` turns the recording into a seccomp envelope; the same program run under
/// that profile, loaded through libseccomp, does its work, and a syscall it never made
/// while recorded (mkdir) fails with EPERM, where unconfined it succeeds.
#[test]
fn a_recorded_process_runs_under_its_seccomp_envelope_and_a_new_syscall_is_refused() {
    if !as_root("a_recorded_process_runs_under_its_seccomp_envelope_and_a_new_syscall_is_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (spool, store, out) = (
        dir.path().join("spool"),
        dir.path().join("store"),
        dir.path().join("out"),
    );
    let cgroup = node_probe::cgroup::cgroup2_root()
        .expect("cgroup v2 is mounted")
        .join(format!("agentward-test-seccomp-{}", std::process::id()));
    std::fs::create_dir(&cgroup).expect("creating a test cgroup");
    let mut probe = bin();
    probe
        .args([
            "probe",
            "record-syscalls",
            "--for",
            "5s",
            "--flush-every",
            "1",
        ])
        .args([
            "--repeats-every",
            "1",
            "--scope",
            "test-host",
            "--node",
            "test-host",
        ])
        .arg("--watch-cgroup")
        .arg(format!("{}=file-digester", cgroup.display()))
        .arg("--spool")
        .arg(&spool);
    let probe = watching(probe, &spool);
    let support = repo_root().join("tests/support");
    let input = support.join("seccomp_workload.py");
    // Debian's interpreter itself: a pyenv shim is a shell script that runs others.
    let workload = format!(
        "/usr/bin/python3 -I -B {} {}",
        input.display(),
        input.display()
    );
    run_in_cgroup(&cgroup, &format!("{workload} > /dev/null"));
    let recorded = probe.wait_with_output().unwrap();
    let _ = std::fs::remove_dir(&cgroup);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let status = stdout(&recorded);
    assert!(
        status.contains("on_sys_enter (raw_tracepoint/sys_enter)"),
        "{status}"
    );
    assert!(status.contains("NOT recorded: 0 32-bit"), "{status}");

    let config = dir.path().join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = {:?}\n\n[[source]]\nname = \"test-host\"\nkind = \"probe-spool\"\nurl = {:?}\n",
            store.display().to_string(),
            spool.display().to_string()
        ),
    )
    .unwrap();
    run_on(&config, &store, &["scan"]);
    let written = run_on(
        &config,
        &store,
        &["artifacts", "--out", out.to_str().unwrap()],
    );
    let profiles: Vec<std::path::PathBuf> = walk_files(&out)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "seccomp.json"))
        .collect();
    assert_eq!(profiles.len(), 1, "{}", stdout(&written));
    let profile_path = &profiles[0];
    let profile: Value = serde_json::from_slice(&std::fs::read(profile_path).unwrap()).unwrap();
    assert_eq!(profile["defaultAction"], "SCMP_ACT_ERRNO");
    let rules = profile["syscalls"].as_array().unwrap();
    let origin_of = |name: &str| {
        rules
            .iter()
            .find(|r| r["names"][0] == name)
            .and_then(|r| r["comment"].as_str())
            .map(|c| c.split(':').next().unwrap().to_string())
    };
    assert_eq!(origin_of("openat").as_deref(), Some("seen"), "{profile:#}");
    assert_eq!(origin_of("execve").as_deref(), Some("seen"), "{profile:#}");
    assert_eq!(origin_of("mkdir"), None, "{profile:#}");
    assert!(
        rules
            .iter()
            .any(|r| r["comment"].as_str().unwrap().starts_with("added by class")),
        "{profile:#}"
    );
    let recommendation: Value = serde_json::from_slice(
        &std::fs::read(profile_path.with_file_name("recommendation.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        recommendation["seccomp"]["replay"]["denied"], 0,
        "{recommendation:#}"
    );

    let target = dir.path().join("made-by-the-tool");
    let run = |confined: bool| {
        let mut command = std::process::Command::new("/usr/bin/python3");
        if confined {
            command = std::process::Command::new("/usr/bin/python3");
            command
                .arg(support.join("seccomp_run.py"))
                .arg(profile_path)
                .args(["--", "/usr/bin/python3"]);
        }
        let out = command
            .args(["-I", "-B"])
            .arg(&input)
            .arg(&input)
            .arg("--mkdir")
            .arg(&target)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "confined: {confined}: {}",
            stderr(&out)
        );
        stdout(&out)
    };
    let confined = run(true);
    assert!(confined.contains("mkdir: EPERM"), "{confined}");
    assert!(!target.exists());
    let free = run(false);
    assert!(free.contains("mkdir: created"), "{free}");
    // Everything else it did, it did the same under the profile.
    let work = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("mkdir"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(work(&confined), work(&free));
    assert!(confined.starts_with("sha256 "), "{confined}");
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}
