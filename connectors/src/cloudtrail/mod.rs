//! CloudTrail log files as a source: the `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`
//! layout, `.json` or `.json.gz`, in a local directory or any object store. Digest files are
//! recognised and skipped (and counted as such). Records are read one at a time.

pub mod coverage;
pub mod map;
pub mod record;
pub mod split;

use crate::ConnectorError;
use crate::location::Opened;
use crate::records::{
    EXCERPT_BYTES, FileCounts, Listing, Output, Quarantined, ReadFailure, excerpt,
    is_content_damage, list_objects,
};
pub use map::{Attribution, Mapper};
use split::{Piece, SplitError, Splitter};
use std::io::{BufRead, BufReader, Read};

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

#[cfg(test)]
mod tests;

pub const KIND: &str = "cloudtrail";

/// CloudTrail log files, as a log source reads them.
pub struct CloudTrailFormat;

#[async_trait::async_trait]
impl crate::source::LogFormat for CloudTrailFormat {
    async fn list(&self, at: &Opened) -> Result<Listing, ConnectorError> {
        list(at).await
    }

    fn mapper(
        &self,
        source: &str,
        attribution: Attribution,
        _known: &normalizer::InventorySnapshot,
    ) -> Box<dyn crate::source::RecordMapper> {
        Box::new(Mapper::new(source.to_string(), attribution))
    }

    // A trail speaks of AWS agents only; other providers' agents in the same store are not
    // missing from it.
    fn provider(&self) -> normalizer::Provider {
        normalizer::Provider::Aws
    }

    fn coverage(
        &self,
        source: &str,
        agent: &normalizer::AgentRef,
        tally: &crate::source::Tally,
    ) -> Vec<normalizer::Coverage> {
        coverage::bedrock_agent(agent, source, &tally.seen, tally.loss)
    }
}

impl crate::source::RecordMapper for Mapper {
    fn read(
        &mut self,
        reader: &mut dyn Read,
        object: &str,
        max_record: usize,
        emit: &mut dyn FnMut(Output),
    ) -> Result<FileCounts, ReadFailure> {
        read_log(reader, object, self, max_record, emit)
    }

    fn attribution(&self) -> Option<&Attribution> {
        Some(&self.attribution)
    }

    fn learn(&mut self, attribution: &Attribution) {
        self.attribution.merge(attribution)
    }

    fn forget_sightings(&mut self) {
        Mapper::forget_sightings(self)
    }
}
