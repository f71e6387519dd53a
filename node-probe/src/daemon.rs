//! `agentward probe run`: load the programs, watch the agents' cgroups, and keep writing
//! what they do to the spool, with every loss accounted for, until told to stop.

use crate::attribution::PodDirectory;
use crate::collector::{Clock, Collector, CollectorConfig};
use crate::egress::{AllowRule, Egress, EgressMode, Governed};
use crate::probe::{Counters, Probe, ProbeConfig, TRACEPOINTS};
use crate::spool::SpoolWriter;
use crate::{ProbeError, RawEvent};
use normalizer::{AgentRef, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct RunOptions {
    /// cgroup directories to watch (whole subtrees), each with an optional agent name.
    pub watch: Vec<(PathBuf, Option<String>)>,
    /// Watch every pod on this node (the kubelet's `kubepods` cgroup) and name agents by
    /// their owning workloads.
    pub kubernetes: bool,
    pub pod_log_dir: PathBuf,
    pub spool: PathBuf,
    pub scope: String,
    pub host: String,
    pub flush_every: Duration,
    /// How often repeats counted in the kernel are reported: one counted event per
    /// behavior per period at most.
    pub repeats_every: Duration,
    pub probe: ProbeConfig,
    /// Egress policy for every watched cgroup, when asked for.
    pub egress: Option<(EgressMode, Vec<AllowRule>)>,
    pub pin_dir: PathBuf,
    /// Where to answer Prometheus scrapes (`GET /metrics`), when asked.
    pub metrics: Option<std::net::SocketAddr>,
    /// The Kubernetes API to read this node's pods and their owners from, when given.
    pub kube_api: Option<crate::kube::KubeApiConfig>,
    /// Also record which syscalls each watched cgroup enters (for seccomp envelopes),
    /// reported every `repeats_every`. Costs every syscall on the node a lookup.
    pub syscalls: bool,
}

/// What `probe status` shows: written by the running probe beside its spool files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub host: String,
    pub started: Timestamp,
    pub updated: Timestamp,
    pub running: bool,
    pub programs: Vec<String>,
    pub watched: Vec<WatchedCgroup>,
    pub counters: Counters,
    #[serde(default)]
    pub egress_counters: Option<Counters>,
    pub records: u64,
    pub files: u64,
    pub undecodable: u64,
    #[serde(default)]
    pub egress: Vec<Governed>,
    /// What the last read of the Kubernetes API gave, or why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_api: Option<String>,
    /// What syscall recording could not record, when it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syscall_counters: Option<crate::syscalls::SyscallCounters>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WatchedCgroup {
    pub path: String,
    pub id: u64,
    pub agent: Option<AgentRef>,
}

pub fn status_path(spool: &Path, host: &str) -> PathBuf {
    spool.join("status").join(format!("{host}.json"))
}

fn write_status(spool: &Path, status: &Status) -> Result<(), ProbeError> {
    let path = status_path(spool, &status.host);
    let io = |source| ProbeError::Io {
        what: format!("writing {}", path.display()),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(status).expect("status serializes");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

const POD_REFRESH_MIN: Duration = Duration::from_secs(1);
/// Pods looked up once and still unknown, remembered so they are not waited for again.
const MAX_PODS_TRIED: usize = 4096;

/// This node's pods from the API, noting in `state` what the read gave or why it failed
/// (then `None`: attribution keeps what it knew, and the pod names).
async fn read_pods(
    api: &crate::kube::KubeApi,
    state: &mut Option<String>,
    clock: &Clock,
) -> Option<Vec<crate::kube::ApiPod>> {
    let read = tokio::time::timeout(Duration::from_secs(10), api.node_pods()).await;
    let at = crate::collector::now(clock).rfc3339();
    match read {
        Ok(Ok(pods)) => {
            *state = Some(format!(
                "{}: {} pods read at {at}",
                api.describe(),
                pods.len()
            ));
            Some(pods)
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "Kubernetes API not read; owners come from pod names");
            *state = Some(format!(
                "{}: not read at {at}: {e}; owners come from pod names",
                api.describe()
            ));
            None
        }
        Err(_) => {
            tracing::warn!("Kubernetes API did not answer within 10 s");
            *state = Some(format!(
                "{}: no answer within 10 s at {at}; owners come from pod names",
                api.describe()
            ));
            None
        }
    }
}

/// The kubelet's pod cgroup under the cgroup2 root (systemd or cgroupfs driver).
fn kubepods(root: &Path) -> Result<PathBuf, ProbeError> {
    ["kubepods.slice", "kubepods"]
        .iter()
        .map(|name| root.join(name))
        .find(|p| p.is_dir())
        .ok_or_else(|| ProbeError::NotACgroup(root.join("kubepods.slice")))
}

pub async fn run(
    options: RunOptions,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Status, ProbeError> {
    // Bound first: an address in use fails the run before any program is loaded.
    let metrics =
        match options.metrics {
            Some(address) => Some(tokio::net::TcpListener::bind(address).await.map_err(
                |source| ProbeError::Io {
                    what: format!("listening for metrics scrapes on {address}"),
                    source,
                },
            )?),
            None => None,
        };
    let root = crate::cgroup::cgroup2_root()?;
    // A relative path names a cgroup under the cgroup v2 root (`agents/rag`).
    let mut watch: Vec<(PathBuf, Option<String>)> = options
        .watch
        .iter()
        .map(|(path, name)| {
            let path = if path.is_relative() {
                root.join(path)
            } else {
                path.clone()
            };
            (path, name.clone())
        })
        .collect();
    if options.kubernetes {
        watch.push((kubepods(&root)?, None));
    }
    if watch.is_empty() {
        return Err(ProbeError::NothingToWatch);
    }
    let mut configured = BTreeMap::new();
    let mut watched = Vec::new();
    for (path, name) in &watch {
        let id = crate::cgroup::cgroup_id(path)?;
        let relative = format!(
            "/{}",
            path.strip_prefix(&root)
                .map_err(|_| ProbeError::NotUnderCgroupRoot {
                    path: path.clone(),
                    root: root.clone(),
                })?
                .display()
        );
        if let Some(name) = name {
            configured.insert(relative.clone(), name.clone());
        }
        watched.push((relative, id));
    }

    // A CA that cannot be read fails the run here, before anything loads; an API that
    // cannot be reached only costs the owners' names, and the status says why.
    let kube = options
        .kube_api
        .clone()
        .map(crate::kube::KubeApi::new)
        .transpose()?;
    let mut probe = Probe::load(options.probe)?;
    let mut reader = probe.take_events()?;
    if options.syscalls {
        probe.record_syscalls()?;
    }
    let mut collector = Collector::new(
        CollectorConfig {
            scope: options.scope.clone(),
            host: options.host.clone(),
            configured,
            cgroup_root: root.clone(),
            pods: PodDirectory::read(&options.pod_log_dir),
            proc_root: PathBuf::from("/proc"),
        },
        Clock::now(),
    );
    let mut egress = match &options.egress {
        Some((mode, rules)) => {
            let mut egress = Egress::open(&options.pin_dir)?;
            for (path, _) in &watch {
                egress.govern(path, *mode, rules)?;
            }
            Some(egress)
        }
        None => None,
    };
    let mut egress_reader = match egress.as_mut() {
        Some(e) => Some(e.take_events()?),
        None => None,
    };
    let mut kube_state = None;
    if let Some(api) = &kube {
        let pods = read_pods(api, &mut kube_state, &collector.clock()).await;
        collector.refresh_pods(&options.pod_log_dir, pods);
    }
    let mut last_pod_refresh = Instant::now();
    let mut pods_tried: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut watched_status = Vec::new();
    for (relative, id) in &watched {
        collector.know_cgroup(*id, relative);
        probe.watch(*id)?;
        watched_status.push(WatchedCgroup {
            path: relative.clone(),
            id: *id,
            agent: collector.agent_of(*id),
        });
    }
    // Nested watched cgroups share their topmost one's cgroup programs (DNS, datagrams).
    let topmost: Vec<&PathBuf> = watch
        .iter()
        .map(|(path, _)| path)
        .filter(|path| {
            !watch
                .iter()
                .any(|(other, _)| other != *path && path.starts_with(other))
        })
        .collect();
    let mut cgroup_programs = Vec::new();
    for path in &topmost {
        probe.observe_cgroup(path)?;
        for (program, hook) in crate::probe::cgroup_hooks() {
            cgroup_programs.push(format!("{program} ({hook} on {})", path.display()));
        }
    }
    let watched_agents: Vec<AgentRef> = watched_status
        .iter()
        .filter_map(|w| w.agent.clone())
        .collect();

    let clock = collector.clock();
    let started = crate::collector::now(&clock);
    let mut spool = SpoolWriter::new(&options.spool, &options.host)?;
    let mut status = Status {
        host: options.host.clone(),
        started,
        updated: started,
        running: true,
        programs: TRACEPOINTS
            .iter()
            .map(|(p, c, n)| format!("{p} ({c}/{n})"))
            .chain(options.syscalls.then(|| {
                let (program, hook) = crate::probe::SYSCALL_PROGRAM;
                format!("{program} (raw_tracepoint/{hook})")
            }))
            .chain(cgroup_programs)
            .collect(),
        watched: watched_status,
        counters: Counters::default(),
        egress_counters: None,
        records: 0,
        files: 0,
        undecodable: 0,
        egress: Vec::new(),
        kubernetes_api: kube_state.clone(),
        syscall_counters: options.syscalls.then(Default::default),
    };
    write_status(&options.spool, &status)?;
    tracing::info!(watched = status.watched.len(), spool = %options.spool.display(), "probe running");
    let (latest, scraped) = tokio::sync::watch::channel(status.clone());
    let metrics = metrics.map(|listener| {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "serving Prometheus metrics at /metrics");
        }
        tokio::spawn(crate::metrics::serve(listener, scraped))
    });

    let mut last_counters = probe.counters()?;
    let mut last_egress_lost = match egress.as_ref() {
        Some(e) => e.counters()?.lost,
        None => 0,
    };
    let mut last_undecodable = 0;
    let mut last_sets_full = 0;
    let mut window_start = started;
    let mut last_flush = Instant::now();
    let mut last_repeats = Instant::now();
    let mut batch: Vec<RawEvent> = Vec::new();
    tokio::pin!(stop);
    let mut stopping = false;
    loop {
        batch.clear();
        tokio::select! {
            _ = &mut stop => stopping = true,
            _ = reader.next_batch(Duration::from_millis(100), &mut batch) => {}
        }
        // Whatever is waiting when we stop is read too.
        reader.drain(&mut batch);
        if let Some(r) = egress_reader.as_mut() {
            r.drain(&mut batch);
        }
        // A pod started since the pods were read: read them again before its events are
        // attributed (no more than once a second; a pod still unknown after a read is
        // not waited for again).
        let unknown: Vec<String> = collector
            .unknown_pods(&batch)
            .into_iter()
            .filter(|uid| !pods_tried.contains(uid))
            .collect();
        if !unknown.is_empty() {
            if let Some(wait) = POD_REFRESH_MIN.checked_sub(last_pod_refresh.elapsed()) {
                tokio::time::sleep(wait).await;
                reader.drain(&mut batch);
            }
            let pods = match &kube {
                Some(api) => read_pods(api, &mut kube_state, &clock).await,
                None => None,
            };
            collector.refresh_pods(&options.pod_log_dir, pods);
            last_pod_refresh = Instant::now();
            // Forgetting costs at most one more read for a pod still unknown.
            if pods_tried.len() > MAX_PODS_TRIED {
                pods_tried.clear();
            }
            pods_tried.extend(unknown);
        }
        for raw in &batch {
            if let Some(record) = collector.record(raw) {
                spool.push(&record, clock.wall(raw.header().boot_ns));
            }
        }
        if stopping || last_flush.elapsed() >= options.flush_every {
            let now = crate::collector::now(&clock);
            let counters = probe.counters()?;
            let egress_lost = match egress.as_ref() {
                Some(e) => e.counters()?.lost,
                None => 0,
            };
            // Records the ring refused, denials the egress ring refused, and records that
            // arrived but could not be decoded: all events the spool will not have.
            let undecodable =
                reader.undecodable + egress_reader.as_ref().map_or(0, |r| r.undecodable);
            // A cgroup whose syscalls found no room in the kernel's sets: a hole too.
            let syscall_counters = match options.syscalls {
                true => Some(probe.syscall_counters()?),
                false => None,
            };
            let sets_full = syscall_counters.map_or(0, |c| c.sets_full);
            let lost = counters.since(&last_counters).lost
                + egress_lost.saturating_sub(last_egress_lost)
                + (undecodable - last_undecodable)
                + sets_full.saturating_sub(last_sets_full);
            if let Some(servers) = collector.stdio_servers(now) {
                spool.push(&servers, now);
            }
            if let Some(loss) = collector.loss(window_start, now, lost, &watched_agents) {
                tracing::warn!(lost, "probe events lost");
                spool.push(&loss, now);
            }
            last_counters = counters;
            last_egress_lost = egress_lost;
            last_undecodable = undecodable;
            last_sets_full = sets_full;
            window_start = now;
            if stopping || last_repeats.elapsed() >= options.repeats_every {
                for repeat in collector.repeats(&probe.dedupe_counts()?, now) {
                    spool.push(&repeat, now);
                }
                if options.syscalls {
                    let sets = probe.take_syscall_sets().await?;
                    for used in collector.syscalls(&sets, now) {
                        spool.push(&used, now);
                    }
                }
                last_repeats = Instant::now();
            }
            spool.flush()?;
            last_flush = Instant::now();
            status.updated = now;
            status.counters = counters;
            status.records = spool.written;
            status.files = spool.files;
            status.undecodable = undecodable;
            if let Some(e) = egress.as_ref() {
                status.egress_counters = Some(e.counters()?);
                status.egress = e.governed()?;
            }
            status.running = !stopping;
            status.kubernetes_api = kube_state.clone();
            status.syscall_counters = syscall_counters;
            write_status(&options.spool, &status)?;
            latest.send_replace(status.clone());
        }
        if stopping {
            break;
        }
    }
    if let Some(task) = metrics {
        // Awaited, so the listener is closed by the time the run returns.
        task.abort();
        let _ = task.await;
    }
    Ok(status)
}
