//! DNS messages as the probe copies them off the wire (RFC 1035 §4): the names a query
//! asks for, and the addresses an answer gives for them. Everything is bounds-checked: a
//! message cut at the probe's 512 bytes or malformed yields what could be read, never a
//! misread.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const HEADER_LEN: usize = 12;
/// A name is at most 255 bytes on the wire; more compression jumps than that is a loop.
const MAX_NAME: usize = 255;
const MAX_JUMPS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Lower-case, without the trailing dot (`api.openai.com`); `.` for the root.
    pub name: String,
    pub qtype: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub response: bool,
    /// RCODE: 0 no error, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED.
    pub rcode: u8,
    pub questions: Vec<Question>,
    /// Every A and AAAA record of the answer section.
    pub addresses: Vec<IpAddr>,
    /// The answer section ended early (a message cut at 512 bytes): there may be more.
    pub partial: bool,
}

/// The record type's mnemonic (`A`, `AAAA`, `HTTPS`), or `TYPE<n>` (RFC 3597).
pub fn type_name(qtype: u16) -> String {
    match qtype {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        12 => "PTR".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        33 => "SRV".into(),
        64 => "SVCB".into(),
        65 => "HTTPS".into(),
        255 => "ANY".into(),
        n => format!("TYPE{n}"),
    }
}

pub fn rcode_name(rcode: u8) -> String {
    match rcode {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        n => format!("RCODE{n}"),
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The name at `at` and where the bytes after it start (after the first pointer when the
/// name is compressed).
fn name_at(b: &[u8], at: usize) -> Option<(String, usize)> {
    let mut labels: Vec<String> = Vec::new();
    let mut pos = at;
    let mut after = None;
    let mut jumps = 0;
    let mut length = 0;
    loop {
        let len = *b.get(pos)? as usize;
        match len & 0xc0 {
            0x00 if len == 0 => {
                let next = after.unwrap_or(pos + 1);
                let name = if labels.is_empty() {
                    ".".to_string()
                } else {
                    labels.join(".")
                };
                return Some((name, next));
            }
            0x00 => {
                let label = b.get(pos + 1..pos + 1 + len)?;
                length += len + 1;
                if length > MAX_NAME {
                    return None;
                }
                labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                pos += 1 + len;
            }
            0xc0 => {
                let target = (usize::from(u16_at(b, pos)?)) & 0x3fff;
                jumps += 1;
                if jumps > MAX_JUMPS {
                    return None;
                }
                after.get_or_insert(pos + 2);
                pos = target;
            }
            // 0x40 and 0x80 label types are obsolete or unassigned.
            _ => return None,
        }
    }
}

/// The message's questions and answer addresses; `None` when not even the header and
/// the questions can be read.
pub fn parse(b: &[u8]) -> Option<Message> {
    if b.len() < HEADER_LEN {
        return None;
    }
    let flags = u16_at(b, 2)?;
    let qdcount = u16_at(b, 4)?;
    let ancount = u16_at(b, 6)?;
    let mut pos = HEADER_LEN;
    let mut questions = Vec::new();
    for _ in 0..qdcount {
        let (name, next) = name_at(b, pos)?;
        let qtype = u16_at(b, next)?;
        u16_at(b, next + 2)?;
        questions.push(Question { name, qtype });
        pos = next + 4;
    }
    let mut addresses = Vec::new();
    let mut partial = false;
    for _ in 0..ancount {
        let Some((_, next)) = name_at(b, pos) else {
            partial = true;
            break;
        };
        let (Some(rtype), Some(rdlength)) = (u16_at(b, next), u16_at(b, next + 8)) else {
            partial = true;
            break;
        };
        let start = next + 10;
        let Some(rdata) = b.get(start..start + usize::from(rdlength)) else {
            partial = true;
            break;
        };
        match (rtype, rdata.len()) {
            (1, 4) => addresses.push(IpAddr::V4(Ipv4Addr::new(
                rdata[0], rdata[1], rdata[2], rdata[3],
            ))),
            (28, 16) => addresses.push(IpAddr::V6(Ipv6Addr::from(
                <[u8; 16]>::try_from(rdata).expect("16 bytes"),
            ))),
            _ => {}
        }
        pos = start + usize::from(rdlength);
    }
    Some(Message {
        response: flags & 0x8000 != 0,
        rcode: (flags & 0x000f) as u8,
        questions,
        addresses,
        partial,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A message as a resolver would send it: `names` asked with `qtype`; when answering,
    /// a CNAME from the first name to `edge.example.net` (compressed), then A/AAAA records
    /// of that name (compressed against the CNAME's target).
    pub(crate) fn message(id: u16, name: &str, qtype: u16, answers: &[IpAddr]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&id.to_be_bytes());
        let flags: u16 = if answers.is_empty() { 0x0100 } else { 0x8180 };
        b.extend_from_slice(&flags.to_be_bytes());
        b.extend_from_slice(&1u16.to_be_bytes());
        let ancount = if answers.is_empty() {
            0
        } else {
            answers.len() + 1
        };
        b.extend_from_slice(&(ancount as u16).to_be_bytes());
        b.extend_from_slice(&[0, 0, 0, 0]);
        for label in name.split('.') {
            b.push(label.len() as u8);
            b.extend_from_slice(label.as_bytes());
        }
        b.push(0);
        b.extend_from_slice(&qtype.to_be_bytes());
        b.extend_from_slice(&1u16.to_be_bytes());
        if answers.is_empty() {
            return b;
        }
        // CNAME: owner = pointer to the question name (offset 12).
        b.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60]);
        let target_at = b.len() + 2;
        let target: &[u8] = b"\x04edge\x07example\x03net\x00";
        b.extend_from_slice(&(target.len() as u16).to_be_bytes());
        b.extend_from_slice(target);
        for address in answers {
            b.extend_from_slice(&[0xc0, target_at as u8]);
            let (rtype, data): (u16, Vec<u8>) = match address {
                IpAddr::V4(v4) => (1, v4.octets().to_vec()),
                IpAddr::V6(v6) => (28, v6.octets().to_vec()),
            };
            b.extend_from_slice(&rtype.to_be_bytes());
            b.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            b.extend_from_slice(&(data.len() as u16).to_be_bytes());
            b.extend_from_slice(&data);
        }
        b
    }

    #[test]
    fn a_query_gives_its_name_and_type() {
        let m = parse(&message(7, "API.OpenAI.com", 28, &[])).unwrap();
        assert!(!m.response);
        assert_eq!(
            m.questions,
            [Question {
                name: "api.openai.com".into(),
                qtype: 28
            }]
        );
        assert_eq!(type_name(m.questions[0].qtype), "AAAA");
        assert!(m.addresses.is_empty());
    }

    #[test]
    fn an_answer_gives_the_addresses_behind_cnames_and_compression() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        let m = parse(&message(7, "api.openai.com", 1, &[v4, v6])).unwrap();
        assert!(m.response);
        assert_eq!(m.rcode, 0);
        assert_eq!(m.addresses, [v4, v6]);
        assert!(!m.partial);
    }

    #[test]
    fn a_cut_message_keeps_what_was_read_and_says_so() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        let whole = message(7, "api.openai.com", 1, &[v4, v4]);
        let m = parse(&whole[..whole.len() - 3]).unwrap();
        assert_eq!(m.addresses, [v4]);
        assert!(m.partial);
        // Not even the question: nothing to say.
        assert!(parse(&whole[..16]).is_none());
    }

    #[test]
    fn compression_loops_and_bad_labels_are_refused() {
        let mut looped = message(7, "a.b", 1, &[]);
        // The question name becomes a pointer to itself.
        looped.truncate(12);
        looped.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert!(parse(&looped).is_none());
        let mut bad = message(7, "a.b", 1, &[]);
        bad[12] = 0x80;
        assert!(parse(&bad).is_none());
    }
}
