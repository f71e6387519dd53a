//! CloudTrail log files as a source: the `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`
//! layout, `.json` or `.json.gz`, in a local directory or any object store. Digest files are
//! recognised and skipped (and counted as such). Records are read one at a time.

pub mod coverage;
pub mod map;
pub mod record;
pub mod split;

use crate::ConnectorError;
use crate::location::Opened;
use futures::TryStreamExt;
pub use map::{Attribution, Mapped, Mapper};
use normalizer::Timestamp;
use serde::{Deserialize, Serialize};
use split::{Piece, SplitError, Splitter};
use std::io::{BufRead, BufReader, Read};

/// Records larger than this are quarantined unread. CloudTrail's own records stay well
/// below it; anything larger is damage or abuse.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024;
const EXCERPT_BYTES: usize = 512;

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

/// Delivery time CloudTrail puts in the file name (`…_20261006T1405Z_…`), for ordering
/// files by time across regions and accounts.
fn delivery_stamp(key: &str) -> Option<&str> {
    let name = key.rsplit('/').next()?;
    name.split('_')
        .find(|part| part.len() == 14 && part.as_bytes()[8] == b'T' && part.ends_with('Z'))
}

/// Lists the log files under the source, oldest delivery first.
pub async fn list(source: &Opened) -> Result<Listing, ConnectorError> {
    let mut listing = list_objects(source, |key| {
        if key.split('/').any(|p| p == "CloudTrail-Digest") {
            Some("CloudTrail digest file (integrity proof, not events)".into())
        } else if key.ends_with(".json") || key.ends_with(".json.gz") {
            None
        } else {
            Some("not a CloudTrail log file name (.json or .json.gz)".into())
        }
    })
    .await?;
    listing
        .files
        .sort_by(|a, b| (delivery_stamp(&a.key), &a.key).cmp(&(delivery_stamp(&b.key), &b.key)));
    Ok(listing)
}

/// Every object under the source, as a log file or, when `skip` gives a reason, as a
/// skipped object that is reported: nothing under a source is passed over silently.
pub(crate) async fn list_objects(
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

fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_BYTES)]).into_owned()
}

/// The file could not be read to its end for a reason outside its content (the store or
/// the network failed): nothing of it is final, and it must be read again.
#[derive(Debug, thiserror::Error)]
#[error("reading stopped after {records} records: {reason}")]
pub struct ReadFailure {
    pub records: u64,
    pub reason: String,
}

/// Damage in the bytes themselves (bad gzip, cut short) as opposed to a failing transport.
fn is_content_damage(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), InvalidData | InvalidInput | UnexpectedEof)
}

/// Reads one log file (gzip detected from its first bytes, not its name) and hands every
/// event and every quarantined piece to `emit`, in file order.
pub fn read_log(
    reader: impl Read,
    object: &str,
    mapper: &mut Mapper,
    max_record: usize,
    emit: &mut dyn FnMut(Output),
) -> Result<FileCounts, ReadFailure> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let gz = matches!(buffered.fill_buf(), Ok(head) if head.starts_with(&[0x1f, 0x8b]));
    let source: Box<dyn Read> = if gz {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let mut splitter = Splitter::new(source, max_record.max(EXCERPT_BYTES));
    let mut counts = FileCounts::default();
    loop {
        let piece = match splitter.next_piece() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SplitError::Io { source, .. }) if !is_content_damage(&source) => {
                return Err(ReadFailure {
                    records: splitter.records_seen(),
                    reason: source.to_string(),
                });
            }
            Err(e) => {
                let index = splitter.records_seen();
                let (reason, size) = match &e {
                    SplitError::Truncated { bytes, .. } => (e.to_string(), *bytes),
                    _ => (format!("{e}; records from {index} on are not read"), 0),
                };
                counts.quarantined += 1;
                emit(Output::Quarantined(Quarantined {
                    object: object.to_string(),
                    index: Some(index).filter(|_| matches!(e, SplitError::Truncated { .. })),
                    reason,
                    size,
                    excerpt: String::new(),
                }));
                break;
            }
        };
        counts.records += 1;
        match piece {
            Piece::Record { index, bytes } => match mapper.map(object, index, bytes) {
                Ok(m) => {
                    counts.events += 1;
                    emit(Output::Mapped(Box::new(m)));
                }
                Err(problem) => {
                    counts.quarantined += 1;
                    emit(Output::Quarantined(Quarantined {
                        object: object.to_string(),
                        index: Some(index),
                        reason: problem.to_string(),
                        size: bytes.len() as u64,
                        excerpt: excerpt(bytes),
                    }));
                }
            },
            Piece::NotAnObject { index, bytes } => {
                counts.quarantined += 1;
                emit(Output::Quarantined(Quarantined {
                    object: object.to_string(),
                    index: Some(index),
                    reason: "element of Records is not a JSON object".into(),
                    size: bytes.len() as u64,
                    excerpt: excerpt(bytes),
                }));
            }
            Piece::Oversized { index, size, head } => {
                counts.quarantined += 1;
                emit(Output::Quarantined(Quarantined {
                    object: object.to_string(),
                    index: Some(index),
                    reason: format!(
                        "record of {size} bytes exceeds the {max_record}-byte limit; not parsed"
                    ),
                    size,
                    excerpt: excerpt(&head),
                }));
            }
        }
    }
    Ok(counts)
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

#[cfg(test)]
mod tests;
