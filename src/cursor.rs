//! A log source's cursor: every file fully written, what each left, and what attribution
//! learned; kept in the store so that totals, coverage and a resumed scan do not need the
//! files again.

use connectors::cloudtrail::Attribution;
use connectors::records::{FileCounts, Lost};
use normalizer::{AgentRef, Layer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// 1: files leave baseline parts and declared-identity facts.
pub const CURSOR_FORMAT: u32 = 1;

/// Events of one agent in one file, by layer, in the order of [`Layer::ALL`]: kept per
/// file in the cursor, so it is a bare array.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LayerCounts([u64; 6]);

impl LayerCounts {
    pub fn add(&mut self, layer: Layer) {
        if let Some(i) = Layer::ALL.iter().position(|l| *l == layer) {
            self.0[i] += 1;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (Layer, u64)> + '_ {
        Layer::ALL.into_iter().zip(self.0).filter(|(_, n)| *n > 0)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// What scanning one log file produced; kept in the cursor so that totals, coverage and
/// a resumed scan do not need the files again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDone {
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    pub counts: FileCounts,
    /// agent key (or `unattributed`) → counts.
    pub agents: BTreeMap<String, LayerCounts>,
    /// What the source itself reported lost in this file (a probe's full ring).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub losses: Vec<Lost>,
}

/// Per-source progress: every file fully written, plus what attribution has learned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceCursor {
    pub source: String,
    pub files: BTreeMap<String, FileDone>,
    /// agent key → the agent, for every key the files mention.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentRef>,
    pub attribution: Attribution,
    /// What every file in `files` left behind; a cursor of an older format lists files
    /// scanned before some output existed (baseline parts, declared identity), and they
    /// are scanned again.
    #[serde(default)]
    pub format: u32,
}

impl SourceCursor {
    pub fn merge(mine: &mut SourceCursor, theirs: SourceCursor) {
        mine.format = mine.format.max(theirs.format);
        for (k, v) in theirs.files {
            mine.files.entry(k).or_insert(v);
        }
        for (k, v) in theirs.agents {
            mine.agents.entry(k).or_insert(v);
        }
        mine.attribution.merge(&theirs.attribution);
    }
}
