//! From what the programs send to what a scan reads: each record attributed to its
//! workload's agent, turned into a normalized event, with the inventory facts it proves.

use crate::attribution::{PodDirectory, Workload, attribute, kubernetes_ids};
use crate::probe::DedupeKey;
use crate::runtime::{Versions, is_model_file, mcp_server_of, package_of, stdio_server_of};
use crate::wire::{RawEvent, Transport};
use normalizer::event::Target;
use normalizer::inventory::{Fact, Observation, Provenance, ProvenanceKind, RecordRef};
use normalizer::node::{Endpoint, McpServer, SpoolRecord};
use normalizer::{AgentRef, Correlation, Event, Layer, Outcome, Principal, RawPointer, Timestamp};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;

/// Turns boot-relative kernel timestamps into wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Wall-clock milliseconds at boot.
    boot_wall_ms: i64,
}

impl Clock {
    pub fn now() -> Clock {
        let mut boot = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let mut real = boot;
        // SAFETY: both pointers are to live timespec values.
        unsafe {
            libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut boot);
            libc::clock_gettime(libc::CLOCK_REALTIME, &mut real);
        }
        let ms = |t: libc::timespec| t.tv_sec * 1000 + t.tv_nsec / 1_000_000;
        Clock {
            boot_wall_ms: ms(real) - ms(boot),
        }
    }

    pub fn fixed(boot_wall_ms: i64) -> Clock {
        Clock { boot_wall_ms }
    }

    pub fn wall(&self, boot_ns: u64) -> Timestamp {
        Timestamp(self.boot_wall_ms + (boot_ns / 1_000_000) as i64)
    }
}

pub struct CollectorConfig {
    /// The cluster or host name: the scope of every agent this probe reports.
    pub scope: String,
    /// The host the probe runs on (in event ids and loss records).
    pub host: String,
    /// cgroup path (relative to the cgroup2 root) → agent name, for cgroups the operator
    /// named.
    pub configured: BTreeMap<String, String>,
    pub cgroup_root: PathBuf,
    pub pods: PodDirectory,
    /// Where `/proc` is (processes' roots are read through it for package versions).
    pub proc_root: PathBuf,
}

pub struct Collector {
    config: CollectorConfig,
    clock: Clock,
    workloads: HashMap<u64, Option<(Workload, AgentRef)>>,
    /// Each cgroup's path, once found (a cgroup may be gone when its events are read
    /// again after the pod directory changed).
    paths: HashMap<u64, Option<String>>,
    versions: Versions,
    reported: HashSet<(AgentRef, Fact)>,
    /// The event each dedupe key was first sent as, and how many occurrences of it have
    /// been reported so far (the first included).
    sent: HashMap<DedupeKey, (Event, u64)>,
    /// Agents seen since the last loss report.
    pub active: BTreeMap<String, AgentRef>,
    /// Occurrences of behaviors deduplicated here rather than in the kernel (DNS
    /// queries: the programs pass whole messages and the names are parsed here).
    counted_here: HashMap<DedupeKey, u64>,
    /// The name each process looked an address up by, from the DNS answers it received,
    /// by (cgroup, pid, address): another process's connect to the same address by
    /// number is not named by this one's lookup.
    resolved: HashMap<(u64, u32, IpAddr), String>,
    /// Which process sent each DNS query still unanswered, by (cgroup, its socket's
    /// port, message id): answers arrive in no process's context.
    asked: HashMap<(u64, u16, u16), u32>,
    /// Children started on pipes (stdin and stdout) whose command line names no MCP
    /// server, by pid, until they exit or are judged.
    stdio_children: HashMap<u32, StdioChild>,
    /// Processes known to be MCP servers: their own piped children are part of them.
    mcp_server_pids: HashSet<u32>,
    /// Agents that loaded an MCP client SDK.
    mcp_clients: HashSet<String>,
}

/// A child an agent started on pipes, as a stdio MCP server is started.
#[derive(Debug, Clone)]
struct StdioChild {
    agent: AgentRef,
    started: Timestamp,
    server: McpServer,
    /// The exec event it rests on.
    record_id: String,
}

/// How long a piped child of an MCP client must live to be taken for its stdio server:
/// commands run for their output (`git`, `ls`) end well before; a server stays while
/// the session lasts.
pub const STDIO_SERVER_MIN_MS: i64 = 1_000;
/// Piped children still waiting to be judged past this many are forgotten (a runaway
/// spawner must not grow the probe).
const MAX_STDIO_CHILDREN: usize = 10_000;

/// Past this many remembered addresses the oldest knowledge is dropped wholesale: a
/// connect then shows its address alone until the agent resolves the name again.
const MAX_RESOLVED: usize = 65_536;

impl Collector {
    pub fn new(config: CollectorConfig, clock: Clock) -> Collector {
        Collector {
            config,
            clock,
            workloads: HashMap::new(),
            paths: HashMap::new(),
            versions: Versions::default(),
            reported: HashSet::new(),
            sent: HashMap::new(),
            active: BTreeMap::new(),
            counted_here: HashMap::new(),
            resolved: HashMap::new(),
            asked: HashMap::new(),
            stdio_children: HashMap::new(),
            mcp_server_pids: HashSet::new(),
            mcp_clients: HashSet::new(),
        }
    }

    /// Names a cgroup id's path ahead of time (the ids of watched cgroups are known
    /// before their processes run; short-lived child cgroups may be gone by the time an
    /// event from them is read).
    pub fn know_cgroup(&mut self, id: u64, path: &str) {
        let workload = attribute(path, &self.config.configured, &self.config.pods);
        let agent = workload.agent(&self.config.scope);
        self.workloads.insert(id, Some((workload, agent)));
        self.paths.insert(id, Some(path.to_string()));
    }

    fn path_of(&mut self, cgroup_id: u64) -> Option<String> {
        if let Some(known) = self.paths.get(&cgroup_id) {
            return known.clone();
        }
        let path = crate::cgroup::cgroup_path(&self.config.cgroup_root, cgroup_id);
        self.paths.insert(cgroup_id, path.clone());
        path
    }

    fn workload(&mut self, cgroup_id: u64) -> Option<(Workload, AgentRef)> {
        if let Some(known) = self.workloads.get(&cgroup_id) {
            return known.clone();
        }
        let found = self.path_of(cgroup_id).map(|path| {
            let workload = attribute(&path, &self.config.configured, &self.config.pods);
            let agent = workload.agent(&self.config.scope);
            (workload, agent)
        });
        self.workloads.insert(cgroup_id, found.clone());
        found
    }

    /// The pods these events come from that the directory does not know yet (started
    /// since it was read): worth reading it again before attributing them.
    pub fn unknown_pods(&mut self, batch: &[RawEvent]) -> BTreeSet<String> {
        let ids: HashSet<u64> = batch.iter().map(|r| r.header().cgroup_id).collect();
        let uids: Vec<String> = ids
            .into_iter()
            .filter_map(|id| self.path_of(id).and_then(|path| kubernetes_ids(&path)))
            .map(|(uid, _)| uid)
            .collect();
        uids.into_iter()
            .filter(|uid| !self.config.pods.knows(uid))
            .collect()
    }

    /// Reads the kubelet's pod directories again and takes the API's pods when given;
    /// attributions are worked out again from then on (an owner the API names replaces
    /// one guessed from a pod name).
    pub fn refresh_pods(
        &mut self,
        log_dir: &std::path::Path,
        api: Option<Vec<crate::kube::ApiPod>>,
    ) {
        self.config.pods.read_logs(log_dir);
        if let Some(pods) = api {
            self.config.pods.set_api_pods(pods);
        }
        self.workloads.clear();
    }

    /// The spool record of one raw event. An event whose cgroup is gone before it could
    /// be attributed is kept, without an agent. `None` for what is not an event of its
    /// own: a DNS answer (it names the addresses later connects go to) or a DNS query
    /// already reported for this cgroup (counted, reported with the repeats).
    pub fn record(&mut self, raw: &RawEvent) -> Option<SpoolRecord> {
        let header = raw.header();
        let mut dns_key = None;
        if let RawEvent::Dns {
            answer,
            message,
            client_port,
            ..
        } = raw
        {
            let parsed = crate::dns::parse(message);
            // A message the probe could not copy has no id: it pairs with nothing.
            let id = message
                .get(..2)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            let query = (header.cgroup_id, *client_port, id);
            if *answer {
                if let (Some(m), Some(pid)) = (parsed, self.asked.remove(&query)) {
                    self.remember_answer(header.cgroup_id, pid, &m);
                }
                return None;
            }
            if self.asked.len() >= MAX_RESOLVED {
                self.asked.clear();
            }
            self.asked.insert(query, header.pid);
            let key = DedupeKey {
                cgroup_id: header.cgroup_id,
                // A and AAAA lookups of one name are two behaviors, as their
                // operations say.
                target_hash: crate::wire::fnv1a(
                    format!(
                        "{} {}",
                        dns_target(parsed.as_ref()),
                        parsed
                            .as_ref()
                            .and_then(|m| m.questions.first())
                            .map_or(0, |q| q.qtype)
                    )
                    .as_bytes(),
                    crate::wire::FNV_OFFSET,
                ),
                kind: u32::from(crate::wire::KIND_DNS),
                pad: 0,
            };
            if let Some(count) = self.counted_here.get_mut(&key) {
                *count += 1;
                return None;
            }
            self.counted_here.insert(key, 1);
            dns_key = Some(key);
        }
        let attributed = self.workload(header.cgroup_id);
        let agent = attributed.as_ref().map(|(_, a)| a.clone());
        if let Some(a) = &agent {
            self.active.insert(a.key(), a.clone());
        }
        let time = self.clock.wall(header.boot_ns);
        let (layer, service, operation, mut target, outcome) = describe(raw);
        if let (RawEvent::Connect { addr, .. }, Some((_, _, name))) = (raw, target.as_mut()) {
            *name = self
                .resolved
                .get(&(header.cgroup_id, header.pid, *addr))
                .cloned();
        }
        let uid = format!(
            "{}-{}-{}-{}",
            self.config.host, header.boot_ns, header.tid, operation
        );
        let mut event = self.event(uid.clone(), time, attributed.as_ref(), service, operation);
        event.layer = layer;
        event.targets = target
            .map(|(uid, kind, name)| {
                vec![Target {
                    uid,
                    kind: Some(kind.into()),
                    name,
                }]
            })
            .unwrap_or_default();
        event.outcome = outcome;
        event.principal.id = Some(header.uid.to_string());
        event.principal.session_name = Some(header.comm.clone());
        event.correlation.pid = Some(header.pid);
        event.correlation.ppid = (header.ppid != 0).then_some(header.ppid);
        event.correlation.cgroup = Some(header.cgroup_id);
        if let Some(key) = DedupeKey::of(raw).or(dns_key) {
            // Sent again after the kernel forgot the key: its count starts over.
            self.sent.insert(key, (event.clone(), 1));
        }
        let observations = match &attributed {
            Some((workload, agent)) => self.facts(raw, workload, agent, time, &uid),
            None => Vec::new(),
        };
        Some(SpoolRecord::Event {
            event: Box::new(event),
            observations,
        })
    }

    /// Each address of an answer, as the name the cgroup asked for (what it meant, even
    /// when a CNAME chain led elsewhere).
    fn remember_answer(&mut self, cgroup_id: u64, pid: u32, answer: &crate::dns::Message) {
        let Some(question) = answer.questions.first() else {
            return;
        };
        if answer.addresses.is_empty() {
            return;
        }
        if self.resolved.len() + answer.addresses.len() > MAX_RESOLVED {
            self.resolved.clear();
        }
        for address in &answer.addresses {
            self.resolved
                .insert((cgroup_id, pid, *address), question.name.clone());
        }
    }

    fn facts(
        &mut self,
        raw: &RawEvent,
        workload: &Workload,
        agent: &AgentRef,
        time: Timestamp,
        uid: &str,
    ) -> Vec<Observation> {
        // What the agent is: its workload's name and kind, stated with its first event
        // (the `reported` set below keeps them to once).
        let mut facts = vec![
            Fact::Name(workload.name.clone()),
            Fact::Platform(format!("self-hosted {}", workload.kind)),
        ];
        match raw {
            RawEvent::Exec {
                header,
                filename,
                argv,
                stdio_piped,
                ..
            } => {
                if let Some(server) = mcp_server_of(filename, argv) {
                    self.mcp_server_pids.insert(header.pid);
                    facts.push(Fact::McpServer(server));
                } else if *stdio_piped
                    && !self.mcp_server_pids.contains(&header.ppid)
                    && self.stdio_children.len() < MAX_STDIO_CHILDREN
                {
                    self.stdio_children.insert(
                        header.pid,
                        StdioChild {
                            agent: agent.clone(),
                            started: time,
                            server: stdio_server_of(filename, argv),
                            record_id: uid.to_string(),
                        },
                    );
                }
            }
            RawEvent::Exit { header } => {
                self.mcp_server_pids.remove(&header.pid);
                if let Some(child) = self.stdio_children.remove(&header.pid)
                    && self.is_stdio_server(&child, time)
                {
                    facts.push(Fact::McpServer(child.server));
                }
            }
            RawEvent::Open { path, header, .. } if header.result >= 0 => {
                if let Some(hit) = package_of(path) {
                    // The process's own view of the filesystem (its container's), while
                    // it lives; after, the version stays unknown rather than guessed
                    // from the host's files.
                    let root = self
                        .config
                        .proc_root
                        .join(header.pid.to_string())
                        .join("root");
                    let package = self.versions.resolve(&root, &hit);
                    if package.role == "MCP SDK" {
                        self.mcp_clients.insert(agent.key());
                    }
                    facts.push(Fact::RuntimePackage(package));
                } else if is_model_file(path) {
                    facts.push(Fact::ModelFile(path.clone()));
                }
            }
            // Destinations the agent chose: not its resolver, and not where a datagram
            // server answered whoever asked.
            RawEvent::Connect {
                header,
                transport,
                addr,
                port,
                unconnected: false,
            } if !is_resolver(*port) => {
                facts.push(Fact::Endpoint(Endpoint {
                    address: socket_text(*addr, *port),
                    transport: transport.as_str().into(),
                    name: self
                        .resolved
                        .get(&(header.cgroup_id, header.pid, *addr))
                        .cloned(),
                }));
            }
            _ => {}
        }
        let new: Vec<Fact> = facts
            .into_iter()
            .filter(|f| self.reported.insert((agent.clone(), f.clone())))
            .collect();
        new.into_iter()
            .map(|fact| self.observation(agent, fact, time, uid))
            .collect()
    }

    fn observation(&self, agent: &AgentRef, fact: Fact, time: Timestamp, uid: &str) -> Observation {
        Observation {
            time,
            agent: agent.clone(),
            fact,
            provenance: Provenance {
                kind: ProvenanceKind::NodeRuntime,
                record: RecordRef {
                    source: format!("probe:{}", self.config.host),
                    object: String::new(),
                    index: 0,
                    record_id: Some(uid.to_string()),
                },
            },
        }
    }

    /// An agent that loaded an MCP client SDK kept this piped child long enough to be
    /// talking to it: its stdio MCP server, whatever the command line says.
    fn is_stdio_server(&self, child: &StdioChild, at: Timestamp) -> bool {
        at.0 - child.started.0 >= STDIO_SERVER_MIN_MS
            && self.mcp_clients.contains(&child.agent.key())
    }

    /// The piped children still running that have become stdio MCP servers by `now`,
    /// stated as facts on their own (their exit, if it comes, adds nothing).
    pub fn stdio_servers(&mut self, now: Timestamp) -> Option<SpoolRecord> {
        let judged: Vec<u32> = self
            .stdio_children
            .iter()
            .filter(|(_, child)| self.is_stdio_server(child, now))
            .map(|(pid, _)| *pid)
            .collect();
        let mut observations = Vec::new();
        for pid in judged {
            let child = self.stdio_children.remove(&pid).expect("listed above");
            self.mcp_server_pids.insert(pid);
            let fact = Fact::McpServer(child.server);
            if self.reported.insert((child.agent.clone(), fact.clone())) {
                observations.push(self.observation(&child.agent, fact, now, &child.record_id));
            }
        }
        (!observations.is_empty()).then_some(SpoolRecord::Facts { observations })
    }

    /// The repeats the kernel counted since the last call, from the dedupe map's counts:
    /// one event per behavior that repeated, standing for that many occurrences
    /// (`count`), at `now`. Keys the kernel has evicted are forgotten here too.
    pub fn repeats(
        &mut self,
        counts: &HashMap<DedupeKey, u64>,
        now: Timestamp,
    ) -> Vec<SpoolRecord> {
        let mut out = Vec::new();
        let counted_here = &mut self.counted_here;
        self.sent.retain(|key, (first, reported)| {
            let Some(&total) = counts.get(key).or(counted_here.get(key)) else {
                return false;
            };
            if total > *reported {
                let mut repeat = first.clone();
                repeat.uid = format!("{}-repeats-{total}", first.uid);
                repeat.time = now;
                repeat.count = Some(total - *reported);
                *reported = total;
                out.push(SpoolRecord::Event {
                    event: Box::new(repeat),
                    observations: Vec::new(),
                });
            }
            true
        });
        out.sort_by(|a, b| match (a, b) {
            (SpoolRecord::Event { event: x, .. }, SpoolRecord::Event { event: y, .. }) => {
                x.uid.cmp(&y.uid)
            }
            _ => std::cmp::Ordering::Equal,
        });
        out
    }

    /// A kernel-layer event of this probe's, by a process, with nothing else known yet:
    /// the caller fills in what it saw.
    fn event(
        &self,
        uid: String,
        time: Timestamp,
        attributed: Option<&(Workload, AgentRef)>,
        service: &str,
        operation: String,
    ) -> Event {
        Event {
            uid,
            time,
            agent: attributed.map(|(_, a)| a.clone()),
            layer: Layer::Kernel,
            service: service.into(),
            operation,
            targets: Vec::new(),
            outcome: Outcome::Success,
            principal: Principal {
                kind: "process".into(),
                ..Principal::default()
            },
            correlation: Correlation::default(),
            source: RawPointer {
                source: format!("probe:{}", self.config.host),
                object: String::new(),
                index: 0,
            },
            cloud: None,
            src_ip: None,
            user_agent: None,
            model: None,
            category: attributed.map(|(w, _)| w.how.clone()),
            read_only: None,
            original_time: None,
            prompt: None,
            count: None,
            permissions: Vec::new(),
        }
    }

    /// One event per cgroup and syscall it entered in the period ending `now`: service
    /// `syscall`, the syscall's name the operation. A bit says "used", not how often, so
    /// the events carry no count; the periods they recur in are what a baseline weighs.
    pub fn syscalls(
        &mut self,
        sets: &HashMap<u64, crate::syscalls::SyscallSet>,
        now: Timestamp,
    ) -> Vec<SpoolRecord> {
        let mut cgroups: Vec<_> = sets.iter().collect();
        cgroups.sort_by_key(|(id, _)| **id);
        let mut out = Vec::new();
        for (cgroup_id, set) in cgroups {
            let attributed = self.workload(*cgroup_id);
            let agent = attributed.as_ref().map(|(_, a)| a.clone());
            if let Some(a) = &agent {
                self.active.insert(a.key(), a.clone());
            }
            for nr in set.numbers() {
                let operation = normalizer::syscalls::name(nr);
                let uid = format!(
                    "{}-{}-{cgroup_id}-{operation}",
                    self.config.host,
                    now.millis()
                );
                let mut event = self.event(uid, now, attributed.as_ref(), "syscall", operation);
                event.correlation.cgroup = Some(*cgroup_id);
                out.push(SpoolRecord::Event {
                    event: Box::new(event),
                    observations: Vec::new(),
                });
            }
        }
        out
    }

    /// A loss record for the window, naming every agent active in it; `None` when
    /// nothing was lost. Starts a new window of active agents either way.
    pub fn loss(
        &mut self,
        from: Timestamp,
        to: Timestamp,
        lost: u64,
        watched: &[AgentRef],
    ) -> Option<SpoolRecord> {
        let mut agents: BTreeMap<String, AgentRef> = std::mem::take(&mut self.active);
        for a in watched {
            agents.insert(a.key(), a.clone());
        }
        (lost > 0).then(|| SpoolRecord::Loss {
            host: self.config.host.clone(),
            from,
            to,
            lost,
            agents: agents.into_values().collect(),
        })
    }

    pub fn agent_of(&mut self, cgroup_id: u64) -> Option<AgentRef> {
        self.workload(cgroup_id).map(|(_, a)| a)
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }
}

fn is_resolver(port: u16) -> bool {
    port == 53
}

fn socket_text(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The wall-clock time now, as the probe's clock tells it.
pub fn now(clock: &Clock) -> Timestamp {
    let mut boot = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the pointer is to a live timespec.
    unsafe {
        libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut boot);
    }
    clock.wall((boot.tv_sec as u64) * 1_000_000_000 + boot.tv_nsec as u64)
}

type Described = (
    Layer,
    &'static str,
    String,
    Option<(String, &'static str, Option<String>)>,
    Outcome,
);

/// Layer, service, operation, target (uid, kind, name) and outcome of a raw event.
/// Operations are what baselines key behavior by: `process:exec` of a command line,
/// `file:open_read` of a path, `network:connect_tcp` to an address.
fn describe(raw: &RawEvent) -> Described {
    let errno = |result: i32| Outcome::Failure {
        code: match -result {
            1 => "EPERM".to_string(),
            13 => "EACCES".to_string(),
            n => format!("errno {n}"),
        },
        message: None,
    };
    match raw {
        RawEvent::Exec {
            filename,
            argv,
            args_truncated,
            ..
        } => {
            let mut line = if argv.is_empty() {
                filename.clone()
            } else {
                argv.join(" ")
            };
            if *args_truncated {
                line.push_str(" …");
            }
            (
                Layer::Kernel,
                "process",
                "exec".into(),
                Some((line, "command", Some(filename.clone()))),
                Outcome::Success,
            )
        }
        RawEvent::Exit { header } => (
            Layer::Kernel,
            "process",
            "exit".into(),
            None,
            if header.result == 0 {
                Outcome::Success
            } else {
                Outcome::Failure {
                    code: format!("exit status {}", header.result),
                    message: None,
                }
            },
        ),
        // The child's pid is no behavior of its own: a fork has no target, so baselines
        // see one behavior however many children there are.
        RawEvent::Fork { .. } => (
            Layer::Kernel,
            "process",
            "fork".into(),
            None,
            Outcome::Success,
        ),
        RawEvent::Open {
            header,
            path,
            flags,
        } => {
            let operation = match (header.result < 0, flags & 3) {
                (true, _) => "open_denied",
                (false, 0) => "open_read",
                (false, _) => "open_write",
            };
            (
                Layer::Kernel,
                "file",
                operation.into(),
                Some((path.clone(), "file", None)),
                if header.result < 0 {
                    errno(header.result)
                } else {
                    Outcome::Success
                },
            )
        }
        RawEvent::Connect {
            transport,
            addr,
            port,
            unconnected,
            ..
        } => (
            Layer::Network,
            "network",
            format!(
                "{}_{}",
                if *unconnected { "sendto" } else { "connect" },
                transport_name(*transport)
            ),
            Some((socket_text(*addr, *port), "endpoint", None)),
            Outcome::Success,
        ),
        RawEvent::Dns {
            resolver,
            port,
            message,
            truncated,
            ..
        } => {
            let parsed = crate::dns::parse(message);
            let operation = match parsed.as_ref().and_then(|m| m.questions.first()) {
                Some(q) => format!("query_{}", crate::dns::type_name(q.qtype)),
                None if *truncated => "query_too_long".to_string(),
                None => "query_unreadable".to_string(),
            };
            (
                Layer::Network,
                "dns",
                operation,
                Some((
                    dns_target(parsed.as_ref()),
                    "domain",
                    Some(format!("resolver {}", socket_text(*resolver, *port))),
                )),
                Outcome::Success,
            )
        }
        RawEvent::EgressDenied {
            header,
            transport,
            addr,
            port,
            enforced,
        } => (
            Layer::Network,
            "egress",
            if *enforced { "denied" } else { "would_deny" }.into(),
            Some((
                socket_text(*addr, *port),
                "endpoint",
                Some(transport_name(*transport).to_string()),
            )),
            if *enforced {
                errno(header.result)
            } else {
                Outcome::Success
            },
        ),
    }
}

/// What a query asks for: its first question's name (a query has one in practice), or
/// a placeholder that still keeps unreadable queries apart from each other's names.
fn dns_target(message: Option<&crate::dns::Message>) -> String {
    match message.and_then(|m| m.questions.first()) {
        Some(q) => q.name.clone(),
        None => "(unreadable DNS message)".to_string(),
    }
}

fn transport_name(t: Transport) -> &'static str {
    match t {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
        Transport::Other(_) => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Header;

    fn collector() -> Collector {
        let mut c = Collector::new(
            CollectorConfig {
                scope: "node-1".into(),
                host: "node-1".into(),
                configured: BTreeMap::from([("/agents/bot".to_string(), "bot".to_string())]),
                cgroup_root: "/nonexistent".into(),
                pods: PodDirectory::default(),
                proc_root: "/nonexistent".into(),
            },
            Clock::fixed(1_000_000),
        );
        c.know_cgroup(42, "/agents/bot");
        c
    }

    fn open(path: &str, boot_ns: u64) -> RawEvent {
        RawEvent::Open {
            header: Header {
                boot_ns,
                cgroup_id: 42,
                pid: 7,
                tid: 7,
                ppid: 1,
                uid: 0,
                result: 3,
                comm: "python3".into(),
                target_hash: crate::wire::fnv1a(path.as_bytes(), crate::wire::FNV_OFFSET),
                kind: crate::wire::KIND_OPEN,
            },
            path: path.into(),
            flags: 0,
        }
    }

    fn counts(records: &[SpoolRecord]) -> Vec<(String, Option<u64>, Timestamp)> {
        records
            .iter()
            .map(|r| match r {
                SpoolRecord::Event { event, .. } => {
                    (event.targets[0].uid.clone(), event.count, event.time)
                }
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn each_syscall_a_cgroup_used_in_a_period_is_one_attributed_event() {
        let mut c = collector();
        let mut set = crate::syscalls::SyscallSet::default();
        for nr in [0, 257, 400] {
            set.insert(nr);
        }
        let records = c.syscalls(&HashMap::from([(42, set)]), Timestamp(5_000));
        let seen: Vec<(String, String, Option<String>)> = records
            .iter()
            .map(|r| match r {
                SpoolRecord::Event { event, .. } => (
                    event.uid.clone(),
                    format!("{}:{}", event.service, event.operation),
                    event.agent.as_ref().map(|a| a.id.clone()),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        let bot = Some("agent/bot".to_string());
        assert_eq!(
            seen,
            [
                (
                    "node-1-5000-42-read".into(),
                    "syscall:read".into(),
                    bot.clone()
                ),
                (
                    "node-1-5000-42-openat".into(),
                    "syscall:openat".into(),
                    bot.clone()
                ),
                (
                    "node-1-5000-42-syscall_400".into(),
                    "syscall:syscall_400".into(),
                    bot
                ),
            ]
        );
    }

    #[test]
    fn repeats_counted_in_the_kernel_become_counted_events() {
        let mut c = collector();
        let raw = open("/srv/models/llama.gguf", 5_000_000);
        let first = c.record(&raw).unwrap();
        let SpoolRecord::Event {
            event,
            observations,
        } = &first
        else {
            panic!()
        };
        assert_eq!(event.agent.as_ref().unwrap().id, "agent/bot");
        assert_eq!(event.operation, "open_read");
        assert_eq!(event.count, None);
        assert!(
            observations
                .iter()
                .any(|o| o.fact == Fact::ModelFile("/srv/models/llama.gguf".into()))
        );

        let key = DedupeKey::of(&raw).unwrap();
        let at = Timestamp(2_000_000);
        assert_eq!(
            counts(&c.repeats(&HashMap::from([(key, 5)]), at)),
            vec![("/srv/models/llama.gguf".to_string(), Some(4), at)],
            "five in all, one sent: four repeats"
        );
        assert!(
            c.repeats(&HashMap::from([(key, 5)]), at).is_empty(),
            "nothing new"
        );
        assert_eq!(
            counts(&c.repeats(&HashMap::from([(key, 7)]), at))[0].1,
            Some(2)
        );
        assert!(c.repeats(&HashMap::new(), at).is_empty());
        assert!(
            c.repeats(&HashMap::from([(key, 9)]), at).is_empty(),
            "an evicted key is forgotten"
        );
        // The same behavior sent again (the kernel forgot it): counting starts over.
        c.record(&raw);
        assert_eq!(
            counts(&c.repeats(&HashMap::from([(key, 3)]), at))[0].1,
            Some(2)
        );
    }

    fn dns(answer: bool, message: Vec<u8>, boot_ns: u64) -> RawEvent {
        RawEvent::Dns {
            header: Header {
                boot_ns,
                cgroup_id: 42,
                pid: if answer { 0 } else { 7 },
                tid: if answer { 0 } else { 7 },
                ppid: 1,
                uid: 0,
                result: 0,
                comm: if answer { "" } else { "python3" }.into(),
                target_hash: 0,
                kind: crate::wire::KIND_DNS,
            },
            resolver: "127.0.0.53".parse().unwrap(),
            port: 53,
            client_port: 40_001,
            answer,
            truncated: false,
            message,
        }
    }

    #[test]
    fn dns_answers_name_later_connects_and_queries_are_counted_per_name_and_type() {
        use crate::dns::tests::message;
        let mut c = collector();
        let openai: IpAddr = "203.0.113.7".parse().unwrap();
        let query = c
            .record(&dns(false, message(1, "api.openai.com", 1, &[]), 10))
            .unwrap();
        let SpoolRecord::Event { event, .. } = &query else {
            panic!()
        };
        assert_eq!(event.service, "dns");
        assert_eq!(event.operation, "query_A");
        assert_eq!(event.targets[0].uid, "api.openai.com");
        assert_eq!(
            event.targets[0].name.as_deref(),
            Some("resolver 127.0.0.53:53")
        );
        // The same lookup again is counted, not sent; its AAAA twin is a behavior of its own.
        assert!(
            c.record(&dns(false, message(2, "api.openai.com", 1, &[]), 11))
                .is_none()
        );
        assert!(
            c.record(&dns(false, message(3, "api.openai.com", 28, &[]), 12))
                .is_some()
        );
        // The answer is no event; it names the address the agent then connects to.
        assert!(
            c.record(&dns(true, message(1, "api.openai.com", 1, &[openai]), 13))
                .is_none()
        );
        let connect = RawEvent::Connect {
            header: Header {
                boot_ns: 14,
                cgroup_id: 42,
                pid: 7,
                tid: 7,
                ppid: 1,
                uid: 0,
                result: 0,
                comm: "python3".into(),
                target_hash: 99,
                kind: crate::wire::KIND_TCP_CONNECT,
            },
            transport: Transport::Tcp,
            addr: openai,
            port: 443,
            unconnected: false,
        };
        let Some(SpoolRecord::Event {
            event,
            observations,
        }) = c.record(&connect)
        else {
            panic!()
        };
        assert_eq!(event.targets[0].uid, "203.0.113.7:443");
        assert_eq!(event.targets[0].name.as_deref(), Some("api.openai.com"));
        assert!(observations.iter().any(|o| o.fact
            == Fact::Endpoint(Endpoint {
                address: "203.0.113.7:443".into(),
                transport: "tcp".into(),
                name: Some("api.openai.com".into()),
            })));
        // Another process reaching the same address by number did not look it up.
        let mut by_number = connect.clone();
        if let RawEvent::Connect { header, port, .. } = &mut by_number {
            header.pid = 8;
            header.tid = 8;
            *port = 8443;
        }
        let Some(SpoolRecord::Event { event, .. }) = c.record(&by_number) else {
            panic!()
        };
        assert_eq!(event.targets[0].name, None);
        // The repeat counted here is reported with the kernel's repeats.
        let repeats = c.repeats(&HashMap::new(), Timestamp(5));
        assert_eq!(
            counts(&repeats),
            vec![("api.openai.com".to_string(), Some(1), Timestamp(5))]
        );
    }

    fn process(kind: u16, pid: u32, boot_ns: u64) -> Header {
        Header {
            boot_ns,
            cgroup_id: 42,
            pid,
            tid: pid,
            ppid: 7,
            uid: 0,
            result: 0,
            comm: "python3".into(),
            target_hash: u64::from(pid),
            kind,
        }
    }

    fn piped_exec(pid: u32, script: &str, boot_ns: u64) -> RawEvent {
        RawEvent::Exec {
            header: process(crate::wire::KIND_EXEC, pid, boot_ns),
            filename: "/usr/bin/python3".into(),
            argv: vec!["python3".into(), script.into()],
            args_truncated: false,
            stdio_piped: true,
        }
    }

    fn exit(pid: u32, boot_ns: u64) -> RawEvent {
        RawEvent::Exit {
            header: process(crate::wire::KIND_EXIT, pid, boot_ns),
        }
    }

    fn servers(record: Option<SpoolRecord>) -> Vec<String> {
        let observations = match record {
            Some(SpoolRecord::Event { observations, .. }) => observations,
            Some(SpoolRecord::Facts { observations }) => observations,
            _ => Vec::new(),
        };
        observations
            .into_iter()
            .filter_map(|o| match o.fact {
                Fact::McpServer(s) => Some(format!("{} ({})", s.name, s.launcher)),
                _ => None,
            })
            .collect()
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn a_piped_child_an_mcp_client_keeps_is_its_stdio_server() {
        let mut c = collector();
        // Without an MCP SDK loaded, a long-lived piped child is just a child.
        c.record(&piped_exec(100, "/app/worker.py", 0));
        assert!(servers(c.record(&exit(100, 5_000 * MS))).is_empty());
        // The agent loads the MCP client SDK.
        c.record(&open(
            "/app/.venv/lib/python3.12/site-packages/mcp/client/stdio/__init__.py",
            MS,
        ));
        // A command run for its output ends too soon to be a server.
        c.record(&piped_exec(101, "/app/git_status.py", 10 * MS));
        assert!(servers(c.record(&exit(101, 200 * MS))).is_empty());
        // One that lives past the threshold is, named by its script, once.
        c.record(&piped_exec(102, "/app/ticket_tools.py", 1_000 * MS));
        let inferred = "ticket_tools.py (stdio (inferred: a piped child of an MCP client))";
        assert_eq!(servers(c.record(&exit(102, 2_500 * MS))), [inferred]);
        c.record(&piped_exec(103, "/app/ticket_tools.py", 3_000 * MS));
        assert!(
            servers(c.record(&exit(103, 9_000 * MS))).is_empty(),
            "stated once"
        );
        // One still running is judged at a flush, and its own piped child is part of it.
        c.record(&piped_exec(104, "/app/search_tools.py", 10_000 * MS));
        let clock = Clock::fixed(1_000_000);
        assert!(
            c.stdio_servers(clock.wall(10_500 * MS)).is_none(),
            "too soon"
        );
        assert_eq!(
            servers(c.stdio_servers(clock.wall(11_500 * MS))),
            ["search_tools.py (stdio (inferred: a piped child of an MCP client))"]
        );
        let mut grandchild = piped_exec(105, "/app/helper.py", 12_000 * MS);
        if let RawEvent::Exec { header, .. } = &mut grandchild {
            header.ppid = 104;
        }
        c.record(&grandchild);
        assert!(servers(c.record(&exit(105, 20_000 * MS))).is_empty());
    }

    #[test]
    fn a_fact_is_stated_once_per_agent() {
        let mut c = collector();
        let facts = |r: Option<SpoolRecord>| match r {
            Some(SpoolRecord::Event { observations, .. }) => observations.len(),
            _ => 0,
        };
        // Name, platform and the model file the first time; nothing new the second.
        assert_eq!(facts(c.record(&open("/m/a.safetensors", 1))), 3);
        assert_eq!(facts(c.record(&open("/m/a.safetensors", 2))), 0);
        assert_eq!(facts(c.record(&open("/m/b.safetensors", 3))), 1);
    }
}
