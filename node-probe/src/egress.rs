//! Kernel egress enforcement per agent: the cgroup connect4/connect6/sendmsg4/sendmsg6
//! programs of `bpf/egress.bpf.c`, always attached as a set (one alone leaves
//! IPv4-mapped IPv6 or unconnected UDP open), with an allowlist per governed cgroup.
//!
//! Everything lives pinned under one bpffs directory: the maps (so a new probe process
//! edits the allowlist the running programs read) and one link per program per cgroup (so
//! enforcement outlives the probe). `release` and `disable` remove the pins, which
//! detaches the programs.

use crate::ProbeError;
use crate::probe::{Counters, EventReader, sum_counters};
use aya::maps::lpm_trie::{Key, LpmTrie};
use aya::maps::{HashMap, MapData};
use aya::programs::links::{CgroupAttachMode, FdLink, PinnedLink};
use aya::programs::{CgroupSockAddr, CgroupSockAddrAttachType};
use aya::{Ebpf, EbpfLoader};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

static EGRESS_OBJECT: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/egress.bpf.o"));

/// Where the egress maps and links are pinned unless told otherwise.
pub const DEFAULT_PIN_DIR: &str = "/sys/fs/bpf/agentward";

const PROGRAMS: [(&str, CgroupSockAddrAttachType); 4] = [
    ("egress_connect4", CgroupSockAddrAttachType::Connect4),
    ("egress_connect6", CgroupSockAddrAttachType::Connect6),
    ("egress_sendmsg4", CgroupSockAddrAttachType::UDPSendMsg4),
    ("egress_sendmsg6", CgroupSockAddrAttachType::UDPSendMsg6),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EgressMode {
    /// Destinations outside the allowlist are reported and let through.
    Monitor,
    /// Destinations outside the allowlist fail with EPERM, and are reported.
    Enforce,
}

/// One allowed destination: an address or a network (`prefix` bits of it), on one port or
/// (`None`) any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowRule {
    pub addr: IpAddr,
    pub port: Option<u16>,
    /// The network's length; `None` is the one address.
    pub prefix: Option<u8>,
}

impl std::str::FromStr for AllowRule {
    type Err = String;

    /// `10.0.0.7:443`, `[2001:db8::1]:443`, `10.0.0.7` (any port), `[::1]`; networks as
    /// `10.0.0.0/8`, `10.0.0.0/8:443`, `[2001:db8::/32]:443`.
    fn from_str(text: &str) -> Result<AllowRule, String> {
        let bad = || {
            format!(
                "{text:?} is not ADDRESS, ADDRESS:PORT, [IPV6]:PORT, or a network NETWORK/BITS[:PORT] / [IPV6/BITS]:PORT"
            )
        };
        if let Ok(addr) = text.parse::<IpAddr>() {
            return Ok(AllowRule {
                addr,
                port: None,
                prefix: None,
            });
        }
        if let Ok(socket) = text.parse::<std::net::SocketAddr>() {
            return Ok(AllowRule {
                addr: socket.ip(),
                port: Some(socket.port()).filter(|&p| p != 0),
                prefix: None,
            });
        }
        // `[ADDRESS[/BITS]]:PORT` or `[ADDRESS[/BITS]]`; else `ADDRESS/BITS[:PORT]`.
        let (address, port) = match text.strip_prefix('[') {
            Some(rest) => {
                let (inner, after) = rest.split_once(']').ok_or_else(bad)?;
                let port = match after {
                    "" => None,
                    p => Some(p.strip_prefix(':').ok_or_else(bad)?),
                };
                (inner, port)
            }
            None => match text.split_once('/') {
                Some((addr, bits)) => match bits.split_once(':') {
                    Some((b, p)) => (&text[..addr.len() + 1 + b.len()], Some(p)),
                    None => (text, None),
                },
                None => return Err(bad()),
            },
        };
        let port = match port {
            None => None,
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?).filter(|&p| p != 0),
        };
        let (addr, prefix) = match address.split_once('/') {
            None => (address.parse::<IpAddr>().map_err(|_| bad())?, None),
            Some((a, bits)) => {
                let addr = a.parse::<IpAddr>().map_err(|_| bad())?;
                let bits: u8 = bits.parse().map_err(|_| bad())?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                if bits > max {
                    return Err(format!(
                        "{text:?}: a prefix of {bits} bits is longer than the address"
                    ));
                }
                let network = network_of(addr, bits);
                if network != addr {
                    return Err(format!(
                        "{text:?} has host bits set: did you mean {network}/{bits}?"
                    ));
                }
                // A full-length prefix is one address.
                (addr, (bits < max).then_some(bits))
            }
        };
        Ok(AllowRule { addr, port, prefix })
    }
}

/// `addr` with every bit past the first `bits` cleared.
fn network_of(addr: IpAddr, bits: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

/// The LPM key's data: matched whole but for the address's network bits.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NetData {
    policy_cgroup: u64,
    port: u16,
    addr: [u8; 16],
}

// SAFETY: integers and a byte array, packed (26 bytes, no padding), any bit pattern valid.
unsafe impl aya::Pod for NetData {}

impl AllowRule {
    /// The LPM key of a network rule; `None` for one address (the exact-match map's).
    fn net_key(&self, policy_cgroup: u64) -> Option<Key<NetData>> {
        let bits = self.prefix?;
        let address_bits = if self.addr.is_ipv4() {
            96 + u32::from(bits)
        } else {
            u32::from(bits)
        };
        Some(Key::new(
            64 + 16 + address_bits,
            NetData {
                policy_cgroup,
                port: self.port.unwrap_or(0),
                addr: addr16(self.addr),
            },
        ))
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RuleKey {
    policy_cgroup: u64,
    addr: [u8; 16],
    port: u16,
    pad: [u8; 6],
}

// SAFETY: integers and byte arrays with explicit padding, 32 bytes, any bit pattern valid.
unsafe impl aya::Pod for RuleKey {}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct Policy {
    enforce: u8,
    pad: [u8; 7],
}

// SAFETY: as above.
unsafe impl aya::Pod for Policy {}

fn addr16(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// A cgroup under egress policy, as the pinned maps and links show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Governed {
    pub cgroup_id: u64,
    pub mode: EgressMode,
    pub rules: usize,
    /// How many of the four programs have a pinned link on this cgroup.
    pub pinned_links: usize,
}

pub struct Egress {
    ebpf: Ebpf,
    pin_dir: PathBuf,
}

impl Egress {
    /// Loads the egress programs, reusing the maps pinned under `pin_dir` when an earlier
    /// probe left them (so its allowlists stay in force and editable).
    pub fn open(pin_dir: &Path) -> Result<Egress, ProbeError> {
        let bpffs = Path::new("/sys/fs/bpf");
        if pin_dir.starts_with(bpffs) {
            crate::cgroup::ensure_mounted("bpf", bpffs)?;
        }
        let maps = pin_dir.join("maps");
        std::fs::create_dir_all(&maps).map_err(|e| ProbeError::Io {
            what: format!("creating {}", maps.display()),
            source: e,
        })?;
        let mut ebpf = EbpfLoader::new()
            .default_map_pin_directory(&maps)
            .load(EGRESS_OBJECT)
            .map_err(|e| ProbeError::Load(crate::with_causes(&e)))?;
        for (name, _) in PROGRAMS {
            let program: &mut CgroupSockAddr = ebpf
                .program_mut(name)
                .ok_or(ProbeError::MissingProgram(name))?
                .try_into()
                .map_err(|e| ProbeError::attach(name, "load", e))?;
            program
                .load()
                .map_err(|e| ProbeError::attach(name, "load", e))?;
        }
        Ok(Egress {
            ebpf,
            pin_dir: pin_dir.to_path_buf(),
        })
    }

    fn links_dir(&self, cgroup_id: u64) -> PathBuf {
        self.pin_dir.join("links").join(cgroup_id.to_string())
    }

    /// Puts the cgroup (and its subtree) under `mode` with exactly `allow` as its
    /// allowlist, attaching the four programs and pinning their links unless an earlier
    /// run already did. Replaces the cgroup's previous rules.
    pub fn govern(
        &mut self,
        cgroup: &Path,
        mode: EgressMode,
        allow: &[AllowRule],
    ) -> Result<u64, ProbeError> {
        let cgroup_id = crate::cgroup::cgroup_id(cgroup)?;
        // Rules first, then the policy that makes them count, then the programs: a
        // half-done govern never enforces an empty list.
        self.set_rules(cgroup_id, allow)?;
        let mut policies = self.policies_mut()?;
        let policy = Policy {
            enforce: u8::from(mode == EgressMode::Enforce),
            pad: [0; 7],
        };
        policies
            .insert(cgroup_id, policy, 0)
            .map_err(|e| ProbeError::map("egress_policies", e))?;
        self.attach_pinned(cgroup, cgroup_id)?;
        Ok(cgroup_id)
    }

    fn attach_pinned(&mut self, cgroup: &Path, cgroup_id: u64) -> Result<(), ProbeError> {
        let dir = self.links_dir(cgroup_id);
        std::fs::create_dir_all(&dir).map_err(|e| ProbeError::Io {
            what: format!("creating {}", dir.display()),
            source: e,
        })?;
        let cgroup_file = std::fs::File::open(cgroup).map_err(|e| ProbeError::Io {
            what: format!("opening cgroup {}", cgroup.display()),
            source: e,
        })?;
        for (name, _) in PROGRAMS {
            let pin = dir.join(name);
            if pin.exists() {
                continue;
            }
            let program: &mut CgroupSockAddr = self
                .ebpf
                .program_mut(name)
                .ok_or(ProbeError::MissingProgram(name))?
                .try_into()
                .map_err(|e| ProbeError::attach(name, cgroup.display().to_string(), e))?;
            let hook = || cgroup.display().to_string();
            // A bpf_link on a cgroup always coexists with other programs there (the kernel
            // refuses attach flags on links); `Single` passes none.
            let link_id = program
                .attach(&cgroup_file, CgroupAttachMode::Single)
                .map_err(|e| ProbeError::attach(name, hook(), e))?;
            let link = program
                .take_link(link_id)
                .map_err(|e| ProbeError::attach(name, hook(), e))?;
            let link = FdLink::try_from(link).map_err(|e| ProbeError::attach(name, hook(), e))?;
            link.pin(&pin)
                .map_err(|e| ProbeError::attach(name, hook(), e))?;
        }
        Ok(())
    }

    fn policies_mut(&mut self) -> Result<HashMap<&mut MapData, u64, Policy>, ProbeError> {
        let map = self
            .ebpf
            .map_mut("egress_policies")
            .ok_or(ProbeError::MissingMap("egress_policies"))?;
        HashMap::try_from(map).map_err(|e| ProbeError::map("egress_policies", e))
    }

    fn rules_mut(&mut self) -> Result<HashMap<&mut MapData, RuleKey, u8>, ProbeError> {
        let map = self
            .ebpf
            .map_mut("egress_allow")
            .ok_or(ProbeError::MissingMap("egress_allow"))?;
        HashMap::try_from(map).map_err(|e| ProbeError::map("egress_allow", e))
    }

    fn nets_mut(&mut self) -> Result<LpmTrie<&mut MapData, NetData, u8>, ProbeError> {
        let map = self
            .ebpf
            .map_mut("egress_allow_nets")
            .ok_or(ProbeError::MissingMap("egress_allow_nets"))?;
        LpmTrie::try_from(map).map_err(|e| ProbeError::map("egress_allow_nets", e))
    }

    fn set_rules(&mut self, cgroup_id: u64, allow: &[AllowRule]) -> Result<(), ProbeError> {
        let mut nets = self.nets_mut()?;
        let wanted_nets: Vec<Key<NetData>> =
            allow.iter().filter_map(|r| r.net_key(cgroup_id)).collect();
        let stale_nets: Vec<Key<NetData>> = nets
            .keys()
            .filter_map(Result::ok)
            .filter(|key| {
                let data = key.data();
                let policy = data.policy_cgroup;
                policy == cgroup_id
                    && !wanted_nets
                        .iter()
                        .any(|w| w.prefix_len() == key.prefix_len() && w.data() == data)
            })
            .collect();
        for key in &wanted_nets {
            nets.insert(key, 1, 0)
                .map_err(|e| ProbeError::map("egress_allow_nets", e))?;
        }
        for key in &stale_nets {
            nets.remove(key)
                .map_err(|e| ProbeError::map("egress_allow_nets", e))?;
        }
        let mut rules = self.rules_mut()?;
        let wanted: Vec<RuleKey> = allow
            .iter()
            .filter(|rule| rule.prefix.is_none())
            .map(|rule| RuleKey {
                policy_cgroup: cgroup_id,
                addr: addr16(rule.addr),
                port: rule.port.unwrap_or(0),
                pad: [0; 6],
            })
            .collect();
        let stale: Vec<RuleKey> = rules
            .keys()
            .filter_map(Result::ok)
            .filter(|key| key.policy_cgroup == cgroup_id && !wanted.contains(key))
            .collect();
        for key in &wanted {
            rules
                .insert(*key, 1, 0)
                .map_err(|e| ProbeError::map("egress_allow", e))?;
        }
        for key in stale {
            rules
                .remove(&key)
                .map_err(|e| ProbeError::map("egress_allow", e))?;
        }
        Ok(())
    }

    /// Takes the cgroup out of egress policy: unpins (detaches) its links, then drops its
    /// policy and rules. Returns whether it was governed.
    pub fn release(&mut self, cgroup_id: u64) -> Result<bool, ProbeError> {
        let dir = self.links_dir(cgroup_id);
        let mut was_governed = false;
        for (name, _) in PROGRAMS {
            let pin = dir.join(name);
            if pin.exists() {
                was_governed = true;
                let link = PinnedLink::from_pin(&pin)
                    .map_err(|e| ProbeError::attach(name, pin.display().to_string(), e))?;
                // Unpinning and dropping the last reference detaches the program.
                drop(link.unpin().map_err(|e| ProbeError::Io {
                    what: format!("unpinning {}", pin.display()),
                    source: e,
                })?);
            }
        }
        let _ = std::fs::remove_dir(&dir);
        match self.policies_mut()?.remove(&cgroup_id) {
            Ok(()) => was_governed = true,
            Err(aya::maps::MapError::KeyNotFound) => {}
            Err(e) => return Err(ProbeError::map("egress_policies", e)),
        }
        self.set_rules(cgroup_id, &[])?;
        Ok(was_governed)
    }

    /// Every governed cgroup, from the pins and the policy map.
    pub fn governed(&self) -> Result<Vec<Governed>, ProbeError> {
        let policies: HashMap<&MapData, u64, Policy> = HashMap::try_from(
            self.ebpf
                .map("egress_policies")
                .ok_or(ProbeError::MissingMap("egress_policies"))?,
        )
        .map_err(|e| ProbeError::map("egress_policies", e))?;
        let rules: HashMap<&MapData, RuleKey, u8> = HashMap::try_from(
            self.ebpf
                .map("egress_allow")
                .ok_or(ProbeError::MissingMap("egress_allow"))?,
        )
        .map_err(|e| ProbeError::map("egress_allow", e))?;
        let rule_keys: Vec<RuleKey> = rules.keys().filter_map(Result::ok).collect();
        let nets: LpmTrie<&MapData, NetData, u8> = LpmTrie::try_from(
            self.ebpf
                .map("egress_allow_nets")
                .ok_or(ProbeError::MissingMap("egress_allow_nets"))?,
        )
        .map_err(|e| ProbeError::map("egress_allow_nets", e))?;
        let net_policies: Vec<u64> = nets
            .keys()
            .filter_map(Result::ok)
            .map(|k| k.data().policy_cgroup)
            .collect();
        let mut out = Vec::new();
        for entry in policies.iter() {
            let (cgroup_id, policy) = entry.map_err(|e| ProbeError::map("egress_policies", e))?;
            let dir = self.links_dir(cgroup_id);
            out.push(Governed {
                cgroup_id,
                mode: if policy.enforce != 0 {
                    EgressMode::Enforce
                } else {
                    EgressMode::Monitor
                },
                rules: rule_keys
                    .iter()
                    .filter(|k| k.policy_cgroup == cgroup_id)
                    .count()
                    + net_policies.iter().filter(|p| **p == cgroup_id).count(),
                pinned_links: PROGRAMS
                    .iter()
                    .filter(|(name, _)| dir.join(name).exists())
                    .count(),
            });
        }
        out.sort_by_key(|g| g.cgroup_id);
        Ok(out)
    }

    /// Removes every egress pin under the pin directory: all links (detaching them) and
    /// the maps. What `agentward probe egress disable` does.
    pub fn disable(self) -> Result<usize, ProbeError> {
        let Egress { ebpf, pin_dir } = self;
        drop(ebpf);
        let mut released = 0;
        let links = pin_dir.join("links");
        if let Ok(entries) = std::fs::read_dir(&links) {
            for entry in entries.flatten() {
                for (name, _) in PROGRAMS {
                    let pin = entry.path().join(name);
                    if let Ok(link) = PinnedLink::from_pin(&pin) {
                        drop(link.unpin().map_err(|e| ProbeError::Io {
                            what: format!("unpinning {}", pin.display()),
                            source: e,
                        })?);
                        released += 1;
                    }
                }
                let _ = std::fs::remove_dir(entry.path());
            }
        }
        let _ = std::fs::remove_dir(&links);
        for name in [
            "egress_policies",
            "egress_allow",
            "egress_allow_nets",
            "egress_events",
            "egress_counters",
        ] {
            let pin = pin_dir.join("maps").join(name);
            match std::fs::remove_file(&pin) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(ProbeError::Io {
                        what: format!("unpinning {}", pin.display()),
                        source: e,
                    });
                }
            }
        }
        let _ = std::fs::remove_dir(pin_dir.join("maps"));
        let _ = std::fs::remove_dir(&pin_dir);
        Ok(released)
    }

    pub fn counters(&self) -> Result<Counters, ProbeError> {
        sum_counters(
            self.ebpf
                .map("egress_counters")
                .ok_or(ProbeError::MissingMap("egress_counters"))?,
        )
    }

    /// The denial reports (pinned: those made while no probe ran wait here).
    pub fn take_events(&mut self) -> Result<EventReader, ProbeError> {
        let map = self
            .ebpf
            .take_map("egress_events")
            .ok_or(ProbeError::MissingMap("egress_events"))?;
        EventReader::new(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_rules_parse_with_and_without_ports() {
        let rule: AllowRule = "10.0.0.7:443".parse().unwrap();
        assert_eq!(rule.port, Some(443));
        let rule: AllowRule = "10.0.0.7".parse().unwrap();
        assert_eq!(rule.port, None);
        let rule: AllowRule = "[2001:db8::1]:53".parse().unwrap();
        assert_eq!(rule.addr.to_string(), "2001:db8::1");
        assert_eq!(rule.port, Some(53));
        let rule: AllowRule = "[::1]".parse().unwrap();
        assert_eq!(rule.port, None);
        assert!("example.com:443".parse::<AllowRule>().is_err());
        assert!("10.0.0.7:99999".parse::<AllowRule>().is_err());
    }

    #[test]
    fn networks_parse_with_their_length_and_refuse_host_bits() {
        let rule: AllowRule = "10.8.0.0/16".parse().unwrap();
        assert_eq!((rule.prefix, rule.port), (Some(16), None));
        let rule: AllowRule = "10.8.0.0/16:443".parse().unwrap();
        assert_eq!((rule.prefix, rule.port), (Some(16), Some(443)));
        let rule: AllowRule = "[2001:db8::/32]:53".parse().unwrap();
        assert_eq!(
            (rule.addr.to_string().as_str(), rule.prefix, rule.port),
            ("2001:db8::", Some(32), Some(53))
        );
        let rule: AllowRule = "10.0.0.7/32".parse().unwrap();
        assert_eq!(rule.prefix, None, "a full-length prefix is one address");
        let err = "10.8.1.0/16".parse::<AllowRule>().unwrap_err();
        assert!(err.contains("did you mean 10.8.0.0/16"), "{err}");
        assert!("10.0.0.0/33".parse::<AllowRule>().is_err());
        assert!("10.0.0.0/8:x".parse::<AllowRule>().is_err());
        // An IPv4 network's bits follow the 96 of the v4-mapped form, after cgroup and port.
        let key = "127.0.0.0/8"
            .parse::<AllowRule>()
            .unwrap()
            .net_key(7)
            .unwrap();
        assert_eq!(key.prefix_len(), 64 + 16 + 96 + 8);
    }

    #[test]
    fn ipv4_rules_are_stored_v4_mapped_so_both_spellings_match() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(addr16(v4), addr16(mapped));
    }
}
