//! The node probe: eBPF programs that watch self-hosted agents from outside their process
//! (exec, file opens, connects), attribute what they see to the owning workload, derive
//! the agent's runtime inventory from it, and enforce per-agent egress allowlists in the
//! kernel.
//!
//! The programs are C in `bpf/` (CO-RE against the `vmlinux.h` kept there), loaded with
//! aya. Loading needs root; everything that interprets what they send is pure and tested
//! without it.

pub mod attribution;
pub mod cgroup;
pub mod collector;
pub mod daemon;
pub mod dns;
pub mod egress;
pub mod kube;
pub mod metrics;
pub mod probe;
pub mod runtime;
pub mod spool;
pub mod syscalls;
pub mod wire;

pub use egress::{AllowRule, Egress, EgressMode};
pub use probe::{Counters, DedupeKey, EventReader, Probe, ProbeConfig};
pub use wire::{Header, RawEvent, Transport};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    #[error("loading the eBPF object failed (root, or CAP_BPF + CAP_PERFMON, is needed): {0}")]
    Load(String),
    #[error("the eBPF object has no program {0:?}")]
    MissingProgram(&'static str),
    #[error("the eBPF object has no map {0:?}")]
    MissingMap(&'static str),
    #[error("attaching {program} to {hook} failed: {reason}")]
    Attach {
        program: &'static str,
        hook: String,
        reason: String,
    },
    #[error("map {map}: {reason}")]
    Map { map: &'static str, reason: String },
    #[error("no cgroup v2 hierarchy is mounted (see /proc/self/mountinfo)")]
    NoCgroup2,
    #[error("{0} is not a cgroup v2 directory (it has no cgroup.procs)")]
    NotACgroup(std::path::PathBuf),
    #[error("nothing to watch: give --watch-cgroup PATH or --k8s")]
    NothingToWatch,
    #[error("{path} is not under the cgroup v2 hierarchy at {root}")]
    NotUnderCgroupRoot {
        path: std::path::PathBuf,
        root: std::path::PathBuf,
    },
    #[error("Kubernetes API: {0}")]
    Kubernetes(String),
    #[error("probe record of kind {kind} and {len} bytes does not match bpf/events.h")]
    BadRecord { kind: u16, len: usize },
    // The cause is the source, which error reports print after the context.
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl ProbeError {
    pub(crate) fn map(map: &'static str, error: impl std::error::Error) -> ProbeError {
        ProbeError::Map {
            map,
            reason: with_causes(&error),
        }
    }

    pub(crate) fn attach(
        program: &'static str,
        hook: impl Into<String>,
        error: impl std::error::Error,
    ) -> ProbeError {
        ProbeError::Attach {
            program,
            hook: hook.into(),
            reason: with_causes(&error),
        }
    }
}

/// An error and its sources on one line: aya's outer errors name the call, the inner
/// ones the errno that says why.
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
