//! What every log-file source shares: listing the objects under a source (nothing passed
//! over silently), the outputs of reading a file (events, evidence, quarantined records,
//! losses the source reports), and the coverage wording of what was lost. Formats differ by
//! source (a CloudTrail `Records` array, JSON lines, a probe spool); these types do not.

pub mod lines;

use crate::ConnectorError;
use crate::location::Opened;
use futures::TryStreamExt;
use normalizer::identity::IdentityObservation;
use normalizer::inventory::Observation;
use normalizer::{CoverageStatus, Event, Timestamp};
use serde::{Deserialize, Serialize};

/// Records larger than this are quarantined unread. CloudTrail's own records stay well
/// below it; anything larger is damage or abuse.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024;
pub(crate) const EXCERPT_BYTES: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFile {
    /// Path relative to the source's prefix: stable across machines.
    pub key: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedObject {
    pub key: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<LogFile>,
    pub skipped: Vec<SkippedObject>,
}

/// Every object under the source, as a log file or, when `skip` gives a reason, as a
/// skipped object that is reported: nothing under a source is passed over silently.
pub async fn list_objects(
    source: &Opened,
    skip: impl Fn(&str) -> Option<String>,
) -> Result<Listing, ConnectorError> {
    let objects: Vec<object_store::ObjectMeta> = source
        .store
        .list(Some(&source.prefix))
        .try_collect()
        .await
        .map_err(|e| ConnectorError::List {
            url: source.display.clone(),
            source: e,
        })?;
    let mut listing = Listing::default();
    for meta in objects {
        let key = source.relative(&meta.location);
        match skip(&key) {
            Some(reason) => listing.skipped.push(SkippedObject { key, reason }),
            None => listing.files.push(LogFile {
                key,
                size: meta.size,
                e_tag: meta.e_tag,
            }),
        }
    }
    Ok(listing)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    pub object: String,
    /// Index of the record in the file; `None` when the damage is to the file itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    pub reason: String,
    /// Size of the quarantined bytes, when known.
    pub size: u64,
    /// The first bytes, lossily decoded, so a person can see what it was.
    pub excerpt: String,
}

impl Output {
    /// The event and what it proves, when the record was one.
    pub fn mapped(self) -> Option<Mapped> {
        match self {
            Output::Mapped(m) => Some(*m),
            _ => None,
        }
    }
}

pub enum Output {
    Mapped(Box<Mapped>),
    /// A record that is no event but proves inventory facts: an engine's runtime log line
    /// naming the model it calls. Its text is not kept.
    Evidence(Vec<normalizer::inventory::Observation>),
    Quarantined(Quarantined),
    /// Records the source itself says it lost (a probe whose ring was full), with the
    /// window and the agents that may be missing events.
    Lost(Lost),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lost {
    pub lost: u64,
    pub from: Timestamp,
    pub to: Timestamp,
    pub agents: Vec<normalizer::AgentRef>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub records: u64,
    pub events: u64,
    pub quarantined: u64,
}

pub(crate) fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_BYTES)]).into_owned()
}

/// The file could not be read to its end for a reason outside its content (the store or
/// the network failed): nothing of it is final, and it must be read again.
/// Why a line is not a record: the reason it is quarantined with. Not a failure of the
/// read, which goes on with the next line, so not a `ConnectorError`.
pub type NotARecord = String;

#[derive(Debug, thiserror::Error)]
#[error("reading stopped after {records} records: {reason}")]
pub struct ReadFailure {
    pub records: u64,
    pub reason: String,
}

/// Damage in the bytes themselves (bad gzip, cut short) as opposed to a failing transport.
pub(crate) fn is_content_damage(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), InvalidData | InvalidInput | UnexpectedEof)
}

/// The time span a log file covers, read from its `YYYY/MM/DD` path: used to say which
/// window lost records when a file is damaged.
pub fn file_day(key: &str) -> Option<(Timestamp, Timestamp)> {
    // Azure's archives name the parts `y=YYYY/m=MM/d=DD`.
    let parts: Vec<&str> = key
        .split('/')
        .map(|p| {
            ["y=", "m=", "d="]
                .iter()
                .find_map(|k| p.strip_prefix(k))
                .unwrap_or(p)
        })
        .collect();
    parts.windows(3).rev().find_map(|w| {
        if w[0].len() == 4
            && w[1].len() == 2
            && w[2].len() == 2
            && w.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        {
            let start =
                Timestamp::parse_rfc3339(&format!("{}-{}-{}T00:00:00Z", w[0], w[1], w[2])).ok()?;
            Some((start, Timestamp(start.0 + Timestamp::MS_PER_DAY - 1)))
        } else {
            None
        }
    })
}

/// Records of a source that could not be read, and the period they cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loss {
    pub lost: u64,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Loss {
    /// `via` as observed, or degraded by this loss when there is one; `reason` says what
    /// was lost.
    pub fn observed(loss: Option<Loss>, via: String, reason: &str) -> CoverageStatus {
        match loss {
            Some(l) => CoverageStatus::Degraded {
                via,
                lost: l.lost,
                from: l.from,
                to: l.to,
                reason: reason.into(),
            },
            None => CoverageStatus::Observed { via },
        }
    }
}

/// `1 record`, `1,234 records`.
pub fn records(n: u64) -> String {
    match n {
        1 => "1 record".into(),
        n => format!("{} records", normalizer::thousands(n)),
    }
}

/// A record that became an event, with the inventory and identity facts it proves.
pub struct Mapped {
    pub event: Event,
    pub observations: Vec<Observation>,
    /// Declared identity (roles, policies) the record proves.
    pub identity: Vec<IdentityObservation>,
}
