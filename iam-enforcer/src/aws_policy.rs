//! An AWS IAM identity policy for one role from what it was observed doing: every action a
//! call needs (from the [`Catalog`]) on the resources the calls touched, and on every
//! statement its trace: the observed behaviors it covers, their event count and first and
//! last sighting. A call the catalog has no action for is listed, never granted.
//!
//! Resources are the baseline's (`normalizer::baseline::generalize_into` already widened
//! volatile S3 key segments to `*`); a call that named no resource is granted on `*`, and
//! the statement says so.

use crate::EnforcerError;
use crate::catalog::Catalog;
use normalizer::Timestamp;
use normalizer::baseline::{Behavior, Seen, TRACKED_WINDOWS};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One observed call kind of the role: `service:eventName` (as the baseline keys it) on a
/// resource, with when and how often.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub call: &'a str,
    pub resource: &'a str,
    pub seen: &'a Seen,
}

/// What a statement was derived from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// `call on resource`, each observed behavior the statement covers.
    pub behaviors: Vec<String>,
    pub events: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Windows (days, by default) in which any of them was seen.
    #[serde(skip)]
    pub windows: BTreeSet<i64>,
}

/// How much the observation says a statement is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Seen in every window of the observation.
    Steady,
    /// Seen in several windows, not all (a weekly job).
    Recurring,
    /// Seen in a single window: it may have been a one-off; a person should look.
    Review,
}

impl Level {
    /// The name reports and artifacts show, as it serializes.
    pub fn label(self) -> &'static str {
        match self {
            Level::Steady => "steady",
            Level::Recurring => "recurring",
            Level::Review => "review",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confidence {
    pub level: Level,
    pub windows_seen: usize,
    pub windows_observed: usize,
}

impl Confidence {
    /// `seen` against the windows in which the agent did anything. Windows past what the
    /// baseline tracks for a behavior ([`TRACKED_WINDOWS`] from its first sighting) are
    /// left out of the count, not taken as absences.
    pub fn of(seen: &BTreeSet<i64>, observation: &BTreeMap<i64, u64>) -> Confidence {
        let horizon = seen
            .first()
            .map_or(i64::MAX, |w| w.saturating_add(TRACKED_WINDOWS));
        let observed: BTreeSet<i64> = observation
            .iter()
            .filter(|(w, events)| **events > 0 && **w < horizon)
            .map(|(w, _)| *w)
            .collect();
        let windows_seen = seen.intersection(&observed).count().max(seen.len().min(1));
        let level = if windows_seen <= 1 {
            Level::Review
        } else if observed.is_subset(seen) {
            Level::Steady
        } else {
            Level::Recurring
        };
        Confidence {
            level,
            windows_seen,
            windows_observed: observed.len(),
        }
    }
}

/// Why a statement is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// Calls of the window need it: the trace says which.
    Observed,
    /// No log shows the calls, but the configuration implies them: the fact that does.
    Inferred { fact: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub sid: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// Whether some call named no resource, so `*` stands for what was not seen.
    pub resource_unnamed: bool,
    /// Where a resource was written wider than seen: `seen → granted`.
    pub widened: Vec<String>,
    pub trace: Trace,
    pub confidence: Confidence,
    pub basis: Basis,
    /// Conditions the observation supports: operator → key → values (every call of the
    /// statement was made in these regions, say).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// The proposed identity policy of one role.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityPolicy {
    pub role: String,
    pub statements: Vec<Statement>,
    /// Calls no catalog action authorizes as named: not granted, said.
    #[serde(serialize_with = "as_text")]
    pub unknown: Vec<EnforcerError>,
}

pub(crate) fn as_text<S: serde::Serializer>(
    errors: &[EnforcerError],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(errors.iter().map(|e| e.to_string()))
}

/// The role's `ActionAs` behaviors in a baseline, as [`Observed`] calls.
pub fn observed_as<'a>(
    role: &'a str,
    behaviors: impl Iterator<Item = (&'a Behavior, &'a Seen)> + 'a,
) -> impl Iterator<Item = Observed<'a>> + 'a {
    behaviors.filter_map(move |(b, seen)| match b {
        Behavior::ActionAs {
            role: r,
            action,
            resource,
        } if r == role => Some(Observed {
            call: action,
            resource,
            seen,
        }),
        _ => None,
    })
}

/// What one action was seen needing: its resources, and each behavior behind them with its
/// (count, first, last) — kept per behavior so that a call needing two actions is counted
/// once in a statement granting both.
#[derive(Default)]
struct Needed {
    resources: BTreeSet<String>,
    behaviors: BTreeMap<String, (u64, Timestamp, Timestamp)>,
    windows: BTreeSet<i64>,
}

impl Needed {
    fn add(&mut self, observed: &Observed<'_>) {
        self.resources
            .insert(fewest_wildcards(observed.resource).to_string());
        let seen = observed.seen;
        let behavior = format!("{} on {}", observed.call, observed.resource);
        let entry = self
            .behaviors
            .entry(behavior)
            .or_insert((0, seen.first, seen.last));
        entry.0 += seen.count;
        entry.1 = entry.1.min(seen.first);
        entry.2 = entry.2.max(seen.last);
        self.windows.extend(seen.windows.keys());
    }

    fn trace(&self) -> Option<Trace> {
        let first = self.behaviors.values().map(|b| b.1).min()?;
        let last = self.behaviors.values().map(|b| b.2).max()?;
        Some(Trace {
            behaviors: self.behaviors.keys().cloned().collect(),
            events: self.behaviors.values().map(|b| b.0).sum(),
            first,
            last,
            windows: self.windows.clone(),
        })
    }
}

/// The policy `role` needs for `observed`; actions that need the same resources share a
/// statement. `observation` is the agent's events per window, which each statement's
/// confidence is judged against.
pub fn identity_policy<'a>(
    role: &str,
    observed: impl IntoIterator<Item = Observed<'a>>,
    observation: &BTreeMap<i64, u64>,
    catalog: &Catalog,
) -> IdentityPolicy {
    let mut needed: BTreeMap<String, Needed> = BTreeMap::new();
    // By call: the same call on many resources is one unknown.
    let mut unknown: BTreeMap<&str, EnforcerError> = BTreeMap::new();
    for o in observed {
        let (host, event) = o.call.split_once(':').unwrap_or((o.call, ""));
        match catalog.actions_for(host, event) {
            Ok(actions) => {
                for a in actions {
                    needed.entry(a.iam_name()).or_default().add(&o);
                }
            }
            Err(e) => {
                unknown.entry(o.call).or_insert(e);
            }
        }
    }
    // Actions needing the same resources, with the behaviors of all of them.
    let mut grouped: BTreeMap<BTreeSet<String>, (Vec<String>, Needed)> = BTreeMap::new();
    for (action, n) in needed {
        let (actions, all) = grouped.entry(n.resources.clone()).or_default();
        actions.push(action);
        for (behavior, (count, first, last)) in n.behaviors {
            // The same behavior under two actions is one set of events.
            all.behaviors
                .entry(behavior)
                .or_insert((count, first, last));
        }
        all.windows.extend(n.windows);
    }
    let statements = grouped
        .into_iter()
        .filter_map(|(resources, (actions, all))| statement(resources, actions, &all, observation))
        .collect();
    IdentityPolicy {
        role: role.to_string(),
        statements,
        unknown: unknown.into_values().collect(),
    }
}

/// One statement: `actions` on `resources`, traced to what `all` saw.
fn statement(
    resources: BTreeSet<String>,
    actions: Vec<String>,
    all: &Needed,
    observation: &BTreeMap<i64, u64>,
) -> Option<Statement> {
    let widened = all
        .behaviors
        .keys()
        .filter_map(|b| b.split_once(" on ").map(|(_, r)| r))
        .filter(|r| fewest_wildcards(r) != *r)
        .map(|r| format!("{r} → {}", fewest_wildcards(r)))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let trace = all.trace()?;
    Some(Statement {
        sid: sid_of(&actions),
        resource_unnamed: resources.contains("*"),
        widened,
        confidence: Confidence::of(&trace.windows, observation),
        basis: Basis::Observed,
        conditions: BTreeMap::new(),
        trace,
        resources: collapse_star(resources),
        actions,
    })
}

/// A resource ending in several wildcard segments (`weekly/*/*`, the baseline's volatile
/// key parts) written with one: IAM's `*` spans `/`, so `weekly/*` covers it, also keys one
/// segment deep, which the statement then lists as widened.
fn fewest_wildcards(resource: &str) -> &str {
    let mut end = resource;
    while let Some(shorter) = end.strip_suffix("/*")
        && shorter.ends_with("/*")
    {
        end = shorter;
    }
    end
}

/// `*` covers every other resource: listing them beside it says nothing more.
fn collapse_star(resources: BTreeSet<String>) -> Vec<String> {
    if resources.contains("*") {
        vec!["*".into()]
    } else {
        resources.into_iter().collect()
    }
}

/// An IAM statement id (alphanumeric): the first action's name, and how many more.
fn sid_of(actions: &[String]) -> String {
    let first: String = actions
        .first()
        .map(|a| a.chars().filter(char::is_ascii_alphanumeric).collect())
        .unwrap_or_default();
    match actions.len() {
        0 | 1 => first,
        n => format!("{first}And{}More", n - 1),
    }
}

impl IdentityPolicy {
    /// The IAM policy document (version 2012-10-17), without the traces.
    pub fn document(&self) -> serde_json::Value {
        let statements: Vec<serde_json::Value> = self
            .statements
            .iter()
            .map(|s| {
                let mut statement = serde_json::json!({
                    "Sid": s.sid,
                    "Effect": "Allow",
                    "Action": s.actions,
                    "Resource": s.resources,
                });
                if !s.conditions.is_empty() {
                    statement["Condition"] = serde_json::json!(s.conditions);
                }
                statement
            })
            .collect();
        serde_json::json!({ "Version": "2012-10-17", "Statement": statements })
    }
}

#[cfg(test)]
mod tests;
