//! A seccomp envelope per self-hosted agent, from the syscalls the probe recorded
//! (`agentward probe record-syscalls`): "envelopes, not tight profiles". Every syscall the
//! agent was seen entering is allowed, marked `seen` with its trace; to those its agent
//! class adds what a runtime of that kind needs and a recording can miss (a process
//! already running when recording began was not seen starting), marked `added by class`
//! with why. Everything else fails with EPERM (`SCMP_ACT_ERRNO`), in the JSON profile
//! that Docker, containerd, CRI-O and the kubelet's `localhost/` profiles load. Then the
//! recorded syscalls are replayed against it.

use crate::aws_policy::Confidence;
use crate::replay::Evidence;
use normalizer::Timestamp;
use normalizer::classes::AgentClass;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// One recorded syscall: the agent entered it in the period ending at `time`.
#[derive(Debug, Clone, Copy)]
pub struct Syscall<'a> {
    /// The name (`openat`), or `syscall_N` for a number the table has no name for.
    pub name: &'a str,
    pub time: Timestamp,
    pub proof: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "origin", rename_all = "snake_case")]
pub enum Origin {
    /// Recorded: `evidence.events` is the number of report periods it was used in.
    Seen {
        evidence: Evidence,
        confidence: Confidence,
    },
    /// Not recorded; what an agent of this class needs, and why.
    AddedByClass { class: AgentClass, why: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    #[serde(flatten)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    pub class: AgentClass,
    pub entries: Vec<Entry>,
    /// Recorded numbers the syscall table has no name for: a profile lists names, so they
    /// stay denied (the replay counts them), with their trace.
    pub unnameable: BTreeMap<String, Evidence>,
    /// The recording: report periods with any syscall, and their span.
    pub periods: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

/// Recorded syscalls judged by the envelope, as the kernel would: goal 0 denied.
#[derive(Debug, Clone, Serialize)]
pub struct SyscallRadius {
    /// (agent, syscall, period) uses replayed.
    pub uses: u64,
    pub denied: u64,
    pub denials: BTreeMap<String, Evidence>,
}

/// What any agent process needs at start and exit and to call its model over the
/// network: a recording that began after the process started misses its start.
const RUNTIME: &[&str] = &[
    "execve",
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "arch_prctl",
    "set_tid_address",
    "set_robust_list",
    "rseq",
    "prlimit64",
    "getrandom",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigaltstack",
    "futex",
    "exit",
    "exit_group",
    "restart_syscall",
    "close",
    "read",
    "write",
    "readv",
    "writev",
    "openat",
    "newfstatat",
    "fstat",
    "statx",
    "lseek",
    "pread64",
    "access",
    "readlink",
    "getcwd",
    "getdents64",
    "fcntl",
    "ioctl",
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "uname",
    "sysinfo",
    "clock_gettime",
    "clock_nanosleep",
    "nanosleep",
    "sched_getaffinity",
    "sched_yield",
    "socket",
    "connect",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "eventfd2",
    "pipe2",
    "dup",
    "dup2",
    "dup3",
    "shutdown",
];

/// What running code it writes needs besides: processes, and the files they work in.
const CODE_EXECUTION: &[&str] = &[
    "clone",
    "clone3",
    "fork",
    "vfork",
    "wait4",
    "waitid",
    "kill",
    "tgkill",
    "pidfd_open",
    "chdir",
    "fchdir",
    "mkdir",
    "mkdirat",
    "unlink",
    "unlinkat",
    "rename",
    "renameat2",
    "ftruncate",
    "fsync",
    "fchmod",
    "umask",
];

/// What an orchestrator needs besides: starting the agents it delegates to.
const ORCHESTRATOR: &[&str] = &["clone", "clone3", "wait4", "kill"];

/// The syscalls a class adds, each with why.
pub fn class_additions(class: AgentClass) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = RUNTIME
        .iter()
        .map(|s| {
            (
                *s,
                "a runtime's start, exit and model calls, which a recording of a running process misses",
            )
        })
        .collect();
    let (extra, why): (&[&str], &str) = match class {
        AgentClass::CodeExecution => (
            CODE_EXECUTION,
            "code execution: the processes and files the code it writes needs",
        ),
        AgentClass::Orchestrator => (
            ORCHESTRATOR,
            "orchestrator: starting the agents it delegates to",
        ),
        _ => (&[], ""),
    };
    out.extend(extra.iter().map(|s| (*s, why)));
    out
}

/// The envelope of `syscalls`. Confidence is judged over the recording's windows of
/// `window_ms` (a day by default, as the baseline's): a syscall used in one window only
/// is `review`. Drift does not judge recorded syscalls (a recording's end is not the
/// behavior vanishing), so nothing recorded is withheld.
pub fn envelope<'a>(
    syscalls: impl IntoIterator<Item = Syscall<'a>>,
    class: AgentClass,
    window_ms: i64,
) -> Envelope {
    let window = |t: Timestamp| t.millis().div_euclid(window_ms.max(1));
    let mut seen: BTreeMap<&str, (Evidence, BTreeSet<i64>)> = BTreeMap::new();
    let mut unnameable: BTreeMap<String, Evidence> = BTreeMap::new();
    let mut per_window: BTreeMap<i64, u64> = BTreeMap::new();
    let mut periods = BTreeSet::new();
    for s in syscalls {
        periods.insert(s.time);
        *per_window.entry(window(s.time)).or_default() += 1;
        if normalizer::syscalls::number(s.name).is_none_or(|nr| !normalizer::syscalls::is_named(nr))
        {
            unnameable
                .entry(s.name.to_string())
                .or_insert_with(|| Evidence::empty(s.time))
                .add_n(s.time, s.proof, 1);
        } else {
            let (evidence, windows) = seen
                .entry(s.name)
                .or_insert_with(|| (Evidence::empty(s.time), BTreeSet::new()));
            evidence.add_n(s.time, s.proof, 1);
            windows.insert(window(s.time));
        }
    }
    let mut entries: Vec<Entry> = seen
        .iter()
        .map(|(name, (evidence, windows))| Entry {
            name: name.to_string(),
            origin: Origin::Seen {
                evidence: evidence.clone(),
                confidence: Confidence::of(windows, &per_window),
            },
        })
        .collect();
    let mut added = BTreeSet::new();
    for (name, why) in class_additions(class) {
        if seen.contains_key(name) || !added.insert(name) {
            continue;
        }
        entries.push(Entry {
            name: name.to_string(),
            origin: Origin::AddedByClass {
                class,
                why: why.to_string(),
            },
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Envelope {
        class,
        entries,
        unnameable,
        periods: periods.len() as u64,
        first: periods.first().copied(),
        last: periods.last().copied(),
    }
}

impl Envelope {
    pub fn seen(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.origin, Origin::Seen { .. }))
            .count()
    }

    /// The seccomp profile: default `SCMP_ACT_ERRNO` (EPERM), x86_64 only (the probe
    /// records that ABI; 32-bit calls are refused), one allow rule per syscall with its
    /// trace as the rule's comment.
    pub fn profile(&self) -> Value {
        let rules: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                json!({
                    "names": [e.name],
                    "action": "SCMP_ACT_ALLOW",
                    "comment": comment(e),
                })
            })
            .collect();
        json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": rules,
        })
    }

    /// Every recorded use judged by the envelope: allowed when its syscall is listed.
    pub fn replay<'a>(&self, syscalls: impl IntoIterator<Item = Syscall<'a>>) -> SyscallRadius {
        let allowed: BTreeSet<&str> = self.entries.iter().map(|e| e.name.as_str()).collect();
        let mut out = SyscallRadius {
            uses: 0,
            denied: 0,
            denials: BTreeMap::new(),
        };
        for s in syscalls {
            out.uses += 1;
            if !allowed.contains(s.name) {
                out.denied += 1;
                out.denials
                    .entry(s.name.to_string())
                    .or_insert_with(|| Evidence::empty(s.time))
                    .add_n(s.time, s.proof, 1);
            }
        }
        out
    }
}

fn comment(e: &Entry) -> String {
    match &e.origin {
        Origin::Seen {
            evidence,
            confidence,
        } => format!(
            "seen: in {} report periods {} → {}, {} of {} windows ({}), {} spool records",
            evidence.events,
            evidence.first.rfc3339(),
            evidence.last.rfc3339(),
            confidence.windows_seen,
            confidence.windows_observed,
            confidence.level.label(),
            evidence.records.len()
        ),
        Origin::AddedByClass { class, why } => {
            format!("added by class ({}): {why}", class.label())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = Timestamp::MS_PER_DAY;

    fn used(name: &'static str, t: i64) -> Syscall<'static> {
        Syscall {
            name,
            time: Timestamp(t),
            proof: "spool/2026-11-01/node-1.jsonl.gz",
        }
    }

    #[test]
    fn every_class_addition_is_a_syscall_the_table_names() {
        for class in [
            AgentClass::Orchestrator,
            AgentClass::CodeExecution,
            AgentClass::WriteTools,
            AgentClass::ReadOnlyRetrieval,
            AgentClass::General,
        ] {
            for (name, _) in class_additions(class) {
                assert!(normalizer::syscalls::number(name).is_some(), "{name}");
            }
        }
    }

    #[test]
    fn seen_syscalls_carry_their_trace_and_the_class_fills_in_the_rest() {
        let recorded = [
            used("read", DAY),
            used("read", 2 * DAY),
            used("mkdir", DAY),
            used("syscall_400", 2 * DAY),
        ];
        let env = envelope(recorded, AgentClass::General, DAY);
        let origin = |name: &str| {
            env.entries
                .iter()
                .find(|e| e.name == name)
                .map(|e| &e.origin)
        };
        match origin("read") {
            Some(Origin::Seen {
                evidence,
                confidence,
            }) => {
                assert_eq!(evidence.events, 2);
                assert_eq!(confidence.level, crate::aws_policy::Level::Steady);
            }
            other => panic!("{other:?}"),
        }
        match origin("mkdir") {
            Some(Origin::Seen { confidence, .. }) => {
                assert_eq!(confidence.level, crate::aws_policy::Level::Review)
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            origin("exit_group"),
            Some(Origin::AddedByClass { .. })
        ));
        // General adds no process creation; code execution does.
        assert_eq!(origin("clone3"), None);
        let code = envelope([used("read", DAY)], AgentClass::CodeExecution, DAY);
        assert!(code.entries.iter().any(|e| e.name == "clone3"));
        assert_eq!(origin("ptrace"), None);
        assert!(env.unnameable.contains_key("syscall_400"));
        assert_eq!((env.periods, env.seen()), (2, 2));

        let radius = env.replay(recorded.into_iter().chain([used("ptrace", 2 * DAY)]));
        assert_eq!((radius.uses, radius.denied), (5, 2));
        assert_eq!(
            radius.denials.keys().collect::<Vec<_>>(),
            ["ptrace", "syscall_400"]
        );

        let profile = env.profile();
        assert_eq!(profile["defaultAction"], "SCMP_ACT_ERRNO");
        let rules = profile["syscalls"].as_array().unwrap();
        assert_eq!(rules.len(), env.entries.len());
        let read = rules.iter().find(|r| r["names"][0] == "read").unwrap();
        assert!(
            read["comment"]
                .as_str()
                .unwrap()
                .starts_with("seen: in 2 report periods")
        );
    }
}
