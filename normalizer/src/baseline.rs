//! Per-agent behavioral baseline: the envelope of what an agent does (actions, the
//! resources it acts on, models and tools it uses) and how fast it stops doing new things.
//!
//! Keyed by the stable agent (never a replica or a version), so it survives churn and
//! rollouts. Pure and incremental: `observe` is O(1) amortized per event, memory is capped
//! per agent, and everything derived (new-behavior rate per window, state) depends only on
//! the set of events seen, not on the order they arrived in.

use crate::{AgentRef, Event, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Behavior {
    Action { action: String },
    ActionOn { action: String, resource: String },
    Model { model: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub first: Timestamp,
    pub last: Timestamp,
    pub count: u64,
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub agent: AgentRef,
    pub config: BaselineConfig,
    behaviors: HashMap<Behavior, Seen>,
    /// Events per window index.
    events_per_window: BTreeMap<i64, u64>,
    unrecorded: u64,
}

/// Collapses the volatile parts of a resource name (anything with a digit: dates, ids,
/// counters, hashes) so `exports/2026-W40/part-00012.json` and `exports/2026-W41/part-00003.json`
/// are one behavior, while a different bucket or prefix is another.
pub fn generalize(resource: &str) -> String {
    let mut out = String::with_capacity(resource.len());
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
    out
}

impl Baseline {
    pub fn new(agent: AgentRef, config: BaselineConfig) -> Self {
        Baseline {
            agent: agent.unqualified(),
            config,
            behaviors: HashMap::new(),
            events_per_window: BTreeMap::new(),
            unrecorded: 0,
        }
    }

    fn window_of(&self, t: Timestamp) -> i64 {
        t.millis().div_euclid(self.config.window_ms.max(1))
    }

    fn record(&mut self, behavior: Behavior, time: Timestamp) {
        if let Some(seen) = self.behaviors.get_mut(&behavior) {
            seen.first = seen.first.min(time);
            seen.last = seen.last.max(time);
            seen.count += 1;
        } else if self.behaviors.len() < self.config.max_behaviors {
            self.behaviors.insert(
                behavior,
                Seen {
                    first: time,
                    last: time,
                    count: 1,
                },
            );
        } else {
            self.unrecorded += 1;
        }
    }

    /// Adds one event of this agent.
    pub fn observe(&mut self, event: &Event) {
        let action = event.action();
        let time = event.time;
        *self
            .events_per_window
            .entry(self.window_of(time))
            .or_default() += 1;
        for target in &event.targets {
            self.record(
                Behavior::ActionOn {
                    action: action.clone(),
                    resource: generalize(&target.uid),
                },
                time,
            );
        }
        if let Some(model) = &event.model {
            self.record(
                Behavior::Model {
                    model: model.clone(),
                },
                time,
            );
        }
        self.record(Behavior::Action { action }, time);
    }

    pub fn behaviors(&self) -> impl Iterator<Item = (&Behavior, &Seen)> {
        self.behaviors.iter()
    }

    pub fn distinct_behaviors(&self) -> usize {
        self.behaviors.len()
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
    use crate::event::{Outcome, Principal, RawPointer, Target};
    use crate::{Correlation, Layer};

    fn agent() -> AgentRef {
        crate::agent::test_agent("AG1", Some("prod"))
    }

    fn event(day: i64, second: i64, operation: &str, target: &str) -> Event {
        Event {
            uid: format!("{day}-{second}-{operation}"),
            time: Timestamp(day * Timestamp::MS_PER_DAY + second * 1000),
            agent: Some(agent()),
            layer: Layer::IdentityApi,
            service: "s3.amazonaws.com".into(),
            operation: operation.into(),
            targets: vec![Target {
                uid: target.into(),
                kind: None,
                name: None,
            }],
            outcome: Outcome::Success,
            principal: Principal::default(),
            correlation: Correlation::default(),
            source: RawPointer {
                source: "t".into(),
                object: "o".into(),
                index: 0,
            },
            cloud: None,
            src_ip: None,
            user_agent: None,
            model: None,
            category: None,
            read_only: None,
            original_time: None,
        }
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
}
