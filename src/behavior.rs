//! Behavioral baselines in the store, and the drift judged against them.
//!
//! Every scanned log file leaves one baseline part per agent (`baselines/parts/`, named
//! after the file, so a rescan overwrites instead of adding). The rollup
//! (`snapshots/baselines/`) is the fold of the parts, with the list of what it folded:
//! each refresh folds only the parts it has not, so it is incremental, and a part is
//! never counted twice.

use crate::config::{Config, Track};
use crate::cursor::{CURSOR_FORMAT, SourceCursor};
use crate::layout::{IDENTITY_DIR, INVENTORY_DIR, baseline_part, cursor_dir, unit_id};
use crate::store::{Store, StoreError};
use futures::StreamExt;
use normalizer::baseline::{Baseline, Behavior};
use normalizer::classes::{
    AgentClass, ClassEnvelope, Classification, class_envelopes, classify_agent,
};
use normalizer::drift::{DriftConfig, Episode};
use normalizer::identity::IdentityHistory;
use normalizer::inventory::{AgentInventory, InventoryHistory};
use normalizer::reconcile::{ReconcileConfig, Reconciliation};
use normalizer::{AgentRef, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const BASELINE_DIR: &str = "snapshots/baselines";
pub const DRIFT_DOC: &str = "drift/current.json";
pub const ACCEPTED_DIR: &str = "drift/accepted";

/// A person's decision that a drift episode is acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub time: Timestamp,
    pub by: String,
    pub reason: String,
    /// The class the episode had when it was accepted.
    pub class: String,
}

/// Episode uid → acceptance; a union between concurrent writers (first decision kept).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Acceptances {
    pub episodes: BTreeMap<String, Acceptance>,
}

impl Acceptances {
    pub fn merge(mine: &mut Acceptances, theirs: Acceptances) {
        for (uid, a) in theirs.episodes {
            mine.episodes.entry(uid).or_insert(a);
        }
    }
}
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

    /// Every role some agent was seen acting as.
    pub fn roles_acted_as(&self) -> Vec<String> {
        self.agents
            .values()
            .flat_map(|b| b.behaviors())
            .filter_map(|(behavior, _)| match behavior {
                Behavior::Role { role } => Some(role.clone()),
                _ => None,
            })
            .collect()
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

#[derive(Debug, thiserror::Error)]
pub enum BehaviorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("pre-enforced agent {agent:?}: {reason}")]
    Staging { agent: String, reason: String },
    /// No baseline answers to what the user named.
    #[error("no baseline for agent {wanted:?}; known: {known}")]
    UnknownAgent { wanted: String, known: String },
    /// A name or id that several agents share.
    #[error("{wanted:?} names {} agents: {}; use the key", .keys.len(), .keys.join(", "))]
    Ambiguous { wanted: String, keys: Vec<String> },
}

/// The agent a user named by key, id or name, or why none (or more than one) matches.
pub fn resolve<'a>(
    rollup: &'a Rollup,
    names: &BTreeMap<String, String>,
    wanted: &str,
) -> Result<&'a Baseline, BehaviorError> {
    if let Some(b) = rollup.agents.get(wanted) {
        return Ok(b);
    }
    let matches: Vec<&Baseline> = rollup
        .agents
        .values()
        .filter(|b| b.agent.id == wanted || names.get(&b.agent.key()).is_some_and(|n| n == wanted))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(BehaviorError::UnknownAgent {
            wanted: wanted.to_string(),
            known: if rollup.agents.is_empty() {
                "none (run `agentward scan` first)".to_string()
            } else {
                rollup
                    .agents
                    .keys()
                    .map(|k| match names.get(k) {
                        Some(n) => format!("{k} ({n})"),
                        None => k.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }),
        many => Err(BehaviorError::Ambiguous {
            wanted: wanted.to_string(),
            keys: many.iter().map(|b| b.agent.key()).collect(),
        }),
    }
}

/// The baseline a pre-enforced agent's production behavior is judged against.
#[derive(Debug, Clone, Serialize)]
pub struct StagingReference {
    /// Where the staging scan is stored.
    pub store: String,
    pub agent: AgentRef,
    #[serde(skip)]
    pub baseline: Baseline,
}

/// Which track an agent is on, and for how long it has been observed.
#[derive(Debug, Clone, Serialize)]
pub struct TrackState {
    #[serde(flatten)]
    pub track: Track,
    pub observed_days: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<StagingReference>,
}

/// Everything behavior analysis reads from the store, loaded once: baselines (refreshed),
/// declared identity and inventory histories, each agent's class and track.
pub struct Analysis {
    pub rollup: Rollup,
    pub missing_parts: Vec<String>,
    identity: IdentityHistory,
    inventory: InventoryHistory,
    /// Agent key → name, from the current inventory.
    pub names: BTreeMap<String, String>,
    /// Agent key → class.
    pub classes: BTreeMap<String, Classification>,
    /// Agent key → track.
    pub tracks: BTreeMap<String, TrackState>,
    /// Drift episodes a person accepted.
    pub acceptances: Acceptances,
    accepted_uids: BTreeSet<String>,
}

async fn agent_names(
    store: &Store,
) -> Result<(InventoryHistory, BTreeMap<String, String>), StoreError> {
    let inventory = store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default();
    let names = inventory
        .snapshot_at(Timestamp(i64::MAX))
        .agents
        .iter()
        .filter_map(|a| Some((a.agent.key(), a.name.as_ref()?.value.clone())))
        .collect();
    Ok((inventory, names))
}

fn observed_days(b: &Baseline) -> i64 {
    match (b.first_event(), b.last_event()) {
        (Some(f), Some(l)) => (l.millis() - f.millis()) / Timestamp::MS_PER_DAY + 1,
        _ => 0,
    }
}

impl Analysis {
    /// Refreshes the baselines (storing them with `write`) and loads what judging them needs.
    pub async fn load(
        store: &Store,
        write: bool,
        config: &Config,
    ) -> Result<Analysis, BehaviorError> {
        let refreshed = refresh(store, write).await?;
        let identity = store
            .latest::<IdentityHistory>(IDENTITY_DIR)
            .await?
            .map(|(_, h)| h)
            .unwrap_or_default();
        let (inventory, names) = agent_names(store).await?;
        let acceptances = store
            .latest::<Acceptances>(ACCEPTED_DIR)
            .await?
            .map(|(_, a)| a)
            .unwrap_or_default();
        let mut analysis = Analysis {
            accepted_uids: acceptances.episodes.keys().cloned().collect(),
            acceptances,
            rollup: refreshed.rollup,
            missing_parts: refreshed.missing_parts,
            identity,
            inventory,
            names,
            classes: BTreeMap::new(),
            tracks: BTreeMap::new(),
        };
        analysis.classes = analysis
            .rollup
            .agents
            .iter()
            .map(|(key, b)| {
                let inventory = analysis.inventory_of(b);
                (key.clone(), classify_agent(b, inventory.as_ref()))
            })
            .collect();
        for (key, b) in &analysis.rollup.agents {
            analysis.tracks.insert(
                key.clone(),
                TrackState {
                    track: Track::ObserveInProduction,
                    observed_days: observed_days(b),
                    reference: None,
                },
            );
        }
        for settings in &config.agents {
            let Ok(b) = resolve(&analysis.rollup, &analysis.names, &settings.matcher) else {
                tracing::warn!(agent = %settings.matcher, "configured agent not in the store (yet)");
                continue;
            };
            let key = b.agent.key();
            let reference = match &settings.track {
                Track::ObserveInProduction => None,
                Track::PreEnforced {
                    staging_store,
                    staging_agent,
                } => Some(
                    staging_reference(config, staging_store, staging_agent, &settings.matcher)
                        .await?,
                ),
            };
            analysis.tracks.insert(
                key,
                TrackState {
                    track: settings.track.clone(),
                    observed_days: observed_days(b),
                    reference,
                },
            );
        }
        Ok(analysis)
    }

    /// The agent's declared inventory as of its newest event.
    /// Roles and policies as declared now (the newest read of each).
    pub fn declared_now(&self) -> normalizer::identity::DeclaredIdentity {
        self.identity.declared_at(Timestamp(i64::MAX))
    }

    /// The agent's inventory as it was at its newest event.
    pub fn inventory_of(&self, b: &Baseline) -> Option<AgentInventory> {
        let at = b.last_event().unwrap_or(Timestamp(i64::MAX));
        self.inventory
            .snapshot_at(at)
            .agents
            .into_iter()
            .find(|a| a.agent.key() == b.agent.key())
    }

    fn selected<'a>(&'a self, only: Option<&'a AgentRef>) -> impl Iterator<Item = &'a Baseline> {
        self.rollup
            .agents
            .values()
            .filter(move |b| only.is_none_or(|a| a.key() == b.agent.key()))
    }

    /// The drift settings of an agent: its class's defaults, over `period_ms` if given;
    /// a pre-enforced agent has no learning period.
    pub fn drift_config(&self, b: &Baseline, period_ms: Option<i64>) -> DriftConfig {
        let mut config = self
            .classes
            .get(&b.agent.key())
            .map(|c| c.class.drift_defaults())
            .unwrap_or_default();
        if let Some(p) = period_ms {
            config.period_ms = p;
        }
        if self.reference_of(b).is_some() {
            config.learning_windows = 0;
        }
        config
    }

    fn reference_of(&self, b: &Baseline) -> Option<&Baseline> {
        self.tracks
            .get(&b.agent.key())
            .and_then(|t| t.reference.as_ref())
            .map(|r| &r.baseline)
    }

    /// Drift episodes of every agent (or one), over the period ending at each agent's
    /// newest event (or at `until`).
    pub fn episodes(
        &self,
        period_ms: Option<i64>,
        until: Option<Timestamp>,
        only: Option<&AgentRef>,
    ) -> Vec<Episode> {
        self.selected(only)
            .flat_map(|b| match until.or_else(|| b.last_event()) {
                Some(end) => normalizer::drift::classify_against(
                    b,
                    self.reference_of(b),
                    &self.accepted_uids,
                    &self.drift_config(b, period_ms),
                    end,
                ),
                None => Vec::new(),
            })
            .collect()
    }

    /// Declared-vs-observed reconciliation of every agent (or one) against the declared
    /// identity and inventory in force at each agent's newest event.
    pub fn reconciliations(
        &self,
        config: &ReconcileConfig,
        only: Option<&AgentRef>,
    ) -> Vec<Reconciliation> {
        let users = normalizer::reconcile::role_users(self.rollup.agents.values());
        // Grants as they are now (an API read is newer than the agent's last event): what
        // is granted today is what can be abused today.
        let declared = self.declared_now();
        let mut out: Vec<Reconciliation> = self
            .selected(only)
            .map(|b| {
                normalizer::reconcile::reconcile(
                    b,
                    self.inventory_of(b).as_ref(),
                    &declared,
                    &users,
                    config,
                )
            })
            .collect();
        // Agents the APIs describe but no log shows acting.
        let unobserved: Vec<AgentInventory> = self
            .inventory
            .snapshot_at(Timestamp(i64::MAX))
            .agents
            .into_iter()
            .filter(|a| !self.rollup.agents.contains_key(&a.agent.key()))
            .filter(|a| only.is_none_or(|o| o.key() == a.agent.key()))
            .collect();
        out.extend(
            unobserved
                .iter()
                .map(|a| normalizer::reconcile::declared_only(a, &declared)),
        );
        out
    }

    pub fn class_envelopes(&self) -> BTreeMap<AgentClass, ClassEnvelope> {
        class_envelopes(
            self.rollup
                .agents
                .iter()
                .filter_map(|(key, b)| self.classes.get(key).map(|c| (c, b))),
        )
    }
}

/// The staging scan's baseline of a pre-enforced agent; a staging store that cannot be
/// read or does not know the agent is an error, never a silent fallback to learning.
async fn staging_reference(
    config: &Config,
    url: &str,
    staging_agent: &str,
    matcher: &str,
) -> Result<StagingReference, BehaviorError> {
    let fail = |reason: String| BehaviorError::Staging {
        agent: matcher.to_string(),
        reason,
    };
    let spec = connectors::location::LocationSpec {
        url: url.to_string(),
        ..connectors::location::LocationSpec::default()
    };
    let opened = connectors::location::open(&spec, &config.base_dir, false)
        .map_err(|e| fail(format!("staging store: {e}")))?;
    let display = opened.display.clone();
    let staging = Store::new(opened);
    let refreshed = refresh(&staging, false)
        .await
        .map_err(|e| fail(format!("staging store {display}: {e}")))?;
    let (_, names) = agent_names(&staging)
        .await
        .map_err(|e| fail(format!("staging store {display}: {e}")))?;
    let baseline = resolve(&refreshed.rollup, &names, staging_agent)
        .map_err(|e| fail(format!("staging store {display}: {e}")))?
        .clone();
    Ok(StagingReference {
        store: display,
        agent: baseline.agent.clone(),
        baseline,
    })
}

/// One behavior in a side-by-side comparison: what each agent did of it.
#[derive(Debug, Clone, Serialize)]
pub struct EnvelopeRow {
    pub behavior: Behavior,
    pub a: Option<EnvelopeSide>,
    pub b: Option<EnvelopeSide>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvelopeSide {
    pub count: u64,
    pub windows: usize,
    pub median_per_window: f64,
}

/// Actions, models and roles of two agents side by side (resources are agent-specific,
/// so they are compared through the actions done on them).
pub fn compare_envelopes(a: &Baseline, b: &Baseline) -> Vec<EnvelopeRow> {
    let side = |baseline: &Baseline, behavior: &Behavior| {
        baseline.seen(behavior).map(|seen| {
            let counts: Vec<u64> = seen.windows.values().copied().collect();
            EnvelopeSide {
                count: seen.count,
                windows: counts.len(),
                median_per_window: normalizer::drift::envelope(&counts, 0.0)
                    .map_or(0.0, |(median, _)| median),
            }
        })
    };
    let kinds: BTreeSet<Behavior> = a
        .behaviors()
        .chain(b.behaviors())
        .map(|(behavior, _)| behavior)
        .filter(|behavior| {
            matches!(
                behavior,
                Behavior::Action { .. } | Behavior::Model { .. } | Behavior::Role { .. }
            )
        })
        .cloned()
        .collect();
    kinds
        .into_iter()
        .map(|behavior| EnvelopeRow {
            a: side(a, &behavior),
            b: side(b, &behavior),
            behavior,
        })
        .collect()
}
