//! The blast radius of a proposed identity policy: every observed call of the window
//! replayed against it. Each call becomes one request per IAM action it needs (from the
//! [`Catalog`]), on the resource of the call that action applies to, evaluated by
//! [`eval`](crate::eval). The answer is what the policy would have denied (goal: nothing),
//! each denial with its events and the log records that show them, and for each statement
//! that allowed something, the records that prove it was needed.

use crate::EnforcerError;
use crate::catalog::{Action, Catalog};
use crate::eval::{Context, Decision, Policy, Request, evaluate};
use normalizer::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One observed call, as the event store has it.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// `host:eventName`, as the baseline keys it (`s3:PutObject`).
    pub call: &'a str,
    /// The resources the record names, in its order.
    pub resources: &'a [Resource],
    pub region: Option<&'a str>,
    pub time: Timestamp,
    /// Where it is recorded (a log object, a spool file).
    pub proof: &'a str,
    /// Occurrences it stands for (a probe counts repeats in the kernel); at least 1.
    pub count: u64,
}

/// A resource as a record names it: its ARN and, where the record says, its type
/// (CloudTrail's `AWS::S3::Object`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub arn: String,
    pub kind: Option<String>,
}

/// Events, their span and the records that show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub events: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    pub records: BTreeSet<String>,
}

impl Evidence {
    fn new(call: &Call<'_>) -> Evidence {
        Evidence {
            events: 0,
            first: call.time,
            last: call.time,
            records: BTreeSet::new(),
        }
    }

    fn add(&mut self, call: &Call<'_>) {
        self.events += call.count.max(1);
        self.first = self.first.min(call.time);
        self.last = self.last.max(call.time);
        if !self.records.contains(call.proof) {
            self.records.insert(call.proof.to_string());
        }
    }
}

/// Calls the policy would deny: one entry per call, action and resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial {
    pub call: String,
    pub action: String,
    pub resource: String,
    /// `implicitly_denied`, or `explicitly_denied` with the statement.
    pub decision: Decision,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlastRadius {
    /// Observed calls replayed (each counted as often as it occurred).
    pub events: u64,
    /// Requests evaluated (a call needing two actions is two; a repeated call is one).
    pub requests: u64,
    /// Calls at least one of whose requests would be denied.
    pub denied_events: u64,
    pub denials: Vec<Denial>,
    /// Calls no catalog action authorizes as named: not evaluated, said.
    #[serde(serialize_with = "crate::aws_policy::as_text")]
    pub not_evaluated: Vec<EnforcerError>,
    pub not_evaluated_events: u64,
    /// The deciding statement (`policy#Sid`) → the calls it allowed.
    pub allowed_by: BTreeMap<String, Evidence>,
}

/// The resource of a call that `action` applies to: `*` for an action that takes none;
/// else the one whose recorded type is a type of the action (`AWS::S3::Bucket` for
/// `bucket`), else the first the catalog's ARN formats for the action fit (a bucket's
/// format also fits an object's ARN, hence the type first), else the record's first.
fn resource_for<'c>(catalog: &Catalog, action: &Action, resources: &'c [Resource]) -> &'c str {
    if action.resource_types().next().is_none() {
        return "*";
    }
    let squash = |t: &str| -> String {
        t.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let typed = resources.iter().find(|r| {
        r.kind.as_deref().is_some_and(|k| {
            let k = squash(k.rsplit("::").next().unwrap_or(k));
            action.resource_types().any(|t| squash(t.name) == k)
        })
    });
    typed
        .or_else(|| {
            resources
                .iter()
                .find(|r| !catalog.resource_types_matching(action, &r.arn).is_empty())
        })
        .or(resources.first())
        .map_or("*", |r| r.arn.as_str())
}

/// The actions a call needs, each with its IAM name; or why the catalog has none.
type Needs<'c> = Result<Vec<(&'c Action, String)>, EnforcerError>;

/// Denials by (call, action, resource), so each is listed once with all its events.
type Denials = BTreeMap<(String, String, String), Denial>;

/// Replays `calls` against `policies`.
pub fn replay<'a>(
    policies: &[Policy],
    calls: impl IntoIterator<Item = Call<'a>>,
    catalog: &Catalog,
) -> BlastRadius {
    let mut out = BlastRadius {
        events: 0,
        requests: 0,
        denied_events: 0,
        denials: Vec::new(),
        not_evaluated: Vec::new(),
        not_evaluated_events: 0,
        allowed_by: BTreeMap::new(),
    };
    let mut needs: HashMap<&str, Needs<'_>> = HashMap::new();
    let mut denied = Denials::new();
    let mut unknown: BTreeMap<&str, EnforcerError> = BTreeMap::new();
    for call in calls {
        let n = call.count.max(1);
        out.events += n;
        let actions = needs.entry(call.call).or_insert_with(|| {
            let (host, event) = call.call.split_once(':').unwrap_or((call.call, ""));
            catalog
                .actions_for(host, event)
                .map(|a| a.into_iter().map(|a| (a, a.iam_name())).collect())
        });
        match actions {
            Ok(actions) => {
                if judge(&call, actions, policies, catalog, &mut out, &mut denied) {
                    out.denied_events += n;
                }
            }
            Err(e) => {
                unknown.entry(call.call).or_insert_with(|| e.clone());
                out.not_evaluated_events += n;
            }
        }
    }
    out.denials = denied.into_values().collect();
    out.not_evaluated = unknown.into_values().collect();
    out
}

/// Evaluates each action `call` needs; whether any would be denied.
fn judge(
    call: &Call<'_>,
    actions: &[(&Action, String)],
    policies: &[Policy],
    catalog: &Catalog,
    out: &mut BlastRadius,
    denied: &mut Denials,
) -> bool {
    let context: Context = call
        .region
        .map(|r| ("aws:requestedregion".to_string(), vec![r.to_string()]))
        .into_iter()
        .collect();
    let mut any_denied = false;
    for (action, name) in actions {
        out.requests += 1;
        let resource = resource_for(catalog, action, call.resources);
        let request = Request {
            action: name,
            resource,
            context: &context,
        };
        match evaluate(policies, &request) {
            Decision::Allowed { by } => out
                .allowed_by
                .entry(by)
                .or_insert_with(|| Evidence::new(call))
                .add(call),
            decision => {
                any_denied = true;
                let key = (call.call.to_string(), name.clone(), resource.to_string());
                denied
                    .entry(key)
                    .or_insert_with(|| Denial {
                        call: call.call.to_string(),
                        action: name.clone(),
                        resource: resource.to_string(),
                        decision,
                        evidence: Evidence::new(call),
                    })
                    .evidence
                    .add(call);
            }
        }
    }
    any_denied
}

#[cfg(test)]
mod tests;
