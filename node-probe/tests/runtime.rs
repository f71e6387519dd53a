//! The whole probe (`agentward probe run`'s loop) watching a real agent: a Python process
//! that imports PyPI packages, starts a real MCP server over stdio and calls a listener on
//! 127.0.0.1. What lands in the spool is what a scan reads.

mod support;

use node_probe::ProbeConfig;
use node_probe::daemon::{RunOptions, run};
use normalizer::inventory::Fact;
use normalizer::node::SpoolRecord;
use std::time::Duration;
use support::{TestCgroup, agent_python, kernel_available};

fn spool_records(dir: &std::path::Path) -> Vec<SpoolRecord> {
    let mut records = Vec::new();
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .collect();
    files.sort();
    for file in files {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&file).unwrap()),
            &mut text,
        )
        .unwrap();
        for line in text.lines() {
            records.push(serde_json::from_str(line).unwrap());
        }
    }
    records
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&entry.path()));
        } else {
            out.push(entry.path());
        }
    }
    out
}

type Running = (
    tokio::task::JoinHandle<Result<node_probe::daemon::Status, node_probe::ProbeError>>,
    tokio::sync::oneshot::Sender<()>,
);

/// `probe run`'s loop on a task, returned once it is watching (its status file is there).
async fn start(options: RunOptions) -> Running {
    let status = node_probe::daemon::status_path(&options.spool, &options.host);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let probe = tokio::spawn(run(options, async {
        let _ = stop_rx.await;
    }));
    // Loading and verifying the programs takes seconds on a busy two-core machine, with
    // the other tests of this file loading theirs at the same time.
    for _ in 0..600 {
        if status.exists() || probe.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !status.exists() {
        let ended = probe.await;
        panic!("the probe did not start within 30 s: {ended:?}");
    }
    (probe, stop_tx)
}

/// Stops it after the last reads are in, returning its final status.
async fn stop((probe, stop_tx): Running) -> node_probe::daemon::Status {
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_tx.send(()).unwrap();
    probe.await.unwrap().expect("the probe ran")
}

fn options(
    watch: Vec<(std::path::PathBuf, Option<String>)>,
    spool: &std::path::Path,
) -> RunOptions {
    RunOptions {
        watch,
        kubernetes: false,
        pod_log_dir: "/nonexistent".into(),
        spool: spool.to_path_buf(),
        scope: "test-node".into(),
        host: "test-node".into(),
        flush_every: Duration::from_millis(200),
        repeats_every: Duration::from_millis(200),
        probe: ProbeConfig::default(),
        egress: None,
        pin_dir: "/nonexistent".into(),
        metrics: None,
        kube_api: None,
        syscalls: false,
    }
}

/// Runs a command to its end off the runtime's threads (the probe's loop runs on them).
async fn output_of(mut command: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// One scrape of the probe's Prometheus endpoint: the body of `GET /metrics`.
async fn scrape(address: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: probe\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    body.to_string()
}

/// The value of one series in a scrape.
fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(&format!("{name}{{")))
        .and_then(|l| l.rsplit_once(' '))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_agent_is_attributed_and_inventoried_from_what_it_does() {
    let test = "a_real_agent_is_attributed_and_inventoried_from_what_it_does";
    if !kernel_available(test) {
        return;
    }
    let Some(python) = agent_python(test) else {
        return;
    };
    let cgroup = TestCgroup::new("agent");
    let spool = tempfile::tempdir().unwrap();
    let model = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let model_port = model.local_addr().unwrap().port();

    // A free port for the Prometheus endpoint.
    let metrics_address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let running = start(RunOptions {
        metrics: Some(metrics_address),
        ..options(
            vec![(cgroup.path.clone(), Some("support-bot".into()))],
            spool.path(),
        )
    })
    .await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/agent.py");
    let port = model_port.to_string();
    let output = output_of(cgroup.command(&python, &[script, &port])).await;
    assert!(
        output.status.success(),
        "agent failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("get_current_time"));
    // Once a flush has counted what the agent did, a scrape shows it, and no loss.
    let mut metrics = scrape(metrics_address).await;
    for _ in 0..20 {
        if sample(&metrics, "agentward_probe_spool_records_total") > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        metrics = scrape(metrics_address).await;
    }
    assert_eq!(sample(&metrics, "agentward_probe_up"), 1.0);
    assert_eq!(sample(&metrics, "agentward_probe_watched_cgroups"), 1.0);
    assert!(sample(&metrics, "agentward_probe_events_emitted_total") > 0.0);
    assert!(sample(&metrics, "agentward_probe_spool_records_total") > 0.0);
    assert_eq!(sample(&metrics, "agentward_probe_events_lost_total"), 0.0);
    let status = stop(running).await;
    assert_eq!(status.counters.lost, 0);
    assert!(
        tokio::net::TcpStream::connect(metrics_address)
            .await
            .is_err(),
        "the endpoint closes with the probe"
    );

    let records = spool_records(spool.path());
    let mut events = Vec::new();
    let mut facts = Vec::new();
    for record in &records {
        match record {
            SpoolRecord::Event {
                event,
                observations,
            } => {
                events.push(event);
                facts.extend(
                    observations
                        .iter()
                        .map(|o| (o.agent.clone(), o.fact.clone())),
                );
            }
            SpoolRecord::Facts { observations } => facts.extend(
                observations
                    .iter()
                    .map(|o| (o.agent.clone(), o.fact.clone())),
            ),
            SpoolRecord::Loss { .. } => panic!("nothing was lost: {record:?}"),
        }
    }
    assert!(!events.is_empty());
    for e in &events {
        let agent = e.agent.as_ref().expect("every event is attributed");
        assert_eq!(agent.key(), "selfhosted.test-node.host.agent_support-bot");
    }
    // The MCP server is a child process: still the same agent, seen being started.
    let server_exec = events
        .iter()
        .find(|e| e.operation == "exec" && e.targets[0].uid.contains("-m mcp_server_time"))
        .expect("the MCP server's exec");
    assert_eq!(server_exec.correlation.cgroup, Some(cgroup.id));

    let fact_values: Vec<&Fact> = facts.iter().map(|(_, f)| f).collect();
    assert!(fact_values.contains(&&Fact::Name("support-bot".into())));
    let servers: Vec<&normalizer::node::McpServer> = fact_values
        .iter()
        .filter_map(|f| match f {
            Fact::McpServer(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(servers.len(), 2, "{servers:?}");
    let mcp = servers
        .iter()
        .find(|s| s.name == "mcp_server_time")
        .expect("the MCP server in the inventory, by its command line");
    assert_eq!(mcp.launcher, "python -m");
    assert!(mcp.command.contains("--local-timezone UTC"));
    // The server whose command line names no MCP, known by how its client ran it.
    let own = servers
        .iter()
        .find(|s| s.name == "ticket_tools.py")
        .expect("the stdio server the agent kept on its pipes");
    assert!(own.launcher.starts_with("stdio (inferred"), "{own:?}");
    assert!(own.command.ends_with("tests/support/ticket_tools.py"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("ticket T-1: open"));

    let package = |name: &str| {
        fact_values.iter().find_map(|f| match f {
            Fact::RuntimePackage(p) if p.name == name => Some(p.clone()),
            _ => None,
        })
    };
    let openai = package("openai").expect("openai, imported by the agent");
    assert_eq!(
        openai.version.as_deref(),
        Some("1.109.1"),
        "version from its dist-info"
    );
    assert_eq!(openai.role, "model SDK");
    let sdk = package("mcp").expect("the MCP SDK");
    assert_eq!(sdk.version.as_deref(), Some("1.30.0"));
    assert_eq!(sdk.role, "MCP SDK");

    assert!(
        fact_values.contains(&&Fact::Endpoint(normalizer::node::Endpoint {
            address: format!("127.0.0.1:{model_port}"),
            transport: "tcp".into(),
            name: None,
        })),
        "the model endpoint it connected to"
    );
    // Inventory facts are stated once however often the behavior repeats.
    let unique: std::collections::BTreeSet<_> = facts.iter().collect();
    assert_eq!(unique.len(), facts.len());
}

/// An agent that finds its model server through DNS (glibc's resolver, in a network
/// namespace of its own with its own resolver on 127.0.0.1:53): its lookups are events,
/// counted per name and type, and the connect carries the name it looked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_lookups_are_events_and_name_the_endpoints_connected_to() {
    let test = "dns_lookups_are_events_and_name_the_endpoints_connected_to";
    if !kernel_available(test) {
        return;
    }
    let cgroup = TestCgroup::new("dns");
    let spool = tempfile::tempdir().unwrap();
    let running = start(options(
        vec![(cgroup.path.clone(), Some("resolver-bot".into()))],
        spool.path(),
    ))
    .await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/dnsagent.py");
    let python = support::python();
    let output = output_of(cgroup.command("unshare", &["--net", "--mount", &python, script])).await;
    assert!(
        output.status.success(),
        "dnsagent failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let told: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(told["given"], serde_json::json!(["127.0.0.1"]));
    let port = told["port"].as_u64().unwrap();
    let status = stop(running).await;
    assert_eq!(status.counters.lost, 0);
    assert!(
        status
            .programs
            .iter()
            .any(|p| p.starts_with("dns_ingress (cgroup_skb/ingress on ")),
        "{:?}",
        status.programs
    );

    let mut lookups: std::collections::BTreeMap<String, u64> = Default::default();
    let mut connect = None;
    let mut endpoints = Vec::new();
    for record in spool_records(spool.path()) {
        let SpoolRecord::Event {
            event,
            observations,
        } = record
        else {
            panic!("nothing was lost: {record:?}");
        };
        if event.service == "dns" {
            assert_eq!(event.targets[0].uid, "models.internal.test");
            assert_eq!(
                event.targets[0].name.as_deref(),
                Some("resolver 127.0.0.1:53")
            );
            assert_eq!(event.correlation.cgroup, Some(cgroup.id));
            *lookups.entry(event.operation.clone()).or_default() += event.count.unwrap_or(1);
        }
        if event.operation == "connect_tcp" && event.targets[0].uid.ends_with(&format!(":{port}")) {
            connect = Some(event.targets[0].clone());
        }
        endpoints.extend(observations.into_iter().filter_map(|o| match o.fact {
            Fact::Endpoint(e) => Some(e),
            _ => None,
        }));
    }
    // getaddrinfo asks for A and AAAA each time, and the agent looked the name up three
    // times before connecting and three more to connect: six of each, two events.
    assert_eq!(
        lookups,
        [("query_A".to_string(), 6), ("query_AAAA".to_string(), 6)].into()
    );
    let connect = connect.expect("the connect to the model server");
    assert_eq!(connect.name.as_deref(), Some("models.internal.test"));
    assert_eq!(
        endpoints,
        [normalizer::node::Endpoint {
            address: format!("127.0.0.1:{port}"),
            transport: "tcp".into(),
            name: Some("models.internal.test".into()),
        }]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_of_one_deployment_are_one_agent_through_the_kubelet_layout() {
    let test = "pods_of_one_deployment_are_one_agent_through_the_kubelet_layout";
    if !kernel_available(test) {
        return;
    }
    // The kubelet's layout (cgroupfs driver) under a cgroup of the test's own, and its
    // pod log directory naming each pod.
    let top = TestCgroup::new("k8s");
    let kubepods = top.child("kubepods");
    let burstable = kubepods.child("burstable");
    let pod_logs = tempfile::tempdir().unwrap();
    let mut containers = Vec::new();
    let mut pods = Vec::new();
    for (pod, uid) in [
        (
            "support-bot-7d9f8b6c5d-x2k4p",
            "0f3c2a9e-5b7d-4c1e-9a8f-2d6b4e8c1a70",
        ),
        (
            "support-bot-5c6d7f8b94-h4n2w",
            "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
        ),
    ] {
        std::fs::create_dir(pod_logs.path().join(format!("agents_{pod}_{uid}"))).unwrap();
        let pod_cgroup = burstable.child(&format!("pod{uid}"));
        containers.push(pod_cgroup.child(&"ab".repeat(32)));
        pods.push(pod_cgroup);
    }
    let spool = tempfile::tempdir().unwrap();
    let running = start(RunOptions {
        pod_log_dir: pod_logs.path().to_path_buf(),
        scope: "prod-eu-1".into(),
        ..options(vec![(top.path.clone(), None)], spool.path())
    })
    .await;
    for container in &containers {
        let (status, stderr) = container.run("cat", &["/etc/hostname"]);
        assert!(status.success(), "{stderr}");
    }
    stop(running).await;

    let mut agents = std::collections::BTreeSet::new();
    let mut cgroups = std::collections::BTreeSet::new();
    let mut platform = None;
    for record in spool_records(spool.path()) {
        if let SpoolRecord::Event {
            event,
            observations,
        } = record
        {
            if event.operation == "exec" && event.targets[0].uid == "cat /etc/hostname" {
                agents.insert(event.agent.as_ref().unwrap().key());
                cgroups.insert(event.correlation.cgroup.unwrap());
                assert!(
                    event
                        .category
                        .as_deref()
                        .unwrap()
                        .contains("Deployment from the pod's generated name")
                );
            }
            for o in observations {
                if let Fact::Platform(p) = o.fact {
                    platform = Some(p);
                }
            }
        }
    }
    assert_eq!(cgroups.len(), 2, "one exec in each pod");
    assert_eq!(
        agents.into_iter().collect::<Vec<_>>(),
        ["selfhosted.prod-eu-1.agents.deployment_support-bot"],
        "two pods of two ReplicaSets: one Deployment"
    );
    assert_eq!(platform.as_deref(), Some("self-hosted Deployment"));
    drop(containers);
    drop(pods);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_decisions_reach_the_spool_and_outlive_the_probe() {
    let test = "egress_decisions_reach_the_spool_and_outlive_the_probe";
    if !kernel_available(test) {
        return;
    }
    let cgroup = TestCgroup::new("run-egress");
    let spool = tempfile::tempdir().unwrap();
    let pins = std::path::PathBuf::from(format!(
        "/sys/fs/bpf/agentward-test-run-egress-{}",
        std::process::id()
    ));
    let allowed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (ok_port, deny_port) = (
        allowed.local_addr().unwrap().port(),
        other.local_addr().unwrap().port(),
    );
    let running = start(RunOptions {
        egress: Some((
            node_probe::EgressMode::Enforce,
            vec![format!("127.0.0.1:{ok_port}").parse().unwrap()],
        )),
        pin_dir: pins.clone(),
        ..options(
            vec![(cgroup.path.clone(), Some("guarded".into()))],
            spool.path(),
        )
    })
    .await;
    let connect = |port: u16| {
        let script = format!(
            "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    print('ok')\nexcept OSError as e:\n    print(e.errno)\n"
        );
        let output = cgroup
            .command("python3", &["-c", &script])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    assert_eq!(connect(ok_port), "ok");
    assert_eq!(connect(deny_port), "1", "EPERM");
    stop(running).await;
    assert_eq!(
        connect(deny_port),
        "1",
        "still enforced after the probe stopped"
    );

    let denials: Vec<_> = spool_records(spool.path())
        .into_iter()
        .filter_map(|r| match r {
            SpoolRecord::Event { event, .. } if event.service == "egress" => Some(event),
            _ => None,
        })
        .collect();
    assert_eq!(denials.len(), 1, "{denials:#?}");
    let denial = &denials[0];
    assert_eq!(denial.operation, "denied");
    assert_eq!(denial.targets[0].uid, format!("127.0.0.1:{deny_port}"));
    assert_eq!(denial.agent.as_ref().unwrap().id, "agent/guarded");
    assert!(
        matches!(&denial.outcome, normalizer::Outcome::Failure { code, .. } if code == "EPERM")
    );

    node_probe::Egress::open(&pins).unwrap().disable().unwrap();
    assert_eq!(connect(deny_port), "ok", "disabled: nothing enforced");
}
