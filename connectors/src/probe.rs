//! A node probe's spool (`agentward probe run --spool DIR`) as a scan source: events of
//! self-hosted agents with the runtime inventory they prove, and the probe's own account
//! of what it lost.

use crate::ConnectorError;
use crate::location::Opened;
use crate::records::{FileCounts, Listing, Lost, Mapped, Output, ReadFailure};
use normalizer::node::SpoolRecord;
use normalizer::{AgentRef, Coverage, CoverageStatus, Layer, RawPointer};
use object_store::ObjectStoreExt;
use std::collections::BTreeMap;
use std::io::Read;

/// Every spool file under the source; the probe's status files and files still being
/// written (`.tmp`) are listed as skipped, with the reason.
pub async fn list(source: &Opened) -> Result<Listing, ConnectorError> {
    let mut listing = crate::records::list_objects(source, |key| {
        let name = key.rsplit('/').next().unwrap_or(key);
        if key.starts_with("status/") {
            Some("a probe's status report (agentward probe status), not events".into())
        } else if name.starts_with('.') && name.ends_with(".tmp") {
            Some("a spool file the probe is still writing; read by the next scan".into())
        } else if name.ends_with(".jsonl") || name.ends_with(".jsonl.gz") {
            None
        } else {
            Some("not a probe spool file (<day>/<host>-<ms>-<seq>.jsonl.gz)".into())
        }
    })
    .await?;
    listing.files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(listing)
}

/// What one shipping pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shipped {
    pub files: usize,
    pub bytes: u64,
}

/// Uploads every finished spool file under `spool` (`YYYY-MM-DD/HOST-….jsonl.gz`; never a
/// `.…tmp` file being written, nor the `status` directory) to the same key under `to`,
/// and removes the local copy once the upload succeeded. A file that fails stays for the
/// next pass: nothing is dropped. The first failure ends the pass with its reason.
pub async fn ship_spool(spool: &std::path::Path, to: &Opened) -> Result<Shipped, ConnectorError> {
    let fail = |path: &std::path::Path, reason: String| ConnectorError::Ship {
        path: path.display().to_string(),
        reason,
    };
    let mut shipped = Shipped::default();
    let mut days: Vec<std::path::PathBuf> = match std::fs::read_dir(spool) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.is_dir()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| file_day(n).is_some())
            })
            .collect(),
        Err(e) => return Err(fail(spool, e.to_string())),
    };
    days.sort();
    for day in days {
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&day)
            .map_err(|e| fail(&day, e.to_string()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('.') && n.ends_with(".jsonl.gz"))
            })
            .collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| fail(&file, e.to_string()))?;
            let key = format!(
                "{}/{}",
                day.file_name().and_then(|n| n.to_str()).unwrap_or_default(),
                file.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
            );
            let size = bytes.len() as u64;
            to.store
                .put(&to.child(&key), object_store::PutPayload::from(bytes))
                .await
                .map_err(|e| fail(&file, format!("uploading to {}: {e}", to.display)))?;
            std::fs::remove_file(&file).map_err(|e| fail(&file, e.to_string()))?;
            shipped.files += 1;
            shipped.bytes += size;
        }
    }
    Ok(shipped)
}

/// Reads one spool file: each event with its inventory facts, pointed at this source,
/// object and line; each loss report as [`Output::Lost`].
pub fn read_log(
    reader: impl Read,
    source: &str,
    object: &str,
    max_record: usize,
    emit: &mut dyn FnMut(Output),
) -> Result<FileCounts, ReadFailure> {
    crate::records::lines::read_json_lines(reader, object, max_record, emit, &mut |index, bytes| {
        let record: SpoolRecord =
            serde_json::from_slice(bytes).map_err(|e| format!("not a probe spool record: {e}"))?;
        Ok(match record {
            SpoolRecord::Event {
                mut event,
                mut observations,
            } => {
                event.source = RawPointer {
                    source: source.to_string(),
                    object: object.to_string(),
                    index,
                };
                point_at(&mut observations, source, object, index);
                Output::Mapped(Box::new(Mapped {
                    event: *event,
                    observations,
                    identity: Vec::new(),
                }))
            }
            SpoolRecord::Facts { mut observations } => {
                point_at(&mut observations, source, object, index);
                Output::Evidence(observations)
            }
            SpoolRecord::Loss {
                from,
                to,
                lost,
                agents,
                ..
            } => Output::Lost(Lost {
                lost,
                from,
                to,
                agents,
            }),
        })
    })
}

/// Facts read from a spool line point at it (the probe wrote them without knowing where
/// they would be kept).
fn point_at(
    observations: &mut [normalizer::inventory::Observation],
    source: &str,
    object: &str,
    index: u64,
) {
    for o in observations {
        o.provenance.record.source = source.to_string();
        o.provenance.record.object = object.to_string();
        o.provenance.record.index = index;
    }
}

const LOSS_REASON: &str = "the probe's ring buffer was full (raise `agentward probe run --ring-bytes` or watch less), or spool lines could not be read (`agentward quarantine`)";

/// The day a spool file holds (`2026-11-11/node-…jsonl.gz`), as a window: for lines of
/// it that could not be read.
pub fn file_day(key: &str) -> Option<(normalizer::Timestamp, normalizer::Timestamp)> {
    let day = key.split('/').next()?;
    let start = normalizer::Timestamp::parse_rfc3339(&format!("{day}T00:00:00Z")).ok()?;
    Some((
        start,
        normalizer::Timestamp(start.0 + normalizer::Timestamp::MS_PER_DAY - 1),
    ))
}

/// A self-hosted agent's coverage from a probe spool: what the kernel shows (processes,
/// files, connections) observed or degraded by the probe's own losses; what only the
/// process itself could tell (prompts, tool calls) said to be out of the kernel's reach.
pub fn coverage(
    agent: &AgentRef,
    source: &str,
    seen: &BTreeMap<Layer, u64>,
    loss: Option<&Lost>,
) -> Vec<Coverage> {
    let observed = |via: String| match loss {
        Some(l) => CoverageStatus::Degraded {
            via,
            lost: l.lost,
            from: l.from,
            to: l.to,
            reason: LOSS_REASON.into(),
        },
        None => CoverageStatus::Observed { via },
    };
    let events = |layer| seen.get(&layer).copied().unwrap_or(0);
    let cover = |layer, status| Coverage {
        agent: agent.clone(),
        layer,
        status,
    };
    vec![
        cover(
            Layer::Kernel,
            observed(format!(
                "node probe ({source}): eBPF on every exec, exit, fork and file open of the agent's processes, {} events",
                normalizer::thousands(events(Layer::Kernel))
            )),
        ),
        cover(
            Layer::Network,
            observed(format!(
                "node probe ({source}): every TCP connect (v4 and v6), UDP connect and send, and DNS lookup over UDP, {} events; destinations carry the names the agent looked them up by (lookups over TCP or HTTPS are not seen: those destinations stay addresses)",
                normalizer::thousands(events(Layer::Network))
            )),
        ),
        cover(
            Layer::Prompt,
            CoverageStatus::Unavailable {
                reason: "the kernel sees the agent's model calls as encrypted connections, not their content; prompts need the agent's own instrumentation (OpenTelemetry GenAI spans), which agentward does not read yet".into(),
            },
        ),
        cover(
            Layer::ToolInvocation,
            CoverageStatus::Unavailable {
                reason: "the probe sees which MCP servers and tools the agent starts and reaches (inventory, network), not the calls it makes over their pipes; tool calls need the agent's own instrumentation, which agentward does not read yet".into(),
            },
        ),
        cover(
            Layer::IdentityApi,
            CoverageStatus::AvailableIfEnabled {
                setting: "cloud API calls made with the agent's credentials are recorded by that cloud's audit log, not on the node".into(),
                how_to_enable: "add the account's audit log as a source (kind = \"cloudtrail\" for AWS)".into(),
            },
        ),
        cover(
            Layer::Control,
            CoverageStatus::Unavailable {
                reason: "rollouts of the workload are recorded by the Kubernetes API audit log, which agentward does not read yet; a changed image shows on the kernel layer as new executables".into(),
            },
        ),
    ]
}

pub const KIND: &str = "probe-spool";

/// A node probe's spool, as a log source reads it. It needs no attribution: the probe
/// attributed every event.
pub struct ProbeFormat;

struct ProbeMapper {
    source: String,
}

#[async_trait::async_trait]
impl crate::source::LogFormat for ProbeFormat {
    async fn list(&self, at: &Opened) -> Result<Listing, ConnectorError> {
        list(at).await
    }

    fn mapper(
        &self,
        source: &str,
        _attribution: crate::attribution::Attribution,
        _known: &normalizer::InventorySnapshot,
    ) -> Box<dyn crate::source::RecordMapper> {
        Box::new(ProbeMapper {
            source: source.to_string(),
        })
    }

    // Spool lines that could not be read are events lost to the agents the file speaks of.
    fn lost_events_window(
        &self,
        key: &str,
    ) -> Option<(normalizer::Timestamp, normalizer::Timestamp)> {
        file_day(key)
    }

    // A probe reports only the agents it watched.
    fn provider(&self) -> normalizer::Provider {
        normalizer::Provider::SelfHosted
    }

    fn coverage(
        &self,
        source: &str,
        agent: &AgentRef,
        tally: &crate::source::Tally,
    ) -> Vec<Coverage> {
        coverage(agent, source, &tally.seen, tally.reported_lost.as_ref())
    }
}

impl crate::source::RecordMapper for ProbeMapper {
    fn read(
        &mut self,
        reader: &mut dyn Read,
        object: &str,
        max_record: usize,
        emit: &mut dyn FnMut(Output),
    ) -> Result<FileCounts, ReadFailure> {
        read_log(reader, &self.source, object, max_record, emit)
    }
}
