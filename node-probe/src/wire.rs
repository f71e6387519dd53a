//! The records the eBPF programs send, decoded from the bytes of one ring-buffer entry.
//! The layout is `bpf/events.h`; every size is checked, so a record of another layout is
//! an error with its kind and length, never a misread.

use crate::ProbeError;
use std::net::{IpAddr, Ipv6Addr};

const PATH_LEN: usize = 256;
const ARGS_LEN: usize = 512;
const COMM_LEN: usize = 16;
const DNS_LEN: usize = 512;
const HEADER_LEN: usize = 56;

pub(crate) const KIND_EXEC: u16 = 1;
pub(crate) const KIND_EXIT: u16 = 2;
pub(crate) const KIND_FORK: u16 = 3;
pub(crate) const KIND_OPEN: u16 = 4;
pub(crate) const KIND_TCP_CONNECT: u16 = 5;
pub(crate) const KIND_CONNECT: u16 = 6;
pub(crate) const KIND_EGRESS: u16 = 7;
pub(crate) const KIND_DNS: u16 = 8;
pub(crate) const KIND_SENDTO: u16 = 9;

const EXEC_ARGS_TRUNCATED: u32 = 1;
/// `EXEC_STDIN_PIPE | EXEC_STDOUT_PIPE`: both ends piped.
const EXEC_STDIO_PIPED: u32 = 2 | 4;

const EXEC_LEN: usize = HEADER_LEN + 8 + PATH_LEN + ARGS_LEN;
const EXIT_LEN: usize = HEADER_LEN;
const FORK_LEN: usize = HEADER_LEN + 8;
const OPEN_LEN: usize = HEADER_LEN + 8 + PATH_LEN;
const CONNECT_LEN: usize = HEADER_LEN + 24;
const DNS_EVENT_LEN: usize = HEADER_LEN + 32 + DNS_LEN;

/// What every record starts with: who did it, in which cgroup, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Nanoseconds since boot (CLOCK_BOOTTIME), suspend included.
    pub boot_ns: u64,
    pub cgroup_id: u64,
    pub pid: u32,
    pub tid: u32,
    pub ppid: u32,
    pub uid: u32,
    /// Kind-specific: an open's fd or -errno, an exit's code, an egress denial's -EPERM.
    pub result: i32,
    pub comm: String,
    /// The dedupe key's target hash the programs computed for this record (0 for kinds
    /// never deduped), recomputed here from the same bytes.
    pub target_hash: u64,
    /// The record kind as the programs numbered it.
    pub(crate) kind: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
    /// Another socket type (raw, seqpacket), by its number.
    Other(u16),
}

impl Transport {
    fn from_sock_type(sock_type: u16) -> Transport {
        match sock_type {
            1 => Transport::Tcp,
            2 => Transport::Udp,
            other => Transport::Other(other),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Other(_) => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawEvent {
    Exec {
        header: Header,
        filename: String,
        argv: Vec<String>,
        /// The command line was longer than the probe copies.
        args_truncated: bool,
        /// Its stdin and stdout are pipes or sockets, as a stdio server's are.
        stdio_piped: bool,
    },
    Exit {
        header: Header,
    },
    Fork {
        header: Header,
        child_pid: u32,
    },
    Open {
        header: Header,
        path: String,
        flags: u32,
    },
    Connect {
        header: Header,
        transport: Transport,
        addr: IpAddr,
        port: u16,
        /// A datagram sent with an address on an unconnected socket (`sendto`), not a
        /// connect: a server's reply goes wherever it was asked from.
        unconnected: bool,
    },
    /// A destination outside the agent's egress allowlist.
    EgressDenied {
        header: Header,
        transport: Transport,
        addr: IpAddr,
        port: u16,
        /// False in monitor mode: the call went through and was only reported.
        enforced: bool,
    },
    /// A DNS message over UDP between a watched socket and a resolver, as sent: a query
    /// (`answer` false, from the sending task) or what came back (no task: pid 0).
    Dns {
        header: Header,
        resolver: IpAddr,
        port: u16,
        /// The watched socket's port: an answer goes back to its query's.
        client_port: u16,
        answer: bool,
        /// The message was longer than the probe copies (512 bytes).
        truncated: bool,
        message: Vec<u8>,
    },
}

impl RawEvent {
    pub fn header(&self) -> &Header {
        match self {
            RawEvent::Exec { header, .. }
            | RawEvent::Exit { header }
            | RawEvent::Fork { header, .. }
            | RawEvent::Open { header, .. }
            | RawEvent::Connect { header, .. }
            | RawEvent::EgressDenied { header, .. }
            | RawEvent::Dns { header, .. } => header,
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// A NUL-terminated string in a fixed buffer; bytes that are not UTF-8 are kept visible
/// as U+FFFD rather than dropping the record.
fn c_string(buf: &[u8]) -> String {
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn ip(bytes: &[u8]) -> IpAddr {
    let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(bytes).expect("16 bytes"));
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

/// The same hash `probe.bpf.c` keys its dedupe map with, over the same bytes.
fn target_hash(kind: u16, result: i32, body: &[u8]) -> u64 {
    let until_nul = |buf: &[u8]| -> usize { buf.iter().position(|&c| c == 0).unwrap_or(buf.len()) };
    match kind {
        KIND_EXEC => {
            let filename = &body[8..8 + PATH_LEN];
            let args_len = (u32_at(body, 0) as usize).min(ARGS_LEN);
            let hash = fnv1a(&filename[..until_nul(filename)], FNV_OFFSET);
            fnv1a(&body[8 + PATH_LEN..8 + PATH_LEN + args_len], hash)
        }
        KIND_OPEN => {
            let path = &body[8..8 + PATH_LEN];
            let mut hash = fnv1a(&path[..until_nul(path)], FNV_OFFSET);
            hash ^= u64::from(u32_at(body, 0) & 3) | if result < 0 { 0x100 } else { 0 };
            hash.wrapping_mul(0x100000001b3)
        }
        KIND_TCP_CONNECT | KIND_CONNECT | KIND_SENDTO => {
            // Hashed before the verdict bytes were filled in.
            let mut bytes = [0u8; 24];
            bytes.copy_from_slice(&body[..24]);
            bytes[6] = 0;
            bytes[7] = 0;
            fnv1a(&bytes, FNV_OFFSET)
        }
        _ => 0,
    }
}

pub fn decode(record: &[u8]) -> Result<RawEvent, ProbeError> {
    if record.len() < HEADER_LEN {
        return Err(ProbeError::BadRecord {
            kind: 0,
            len: record.len(),
        });
    }
    let kind = u16_at(record, 32);
    let expected = match kind {
        KIND_EXEC => EXEC_LEN,
        KIND_EXIT => EXIT_LEN,
        KIND_FORK => FORK_LEN,
        KIND_OPEN => OPEN_LEN,
        KIND_TCP_CONNECT | KIND_CONNECT | KIND_SENDTO | KIND_EGRESS => CONNECT_LEN,
        KIND_DNS => DNS_EVENT_LEN,
        _ => 0,
    };
    // The ring rounds entries up to 8 bytes, so the record may carry padding.
    if expected == 0 || record.len() < expected || usize::from(u16_at(record, 34)) != expected {
        return Err(ProbeError::BadRecord {
            kind,
            len: record.len(),
        });
    }
    let header = Header {
        boot_ns: u64_at(record, 0),
        cgroup_id: u64_at(record, 8),
        pid: u32_at(record, 16),
        tid: u32_at(record, 20),
        ppid: u32_at(record, 24),
        uid: u32_at(record, 28),
        result: u32_at(record, 36) as i32,
        comm: c_string(&record[40..40 + COMM_LEN]),
        target_hash: 0,
        kind,
    };
    let body = &record[HEADER_LEN..expected];
    let mut header = header;
    header.target_hash = target_hash(kind, header.result, body);
    Ok(match kind {
        KIND_EXEC => {
            let args_len = (u32_at(body, 0) as usize).min(ARGS_LEN);
            let args = &body[8 + PATH_LEN..8 + PATH_LEN + args_len];
            let argv = args
                .split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            RawEvent::Exec {
                header,
                filename: c_string(&body[8..8 + PATH_LEN]),
                argv,
                args_truncated: u32_at(body, 4) & EXEC_ARGS_TRUNCATED != 0,
                stdio_piped: u32_at(body, 4) & EXEC_STDIO_PIPED == EXEC_STDIO_PIPED,
            }
        }
        KIND_EXIT => RawEvent::Exit { header },
        KIND_FORK => RawEvent::Fork {
            header,
            child_pid: u32_at(body, 0),
        },
        KIND_OPEN => RawEvent::Open {
            header,
            flags: u32_at(body, 0),
            path: c_string(&body[8..8 + PATH_LEN]),
        },
        KIND_DNS => RawEvent::Dns {
            header,
            resolver: ip(&body[16..32]),
            port: u16_at(body, 2),
            client_port: u16_at(body, 4),
            answer: body[6] != 0,
            truncated: body[7] != 0,
            message: body[32..32 + usize::from(u16_at(body, 8)).min(DNS_LEN)].to_vec(),
        },
        _ => {
            let transport = Transport::from_sock_type(u16_at(body, 4));
            let addr = ip(&body[8..24]);
            let port = u16_at(body, 2);
            if kind == KIND_EGRESS {
                RawEvent::EgressDenied {
                    header,
                    transport,
                    addr,
                    port,
                    enforced: body[7] != 0,
                }
            } else {
                RawEvent::Connect {
                    header,
                    transport,
                    addr,
                    port,
                    unconnected: kind == KIND_SENDTO,
                }
            }
        }
    })
}

/// The 64-bit FNV-1a the programs use for dedupe keys; the reader recomputes a key from
/// the record it got, to find that target's in-kernel count.
pub(crate) fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    hash
}

pub(crate) const FNV_OFFSET: u64 = 0xcbf29ce484222325;

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u16, size: usize) -> Vec<u8> {
        let mut b = vec![0u8; size];
        b[0..8].copy_from_slice(&5_000u64.to_ne_bytes());
        b[8..16].copy_from_slice(&77u64.to_ne_bytes());
        b[16..20].copy_from_slice(&100u32.to_ne_bytes());
        b[32..34].copy_from_slice(&kind.to_ne_bytes());
        b[34..36].copy_from_slice(&(size as u16).to_ne_bytes());
        b[40..46].copy_from_slice(b"python");
        b
    }

    #[test]
    fn exec_record_gives_filename_and_argv() {
        let mut b = header(KIND_EXEC, EXEC_LEN);
        let args = b"npx\0-y\0@modelcontextprotocol/server-filesystem\0";
        b[56..60].copy_from_slice(&(args.len() as u32).to_ne_bytes());
        // stdin and stdout piped, the command line whole.
        b[60..64].copy_from_slice(&6u32.to_ne_bytes());
        b[64..72].copy_from_slice(b"/usr/bin");
        b[64 + PATH_LEN..64 + PATH_LEN + args.len()].copy_from_slice(args);
        let RawEvent::Exec {
            header,
            filename,
            argv,
            args_truncated,
            stdio_piped,
        } = decode(&b).unwrap()
        else {
            panic!("not an exec")
        };
        assert!(stdio_piped);
        assert_eq!(header.comm, "python");
        assert_eq!(header.cgroup_id, 77);
        assert_eq!(filename, "/usr/bin");
        assert_eq!(
            argv,
            ["npx", "-y", "@modelcontextprotocol/server-filesystem"]
        );
        assert!(!args_truncated);
    }

    #[test]
    fn connect_record_unmaps_ipv4() {
        let mut b = header(KIND_TCP_CONNECT, CONNECT_LEN + 8);
        b[34..36].copy_from_slice(&(CONNECT_LEN as u16).to_ne_bytes());
        b[56..58].copy_from_slice(&2u16.to_ne_bytes());
        b[58..60].copy_from_slice(&8443u16.to_ne_bytes());
        b[60..62].copy_from_slice(&1u16.to_ne_bytes());
        b[64 + 10] = 0xff;
        b[64 + 11] = 0xff;
        b[64 + 12..64 + 16].copy_from_slice(&[127, 0, 0, 1]);
        let RawEvent::Connect {
            transport,
            addr,
            port,
            ..
        } = decode(&b).unwrap()
        else {
            panic!("not a connect")
        };
        assert_eq!(transport, Transport::Tcp);
        assert_eq!(addr.to_string(), "127.0.0.1");
        assert_eq!(port, 8443);
    }

    #[test]
    fn dns_record_gives_the_message_as_long_as_it_was_copied() {
        let mut b = header(KIND_DNS, DNS_EVENT_LEN);
        b[56..58].copy_from_slice(&10u16.to_ne_bytes());
        b[58..60].copy_from_slice(&53u16.to_ne_bytes());
        b[60..62].copy_from_slice(&40001u16.to_ne_bytes());
        b[62] = 1;
        b[64..66].copy_from_slice(&14u16.to_ne_bytes());
        b[72 + 15] = 1;
        b[88..102].copy_from_slice(b"\x12\x34\x81\x80\0\x01\0\x01\0\0\0\0\x03a");
        let RawEvent::Dns {
            resolver,
            port,
            client_port,
            answer,
            truncated,
            message,
            ..
        } = decode(&b).unwrap()
        else {
            panic!("not a dns record")
        };
        assert_eq!(resolver.to_string(), "::1");
        assert_eq!((port, client_port), (53, 40001));
        assert!(answer && !truncated);
        assert_eq!(message.len(), 14);
        assert_eq!(&message[..2], b"\x12\x34");
    }

    #[test]
    fn a_record_of_another_layout_is_an_error() {
        let b = header(KIND_OPEN, OPEN_LEN - 8);
        assert!(matches!(
            decode(&b),
            Err(ProbeError::BadRecord {
                kind: KIND_OPEN,
                ..
            })
        ));
        assert!(decode(&[0u8; 10]).is_err());
        assert!(decode(&header(99, 64)).is_err());
    }
}
