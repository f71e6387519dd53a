//! Per-agent behavioral baseline: the envelope of what an agent does (actions, the
//! resources it acts on, models and tools it uses) and how fast it stops doing new things.
//!
//! Keyed by the stable agent (never a replica or a version), so it survives churn and
//! rollouts. Pure and incremental: `observe` is O(1) amortized per event, memory is capped
//! per agent, and everything derived (new-behavior rate per window, state) depends only on
//! the set of events seen, not on the order they arrived in.

use crate::{AgentRef, Event, Layer, Outcome, Timestamp};
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineConfig {
    /// Length of one observation window.
    pub window_ms: i64,
    /// Distinct behaviors kept per agent; past it the baseline is `TooLarge`.
    pub max_behaviors: usize,
    /// A window whose new-behavior rate is at most this counts as quiet.
    pub quiet_rate: f64,
    /// Consecutive quiet windows (the latest ones) needed to call the baseline converged.
    pub quiet_windows: usize,
    /// Windows after which a baseline that is still not converged is `NotConverging`.
    pub give_up_after_windows: usize,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            window_ms: Timestamp::MS_PER_DAY,
            max_behaviors: 10_000,
            quiet_rate: 0.01,
            quiet_windows: 3,
            give_up_after_windows: 14,
        }
    }
}

/// One kind of thing an agent does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Behavior {
    Action {
        action: String,
    },
    ActionOn {
        action: String,
        resource: String,
    },
    Model {
        model: String,
    },
    /// The agent acted as this IAM role (key per [`crate::identity::role_key`]).
    Role {
        role: String,
    },
    /// An action on a resource done as a role: what reconciliation holds against the
    /// role's declared grants.
    ActionAs {
        role: String,
        action: String,
        resource: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub first: Timestamp,
    pub last: Timestamp,
    pub count: u64,
    /// Events per window index. Actions and models keep every window: that series is
    /// their volume envelope. Action × resource keeps only the first
    /// [`TRACKED_WINDOWS`] windows from its first sighting (enough to tell whether a new
    /// behavior persisted), so agents with many distinct resources stay bounded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub windows: BTreeMap<i64, u64>,
}

/// Windows of per-window counts kept for an action × resource behavior.
pub const TRACKED_WINDOWS: i64 = 60;
/// Deploy marks kept per agent (the newest ones).
pub const MAX_DEPLOYS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BaselineState {
    /// Still finding new behavior, and not for long enough to give up on it.
    Learning { windows: usize },
    /// The latest windows brought (almost) nothing new.
    Converged { since: Timestamp },
    /// Keeps doing new things after `give_up_after_windows` windows: reported as such, it
    /// is a property of the agent (code execution, open-ended tools), not a failure.
    NotConverging { windows: usize },
    /// More distinct behaviors than the cap: the envelope is incomplete by `unrecorded`
    /// events whose behavior was not kept.
    TooLarge { cap: usize, unrecorded: u64 },
}

/// The new-behavior rate of one window: behaviors first seen in it per event in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowRate {
    pub window_start: Timestamp,
    pub events: u64,
    pub new_behaviors: u64,
    pub rate: f64,
}

/// A change made to the agent itself (new version, alias routing, model, prompt, tools):
/// the signal that lets a departure be explained as a deployment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeployMark {
    pub time: Timestamp,
    /// The event that made the change.
    pub uid: String,
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub agent: AgentRef,
    pub config: BaselineConfig,
    #[serde(with = "behavior_list")]
    behaviors: HashMap<Behavior, Seen>,
    #[serde(skip)]
    scratch: Scratch,
    /// Events per window index (control-plane changes excluded: they are deploys).
    events_per_window: BTreeMap<i64, u64>,
    unrecorded: u64,
    /// Deployments of the agent, oldest first, at most [`MAX_DEPLOYS`].
    #[serde(default)]
    deploys: Vec<DeployMark>,
}

/// Reused key buffers; not part of what a baseline is.
#[derive(Debug, Clone, Default)]
struct Scratch {
    action: String,
    resource: String,
}

impl PartialEq for Scratch {
    fn eq(&self, _: &Scratch) -> bool {
        true
    }
}

/// JSON object keys must be strings, so the behavior map is stored as a sorted list.
mod behavior_list {
    use super::{Behavior, Seen};
    use hashbrown::HashMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Entry<B, S> {
        behavior: B,
        // Not flattened: serde's flatten buffering loses integer map keys (the windows).
        seen: S,
    }

    pub fn serialize<S: Serializer>(
        map: &HashMap<Behavior, Seen>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<Entry<&Behavior, &Seen>> = map
            .iter()
            .map(|(behavior, seen)| Entry { behavior, seen })
            .collect();
        entries.sort_by(|a, b| a.behavior.cmp(b.behavior));
        entries.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<HashMap<Behavior, Seen>, D::Error> {
        let entries: Vec<Entry<Behavior, Seen>> = Vec::deserialize(deserializer)?;
        Ok(entries.into_iter().map(|e| (e.behavior, e.seen)).collect())
    }
}

/// Collapses the volatile parts of a resource name (path segments with a digit: dates,
/// counters, hashes) so `exports/2026-W40/part-00012.json` and `exports/2026-W41/part-00003.json`
/// are one behavior, while a different bucket or prefix is another. Only object keys and
/// plain paths are collapsed: in any other ARN the segments are identifiers (a model, a
/// knowledge base, an alias) and a different one is a different behavior.
pub fn generalize(resource: &str) -> String {
    let mut out = String::with_capacity(resource.len());
    generalize_into(resource, &mut out);
    out
}

/// [`generalize`] into a reused buffer.
pub fn generalize_into(resource: &str, out: &mut String) {
    out.clear();
    if resource.starts_with("arn:") && !resource.starts_with("arn:aws:s3:::") {
        out.push_str(resource);
        return;
    }
    for (i, segment) in resource.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        // The first segment carries the ARN prefix (service, region, account): keep it.
        if i > 0 && segment.bytes().any(|b| b.is_ascii_digit()) {
            out.push('*');
        } else {
            out.push_str(segment);
        }
    }
}

/// The role an event's principal acted as, for assumed-role sessions.
fn acting_role(event: &Event) -> Option<Cow<'_, str>> {
    if event.principal.kind != "AssumedRole" {
        return None;
    }
    event
        .principal
        .issuer
        .as_deref()
        .map(crate::identity::role_key_ref)
}

/// Whether a resource ARN is the agent itself or one of its aliases.
fn names_agent(uid: &str, agent_id: &str) -> bool {
    [":agent/", ":agent-alias/"].iter().any(|kind| {
        uid.split_once(kind)
            .is_some_and(|(_, rest)| rest.split('/').next() == Some(agent_id))
    })
}

/// Whether target `i` is not a parent of another target (the object, not its bucket):
/// the resource a call is authorized against.
fn is_most_specific(targets: &[crate::event::Target], i: usize) -> bool {
    let uid = targets[i].uid.as_str();
    !targets.iter().any(|other| {
        other.uid.len() > uid.len()
            && other.uid.starts_with(uid)
            && other.uid.as_bytes()[uid.len()] == b'/'
    })
}

/// A [`Behavior`] borrowed from an event, to look one up without building it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BehaviorRef<'a> {
    Action {
        action: &'a str,
    },
    ActionOn {
        action: &'a str,
        resource: &'a str,
    },
    Model {
        model: &'a str,
    },
    Role {
        role: &'a str,
    },
    ActionAs {
        role: &'a str,
        action: &'a str,
        resource: &'a str,
    },
}

impl BehaviorRef<'_> {
    fn keeps_all_windows(&self) -> bool {
        !matches!(
            self,
            BehaviorRef::ActionOn { .. } | BehaviorRef::ActionAs { .. }
        )
    }

    fn to_owned(self) -> Behavior {
        match self {
            BehaviorRef::Action { action } => Behavior::Action {
                action: action.into(),
            },
            BehaviorRef::ActionOn { action, resource } => Behavior::ActionOn {
                action: action.into(),
                resource: resource.into(),
            },
            BehaviorRef::Model { model } => Behavior::Model {
                model: model.into(),
            },
            BehaviorRef::Role { role } => Behavior::Role { role: role.into() },
            BehaviorRef::ActionAs {
                role,
                action,
                resource,
            } => Behavior::ActionAs {
                role: role.into(),
                action: action.into(),
                resource: resource.into(),
            },
        }
    }
}

// Behavior and its borrowed form must hash alike for borrowed lookups to find anything.
impl Hash for BehaviorRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            BehaviorRef::Action { action } => {
                state.write_u8(0);
                action.hash(state);
            }
            BehaviorRef::ActionOn { action, resource } => {
                state.write_u8(1);
                action.hash(state);
                resource.hash(state);
            }
            BehaviorRef::Model { model } => {
                state.write_u8(2);
                model.hash(state);
            }
            BehaviorRef::Role { role } => {
                state.write_u8(3);
                role.hash(state);
            }
            BehaviorRef::ActionAs {
                role,
                action,
                resource,
            } => {
                state.write_u8(4);
                role.hash(state);
                action.hash(state);
                resource.hash(state);
            }
        }
    }
}

impl Hash for Behavior {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.borrowed().hash(state);
    }
}

impl hashbrown::Equivalent<Behavior> for BehaviorRef<'_> {
    fn equivalent(&self, key: &Behavior) -> bool {
        *self == key.borrowed()
    }
}

impl Behavior {
    pub fn borrowed(&self) -> BehaviorRef<'_> {
        match self {
            Behavior::Action { action } => BehaviorRef::Action { action },
            Behavior::ActionOn { action, resource } => BehaviorRef::ActionOn { action, resource },
            Behavior::Model { model } => BehaviorRef::Model { model },
            Behavior::Role { role } => BehaviorRef::Role { role },
            Behavior::ActionAs {
                role,
                action,
                resource,
            } => BehaviorRef::ActionAs {
                role,
                action,
                resource,
            },
        }
    }

    /// A syscall a probe recorded (`syscall:NAME`): a mark per report period it was used
    /// in, which drift and volume leave alone.
    pub fn is_syscall(&self) -> bool {
        matches!(self, Behavior::Action { action } if action.starts_with("syscall:"))
    }

    /// Whether every window's count is kept (the low-cardinality kinds).
    pub fn keeps_all_windows(&self) -> bool {
        !matches!(self, Behavior::ActionOn { .. } | Behavior::ActionAs { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Behavior::Action { action } => action.clone(),
            Behavior::ActionOn { action, resource } => format!("{action} on {resource}"),
            Behavior::Model { model } => format!("model {model}"),
            Behavior::Role { role } => format!("as role {role}"),
            Behavior::ActionAs {
                role,
                action,
                resource,
            } => format!("{action} on {resource} as {role}"),
        }
    }
}

impl Seen {
    fn add(&mut self, behavior: &Behavior, other: &Seen, window_ms: i64) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.count += other.count;
        for (w, n) in &other.windows {
            *self.windows.entry(*w).or_default() += n;
        }
        if !behavior.keeps_all_windows() {
            let from = self.first.millis().div_euclid(window_ms);
            self.windows.retain(|w, _| *w < from + TRACKED_WINDOWS);
        }
    }
}

impl Baseline {
    pub fn new(agent: AgentRef, config: BaselineConfig) -> Self {
        Baseline {
            agent: agent.unqualified(),
            config,
            behaviors: HashMap::new(),
            scratch: Scratch::default(),
            events_per_window: BTreeMap::new(),
            unrecorded: 0,
            deploys: Vec::new(),
        }
    }

    pub fn window_of(&self, t: Timestamp) -> i64 {
        t.millis().div_euclid(self.config.window_ms.max(1))
    }

    pub fn window_start(&self, window: i64) -> Timestamp {
        Timestamp(window * self.config.window_ms.max(1))
    }

    fn record(&mut self, behavior: BehaviorRef<'_>, time: Timestamp, n: u64) {
        let window = self.window_of(time);
        let window_ms = self.config.window_ms.max(1);
        let all_windows = behavior.keeps_all_windows();
        if let Some(seen) = self.behaviors.get_mut(&behavior) {
            if time < seen.first {
                seen.first = time;
                if !all_windows {
                    seen.windows.retain(|w, _| *w < window + TRACKED_WINDOWS);
                }
            }
            seen.last = seen.last.max(time);
            seen.count += n;
            let first = seen.first.millis().div_euclid(window_ms);
            if all_windows || window < first + TRACKED_WINDOWS {
                *seen.windows.entry(window).or_default() += n;
            }
        } else if self.behaviors.len() < self.config.max_behaviors {
            let seen = Seen {
                first: time,
                last: time,
                count: n,
                windows: BTreeMap::from([(window, n)]),
            };
            self.behaviors.insert(behavior.to_owned(), seen);
        } else {
            self.unrecorded += 1;
        }
    }

    fn add_deploy(&mut self, mark: DeployMark) {
        if let Err(at) = self.deploys.binary_search(&mark) {
            self.deploys.insert(at, mark);
            if self.deploys.len() > MAX_DEPLOYS {
                self.deploys.remove(0);
            }
        }
    }

    /// Adds one event of this agent. A successful control-plane change is a deploy mark,
    /// not behavior: it is something done *to* the agent.
    pub fn observe(&mut self, event: &Event) {
        if event.layer == Layer::Control {
            if event.outcome == Outcome::Success {
                self.add_deploy(DeployMark {
                    time: event.time,
                    uid: event.uid.clone(),
                    operation: event.operation.clone(),
                    actor: event.principal.arn.clone(),
                });
            }
            return;
        }
        // A prompt-layer record is the same model call CloudTrail already showed, seen
        // from its content: counting it again would double the call's volume.
        if event.layer == Layer::Prompt {
            return;
        }
        let time = event.time;
        // One event may stand for many occurrences (repeats a probe counted in the kernel).
        let n = event.count.unwrap_or(1).max(1);
        // A recorded syscall is one per period it was used in, not an occurrence: the
        // agent's volume leaves it out.
        if event.service != "syscall" {
            *self
                .events_per_window
                .entry(self.window_of(time))
                .or_default() += n;
        }
        // Keys are built in reused buffers and looked up borrowed: a behavior already
        // known costs no allocation (this loop runs for every event of every scan).
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.action.clear();
        let prefix = event.service.split('.').next().unwrap_or(&event.service);
        scratch.action.push_str(prefix);
        scratch.action.push(':');
        scratch.action.push_str(&event.operation);
        let action = scratch.action.as_str();
        for target in &event.targets {
            generalize_into(&target.uid, &mut scratch.resource);
            self.record(
                BehaviorRef::ActionOn {
                    action,
                    resource: &scratch.resource,
                },
                time,
                n,
            );
        }
        // A call *to* the agent (InvokeAgent) carries the caller's role, not the agent's.
        let inbound = event
            .targets
            .iter()
            .any(|t| names_agent(&t.uid, &self.agent.id));
        if let Some(role) = acting_role(event).filter(|_| !inbound) {
            self.record(BehaviorRef::Role { role: &role }, time, n);
            let mut any = false;
            for (i, target) in event.targets.iter().enumerate() {
                if !is_most_specific(&event.targets, i) {
                    continue;
                }
                any = true;
                generalize_into(&target.uid, &mut scratch.resource);
                self.record(
                    BehaviorRef::ActionAs {
                        role: &role,
                        action,
                        resource: &scratch.resource,
                    },
                    time,
                    n,
                );
            }
            if !any {
                self.record(
                    BehaviorRef::ActionAs {
                        role: &role,
                        action,
                        resource: "*",
                    },
                    time,
                    n,
                );
            }
        }
        if let Some(model) = &event.model {
            self.record(BehaviorRef::Model { model }, time, n);
        }
        self.record(BehaviorRef::Action { action }, time, n);
        self.scratch = scratch;
    }

    /// Folds in another baseline of the same agent built from other events (another log
    /// file, another scanner). Counts add up, so each part must be folded exactly once.
    pub fn absorb(&mut self, other: &Baseline) {
        let window_ms = self.config.window_ms.max(1);
        // Visit in a fixed order so that which behaviors fit under the cap does not depend
        // on hash order.
        let mut incoming: Vec<(&Behavior, &Seen)> = other.behaviors.iter().collect();
        incoming.sort_by(|a, b| a.0.cmp(b.0));
        for (behavior, seen) in incoming {
            if let Some(mine) = self.behaviors.get_mut(behavior) {
                mine.add(behavior, seen, window_ms);
            } else if self.behaviors.len() < self.config.max_behaviors {
                self.behaviors.insert(behavior.clone(), seen.clone());
            } else {
                self.unrecorded += seen.count;
            }
        }
        for (w, n) in &other.events_per_window {
            *self.events_per_window.entry(*w).or_default() += n;
        }
        self.unrecorded += other.unrecorded;
        for mark in &other.deploys {
            self.add_deploy(mark.clone());
        }
    }

    pub fn behaviors(&self) -> impl Iterator<Item = (&Behavior, &Seen)> {
        self.behaviors.iter()
    }

    pub fn seen(&self, behavior: &Behavior) -> Option<&Seen> {
        self.behaviors.get(behavior)
    }

    pub fn distinct_behaviors(&self) -> usize {
        self.behaviors.len()
    }

    pub fn events_per_window(&self) -> &BTreeMap<i64, u64> {
        &self.events_per_window
    }

    pub fn deploys(&self) -> &[DeployMark] {
        &self.deploys
    }

    pub fn unrecorded(&self) -> u64 {
        self.unrecorded
    }

    pub fn first_event(&self) -> Option<Timestamp> {
        self.behaviors.values().map(|s| s.first).min()
    }

    pub fn last_event(&self) -> Option<Timestamp> {
        self.behaviors.values().map(|s| s.last).max()
    }

    /// The convergence series: for every window from the first to the last seen, the
    /// share of its events that did something never seen before.
    pub fn convergence(&self) -> Vec<WindowRate> {
        let mut new_per_window: BTreeMap<i64, u64> = BTreeMap::new();
        for seen in self.behaviors.values() {
            *new_per_window
                .entry(self.window_of(seen.first))
                .or_default() += 1;
        }
        let (Some(first), Some(last)) = (
            self.events_per_window.keys().next().copied(),
            self.events_per_window.keys().next_back().copied(),
        ) else {
            return Vec::new();
        };
        (first..=last)
            .map(|w| {
                let events = self.events_per_window.get(&w).copied().unwrap_or(0);
                let new_behaviors = new_per_window.get(&w).copied().unwrap_or(0);
                WindowRate {
                    window_start: Timestamp(w * self.config.window_ms),
                    events,
                    new_behaviors,
                    rate: if events == 0 {
                        0.0
                    } else {
                        new_behaviors as f64 / events as f64
                    },
                }
            })
            .collect()
    }

    pub fn state(&self) -> BaselineState {
        if self.unrecorded > 0 {
            return BaselineState::TooLarge {
                cap: self.config.max_behaviors,
                unrecorded: self.unrecorded,
            };
        }
        let series = self.convergence();
        let quiet_tail = series
            .iter()
            .rev()
            .take_while(|w| w.rate <= self.config.quiet_rate)
            .count();
        if quiet_tail >= self.config.quiet_windows && quiet_tail < series.len() {
            return BaselineState::Converged {
                since: series[series.len() - quiet_tail].window_start,
            };
        }
        if series.len() >= self.config.give_up_after_windows {
            BaselineState::NotConverging {
                windows: series.len(),
            }
        } else {
            BaselineState::Learning {
                windows: series.len(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> AgentRef {
        crate::agent::test_agent("AG1", Some("prod"))
    }

    fn event(day: i64, second: i64, operation: &str, target: &str) -> Event {
        crate::event::test_event(day, second, Layer::IdentityApi, operation, target)
    }

    #[test]
    fn volatile_path_segments_collapse_but_buckets_and_prefixes_do_not() {
        assert_eq!(
            generalize("arn:aws:s3:::exports/weekly/2026-W40/part-00012.json"),
            "arn:aws:s3:::exports/weekly/*/*"
        );
        assert_eq!(
            generalize("arn:aws:s3:::exports/weekly/2026-W41/part-00003.json"),
            generalize("arn:aws:s3:::exports/weekly/2026-W40/part-00012.json")
        );
        assert_ne!(
            generalize("arn:aws:s3:::exports/weekly/x"),
            generalize("arn:aws:s3:::exports/adhoc/x")
        );
        let model = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0";
        assert_eq!(generalize(model), model, "identifiers in ARNs are kept");
        assert_eq!(generalize("/tmp/build-4711/out.o"), "/tmp/*/out.o");
    }

    #[test]
    fn a_steady_agent_converges() {
        let mut b = Baseline::new(agent(), BaselineConfig::default());
        for day in 0..20 {
            for i in 0..50 {
                b.observe(&event(
                    day,
                    i,
                    if i % 2 == 0 { "GetObject" } else { "PutObject" },
                    &format!("arn:aws:s3:::exports/day-{day}/{i}.json"),
                ));
            }
        }
        assert_eq!(
            b.state(),
            BaselineState::Converged {
                since: Timestamp(Timestamp::MS_PER_DAY)
            }
        );
        let series = b.convergence();
        assert_eq!(series.len(), 20);
        assert!(series[0].rate > 0.0 && series[19].rate == 0.0);
    }

    #[test]
    fn an_agent_that_keeps_doing_new_things_is_not_converging() {
        let mut b = Baseline::new(agent(), BaselineConfig::default());
        for day in 0..20 {
            for i in 0..10 {
                // A new API every day, as a code-execution agent calling whatever it writes.
                b.observe(&event(
                    day,
                    i,
                    &format!("Op{}", day * 10 + i),
                    "arn:aws:s3:::scratch/x",
                ));
            }
        }
        assert_eq!(b.state(), BaselineState::NotConverging { windows: 20 });
        let mut young = Baseline::new(agent(), BaselineConfig::default());
        for day in 0..5 {
            young.observe(&event(
                day,
                0,
                &format!("Op{day}"),
                "arn:aws:s3:::scratch/x",
            ));
        }
        assert_eq!(young.state(), BaselineState::Learning { windows: 5 });
    }

    #[test]
    fn the_baseline_does_not_depend_on_arrival_order() {
        let mut events: Vec<Event> = (0..6)
            .flat_map(|day| {
                (0..30).map(move |i| {
                    event(
                        day,
                        (i * 7919) % 86_000,
                        &format!("Op{}", (day + i) % 9),
                        &format!("arn:aws:s3:::b/p{}/k", i % 4),
                    )
                })
            })
            .collect();
        let mut forward = Baseline::new(agent(), BaselineConfig::default());
        events.iter().for_each(|e| forward.observe(e));
        // A fixed pseudo-random permutation.
        let n = events.len();
        for i in (1..n).rev() {
            events.swap(i, (i * 48271 + 11) % (i + 1));
        }
        let mut shuffled = Baseline::new(agent(), BaselineConfig::default());
        events.iter().for_each(|e| shuffled.observe(e));
        assert_eq!(forward, shuffled);
        assert_eq!(forward.convergence(), shuffled.convergence());
        assert_eq!(forward.state(), shuffled.state());
    }

    #[test]
    fn memory_stays_under_the_cap_with_ten_million_high_cardinality_events() {
        let config = BaselineConfig {
            max_behaviors: 5_000,
            ..BaselineConfig::default()
        };
        let mut b = Baseline::new(agent(), config);
        let mut e = event(0, 0, "PutObject", "");
        for i in 0..10_000_000u64 {
            // Letters only: generalization cannot fold these, every target is new.
            let mut name = String::with_capacity(12);
            let mut x = i;
            for _ in 0..6 {
                name.push((b'a' + (x % 26) as u8) as char);
                x /= 26;
            }
            e.targets[0].uid = format!("arn:aws:s3:::bucket/{name}");
            e.time = Timestamp((i as i64) * 10);
            b.observe(&e);
        }
        assert_eq!(b.distinct_behaviors(), 5_000);
        match b.state() {
            BaselineState::TooLarge { cap, unrecorded } => {
                assert_eq!(cap, 5_000);
                assert!(unrecorded > 9_000_000, "{unrecorded}");
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn folding_parts_in_any_order_equals_observing_everything() {
        let events: Vec<Event> = (0..90)
            .flat_map(|day| {
                (0..12).map(move |i| {
                    event(
                        day,
                        i * 600,
                        &format!("Op{}", (day / 10 + i) % 5),
                        &format!("arn:aws:s3:::b/p{}/k", (day + i) % 7),
                    )
                })
            })
            .collect();
        let mut whole = Baseline::new(agent(), BaselineConfig::default());
        events.iter().for_each(|e| whole.observe(e));
        // Parts as log files would cut them: runs of 37 events.
        let parts: Vec<Baseline> = events
            .chunks(37)
            .map(|chunk| {
                let mut p = Baseline::new(agent(), BaselineConfig::default());
                chunk.iter().for_each(|e| p.observe(e));
                p
            })
            .collect();
        let mut forward = Baseline::new(agent(), BaselineConfig::default());
        parts.iter().for_each(|p| forward.absorb(p));
        let mut backward = Baseline::new(agent(), BaselineConfig::default());
        parts.iter().rev().for_each(|p| backward.absorb(p));
        assert_eq!(forward, whole);
        assert_eq!(backward, whole);
    }

    #[test]
    fn resource_behaviors_keep_a_bounded_window_series_while_actions_keep_all() {
        let mut b = Baseline::new(agent(), BaselineConfig::default());
        for day in 0..200 {
            b.observe(&event(day, 0, "GetObject", "arn:aws:s3:::b/k"));
        }
        let on = Behavior::ActionOn {
            action: "s3:GetObject".into(),
            resource: "arn:aws:s3:::b/k".into(),
        };
        let action = Behavior::Action {
            action: "s3:GetObject".into(),
        };
        assert_eq!(b.seen(&on).unwrap().windows.len(), TRACKED_WINDOWS as usize);
        assert_eq!(b.seen(&on).unwrap().count, 200);
        assert_eq!(b.seen(&action).unwrap().windows.len(), 200);
    }

    #[test]
    fn control_plane_changes_are_deploys_not_behavior() {
        let mut b = Baseline::new(agent(), BaselineConfig::default());
        let mut deploy = crate::event::test_event(
            3,
            10,
            Layer::Control,
            "UpdateAgentAlias",
            "arn:aws:bedrock:us-east-1:111122223333:agent-alias/AG1/prod",
        );
        b.observe(&deploy);
        deploy.outcome = Outcome::Failure {
            code: "AccessDenied".into(),
            message: None,
        };
        deploy.uid.push_str("-denied");
        b.observe(&deploy);
        assert_eq!(b.distinct_behaviors(), 0);
        assert!(b.events_per_window().is_empty());
        assert_eq!(b.deploys().len(), 1, "a failed change deploys nothing");
        assert_eq!(b.deploys()[0].operation, "UpdateAgentAlias");
    }

    #[test]
    fn a_stored_baseline_reads_back_identical() {
        let mut b = Baseline::new(agent(), BaselineConfig::default());
        for day in 0..5 {
            b.observe(&event(day, 1, "PutObject", "arn:aws:s3:::b/2026/x"));
        }
        b.observe(&crate::event::test_event(
            2,
            5,
            Layer::Control,
            "PrepareAgent",
            "a",
        ));
        let text = serde_json::to_string(&b).unwrap();
        let back: Baseline = serde_json::from_str(&text).unwrap();
        assert_eq!(back, b);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}
