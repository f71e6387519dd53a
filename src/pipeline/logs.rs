//! Observing a log source: every file not yet fully written is read on a blocking thread
//! and its events, quarantined records and baseline part written to objects named after
//! it; the source's cursor commits what was written, so a rescan adds nothing and an
//! interrupted scan resumes without loss or duplicates.

use super::context::{
    cloudtrail_attribution, inventory_history, record_identity, record_inventory,
};
use crate::config::{Config, SourceConfig};
use crate::cursor::{CURSOR_FORMAT, FileDone, LayerCounts, SourceCursor};
use crate::layout::{UNATTRIBUTED, baseline_part, cursor_dir, unit_id};
use crate::store::{Store, StoreError};
use bytes::Bytes;
use connectors::location::{self, Opened};
use connectors::records::{FileCounts, LogFile, Lost, Output, Quarantined};
use connectors::source::{LogFormat, RecordMapper, SourceSummary};
use connectors::{ConnectorError, FailureClass};
use normalizer::baseline::{Baseline, BaselineConfig};
use normalizer::identity::IdentityObservation;
use normalizer::inventory::Observation;
use normalizer::{AgentRef, Timestamp};
use object_store::buffered::BufWriter;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const CHUNK_BYTES: usize = 256 * 1024;
// S3 rejects multipart parts under 5 MiB; objects below this go up in one PUT.
const WRITER_CAPACITY: usize = 10 * 1024 * 1024;
const COMMIT_EVERY_FILES: usize = 64;
const COMMIT_EVERY: Duration = Duration::from_secs(5);

/// What the parser thread sends to the writer: bytes bound for one object.
struct Chunk {
    path: String,
    bytes: Vec<u8>,
}

/// Output lines buffered per object on the parser thread, handed to the writer in chunks.
struct Partitions {
    buffers: HashMap<String, Vec<u8>>,
    tx: tokio::sync::mpsc::Sender<Chunk>,
}

impl Partitions {
    fn line(&mut self, path: &str, write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>) {
        let buf = match self.buffers.get_mut(path) {
            Some(b) => b,
            None => self.buffers.entry(path.to_string()).or_default(),
        };
        let mark = buf.len();
        if write(buf).is_err() {
            // Serializing our own structs into memory cannot fail; if it ever does, leave
            // no half line behind.
            buf.truncate(mark);
            return;
        }
        buf.push(b'\n');
        if buf.len() >= CHUNK_BYTES {
            let bytes = std::mem::take(buf);
            // The receiver only goes away if the writer failed; that error is reported there.
            let _ = self.tx.blocking_send(Chunk {
                path: path.to_string(),
                bytes,
            });
        }
    }

    fn flush_all(&mut self) {
        for (path, bytes) in self.buffers.drain() {
            if !bytes.is_empty() {
                let _ = self.tx.blocking_send(Chunk { path, bytes });
            }
        }
    }
}

#[derive(Serialize)]
struct QuarantineRow<'a> {
    source: &'a str,
    #[serde(flatten)]
    item: &'a Quarantined,
}

struct FileStats {
    counts: FileCounts,
    agents: BTreeMap<String, LayerCounts>,
    agent_refs: BTreeMap<String, AgentRef>,
    observations: Vec<Observation>,
    identity: Vec<IdentityObservation>,
    losses: Vec<Lost>,
}

/// A write of the store's that failed: the file is scanned again.
fn written(path: &str, e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::failed(FailureClass::Io, format!("writing {path}"), e.to_string())
}

/// Parses one file on a blocking thread and writes its outputs. On success every output
/// object of the file is complete; on failure the file must be scanned again (outputs have
/// deterministic names, so a rescan overwrites rather than duplicates).
async fn scan_file(
    store: &Store,
    source_at: &Opened,
    source: &SourceConfig,
    file: &LogFile,
    mut mapper: Box<dyn RecordMapper>,
) -> (
    Option<Box<dyn RecordMapper>>,
    Result<FileStats, ConnectorError>,
) {
    let unit = unit_id(&source.name, &file.key);
    let mut reader = location::blocking_reader(source_at.store.clone(), source_at.child(&file.key));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(32);
    let key = file.key.clone();
    let source_name = source.name.clone();
    let max_record = source.max_record_bytes;
    let parser = tokio::task::spawn_blocking(move || {
        let mut out = Partitions {
            buffers: HashMap::new(),
            tx,
        };
        let mut agents: BTreeMap<String, LayerCounts> = BTreeMap::new();
        let mut agent_refs: BTreeMap<String, AgentRef> = BTreeMap::new();
        let mut observations = Vec::new();
        let mut identity = Vec::new();
        let mut losses = Vec::new();
        let mut baselines: BTreeMap<String, Baseline> = BTreeMap::new();
        let version = env!("CARGO_PKG_VERSION");
        let quarantine_path = format!("quarantine/{source_name}/{unit}.jsonl");
        // Partition names per day and agent, computed once: formatting them per event
        // cost more than writing the event. A file holds few days and agents.
        let mut partitions: HashMap<i64, Vec<(Option<AgentRef>, String, String)>> = HashMap::new();
        let result = mapper.read(&mut reader, &key, max_record, &mut |item| match item {
            Output::Mapped(m) => {
                let m = *m;
                let event = &m.event;
                let day = event.time.millis().div_euclid(Timestamp::MS_PER_DAY);
                let of_day = partitions.entry(day).or_default();
                let at = match of_day.iter().position(|(a, _, _)| a == &event.agent) {
                    Some(i) => i,
                    None => {
                        let agent_key = event
                            .agent
                            .as_ref()
                            .map(AgentRef::key)
                            .unwrap_or_else(|| UNATTRIBUTED.to_string());
                        let path = format!(
                            "events/date={}/agent={agent_key}/{unit}.ocsf.jsonl",
                            event.time.utc_date()
                        );
                        of_day.push((event.agent.clone(), agent_key, path));
                        of_day.len() - 1
                    }
                };
                let (_, agent_key, path) = &of_day[at];
                out.line(path, |buf| {
                    normalizer::ocsf::write_event_ocsf(event, version, buf)
                });
                if let Some(agent) = &event.agent {
                    match baselines.get_mut(agent_key) {
                        Some(b) => b.observe(event),
                        None => {
                            let mut b = Baseline::new(agent.clone(), BaselineConfig::default());
                            b.observe(event);
                            baselines.insert(agent_key.clone(), b);
                        }
                    }
                }
                match agents.get_mut(agent_key) {
                    Some(c) => c.add(event.layer),
                    None => {
                        let mut c = LayerCounts::default();
                        c.add(event.layer);
                        agents.insert(agent_key.clone(), c);
                        if let Some(a) = &event.agent {
                            agent_refs.insert(agent_key.clone(), a.unqualified());
                        }
                    }
                }
                observations.extend(m.observations);
                identity.extend(m.identity);
            }
            Output::Lost(l) => losses.push(l),
            Output::Evidence(found) => observations.extend(found),
            Output::Quarantined(q) => {
                let row = QuarantineRow {
                    source: &source_name,
                    item: &q,
                };
                out.line(&quarantine_path, |buf| serde_json::to_writer(buf, &row));
            }
        });
        if result.is_ok() {
            // Written for every scanned file, even one without agent events, so that a
            // missing part always means damage, never "nothing to say".
            let path = baseline_part(&source_name, &unit);
            out.line(&path, |buf| serde_json::to_writer(buf, &baselines));
        }
        out.flush_all();
        (
            mapper,
            result.map(|counts| FileStats {
                counts,
                agents,
                agent_refs,
                observations,
                identity,
                losses,
            }),
        )
    });

    let mut writers: HashMap<String, BufWriter> = HashMap::new();
    let mut write_error: Option<ConnectorError> = None;
    while let Some(chunk) = rx.recv().await {
        if write_error.is_some() {
            continue; // drain so the parser finishes; the file will be rescanned
        }
        let writer = writers.entry(chunk.path.clone()).or_insert_with(|| {
            BufWriter::with_capacity(
                store.at.store.clone(),
                store.path(&chunk.path),
                WRITER_CAPACITY,
            )
        });
        if let Err(e) = writer.put(Bytes::from(chunk.bytes)).await {
            write_error = Some(written(&chunk.path, e));
        }
    }
    let (mapper, parsed) = match parser.await {
        Ok(r) => r,
        Err(e) => {
            // The mapper went down with the parser; the caller starts a fresh one.
            let failure = ConnectorError::Worker {
                path: file.key.clone(),
                reason: e.to_string(),
            };
            return (None, Err(failure));
        }
    };
    for (path, mut writer) in writers {
        if write_error.is_some() {
            let _ = writer.abort().await;
        } else if let Err(e) = writer.shutdown().await {
            write_error = Some(written(&path, e));
        }
    }
    let result = match (parsed, write_error) {
        (Err(e), _) => Err(ConnectorError::failed(
            FailureClass::Io,
            file.key.clone(),
            e.to_string(),
        )),
        (_, Some(e)) => Err(e),
        (Ok(stats), None) => Ok(stats),
    };
    (Some(mapper), result)
}

struct Pending {
    cursor: SourceCursor,
    /// The stored cursor version `cursor` already includes.
    cursor_version: Option<u64>,
    observations: Vec<Observation>,
    identity: Vec<IdentityObservation>,
    uncommitted_files: usize,
    last_commit: Instant,
}

async fn commit(store: &Store, source: &str, pending: &mut Pending) -> Result<(), StoreError> {
    // Inventory first: if we stop between the two, the files are read again and their
    // observations merge into the history without duplicates.
    record_inventory(store, std::mem::take(&mut pending.observations)).await?;
    record_identity(store, std::mem::take(&mut pending.identity)).await?;
    let cursor = std::mem::take(&mut pending.cursor);
    let (version, merged) = store
        .commit(
            &cursor_dir(source),
            cursor,
            pending.cursor_version,
            SourceCursor::merge,
        )
        .await?;
    pending.cursor = merged;
    pending.cursor_version = Some(version);
    pending.uncommitted_files = 0;
    pending.last_commit = Instant::now();
    Ok(())
}

pub async fn scan_source(
    store: &Store,
    config: &Config,
    (source, format): (&SourceConfig, &dyn LogFormat),
    progress: &indicatif::MultiProgress,
) -> Result<SourceSummary, StoreError> {
    let mut summary = SourceSummary {
        name: source.name.clone(),
        location: source.location.url.clone(),
        ..SourceSummary::default()
    };
    // A directory an API source reads logs into may not exist before its first read.
    let source_at = match location::open(
        &source.location,
        &config.base_dir,
        source.pulled_by.is_some(),
    ) {
        Ok(s) => s,
        Err(e) => {
            summary.failures.push(e);
            return Ok(summary);
        }
    };
    summary.location = source_at.display.clone();
    let listed = format.list(&source_at).await;
    let listing = match listed {
        Ok(l) => l,
        Err(e) => {
            summary.failures.push(e);
            return Ok(summary);
        }
    };
    summary.files = listing.files.len();
    summary.skipped_objects = listing.skipped;

    let (cursor_version, cursor) = match store
        .latest::<SourceCursor>(&cursor_dir(&source.name))
        .await?
    {
        Some((v, c)) => (Some(v), c),
        None => (
            None,
            SourceCursor {
                source: source.name.clone(),
                format: CURSOR_FORMAT,
                ..SourceCursor::default()
            },
        ),
    };
    let mut cursor = cursor;
    if cursor.format < CURSOR_FORMAT {
        if !cursor.files.is_empty() {
            tracing::warn!(source = %source.name, files = cursor.files.len(), "the store was written by an older agentward; scanning this source's files again to build baselines and declared identity");
            cursor.files.clear();
        }
        cursor.format = CURSOR_FORMAT;
    }
    let snapshot = inventory_history(store)
        .await?
        .snapshot_at(Timestamp(i64::MAX));
    let mut mapper = format.mapper(&source.name, cursor.attribution.clone(), &snapshot);
    // Records name only a role or a function: the APIs (read first) and the CloudTrail
    // sources (scanned before invocation logs) know which agent runs as which.
    mapper.learn(&cloudtrail_attribution(store, config).await?);
    let mut pending = Pending {
        cursor,
        cursor_version,
        observations: Vec::new(),
        identity: Vec::new(),
        uncommitted_files: 0,
        last_commit: Instant::now(),
    };

    let todo: Vec<&LogFile> = listing
        .files
        .iter()
        .filter(|f| match pending.cursor.files.get(&f.key) {
            Some(done) => {
                done.size != f.size
                    || (done.e_tag.is_some() && f.e_tag.is_some() && done.e_tag != f.e_tag)
            }
            None => true,
        })
        .collect();
    summary.files_already_scanned = listing.files.len() - todo.len();
    let bar = progress.add(indicatif::ProgressBar::new(todo.len() as u64));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} files {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(source.name.clone());

    for file in todo {
        let changed = pending.cursor.files.contains_key(&file.key);
        if changed {
            tracing::warn!(source = %source.name, file = %file.key, "log file changed since it was scanned; scanning it again");
            store
                .delete(&format!(
                    "quarantine/{}/{}.jsonl",
                    source.name,
                    unit_id(&source.name, &file.key)
                ))
                .await?;
        }
        let (returned, result) = scan_file(store, &source_at, source, file, mapper).await;
        mapper = match returned {
            Some(m) => m,
            None => format.mapper(&source.name, pending.cursor.attribution.clone(), &snapshot),
        };
        bar.inc(1);
        match result {
            Ok(stats) => {
                summary.files_scanned += 1;
                summary.records += stats.counts.records;
                summary.events += stats.counts.events;
                summary.quarantined += stats.counts.quarantined;
                bar.set_message(format!("{} records", summary.records));
                pending.observations.extend(stats.observations);
                pending.identity.extend(stats.identity);
                pending.cursor.files.insert(
                    file.key.clone(),
                    FileDone {
                        size: file.size,
                        e_tag: file.e_tag.clone(),
                        counts: stats.counts,
                        agents: stats.agents,
                        losses: stats.losses,
                    },
                );
                pending.cursor.agents.extend(stats.agent_refs);
                if let Some(attribution) = mapper.attribution() {
                    pending.cursor.attribution = attribution.clone();
                }
                pending.uncommitted_files += 1;
            }
            Err(reason) => {
                mapper.forget_sightings();
                tracing::error!(source = %source.name, file = %file.key, %reason, "file not scanned");
                summary.failures.push(reason);
            }
        }
        if pending.uncommitted_files >= COMMIT_EVERY_FILES
            || (pending.uncommitted_files > 0 && pending.last_commit.elapsed() >= COMMIT_EVERY)
        {
            commit(store, &source.name, &mut pending).await?;
            mapper.learn(&pending.cursor.attribution);
        }
    }
    commit(store, &source.name, &mut pending).await?;
    bar.finish_and_clear();
    Ok(summary)
}
