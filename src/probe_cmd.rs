//! `agentward probe …`: the node probe's command line.

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use node_probe::daemon::{RunOptions, Status};
use node_probe::{AllowRule, Egress, EgressMode, ProbeConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_SPOOL: &str = "/var/lib/agentward/spool";

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    Monitor,
    Enforce,
}

#[derive(Subcommand)]
// Parsed once per invocation: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum ProbeCommand {
    /// Load the eBPF programs and write what watched agents do to the spool until
    /// stopped (Ctrl-C / SIGTERM) or --duration has passed. Needs root.
    ///
    /// Watched cgroups are whole subtrees: a process and every child it starts is seen.
    /// A scan reads the spool with a `kind = "probe-spool"` source.
    Run(RunArgs),
    /// `probe run` with syscall recording on, for a fixed time: besides what `run`
    /// writes, each watched agent's syscalls, one event per syscall used in each
    /// --repeats-every period, from a bit per syscall per cgroup kept in the kernel.
    /// `agentward artifacts` turns them into a seccomp envelope per agent. Needs root.
    ///
    /// Processes already running when it starts are recorded from then on: what they
    /// did at startup is not seen (the envelope's class entries cover a runtime's
    /// start). Recording costs every syscall on the node a lookup; `scripts/bench-probe`
    /// measures it.
    RecordSyscalls {
        /// How long to record: 90s, 10m, 2h, 1d.
        #[arg(long = "for", value_name = "DURATION", value_parser = humantime::parse_duration)]
        for_: Duration,
        #[command(flatten)]
        run: RunArgs,
    },
    /// What each probe writing to the spool reports: programs, watched workloads,
    /// events written, events lost; and the egress policies pinned in the kernel.
    Status {
        #[arg(long, default_value = DEFAULT_SPOOL)]
        spool: PathBuf,
        #[arg(long, default_value = node_probe::egress::DEFAULT_PIN_DIR)]
        pin_dir: PathBuf,
    },
    /// Egress policies that outlive the probe.
    Egress {
        #[command(subcommand)]
        command: EgressCommand,
    },
}

/// What `probe run` (and `probe record-syscalls`) take.
#[derive(Args)]
pub struct RunArgs {
    /// A cgroup v2 directory to watch, optionally named: PATH or PATH=AGENT-NAME (a
    /// relative PATH is under the cgroup v2 root, e.g. `system.slice/rag.service`).
    /// Without a name, the agent is the Kubernetes workload, systemd unit or cgroup
    /// the path shows. Repeatable.
    #[arg(long = "watch-cgroup", value_name = "PATH[=NAME]")]
    watch_cgroup: Vec<String>,
    /// Watch every pod on this node (the kubelet's kubepods cgroup); agents are the
    /// owning Deployments / StatefulSets / DaemonSets / CronJobs, read from the
    /// Kubernetes API when the probe runs in a pod (its service account needs `list`
    /// on pods and `get` on replicasets and jobs), else guessed from the names their
    /// controllers give pods (the kubelet's pod records).
    #[arg(long)]
    k8s: bool,
    /// The Kubernetes API server to read this node's pods and their owners from
    /// (default with --k8s in a pod: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT).
    #[arg(long, value_name = "URL")]
    k8s_api: Option<String>,
    /// Bearer token file for --k8s-api (default in a pod: the service account's).
    #[arg(long, value_name = "FILE", requires = "k8s_api")]
    k8s_token_file: Option<PathBuf>,
    /// The CA bundle the API server's certificate must chain to (default in a pod:
    /// the service account's ca.crt; without one, the system's roots).
    #[arg(long, value_name = "FILE", requires = "k8s_api")]
    k8s_ca_file: Option<PathBuf>,
    /// The directory the spool files are written to.
    #[arg(long, default_value = DEFAULT_SPOOL)]
    spool: PathBuf,
    /// Also ship every finished spool file to this place — s3://BUCKET/PREFIX,
    /// gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or a directory — and remove the local
    /// copy once it is there; a file that cannot be shipped stays and is retried each
    /// flush. A scan reads it there with a `kind = "probe-spool"` source.
    #[arg(long, value_name = "URL")]
    ship_to: Option<String>,
    /// For --ship-to: the S3-compatible endpoint or blob service URL to use.
    #[arg(long, value_name = "URL", requires = "ship_to")]
    ship_endpoint: Option<String>,
    /// The cluster or host name agents are scoped to (default: the node's name).
    #[arg(long)]
    scope: Option<String>,
    /// This node's name, in event ids and the status report, and whose pods the
    /// Kubernetes API is asked for (default: $NODE_NAME, which a DaemonSet sets from
    /// `spec.nodeName`, else the hostname).
    #[arg(long, env = "NODE_NAME")]
    node: Option<String>,
    /// Seconds between spool files (and loss accounting windows).
    #[arg(long, default_value_t = 10)]
    flush_every: u64,
    /// Seconds between reports of repeats counted in the kernel (each behavior that
    /// repeated becomes one event with its count).
    #[arg(long, default_value_t = 60)]
    repeats_every: u64,
    /// Stop after this many seconds.
    #[arg(long)]
    duration: Option<u64>,
    /// Ring buffer size in bytes (a power of two, at least 4096).
    #[arg(long, default_value_t = 4 << 20)]
    ring_bytes: u32,
    /// Put every watched cgroup under an egress allowlist: `monitor` reports
    /// connections outside it, `enforce` refuses them (EPERM). The policy stays in
    /// force after the probe exits; `probe egress release/disable` lifts it.
    #[arg(long, value_enum)]
    egress: Option<Mode>,
    /// An allowed destination: ADDRESS, ADDRESS:PORT or [IPV6]:PORT, or a network:
    /// 10.8.0.0/16, 10.8.0.0/16:443, [2001:db8::/32]:443. Repeatable.
    /// The nameservers of /etc/resolv.conf are allowed on port 53 unless
    /// --no-resolver-allow.
    #[arg(long = "allow", value_name = "ADDRESS[:PORT]")]
    allow: Vec<AllowRule>,
    /// Allowed destinations from a file, one per line as for --allow (`#` starts a
    /// comment): e.g. the egress.allow that `agentward artifacts` writes per agent from
    /// its observed connections. Repeatable; adds to --allow.
    #[arg(long = "allow-from", value_name = "FILE")]
    allow_from: Vec<PathBuf>,
    #[arg(long)]
    no_resolver_allow: bool,
    /// bpffs directory for the egress pins.
    #[arg(long, default_value = node_probe::egress::DEFAULT_PIN_DIR)]
    pin_dir: PathBuf,
    /// Where the kubelet keeps pod logs (`<namespace>_<pod>_<uid>` directories).
    #[arg(long, default_value = "/var/log/pods")]
    pod_log_dir: PathBuf,
    /// Serve the probe's counters (events sent, lost, deduped; spool records) to
    /// Prometheus at http://ADDRESS/metrics, e.g. 127.0.0.1:9464 or [::]:9464.
    #[arg(long, value_name = "ADDRESS:PORT")]
    metrics: Option<std::net::SocketAddr>,
    /// Also record each watched agent's syscalls (as `probe record-syscalls` does).
    #[arg(long)]
    record_syscalls: bool,
}

#[derive(Subcommand)]
pub enum EgressCommand {
    /// Take one cgroup out of egress policy (detach its programs, drop its allowlist).
    Release {
        cgroup: PathBuf,
        #[arg(long, default_value = node_probe::egress::DEFAULT_PIN_DIR)]
        pin_dir: PathBuf,
    },
    /// Remove every egress policy this host has pinned.
    Disable {
        #[arg(long, default_value = node_probe::egress::DEFAULT_PIN_DIR)]
        pin_dir: PathBuf,
    },
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The rules of an allowlist file: one destination a line as `--allow` takes it, `#`
/// comments and blank lines skipped; a line that is not a destination is an error naming
/// the file and line, never skipped.
fn allow_file(path: &Path) -> anyhow::Result<Vec<AllowRule>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the allowlist {}", path.display()))?;
    let mut rules = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let rule = line.split('#').next().unwrap_or("").trim();
        if rule.is_empty() {
            continue;
        }
        let parsed = rule
            .parse::<AllowRule>()
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1))?;
        rules.push(parsed);
    }
    Ok(rules)
}

/// Nameservers from resolv.conf, allowed on port 53 so name resolution keeps working.
fn resolvers(resolv_conf: &str) -> Vec<AllowRule> {
    resolv_conf
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().split('%').next()?.parse().ok())
        .map(|addr| AllowRule {
            addr,
            port: Some(53),
            prefix: None,
        })
        .collect()
}

async fn stop_signal(duration: Option<Duration>) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let elapsed = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
        _ = elapsed => {}
    }
}

fn print_status(out: &mut impl Write, status: &Status) -> std::io::Result<()> {
    writeln!(
        out,
        "probe {} ({}), started {}, last report {}",
        status.host,
        if status.running { "running" } else { "stopped" },
        status.started,
        status.updated
    )?;
    writeln!(out, "  programs: {}", status.programs.join(", "))?;
    if let Some(api) = &status.kubernetes_api {
        writeln!(out, "  pods: {api}")?;
    }
    for w in &status.watched {
        let agent = w
            .agent
            .as_ref()
            .map(|a| a.key())
            .unwrap_or_else(|| "unattributed".into());
        writeln!(out, "  watching {} (cgroup {}) as {agent}", w.path, w.id)?;
    }
    let c = &status.counters;
    writeln!(
        out,
        "  events: {} sent, {} repeats counted in the kernel, {} LOST (ring full), {} without path/address, {} undecodable; {} records in {} spool files",
        c.emitted,
        c.deduped,
        c.lost,
        c.read_failed,
        status.undecodable,
        status.records,
        status.files
    )?;
    if let Some(e) = &status.egress_counters {
        writeln!(out, "  egress reports: {} sent, {} LOST", e.emitted, e.lost)?;
    }
    if let Some(s) = &status.syscall_counters {
        writeln!(
            out,
            "  syscalls recorded; NOT recorded: {} 32-bit (ia32/x32) calls (an x86_64 profile refuses them), {} calls of cgroups the kernel had no room for (counted as LOST)",
            s.other_abi, s.sets_full
        )?;
    }
    Ok(())
}

/// `probe run`, and `probe record-syscalls` (which turns recording on and sets the time).
async fn run_probe(
    args: &RunArgs,
    syscalls: bool,
    duration: Option<Duration>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let RunArgs {
        watch_cgroup,
        k8s,
        k8s_api,
        k8s_token_file,
        k8s_ca_file,
        spool,
        ship_to,
        ship_endpoint,
        scope,
        node,
        flush_every,
        repeats_every,
        ring_bytes,
        egress,
        allow,
        allow_from,
        no_resolver_allow,
        pin_dir,
        pod_log_dir,
        metrics,
        ..
    } = args;
    if !ring_bytes.is_power_of_two() || *ring_bytes < 4096 {
        bail!("--ring-bytes {ring_bytes} must be a power of two of at least 4096");
    }
    if *flush_every == 0 {
        bail!("--flush-every must be at least 1 second");
    }
    if (!allow.is_empty() || !allow_from.is_empty()) && egress.is_none() {
        bail!("--allow and --allow-from need --egress monitor or --egress enforce");
    }
    let mut allow = allow.clone();
    for file in allow_from {
        allow.extend(allow_file(file)?);
    }
    let watch = watch_cgroup
        .iter()
        .map(|spec| match spec.split_once('=') {
            Some((path, name)) if !name.is_empty() => (PathBuf::from(path), Some(name.to_string())),
            _ => (PathBuf::from(spec), None),
        })
        .collect();
    let egress = egress.map(|mode| {
        let mut rules = allow.clone();
        if !no_resolver_allow {
            rules.extend(resolvers(
                &std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
            ));
        }
        let mode = match mode {
            Mode::Monitor => EgressMode::Monitor,
            Mode::Enforce => EgressMode::Enforce,
        };
        (mode, rules)
    });
    let host = node.clone().unwrap_or_else(hostname);
    let kube_api = match k8s_api {
        Some(url) => Some(node_probe::kube::KubeApiConfig {
            url: url.clone(),
            token_file: k8s_token_file.clone(),
            ca_file: k8s_ca_file.clone(),
            node: host.clone(),
        }),
        None if *k8s => node_probe::kube::KubeApiConfig::in_cluster(&host),
        None => None,
    };
    let options = RunOptions {
        watch,
        kubernetes: *k8s,
        pod_log_dir: pod_log_dir.clone(),
        spool: spool.clone(),
        scope: scope.clone().unwrap_or_else(|| host.clone()),
        host,
        flush_every: Duration::from_secs(*flush_every),
        repeats_every: Duration::from_secs(*repeats_every),
        probe: ProbeConfig {
            ring_bytes: *ring_bytes,
            ..ProbeConfig::default()
        },
        egress,
        pin_dir: pin_dir.clone(),
        metrics: *metrics,
        kube_api,
        syscalls,
    };
    let destination = match ship_to {
        Some(url) => Some(
            connectors::location::open(
                &connectors::location::LocationSpec {
                    url: url.clone(),
                    allow_http: ship_endpoint
                        .as_deref()
                        .is_some_and(|e| e.starts_with("http://")),
                    endpoint: ship_endpoint.clone(),
                    region: None,
                },
                std::path::Path::new("."),
                true,
            )
            .with_context(|| format!("--ship-to {url}"))?,
        ),
        None => None,
    };
    let shipper = destination.map(|to| {
        let to = std::sync::Arc::new(to);
        let (spool, every) = (spool.clone(), Duration::from_secs(*flush_every));
        let task = tokio::spawn({
            let (to, spool) = (to.clone(), spool.clone());
            async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    if let Err(e) = connectors::probe::ship_spool(&spool, &to).await {
                        tracing::warn!(error = %e, "spool files not shipped yet; retried next flush");
                    }
                }
            }
        });
        (task, to, spool)
    });
    let status = node_probe::daemon::run(options, stop_signal(duration)).await;
    if let Some((task, to, spool)) = shipper {
        task.abort();
        // What the last flush wrote, shipped before exiting.
        match connectors::probe::ship_spool(&spool, &to).await {
            Ok(s) => writeln!(
                out,
                "shipped to {}: {} spool files ({} bytes) in the last pass",
                to.display, s.files, s.bytes
            )?,
            Err(e) => writeln!(
                out,
                "NOT shipped to {}: {e}; the files stay in {}",
                to.display,
                spool.display()
            )?,
        }
    }
    let status = status.context("probe run")?;
    print_status(out, &status)?;
    Ok(())
}

pub async fn run(command: &ProbeCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match command {
        ProbeCommand::Run(args) => {
            let duration = args.duration.map(Duration::from_secs);
            run_probe(args, args.record_syscalls, duration, out).await?;
        }
        ProbeCommand::RecordSyscalls { for_, run } => {
            if run.duration.is_some() {
                bail!("record-syscalls takes --for, not --duration");
            }
            run_probe(run, true, Some(*for_), out).await?;
        }
        ProbeCommand::Status { spool, pin_dir } => {
            let dir = spool.join("status");
            let mut found = 0;
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                .with_context(|| {
                    format!(
                        "{} has no probe status (has a probe run with --spool {}?)",
                        dir.display(),
                        spool.display()
                    )
                })?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            entries.sort();
            for path in entries {
                let bytes =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                let status: Status = serde_json::from_slice(&bytes)
                    .with_context(|| format!("{} is not a probe status", path.display()))?;
                print_status(out, &status)?;
                found += 1;
            }
            if found == 0 {
                bail!("{} has no probe status files", dir.display());
            }
            print_egress(out, pin_dir)?;
        }
        ProbeCommand::Egress { command } => match command {
            EgressCommand::Release { cgroup, pin_dir } => {
                let id = node_probe::cgroup::cgroup_id(cgroup)?;
                let mut egress = Egress::open(pin_dir)?;
                if egress.release(id)? {
                    writeln!(
                        out,
                        "released {} (cgroup {id}): egress is no longer checked",
                        cgroup.display()
                    )?;
                } else {
                    bail!(
                        "{} (cgroup {id}) is under no egress policy in {}",
                        cgroup.display(),
                        pin_dir.display()
                    );
                }
            }
            EgressCommand::Disable { pin_dir } => {
                let links = Egress::open(pin_dir)?.disable()?;
                writeln!(
                    out,
                    "removed every egress policy under {} ({links} program links detached)",
                    pin_dir.display()
                )?;
            }
        },
    }
    Ok(())
}

fn print_egress(out: &mut impl Write, pin_dir: &Path) -> anyhow::Result<()> {
    if !pin_dir.join("maps").exists() {
        writeln!(out, "egress: no policy pinned in {}", pin_dir.display())?;
        return Ok(());
    }
    // What the probe reported above stands on its own: a policy that cannot be read
    // here (not root) is said, not an error.
    let governed = match Egress::open(pin_dir).and_then(|e| e.governed()) {
        Ok(g) => g,
        Err(e) => {
            writeln!(
                out,
                "egress: policies are pinned in {} but cannot be read: {e}",
                pin_dir.display()
            )?;
            return Ok(());
        }
    };
    for g in governed {
        writeln!(
            out,
            "egress: cgroup {} in {} mode, {} allowed destinations, {}/4 programs attached",
            g.cgroup_id,
            match g.mode {
                EgressMode::Monitor => "monitor",
                EgressMode::Enforce => "enforce",
            },
            g.rules,
            g.pinned_links
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowlist_file_is_read_rule_by_rule_and_a_bad_line_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("egress.allow");
        std::fs::write(
            &file,
            "# agentward: kernel egress allowlist\n127.0.0.1:53  # resolver (udp)\n\n[::1]:18080 # gateway\n10.8.0.0/16:443\n# withheld: 127.0.0.1:18443\n",
        )
        .unwrap();
        let rules = allow_file(&file).unwrap();
        let expected: Vec<AllowRule> = ["127.0.0.1:53", "[::1]:18080", "10.8.0.0/16:443"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        assert_eq!(rules, expected);
        std::fs::write(&file, "127.0.0.1:53\nmodel-gateway:18080\n").unwrap();
        let e = allow_file(&file).unwrap_err().to_string();
        assert!(e.contains("egress.allow:2"), "{e}");
        assert!(allow_file(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn nameservers_are_allowed_on_port_53() {
        let rules = resolvers(
            "# generated\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nsearch example.com\n",
        );
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].addr.to_string(), "10.0.0.2");
        assert_eq!(rules[0].port, Some(53));
        assert_eq!(rules[1].addr.to_string(), "fe80::1");
    }
}
