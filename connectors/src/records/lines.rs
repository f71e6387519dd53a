//! Sources whose records are one JSON document a line (Bedrock invocation logs, audit-log
//! exports, resource-log archives, what API sources pull): reading them, and the shared
//! mapper that says each model an agent was seen calling once.

use super::{FileCounts, NotARecord, Output, Quarantined, ReadFailure};
use normalizer::inventory::{Fact, Observation, Provenance, ProvenanceKind, RecordRef};
use normalizer::{AgentRef, Outcome, RawPointer, Timestamp};
use std::io::{BufRead, BufReader, Read};

/// One line of a JSON-lines object, read without holding more than `max` bytes of it.
enum Line {
    Record(Vec<u8>),
    /// Skipped unread: its text is not kept, even in quarantine.
    Oversized {
        size: u64,
    },
}

fn next_line(reader: &mut impl BufRead, max: usize) -> std::io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let mut size = 0u64;
    let mut oversized = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        size += take as u64;
        if !oversized {
            if buf.len() + take > max + 1 {
                oversized = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        reader.consume(take);
        if done {
            break;
        }
    }
    if size == 0 {
        return Ok(None);
    }
    if oversized {
        return Ok(Some(Line::Oversized { size }));
    }
    while buf.last().is_some_and(|b| b.is_ascii_whitespace()) {
        buf.pop();
    }
    Ok(Some(Line::Record(buf)))
}

/// The models each agent was seen calling, each said once, with the first successful call
/// that proves it.
#[derive(Debug, Clone, Default)]
pub struct ModelSightings(std::collections::BTreeSet<(AgentRef, String)>);

impl ModelSightings {
    /// A `ModelInvoked` fact for `agent` and `model` the first time a successful call shows
    /// them together; `id` is the record's own id, for the evidence pointer.
    pub fn first(
        &mut self,
        (agent, model): (Option<&AgentRef>, Option<&String>),
        outcome: &Outcome,
        time: Timestamp,
        (raw, id): (&RawPointer, Option<&str>),
    ) -> Option<Observation> {
        let (Some(agent), Some(model), Outcome::Success) = (agent, model, outcome) else {
            return None;
        };
        self.0
            .insert((agent.clone(), model.clone()))
            .then(|| Observation {
                time,
                agent: agent.clone(),
                fact: Fact::ModelInvoked(model.clone()),
                provenance: Provenance {
                    kind: ProvenanceKind::Inferred,
                    record: RecordRef::new(raw, id),
                },
            })
    }

    /// Forgets what was said: a file that failed is read again and says it again.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// Maps one source's records with what attribution knows of its agents, saying each model
/// an agent was seen calling only once.
pub struct SightingMapper<A> {
    pub source: String,
    pub attribution: A,
    pub(crate) sighted: ModelSightings,
}

impl<A> SightingMapper<A> {
    pub fn new(source: String, attribution: A) -> Self {
        SightingMapper {
            source,
            attribution,
            sighted: ModelSightings::default(),
        }
    }

    /// Forgets which models were said: a file that failed half-way is read again and
    /// says them again.
    pub fn forget_sightings(&mut self) {
        self.sighted.clear();
    }
}

/// A source whose records are read one line at a time.
pub trait RecordMap {
    /// Line `index` of `object` → its event (or the facts it proves), or the reason it is
    /// not a record.
    fn map(&mut self, object: &str, index: u64, bytes: &[u8]) -> Result<Output, NotARecord>;
}

/// Reads one object of such a source; a line that is no record is quarantined with the
/// reason.
pub fn read_records(
    reader: impl Read,
    object: &str,
    mapper: &mut impl RecordMap,
    max_record: usize,
    emit: &mut dyn FnMut(Output),
) -> Result<FileCounts, ReadFailure> {
    read_json_lines(reader, object, max_record, emit, &mut |index, bytes| {
        mapper.map(object, index, bytes)
    })
}

/// Maps one line (by its index in the object) to an output, or gives the reason it is not
/// a record.
pub(crate) type LineMapper<'a> = dyn FnMut(u64, &[u8]) -> Result<Output, NotARecord> + 'a;

/// Reads a JSON-lines object (gzip detected from its first bytes), handing each line to
/// `map`; a line `map` refuses, an oversized line, or damage that stops the reading is
/// emitted as a quarantined item with its reason. Never an excerpt: a line that is not a
/// record may still hold prompt text.
pub(crate) fn read_json_lines(
    reader: impl Read,
    object: &str,
    max_record: usize,
    emit: &mut dyn FnMut(Output),
    map: &mut LineMapper<'_>,
) -> Result<FileCounts, ReadFailure> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let gz = matches!(buffered.fill_buf(), Ok(head) if head.starts_with(&[0x1f, 0x8b]));
    let mut lines: Box<dyn BufRead> = if gz {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(
            buffered,
        )))
    } else {
        Box::new(buffered)
    };
    let mut counts = FileCounts::default();
    let mut index = 0u64;
    loop {
        let line = match next_line(&mut lines, max_record) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidData
                        | std::io::ErrorKind::InvalidInput
                        | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                counts.quarantined += 1;
                emit(Output::Quarantined(Quarantined {
                    object: object.to_string(),
                    index: None,
                    reason: format!("{e}; lines from {index} on are not read"),
                    size: 0,
                    excerpt: String::new(),
                }));
                break;
            }
            Err(e) => {
                return Err(ReadFailure {
                    records: index,
                    reason: e.to_string(),
                });
            }
        };
        let this = index;
        index += 1;
        let quarantine = |reason: String, size: u64| Quarantined {
            object: object.to_string(),
            index: Some(this),
            reason,
            size,
            excerpt: String::new(),
        };
        match line {
            Line::Record(bytes) if bytes.is_empty() => {
                index -= 1; // blank lines are not records
                continue;
            }
            Line::Record(bytes) => {
                counts.records += 1;
                match map(this, &bytes) {
                    Ok(output) => {
                        if matches!(output, Output::Mapped(_)) {
                            counts.events += 1;
                        }
                        emit(output);
                    }
                    Err(reason) => {
                        counts.quarantined += 1;
                        emit(Output::Quarantined(quarantine(reason, bytes.len() as u64)));
                    }
                }
            }
            Line::Oversized { size } => {
                counts.records += 1;
                counts.quarantined += 1;
                emit(Output::Quarantined(quarantine(
                    format!(
                        "record of {size} bytes exceeds the {max_record}-byte limit; not parsed"
                    ),
                    size,
                )));
            }
        }
    }
    Ok(counts)
}
