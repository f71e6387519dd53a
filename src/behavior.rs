//! Behavioral baselines in the store, and the drift judged against them.
//!
//! Every scanned log file leaves one baseline part per agent (`baselines/parts/`, named
//! after the file, so a rescan overwrites instead of adding). The rollup
//! (`snapshots/baselines/`) is the fold of the parts, with the list of what it folded:
//! each refresh folds only the parts it has not, so it is incremental, and a part is
//! never counted twice.

use crate::scan::{CURSOR_FORMAT, SourceCursor, baseline_part, cursor_dir, unit_id};
use crate::scan::{IDENTITY_DIR, INVENTORY_DIR};
use crate::store::{Store, StoreError};
use futures::StreamExt;
use normalizer::baseline::Baseline;
use normalizer::drift::{DriftConfig, Episode};
use normalizer::identity::IdentityHistory;
use normalizer::inventory::InventoryHistory;
use normalizer::reconcile::{ReconcileConfig, Reconciliation};
use normalizer::{AgentRef, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const BASELINE_DIR: &str = "snapshots/baselines";
pub const DRIFT_DOC: &str = "drift/current.json";
const PART_READS: usize = 16;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rollup {
    /// The cursor format of the parts folded in; parts of another format are not mixed in.
    #[serde(default)]
    format: u32,
    /// source → file unit → size of the file version whose part was folded in.
    folded: BTreeMap<String, BTreeMap<String, u64>>,
    /// agent key → baseline.
    pub agents: BTreeMap<String, Baseline>,
}

impl Rollup {
    fn folded_files(&self) -> usize {
        self.folded.values().map(BTreeMap::len).sum()
    }

    /// Two scanners that refreshed at once each wrote a consistent rollup; keep the one
    /// that folded more. What the other had is folded again by the next refresh.
    fn keep_fuller(mine: &mut Rollup, theirs: Rollup) {
        if theirs.folded_files() > mine.folded_files() {
            *mine = theirs;
        }
    }

    fn fold(&mut self, parts: BTreeMap<String, Baseline>) {
        for (key, part) in parts {
            match self.agents.get_mut(&key) {
                Some(b) => b.absorb(&part),
                None => {
                    let mut b = Baseline::new(part.agent.clone(), part.config);
                    b.absorb(&part);
                    self.agents.insert(key, b);
                }
            }
        }
    }
}

/// What a refresh did.
#[derive(Debug, Default)]
pub struct Refreshed {
    pub rollup: Rollup,
    pub folded_now: usize,
    /// Files the cursors say were scanned but whose part is missing (store damage or an
    /// interrupted write): their behavior is not in the baselines until they are rescanned.
    pub missing_parts: Vec<String>,
}

/// Folds every part not yet in the rollup; with `write`, stores the result as the next
/// rollup version.
pub async fn refresh(store: &Store, write: bool) -> Result<Refreshed, StoreError> {
    let (version, mut rollup) = match store.latest::<Rollup>(BASELINE_DIR).await? {
        Some((v, r)) => (Some(v), r),
        None => (None, Rollup::default()),
    };
    let mut files: Vec<(String, String, String, u64)> = Vec::new();
    // Every source the store has a cursor for, configured or not: a read-only command
    // given just `--store` sees the same baselines as the scanner.
    let sources: BTreeSet<String> = store
        .list("cursors")
        .await?
        .iter()
        .filter_map(|name| name.split('/').nth(1).map(str::to_string))
        .collect();
    for source in sources {
        let Some((_, cursor)) = store.latest::<SourceCursor>(&cursor_dir(&source)).await? else {
            continue;
        };
        for (key, done) in cursor.files {
            let unit = unit_id(&source, &key);
            files.push((source.clone(), key, unit, done.size));
        }
    }
    // A file that changed since it was folded, or parts of an older format, invalidate
    // the sums: start over.
    let stale = rollup.format != CURSOR_FORMAT
        || files.iter().any(|(source, _, unit, size)| {
            rollup
                .folded
                .get(source)
                .and_then(|f| f.get(unit))
                .is_some_and(|folded| folded != size)
        });
    if stale {
        tracing::info!("log files changed since the baselines were built; rebuilding them");
        rollup = Rollup {
            format: CURSOR_FORMAT,
            ..Rollup::default()
        };
    }
    let todo: Vec<&(String, String, String, u64)> = files
        .iter()
        .filter(|(source, _, unit, _)| {
            !rollup
                .folded
                .get(source)
                .is_some_and(|f| f.contains_key(unit))
        })
        .collect();
    let mut reads =
        futures::stream::iter(todo.iter().map(|(source, key, unit, size)| async move {
            let part = store
                .get_json::<BTreeMap<String, Baseline>>(&baseline_part(source, unit))
                .await;
            (source, key, unit, *size, part)
        }))
        .buffered(PART_READS);
    let mut refreshed = Refreshed::default();
    while let Some((source, key, unit, size, part)) = reads.next().await {
        match part? {
            Some(parts) => {
                rollup.fold(parts);
                rollup
                    .folded
                    .entry(source.clone())
                    .or_default()
                    .insert(unit.clone(), size);
                refreshed.folded_now += 1;
            }
            None => refreshed.missing_parts.push(format!("{source}: {key}")),
        }
    }
    drop(reads);
    if !refreshed.missing_parts.is_empty() {
        tracing::warn!(
            files = refreshed.missing_parts.len(),
            "scanned log files without a baseline part; their behavior is missing from the baselines"
        );
    }
    if write && (refreshed.folded_now > 0 || stale) {
        let (_, merged) = store
            .commit(BASELINE_DIR, rollup, version, Rollup::keep_fuller)
            .await?;
        rollup = merged;
    }
    refreshed.rollup = rollup;
    Ok(refreshed)
}

/// Drift episodes of every agent (or one), over the `period` ending at each agent's
/// newest event (or at `until`).
pub fn episodes(
    rollup: &Rollup,
    drift: &DriftConfig,
    until: Option<Timestamp>,
    only: Option<&AgentRef>,
) -> Vec<Episode> {
    rollup
        .agents
        .values()
        .filter(|b| only.is_none_or(|a| a.key() == b.agent.key()))
        .flat_map(|b| match until.or_else(|| b.last_event()) {
            Some(end) => normalizer::drift::classify(b, drift, end),
            None => Vec::new(),
        })
        .collect()
}

/// Declared-vs-observed reconciliation of every agent (or one) against the declared
/// identity and inventory in force at each agent's newest event.
pub async fn reconciliations(
    store: &Store,
    rollup: &Rollup,
    config: &ReconcileConfig,
    only: Option<&AgentRef>,
) -> Result<Vec<Reconciliation>, StoreError> {
    let identity = store
        .latest::<IdentityHistory>(IDENTITY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default();
    let inventory = store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default();
    let users = normalizer::reconcile::role_users(rollup.agents.values());
    Ok(rollup
        .agents
        .values()
        .filter(|b| only.is_none_or(|a| a.key() == b.agent.key()))
        .map(|b| {
            let at = b.last_event().unwrap_or(Timestamp(i64::MAX));
            let snapshot = inventory.snapshot_at(at);
            let agent_inventory = snapshot
                .agents
                .iter()
                .find(|a| a.agent.key() == b.agent.key());
            normalizer::reconcile::reconcile(
                b,
                agent_inventory,
                &identity.declared_at(at),
                &users,
                config,
            )
        })
        .collect())
}
