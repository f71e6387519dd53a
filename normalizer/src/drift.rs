//! Drift classification: every departure of an agent from its baseline over a period,
//! grouped per window into episodes and classified from three signals.
//!
//! - *Deployment correlation*: a change to the agent (new version routed, UpdateAgent,
//!   PrepareAgent, model or prompt change) shortly before the departure.
//! - *Pattern continuity*: whether the new behavior kept recurring afterwards, or burst
//!   and vanished.
//! - *Resource bounds*: whether the volume of what the agent did stayed inside its
//!   envelope (median + k·spread of the windows before).
//!
//! `Evolution` needs all three (deployed, continuous, within bounds) and is absorbed into
//! the envelope; `RiskyDrift` is a departure no deploy explains that bursts or breaks the
//! bounds; anything else is `Unclassified`, with the reason, for a human to decide.

use crate::baseline::{Baseline, Behavior, DeployMark};
use crate::{AgentRef, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DriftConfig {
    /// Length of the period judged, ending at `until`.
    pub period_ms: i64,
    /// How long before a departure a deploy still explains it.
    pub deploy_lookback_ms: i64,
    /// Windows from an agent's first event during which everything is new by definition.
    pub learning_windows: i64,
    /// Windows with the action needed before its volume is judged at all.
    pub min_volume_history: usize,
    /// Upper bound of the envelope: median + k × spread.
    pub k: f64,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            period_ms: 30 * Timestamp::MS_PER_DAY,
            deploy_lookback_ms: 2 * Timestamp::MS_PER_DAY,
            learning_windows: 7,
            min_volume_history: 4,
            k: 5.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Departure {
    /// Something the agent had never done before.
    NewBehavior {
        behavior: Behavior,
        first: Timestamp,
        /// Events of it in the episode's window.
        count: u64,
    },
    /// An action done far more often in one window than the envelope allows.
    Volume {
        behavior: Behavior,
        count: u64,
        median: f64,
        bound: f64,
        /// Windows the bound was computed from.
        history: usize,
    },
}

impl Departure {
    pub fn behavior(&self) -> &Behavior {
        match self {
            Departure::NewBehavior { behavior, .. } | Departure::Volume { behavior, .. } => {
                behavior
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Departure::NewBehavior {
                behavior, count, ..
            } => format!("new: {} ({count} events)", behavior.describe()),
            Departure::Volume {
                behavior,
                count,
                median,
                bound,
                ..
            } => format!(
                "volume: {} {count} in one window (median {median:.0}, bound {bound:.0}, {:.1}x the bound)",
                behavior.describe(),
                *count as f64 / bound
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "continuity", rename_all = "snake_case")]
pub enum Continuity {
    /// Kept recurring after the episode, up to the latest windows.
    Continuous { windows_after: usize },
    /// Done in the episode and not (or hardly) since, over `windows_after` active windows.
    Burst { windows_after: usize },
    /// Too few active windows since to tell.
    TooRecent { windows_after: usize },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "bounds", rename_all = "snake_case")]
pub enum Bounds {
    Within,
    /// The worst volume departure of the episode.
    Outside {
        behavior: Behavior,
        count: u64,
        bound: f64,
    },
    /// Nothing in the episode has enough history to be judged on volume.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum DriftClass {
    Evolution,
    RiskyDrift,
    Unclassified { reason: String },
}

impl DriftClass {
    pub fn label(&self) -> &'static str {
        match self {
            DriftClass::Evolution => "evolution",
            DriftClass::RiskyDrift => "risky drift",
            DriftClass::Unclassified { .. } => "unclassified",
        }
    }
}

/// The departures of one agent in one window, with the signals that classified them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// Stable across runs: one agent, one window.
    pub uid: String,
    pub agent: AgentRef,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    /// The earliest departure (a new behavior's first event, or the window start).
    pub first: Timestamp,
    pub departures: Vec<Departure>,
    /// The latest deploy within the lookback before the episode, if any.
    pub deploy: Option<DeployMark>,
    pub continuity: Continuity,
    pub bounds: Bounds,
    pub class: DriftClass,
    /// One sentence: why this class.
    pub explanation: String,
    /// A person reviewed it and accepted it: its behavior is part of the envelope now, and
    /// it is no longer a finding.
    #[serde(default)]
    pub accepted: bool,
}

/// Robust envelope of per-window counts: median and spread (MAD scaled to a standard
/// deviation, floored at the Poisson noise of the median so steady small counts do not
/// give a zero-width envelope).
pub fn envelope(counts: &[u64], k: f64) -> Option<(f64, f64)> {
    if counts.is_empty() {
        return None;
    }
    let median = median(counts.iter().map(|c| *c as f64).collect());
    let mad = median_abs_dev(counts, median);
    let spread = (1.4826 * mad).max(median.sqrt()).max(1.0);
    Some((median, median + k * spread))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn median_abs_dev(counts: &[u64], center: f64) -> f64 {
    median(counts.iter().map(|c| (*c as f64 - center).abs()).collect())
}

/// Classifies every departure of `baseline`'s agent in the period ending at `until`.
/// Episodes come oldest first; windows of episodes that are not `Evolution` are left out
/// of the envelope later windows are judged against, so a breach does not widen it.
pub fn classify(baseline: &Baseline, config: &DriftConfig, until: Timestamp) -> Vec<Episode> {
    classify_against(baseline, None, &BTreeSet::new(), config, until)
}

/// [`classify`] for an agent whose envelope starts from a `reference` baseline (a staging
/// scan of it, for agents enforced from day one): what the reference did is not new, and
/// the reference's windows count in the volume history. Episodes whose uid is in
/// `accepted` were reviewed and accepted: like evolutions, their windows shape the
/// envelope later windows are judged against.
pub fn classify_against(
    baseline: &Baseline,
    reference: Option<&Baseline>,
    accepted: &BTreeSet<String>,
    config: &DriftConfig,
    until: Timestamp,
) -> Vec<Episode> {
    let active: Vec<i64> = baseline
        .events_per_window()
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(w, _)| *w)
        .collect();
    let (Some(&first_active), Some(_)) = (active.first(), active.last()) else {
        return Vec::new();
    };
    let until_w = baseline.window_of(until);
    let from_w = baseline
        .window_of(Timestamp(until.millis() - config.period_ms))
        .max(first_active + config.learning_windows);

    // Behaviors by the window they first appeared in, and the series judged on volume.
    let mut new_in: BTreeMap<i64, Vec<(&Behavior, Timestamp, u64)>> = BTreeMap::new();
    let mut series: Vec<(&Behavior, &BTreeMap<i64, u64>)> = Vec::new();
    for (behavior, seen) in baseline.behaviors() {
        let w = baseline.window_of(seen.first);
        // A call as a role is also an action on a resource; the role itself is judged
        // through `Role`, so reporting both would say the same thing twice.
        // A recorded syscall marks a recording period, not an occurrence: it appears when
        // recording starts and stops when it ends, which says nothing of the agent.
        if behavior.is_syscall() {
            continue;
        }
        let judged = !matches!(behavior, Behavior::ActionAs { .. })
            && reference.is_none_or(|r| r.seen(behavior).is_none());
        if judged && w >= from_w && w <= until_w {
            let count = seen.windows.get(&w).copied().unwrap_or(0);
            new_in
                .entry(w)
                .or_default()
                .push((behavior, seen.first, count));
        }
        // Volume is judged per action and per model; a role's volume is the sum of its
        // actions', already judged.
        if matches!(behavior, Behavior::Action { .. } | Behavior::Model { .. }) {
            series.push((behavior, &seen.windows));
        }
    }
    series.sort_by(|a, b| a.0.cmp(b.0));

    let mut excluded: BTreeSet<(&Behavior, i64)> = BTreeSet::new();
    let mut episodes = Vec::new();
    for &w in active.iter().filter(|w| **w >= from_w && **w <= until_w) {
        let mut departures: Vec<Departure> = Vec::new();
        let mut firsts: Vec<Timestamp> = Vec::new();
        if let Some(new) = new_in.get_mut(&w) {
            new.sort_by(|a, b| a.0.cmp(b.0));
            for (behavior, first, count) in new.iter() {
                firsts.push(*first);
                departures.push(Departure::NewBehavior {
                    behavior: (*behavior).clone(),
                    first: *first,
                    count: *count,
                });
            }
        }
        let mut volume_out: Vec<(&Behavior, u64, f64)> = Vec::new();
        let mut any_bound = false;
        for (behavior, windows) in &series {
            let Some(&count) = windows.get(&w) else {
                continue;
            };
            let staged: Vec<u64> = reference
                .and_then(|r| r.seen(behavior))
                .map(|seen| seen.windows.values().copied().filter(|n| *n > 0).collect())
                .unwrap_or_default();
            let history: Vec<u64> = windows
                .range(..w)
                .filter(|(pw, n)| **n > 0 && !excluded.contains(&(*behavior, **pw)))
                .map(|(_, n)| *n)
                .chain(staged)
                .collect();
            if history.len() < config.min_volume_history {
                continue;
            }
            let Some((median, bound)) = envelope(&history, config.k) else {
                continue;
            };
            any_bound = true;
            if count as f64 > bound {
                volume_out.push((behavior, count, bound));
                departures.push(Departure::Volume {
                    behavior: (*behavior).clone(),
                    count,
                    median,
                    bound,
                    history: history.len(),
                });
            }
        }
        if departures.is_empty() {
            continue;
        }

        let window_start = baseline.window_start(w);
        let window_end = baseline.window_start(w + 1);
        let first = firsts.iter().min().copied().unwrap_or(window_start);
        let last = firsts.iter().max().copied().unwrap_or(window_end);
        let deploy = baseline
            .deploys()
            .iter()
            .filter(|d| {
                d.time <= last && d.time.millis() >= first.millis() - config.deploy_lookback_ms
            })
            .max_by_key(|d| d.time)
            .cloned();

        let after: Vec<i64> = active
            .iter()
            .copied()
            .filter(|a| *a > w && *a <= until_w)
            .collect();
        let continuity = continuity(baseline, &departures, w, &after, until_w);
        let bounds = match volume_out
            .iter()
            .max_by(|a, b| (a.1 as f64 / a.2).total_cmp(&(b.1 as f64 / b.2)))
        {
            Some((behavior, count, bound)) => Bounds::Outside {
                behavior: (*behavior).clone(),
                count: *count,
                bound: *bound,
            },
            None if any_bound => Bounds::Within,
            None => Bounds::Unknown,
        };
        let (class, explanation) = decide(deploy.as_ref(), &continuity, &bounds);
        let uid = format!(
            "agentward:drift:{}:{}",
            baseline.agent.key(),
            window_start.utc_date()
        );
        let is_accepted = accepted.contains(&uid);
        if class != DriftClass::Evolution && !is_accepted {
            for (behavior, _) in &series {
                excluded.insert((*behavior, w));
            }
        }
        episodes.push(Episode {
            uid,
            agent: baseline.agent.clone(),
            window_start,
            window_end,
            first,
            departures,
            deploy,
            continuity,
            bounds,
            class,
            explanation,
            accepted: is_accepted,
        });
    }
    episodes
}

/// Continuity of the episode in window `w`: a burst if any of its departures vanished,
/// continuous if all persisted, too recent if that cannot be told yet.
fn continuity(
    baseline: &Baseline,
    departures: &[Departure],
    w: i64,
    after: &[i64],
    until_w: i64,
) -> Continuity {
    let windows_after = after.len();
    if windows_after == 0 {
        return Continuity::TooRecent { windows_after };
    }
    let mut burst = false;
    let mut unsure = false;
    for d in departures {
        let Some(seen) = baseline.seen(d.behavior()) else {
            continue;
        };
        match d {
            Departure::NewBehavior { .. } => {
                // Recurring, and still seen in the later half of the time since: a weekly
                // job and a daily model call both persist; a one-off does not.
                let last_w = baseline.window_of(seen.last).min(until_w);
                if last_w > w && 2 * (last_w - w) >= until_w - w {
                    continue;
                }
                if windows_after >= 2 {
                    burst = true;
                } else {
                    unsure = true;
                }
            }
            Departure::Volume { bound, .. } => {
                let elevated = after
                    .iter()
                    .filter(|a| seen.windows.get(a).is_some_and(|n| *n as f64 > *bound))
                    .count();
                if 2 * elevated < windows_after {
                    burst = true;
                } else if windows_after < 2 {
                    unsure = true;
                }
            }
        }
    }
    if burst {
        Continuity::Burst { windows_after }
    } else if unsure {
        Continuity::TooRecent { windows_after }
    } else {
        Continuity::Continuous { windows_after }
    }
}

fn decide(
    deploy: Option<&DeployMark>,
    continuity: &Continuity,
    bounds: &Bounds,
) -> (DriftClass, String) {
    let outside = match bounds {
        Bounds::Outside {
            behavior,
            count,
            bound,
        } => Some(format!(
            "{} ran {count} times in one window, {:.1}x its envelope bound of {bound:.0}",
            behavior.describe(),
            *count as f64 / bound
        )),
        _ => None,
    };
    let unclassified = |reason: String| {
        (
            DriftClass::Unclassified {
                reason: reason.clone(),
            },
            reason,
        )
    };
    match (deploy, continuity, outside) {
        (Some(d), Continuity::Continuous { .. }, None) => (
            DriftClass::Evolution,
            format!(
                "follows {} at {}, persisted afterwards and stayed within its volume envelope",
                d.operation,
                d.time.rfc3339()
            ),
        ),
        (None, Continuity::Burst { .. }, Some(out)) => (
            DriftClass::RiskyDrift,
            format!("no deploy explains it, it burst and vanished, and {out}"),
        ),
        (None, _, Some(out)) => (
            DriftClass::RiskyDrift,
            format!("no deploy explains it and {out}"),
        ),
        (None, Continuity::Burst { windows_after }, None) => (
            DriftClass::RiskyDrift,
            format!(
                "no deploy explains it and it burst and vanished (not seen again in {windows_after} active windows)"
            ),
        ),
        (Some(d), _, Some(out)) => unclassified(format!(
            "follows {} at {}, but a deploy does not explain the volume: {out}",
            d.operation,
            d.time.rfc3339()
        )),
        (Some(d), Continuity::Burst { .. }, None) => unclassified(format!(
            "follows {} at {}, but did not persist afterwards",
            d.operation,
            d.time.rfc3339()
        )),
        (Some(d), Continuity::TooRecent { windows_after }, None) => unclassified(format!(
            "follows {} at {}; too recent to tell whether it persists ({windows_after} active windows since)",
            d.operation,
            d.time.rfc3339()
        )),
        (None, Continuity::Continuous { .. }, None) => unclassified(
            "no deploy explains it, but it persists within bounds: a change made outside the deployment path, or a use the agent always had — review it".to_string(),
        ),
        (None, Continuity::TooRecent { windows_after }, None) => unclassified(format!(
            "no deploy explains it; too recent to tell whether it persists ({windows_after} active windows since)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineConfig;
    use crate::event::test_event;
    use crate::{Event, Layer};

    const MODEL_A: &str = "anthropic.claude-3-haiku";
    const MODEL_B: &str = "anthropic.claude-3-5-haiku";
    const DEPLOY_DAY: i64 = 25;
    const BREACH_DAY: i64 = 38;

    fn model_call(day: i64, second: i64, model: &str) -> Event {
        let mut e = test_event(
            day,
            second,
            Layer::IdentityApi,
            "InvokeModel",
            &format!("arn:aws:bedrock:us-east-1::foundation-model/{model}"),
        );
        e.service = "bedrock.amazonaws.com".into();
        e.model = Some(model.into());
        e
    }

    fn put(day: i64, second: i64, key: &str) -> Event {
        test_event(
            day,
            second,
            Layer::IdentityApi,
            "PutObject",
            &format!("arn:aws:s3:::exports/{key}"),
        )
    }

    fn control(day: i64, second: i64, operation: &str) -> Event {
        test_event(
            day,
            second,
            Layer::Control,
            operation,
            "arn:aws:bedrock:agent/AG1",
        )
    }

    /// The seed's story over 41 days from a Monday: weekday model calls, a weekly export
    /// of 40 objects, a model update deployed on `DEPLOY_DAY` (when `deployed`), and an
    /// uncorrelated burst of 2,400 writes on `BREACH_DAY` (at `burst_at`).
    fn story(deployed: bool, burst_at: Option<i64>) -> Baseline {
        let mut b = Baseline::new(
            crate::agent::test_agent("AG1", None),
            BaselineConfig::default(),
        );
        let update = DEPLOY_DAY * 86_400 + 10 * 3_600;
        for day in 0..=40 {
            if day % 7 < 5 {
                for i in 0..10 {
                    let second = day * 86_400 + 9 * 3_600 + i * 1_800;
                    let model = if second < update { MODEL_A } else { MODEL_B };
                    b.observe(&model_call(day, second - day * 86_400, model));
                }
            }
            if day % 7 == 0 && day > 0 {
                for i in 0..40 {
                    b.observe(&put(day, 7_200 + i, &format!("weekly/{day}/part-{i}.json")));
                }
            }
        }
        if deployed {
            b.observe(&control(DEPLOY_DAY, 9 * 3_600 + 57 * 60, "UpdateAgent"));
            b.observe(&control(
                DEPLOY_DAY,
                9 * 3_600 + 58 * 60,
                "UpdateAgentAlias",
            ));
        }
        if let Some(day) = burst_at {
            for i in 0..2_400 {
                b.observe(&put(
                    day,
                    14 * 3_600 + i / 8,
                    &format!("weekly/{day}-adhoc/part-{i}.json"),
                ));
            }
        }
        b
    }

    /// 2,400 writes within five minutes of 14:00 on `day`, as the breach did.
    fn burst(b: &mut Baseline, day: i64) {
        for i in 0..2_400 {
            b.observe(&put(
                day,
                14 * 3_600 + i / 8,
                &format!("weekly/{day}/part-{i}.json"),
            ));
        }
    }

    fn until() -> Timestamp {
        Timestamp(41 * Timestamp::MS_PER_DAY - 1)
    }

    fn day_of(e: &Episode) -> i64 {
        e.window_start.millis() / Timestamp::MS_PER_DAY
    }

    #[test]
    fn the_model_update_is_evolution_and_the_burst_is_risky_drift() {
        let episodes = classify(
            &story(true, Some(BREACH_DAY)),
            &DriftConfig::default(),
            until(),
        );
        let days: Vec<i64> = episodes.iter().map(day_of).collect();
        assert_eq!(days, vec![DEPLOY_DAY, BREACH_DAY], "{episodes:#?}");

        let update = &episodes[0];
        assert_eq!(update.class, DriftClass::Evolution, "{update:#?}");
        assert_eq!(
            update.deploy.as_ref().unwrap().operation,
            "UpdateAgentAlias"
        );
        assert!(matches!(update.continuity, Continuity::Continuous { .. }));
        assert_eq!(update.bounds, Bounds::Within);
        assert!(update.departures.contains(&Departure::NewBehavior {
            behavior: Behavior::Model {
                model: MODEL_B.into()
            },
            first: Timestamp((DEPLOY_DAY * 86_400 + 10 * 3_600) * 1000),
            count: 8,
        }));

        let burst = &episodes[1];
        assert_eq!(burst.class, DriftClass::RiskyDrift, "{burst:#?}");
        assert_eq!(burst.deploy, None);
        assert!(matches!(
            burst.continuity,
            Continuity::Burst { windows_after: 1 }
        ));
        match &burst.bounds {
            Bounds::Outside {
                behavior,
                count,
                bound,
            } => {
                assert_eq!(
                    behavior,
                    &Behavior::Action {
                        action: "s3:PutObject".into()
                    }
                );
                assert_eq!(*count, 2_400);
                assert!(*bound > 40.0 && *bound < 100.0, "{bound}");
            }
            other => panic!("expected outside bounds, got {other:?}"),
        }
        assert_eq!(
            burst.uid,
            "agentward:drift:aws.111122223333.us-east-1.AG1:1970-02-08"
        );
    }

    #[test]
    fn the_weekly_job_and_the_learning_period_are_not_drift() {
        let episodes = classify(&story(false, None), &DriftConfig::default(), until());
        // Only the model change remains, and without its deploy it is not evolution.
        assert_eq!(episodes.len(), 1, "{episodes:#?}");
        assert_eq!(day_of(&episodes[0]), DEPLOY_DAY);
        match &episodes[0].class {
            DriftClass::Unclassified { reason } => {
                assert!(
                    reason.contains("no deploy explains it, but it persists"),
                    "{reason}"
                )
            }
            other => panic!("expected unclassified, got {other:?}"),
        }
        // Judged over the whole history, the first export (day 7) is still learning.
        let all = DriftConfig {
            period_ms: 100 * Timestamp::MS_PER_DAY,
            ..DriftConfig::default()
        };
        let episodes = classify(&story(false, None), &all, until());
        assert!(episodes.iter().all(|e| day_of(e) >= 7), "{episodes:#?}");
        let learning_off = DriftConfig {
            learning_windows: 0,
            ..all
        };
        let episodes = classify(&story(false, None), &learning_off, until());
        assert_eq!(day_of(&episodes[0]), 0);
    }

    #[test]
    fn a_deploy_does_not_excuse_a_volume_far_outside_the_envelope() {
        let mut b = story(true, None);
        b.observe(&control(BREACH_DAY, 13 * 3_600, "PrepareAgent"));
        burst(&mut b, BREACH_DAY);
        let episodes = classify(&b, &DriftConfig::default(), until());
        let burst = episodes.iter().find(|e| day_of(e) == BREACH_DAY).unwrap();
        match &burst.class {
            DriftClass::Unclassified { reason } => {
                assert!(reason.contains("PrepareAgent"), "{reason}");
                assert!(reason.contains("does not explain the volume"), "{reason}");
            }
            other => panic!("expected unclassified, got {other:?}"),
        }
    }

    #[test]
    fn a_burst_on_the_last_day_is_still_risky_on_volume_alone() {
        let episodes = classify(&story(true, Some(40)), &DriftConfig::default(), until());
        let last = episodes.last().unwrap();
        assert_eq!(day_of(last), 40);
        assert!(matches!(
            last.continuity,
            Continuity::TooRecent { windows_after: 0 }
        ));
        assert_eq!(last.class, DriftClass::RiskyDrift);
    }

    #[test]
    fn a_breach_window_does_not_widen_the_envelope() {
        // Burst after burst: each later one is judged against the envelope without them.
        let mut b = story(true, None);
        for day in [29, 30, 31, 32, 33] {
            burst(&mut b, day);
        }
        let episodes = classify(&b, &DriftConfig::default(), until());
        let risky: Vec<i64> = episodes
            .iter()
            .filter(|e| e.class != DriftClass::Evolution)
            .map(day_of)
            .collect();
        assert_eq!(risky, vec![29, 30, 31, 32, 33], "{episodes:#?}");
    }

    #[test]
    fn accepted_episodes_are_marked_and_do_not_make_bursts_normal() {
        let mut b = story(true, None);
        for day in [29, 30, 31, 32, 33] {
            burst(&mut b, day);
        }
        let uid = |day: i64| {
            format!(
                "agentward:drift:aws.111122223333.us-east-1.AG1:{}",
                Timestamp(day * Timestamp::MS_PER_DAY).utc_date()
            )
        };
        let accepted: BTreeSet<String> = [29, 30].into_iter().map(uid).collect();
        let episodes = classify_against(&b, None, &accepted, &DriftConfig::default(), until());
        let marked: Vec<i64> = episodes.iter().filter(|e| e.accepted).map(day_of).collect();
        assert_eq!(marked, vec![29, 30]);
        // Two accepted bursts join the history, but a robust envelope is not moved by a
        // minority of outliers: accepting one burst does not accept the next.
        let open: Vec<i64> = episodes
            .iter()
            .filter(|e| e.class == DriftClass::RiskyDrift && !e.accepted)
            .map(day_of)
            .collect();
        assert_eq!(open, vec![31, 32, 33], "{episodes:#?}");
    }

    #[test]
    fn envelope_is_robust_and_never_zero_width() {
        let (median, bound) = envelope(&[40, 40, 40, 40], 5.0).unwrap();
        assert_eq!(median, 40.0);
        assert!(bound > 60.0 && bound < 80.0, "{bound}");
        let (_, with_outlier) = envelope(&[40, 40, 41, 39, 5_000], 5.0).unwrap();
        assert!(with_outlier < 100.0, "{with_outlier}");
        assert_eq!(envelope(&[], 5.0), None);
    }

    #[test]
    fn a_pre_enforced_agent_is_judged_from_day_one_against_its_staging_baseline() {
        let staging = story(true, None);
        // Production starts the day the staged agent went live: no learning period.
        let mut production = Baseline::new(
            crate::agent::test_agent("AG1", None),
            BaselineConfig::default(),
        );
        for day in 100..104 {
            for i in 0..10 {
                production.observe(&model_call(day, 9 * 3_600 + i * 60, MODEL_B));
            }
        }
        for i in 0..2_400 {
            production.observe(&put(101, 14 * 3_600 + i / 8, &format!("weekly/{i}.json")));
        }
        production.observe(&model_call(102, 10, "some-other-model"));
        let config = DriftConfig {
            learning_windows: 0,
            ..DriftConfig::default()
        };
        let until = Timestamp(104 * Timestamp::MS_PER_DAY - 1);
        let episodes = classify_against(
            &production,
            Some(&staging),
            &BTreeSet::new(),
            &config,
            until,
        );
        let days: Vec<i64> = episodes.iter().map(day_of).collect();
        // Day 100 did only what staging did; day 101 broke the staged volume envelope;
        // day 102 called a model staging never called.
        assert_eq!(days, vec![101, 102], "{episodes:#?}");
        assert_eq!(episodes[0].class, DriftClass::RiskyDrift);
        assert!(matches!(
            episodes[0].bounds,
            Bounds::Outside { count: 2_400, .. }
        ));
        assert!(episodes[1].departures.iter().any(|d| matches!(d, Departure::NewBehavior { behavior: Behavior::Model { model }, .. } if model == "some-other-model")));
        // Without the reference, everything is learning.
        assert!(classify(&production, &DriftConfig::default(), until).is_empty());
    }
}
