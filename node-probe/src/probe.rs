//! Loading the observation programs, choosing what they watch, and reading what they send.

use crate::ProbeError;
use crate::syscalls::{SyscallCounters, SyscallKey, SyscallSet};
use crate::wire::{self, RawEvent};
use aya::maps::{Array, HashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::links::CgroupAttachMode;
use aya::programs::{
    CgroupSkb, CgroupSkbAttachType, CgroupSockAddr, CgroupSockAddrAttachType, RawTracePoint,
    TracePoint,
};
use aya::{Ebpf, EbpfLoader};
use std::os::fd::AsRawFd;
use std::time::Duration;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

static PROBE_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/probe.bpf.o"));

/// Every hook the probe attaches: (program, tracepoint category, tracepoint).
pub const TRACEPOINTS: [(&str, &str, &str); 5] = [
    ("on_exec", "sched", "sched_process_exec"),
    ("on_exit", "sched", "sched_process_exit"),
    ("on_fork", "sched", "sched_process_fork"),
    ("on_exit_openat", "syscalls", "sys_exit_openat"),
    ("on_inet_sock_set_state", "sock", "inet_sock_set_state"),
];

/// Syscall recording's program and raw tracepoint, attached only when asked for.
pub const SYSCALL_PROGRAM: (&str, &str) = ("on_sys_enter", "sys_enter");

/// How long a flipped epoch is given before the old one's sets are read: a program that
/// read the old epoch just before the flip sets its bit within microseconds.
const EPOCH_SETTLE: Duration = Duration::from_millis(20);

/// The DNS programs, attached to the topmost watched cgroups: (program, direction).
pub const DNS_PROGRAMS: [(&str, CgroupSkbAttachType); 2] = [
    ("dns_egress", CgroupSkbAttachType::Egress),
    ("dns_ingress", CgroupSkbAttachType::Ingress),
];

/// The datagram destination programs, attached there too: (program, hook).
pub const DATAGRAM_PROGRAMS: [(&str, CgroupSockAddrAttachType); 4] = [
    ("observe_connect4", CgroupSockAddrAttachType::Connect4),
    ("observe_connect6", CgroupSockAddrAttachType::Connect6),
    ("observe_sendmsg4", CgroupSockAddrAttachType::UDPSendMsg4),
    ("observe_sendmsg6", CgroupSockAddrAttachType::UDPSendMsg6),
];

/// What each program attached to a watched cgroup is called and where it hooks, for the
/// status report.
pub fn cgroup_hooks() -> Vec<(&'static str, &'static str)> {
    let skb = DNS_PROGRAMS.iter().map(|(p, d)| {
        (
            *p,
            match d {
                CgroupSkbAttachType::Egress => "cgroup_skb/egress",
                CgroupSkbAttachType::Ingress => "cgroup_skb/ingress",
            },
        )
    });
    let sock = DATAGRAM_PROGRAMS.iter().map(|(p, h)| {
        (
            *p,
            match h {
                CgroupSockAddrAttachType::Connect4 => "cgroup/connect4",
                CgroupSockAddrAttachType::Connect6 => "cgroup/connect6",
                CgroupSockAddrAttachType::UDPSendMsg4 => "cgroup/sendmsg4",
                _ => "cgroup/sendmsg6",
            },
        )
    });
    skb.chain(sock).collect()
}

#[derive(Debug, Clone, Copy)]
pub struct ProbeConfig {
    /// Size of the ring buffer: a power of two, at least one page.
    pub ring_bytes: u32,
    /// The programs wake the reader once this much is waiting; below it, the reader
    /// drains on its own timer. Batching wakeups is most of the probe's overhead saved.
    pub wakeup_bytes: u64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            ring_bytes: 4 << 20,
            wakeup_bytes: 256 << 10,
        }
    }
}

/// What the programs counted instead of (or besides) sending, summed over CPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    pub emitted: u64,
    /// Events lost because the ring was full. Each one is a hole in the record.
    pub lost: u64,
    /// Repeats counted in the kernel instead of sent (their counts are read separately).
    pub deduped: u64,
    /// Events sent without being remembered for dedupe (the map refused the key).
    pub dedupe_full: u64,
    /// Events sent without their path or address, which could not be read.
    pub read_failed: u64,
}

impl Counters {
    pub(crate) fn from_indexed(values: [u64; 5]) -> Counters {
        Counters {
            emitted: values[0],
            lost: values[1],
            deduped: values[2],
            dedupe_full: values[3],
            read_failed: values[4],
        }
    }

    /// What happened between two readings of the same counters.
    pub fn since(&self, earlier: &Counters) -> Counters {
        Counters {
            emitted: self.emitted.saturating_sub(earlier.emitted),
            lost: self.lost.saturating_sub(earlier.lost),
            deduped: self.deduped.saturating_sub(earlier.deduped),
            dedupe_full: self.dedupe_full.saturating_sub(earlier.dedupe_full),
            read_failed: self.read_failed.saturating_sub(earlier.read_failed),
        }
    }
}

pub(crate) fn sum_counters(map: &aya::maps::Map) -> Result<Counters, ProbeError> {
    let array: PerCpuArray<&MapData, u64> =
        PerCpuArray::try_from(map).map_err(|e| ProbeError::map("counters", e))?;
    let mut values = [0u64; 5];
    for (index, value) in values.iter_mut().enumerate() {
        let per_cpu = array
            .get(&(index as u32), 0)
            .map_err(|e| ProbeError::map("counters", e))?;
        *value = per_cpu.iter().sum();
    }
    Ok(Counters::from_indexed(values))
}

/// A dedupe map key, as `bpf/events.h` lays it out.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DedupeKey {
    pub cgroup_id: u64,
    pub target_hash: u64,
    pub kind: u32,
    pub pad: u32,
}

// SAFETY: plain integers, no padding (8 + 8 + 4 + 4), every bit pattern valid.
unsafe impl aya::Pod for DedupeKey {}

impl DedupeKey {
    /// The key the programs counted `event` under, or `None` for kinds never deduped.
    pub fn of(event: &RawEvent) -> Option<DedupeKey> {
        if !matches!(
            event,
            RawEvent::Exec { .. } | RawEvent::Open { .. } | RawEvent::Connect { .. }
        ) {
            return None;
        }
        let header = event.header();
        Some(DedupeKey {
            cgroup_id: header.cgroup_id,
            target_hash: header.target_hash,
            kind: u32::from(header.kind),
            pad: 0,
        })
    }
}

/// The loaded, attached observation programs.
pub struct Probe {
    ebpf: Ebpf,
    generation: u64,
}

impl Probe {
    /// Loads the programs and attaches every tracepoint. Needs root (CAP_BPF and
    /// CAP_PERFMON); the error names the program and hook that failed.
    pub fn load(config: ProbeConfig) -> Result<Probe, ProbeError> {
        crate::cgroup::ensure_mounted("tracefs", std::path::Path::new("/sys/kernel/tracing"))?;
        let mut ebpf = EbpfLoader::new()
            .override_global("wakeup_bytes", &config.wakeup_bytes, true)
            .map_max_entries("events", config.ring_bytes)
            .load(PROBE_OBJECT)
            .map_err(|e| ProbeError::Load(crate::with_causes(&e)))?;
        for (program, category, name) in TRACEPOINTS {
            let tracepoint: &mut TracePoint = ebpf
                .program_mut(program)
                .ok_or(ProbeError::MissingProgram(program))?
                .try_into()
                .map_err(|e| ProbeError::attach(program, name, e))?;
            tracepoint
                .load()
                .map_err(|e| ProbeError::attach(program, name, e))?;
            tracepoint
                .attach(category, name)
                .map_err(|e| ProbeError::attach(program, name, e))?;
        }
        for (program, _) in DNS_PROGRAMS {
            let skb: &mut CgroupSkb = ebpf
                .program_mut(program)
                .ok_or(ProbeError::MissingProgram(program))?
                .try_into()
                .map_err(|e| ProbeError::attach(program, "load", e))?;
            skb.load()
                .map_err(|e| ProbeError::attach(program, "load", e))?;
        }
        for (program, _) in DATAGRAM_PROGRAMS {
            let sock: &mut CgroupSockAddr = ebpf
                .program_mut(program)
                .ok_or(ProbeError::MissingProgram(program))?
                .try_into()
                .map_err(|e| ProbeError::attach(program, "load", e))?;
            sock.load()
                .map_err(|e| ProbeError::attach(program, "load", e))?;
        }
        Ok(Probe {
            ebpf,
            generation: 0,
        })
    }

    fn map_mut(&mut self, name: &'static str) -> Result<&mut aya::maps::Map, ProbeError> {
        self.ebpf.map_mut(name).ok_or(ProbeError::MissingMap(name))
    }

    /// Watches a cgroup and everything below it.
    pub fn watch(&mut self, cgroup_id: u64) -> Result<(), ProbeError> {
        let mut watched: HashMap<&mut MapData, u64, u8> =
            HashMap::try_from(self.map_mut("watched")?)
                .map_err(|e| ProbeError::map("watched", e))?;
        watched
            .insert(cgroup_id, 1, 0)
            .map_err(|e| ProbeError::map("watched", e))?;
        self.bump_generation()
    }

    pub fn unwatch(&mut self, cgroup_id: u64) -> Result<(), ProbeError> {
        let mut watched: HashMap<&mut MapData, u64, u8> =
            HashMap::try_from(self.map_mut("watched")?)
                .map_err(|e| ProbeError::map("watched", e))?;
        match watched.remove(&cgroup_id) {
            Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
            Err(e) => return Err(ProbeError::map("watched", e)),
        }
        self.bump_generation()
    }

    /// Observes the DNS messages and datagram destinations of every socket in `cgroup`
    /// and below. Attach it to the topmost watched cgroups only: programs on nested
    /// cgroups would each see the same packets. The attachments end with the probe.
    pub fn observe_cgroup(&mut self, cgroup: &std::path::Path) -> Result<(), ProbeError> {
        let hook = || cgroup.display().to_string();
        let cgroup_file = std::fs::File::open(cgroup).map_err(|source| ProbeError::Io {
            what: format!("opening cgroup {}", cgroup.display()),
            source,
        })?;
        for (program, direction) in DNS_PROGRAMS {
            let skb: &mut CgroupSkb = self
                .ebpf
                .program_mut(program)
                .ok_or(ProbeError::MissingProgram(program))?
                .try_into()
                .map_err(|e| ProbeError::attach(program, hook(), e))?;
            // A cgroup link coexists with other programs there (the kernel refuses
            // attach flags on links); `Single` passes none.
            skb.attach(&cgroup_file, direction, CgroupAttachMode::Single)
                .map_err(|e| ProbeError::attach(program, hook(), e))?;
        }
        for (program, _) in DATAGRAM_PROGRAMS {
            let sock: &mut CgroupSockAddr = self
                .ebpf
                .program_mut(program)
                .ok_or(ProbeError::MissingProgram(program))?
                .try_into()
                .map_err(|e| ProbeError::attach(program, hook(), e))?;
            sock.attach(&cgroup_file, CgroupAttachMode::Single)
                .map_err(|e| ProbeError::attach(program, hook(), e))?;
        }
        Ok(())
    }

    /// Cached per-cgroup verdicts carry the generation they were made in; a new one
    /// makes the programs decide again for every cgroup.
    fn bump_generation(&mut self) -> Result<(), ProbeError> {
        self.generation += 1;
        let generation = self.generation;
        let mut array: Array<&mut MapData, u64> = Array::try_from(self.map_mut("generation")?)
            .map_err(|e| ProbeError::map("generation", e))?;
        array
            .set(0, generation, 0)
            .map_err(|e| ProbeError::map("generation", e))
    }

    pub fn counters(&self) -> Result<Counters, ProbeError> {
        sum_counters(
            self.ebpf
                .map("counters")
                .ok_or(ProbeError::MissingMap("counters"))?,
        )
    }

    /// Total occurrences counted per dedupe key (the first one, which was sent, included).
    pub fn dedupe_counts(&self) -> Result<std::collections::HashMap<DedupeKey, u64>, ProbeError> {
        let map: HashMap<&MapData, DedupeKey, u64> = HashMap::try_from(
            self.ebpf
                .map("dedupe")
                .ok_or(ProbeError::MissingMap("dedupe"))?,
        )
        .map_err(|e| ProbeError::map("dedupe", e))?;
        let mut counts = std::collections::HashMap::new();
        for entry in map.iter() {
            // An entry evicted while we iterate is skipped by the kernel walk; its count
            // is read next time or, if gone, was already read before.
            match entry {
                Ok((key, count)) => {
                    counts.insert(key, count);
                }
                Err(aya::maps::MapError::KeyNotFound) => continue,
                Err(e) => return Err(ProbeError::map("dedupe", e)),
            }
        }
        Ok(counts)
    }

    /// Starts recording the syscalls of watched cgroups (a bit per syscall per cgroup).
    /// It costs every syscall on the node a cgroup lookup, so it is off until asked for.
    pub fn record_syscalls(&mut self) -> Result<(), ProbeError> {
        let (program, hook) = SYSCALL_PROGRAM;
        let raw: &mut RawTracePoint = self
            .ebpf
            .program_mut(program)
            .ok_or(ProbeError::MissingProgram(program))?
            .try_into()
            .map_err(|e| ProbeError::attach(program, hook, e))?;
        raw.load()
            .map_err(|e| ProbeError::attach(program, hook, e))?;
        raw.attach(hook)
            .map_err(|e| ProbeError::attach(program, hook, e))?;
        Ok(())
    }

    /// The syscalls each cgroup entered since the last call, by cgroup id: the programs
    /// move to the other epoch, and the sets of this one are read and cleared.
    pub async fn take_syscall_sets(
        &mut self,
    ) -> Result<std::collections::HashMap<u64, SyscallSet>, ProbeError> {
        let epochs = "syscall_epoch";
        let mut array: Array<&mut MapData, u32> =
            Array::try_from(self.map_mut(epochs)?).map_err(|e| ProbeError::map(epochs, e))?;
        let old = array.get(&0, 0).map_err(|e| ProbeError::map(epochs, e))?;
        array
            .set(0, old ^ 1, 0)
            .map_err(|e| ProbeError::map(epochs, e))?;
        tokio::time::sleep(EPOCH_SETTLE).await;
        let name = "syscall_sets";
        let mut sets: HashMap<&mut MapData, SyscallKey, SyscallSet> =
            HashMap::try_from(self.map_mut(name)?).map_err(|e| ProbeError::map(name, e))?;
        // A key that cannot be read is an error, not a set skipped.
        let mut keys = Vec::new();
        for key in sets.keys() {
            match key {
                Ok(k) if k.epoch == old => keys.push(k),
                Ok(_) | Err(aya::maps::MapError::KeyNotFound) => {}
                Err(e) => return Err(ProbeError::map(name, e)),
            }
        }
        let mut out = std::collections::HashMap::new();
        for key in keys {
            match sets.get(&key, 0) {
                Ok(set) => out
                    .entry(key.cgroup_id)
                    .or_insert_with(SyscallSet::default)
                    .union(&set),
                Err(aya::maps::MapError::KeyNotFound) => continue,
                Err(e) => return Err(ProbeError::map(name, e)),
            }
            match sets.remove(&key) {
                Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
                Err(e) => return Err(ProbeError::map(name, e)),
            }
        }
        Ok(out)
    }

    pub fn syscall_counters(&self) -> Result<SyscallCounters, ProbeError> {
        let name = "syscall_counters";
        let array: PerCpuArray<&MapData, u64> =
            PerCpuArray::try_from(self.ebpf.map(name).ok_or(ProbeError::MissingMap(name))?)
                .map_err(|e| ProbeError::map(name, e))?;
        let sum = |index: u32| -> Result<u64, ProbeError> {
            let values = array.get(&index, 0).map_err(|e| ProbeError::map(name, e))?;
            Ok(values.iter().sum())
        };
        Ok(SyscallCounters {
            other_abi: sum(0)?,
            sets_full: sum(1)?,
        })
    }

    /// The ring the programs write to, for an [`EventReader`]. Can be taken once.
    pub fn take_events(&mut self) -> Result<EventReader, ProbeError> {
        let map = self
            .ebpf
            .take_map("events")
            .ok_or(ProbeError::MissingMap("events"))?;
        EventReader::new(map)
    }
}

/// Reads a ring buffer of probe records without a wakeup per event: it waits for the
/// programs' batched wakeup or its own timer, then drains everything waiting.
pub struct EventReader {
    ring: AsyncFd<RingBuf<MapData>>,
    /// Records whose layout did not decode (counted, kept out of the stream).
    pub undecodable: u64,
}

impl EventReader {
    pub(crate) fn new(map: aya::maps::Map) -> Result<EventReader, ProbeError> {
        let ring = RingBuf::try_from(map).map_err(|e| ProbeError::map("events", e))?;
        let fd = ring.as_raw_fd();
        // SAFETY: the RingBuf owns its map fd and keeps it open, unchanged, until it is
        // dropped, which happens only with the AsyncFd that owns it.
        let ring =
            unsafe { AsyncFd::register_with_interest(ring, Interest::READABLE) }.map_err(|e| {
                ProbeError::Io {
                    what: format!("registering ring buffer fd {fd} with tokio"),
                    source: e.into(),
                }
            })?;
        Ok(EventReader {
            ring,
            undecodable: 0,
        })
    }

    /// Everything waiting now, without blocking.
    pub fn drain(&mut self, out: &mut Vec<RawEvent>) -> usize {
        let before = out.len();
        let ring = self.ring.get_mut();
        while let Some(item) = RingBuf::next(ring) {
            match wire::decode(&item) {
                Ok(event) => out.push(event),
                Err(e) => {
                    self.undecodable += 1;
                    tracing::warn!(error = %e, "undecodable probe record");
                }
            }
        }
        out.len() - before
    }

    /// Waits for a wakeup or at most `max_wait`, then drains.
    pub async fn next_batch(&mut self, max_wait: Duration, out: &mut Vec<RawEvent>) -> usize {
        if let Ok(Ok(mut guard)) = tokio::time::timeout(max_wait, self.ring.readable_mut()).await {
            guard.clear_ready();
        }
        self.drain(out)
    }
}
