//! The blast radius of a proposed identity policy: every observed call of the window
//! replayed against it. Each call becomes one request per IAM action it needs (from the
//! [`Catalog`]), on the resource of the call that action applies to, evaluated by
//! [`eval`](crate::eval). The answer is what the policy would have denied (goal: nothing),
//! each denial with its events and the log records that show them, and for each statement
//! that allowed something, the records that prove it was needed.

use crate::EnforcerError;
use crate::catalog::{Action, Catalog};
use crate::eval::{Context, Decision, Policy, Request, Verdict, statement_name, verdict};
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
    /// AWS refused it (an access-denied error): it shows what was attempted, not what the
    /// role needs granted.
    pub refused: bool,
}

/// Whether an AWS error code says the caller was not authorized (CloudTrail's
/// `errorCode`), rather than that an authorized call failed.
pub fn is_access_denied(code: &str) -> bool {
    let code = code.strip_prefix("Client.").unwrap_or(code);
    code.contains("AccessDenied") || code == "UnauthorizedOperation" || code == "Forbidden"
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
    /// No events yet; `at` starts the span.
    pub fn empty(at: Timestamp) -> Evidence {
        Evidence {
            events: 0,
            first: at,
            last: at,
            records: BTreeSet::new(),
        }
    }

    /// `count` occurrences at `time`, recorded in `proof`.
    pub fn add_n(&mut self, time: Timestamp, proof: &str, count: u64) {
        self.events += count.max(1);
        self.first = self.first.min(time);
        self.last = self.last.max(time);
        if !self.records.contains(proof) {
            self.records.insert(proof.to_string());
        }
    }

    fn new(call: &Call<'_>) -> Evidence {
        Evidence::empty(call.time)
    }

    fn add(&mut self, call: &Call<'_>) {
        self.add_n(call.time, call.proof, call.count);
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

/// Whether a record's type (`AWS::S3::Bucket`) names the catalog's resource type (`bucket`):
/// their letters and digits alike, case aside.
fn same_type(kind: &str, catalog_type: &str) -> bool {
    let last = kind.rsplit("::").next().unwrap_or(kind);
    fn squash(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| b.to_ascii_lowercase())
    }
    squash(last).eq(squash(catalog_type))
}

/// One action a call needs, with what judging it takes, worked out once per call name.
struct Need<'c> {
    action: &'c Action,
    name: String,
}

/// The resource of a call that `action` applies to: `*` for an action that takes none;
/// else the one whose recorded type is a type of the action (`AWS::S3::Bucket` for
/// `bucket`), else the first the catalog's ARN formats for the action fit (a bucket's
/// format also fits an object's ARN, hence the type first), else the record's first.
fn resource_for<'c>(catalog: &Catalog, action: &Action, resources: &'c [Resource]) -> &'c str {
    if action.resource_types().next().is_none() {
        return "*";
    }
    let typed = resources.iter().find(|r| {
        r.kind
            .as_deref()
            .is_some_and(|k| action.resource_types().any(|t| same_type(k, t.name)))
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

/// The actions a call needs; or why the catalog has none.
type Needs<'c> = Result<Vec<Need<'c>>, EnforcerError>;

/// Denials by (call, action, resource), so each is listed once with all its events.
type Denials = BTreeMap<(String, String, String), Denial>;

/// What a replay adds up as it goes.
#[derive(Default)]
struct Tally {
    events: u64,
    requests: u64,
    denied_events: u64,
    not_evaluated_events: u64,
    /// By deciding statement's (policy, statement) index.
    allowed: BTreeMap<(usize, usize), Evidence>,
    denied: Denials,
}

/// Replays `calls` against `policies`.
pub fn replay<'a>(
    policies: &[Policy],
    calls: impl IntoIterator<Item = Call<'a>>,
    catalog: &Catalog,
) -> BlastRadius {
    let mut tally = Tally::default();
    let mut needs: HashMap<&str, Needs<'_>> = HashMap::new();
    let mut contexts: HashMap<&str, Context> = HashMap::new();
    let no_context = Context::new();
    let mut unknown: BTreeMap<&str, EnforcerError> = BTreeMap::new();
    for call in calls {
        let n = call.count.max(1);
        tally.events += n;
        let actions = needs.entry(call.call).or_insert_with(|| {
            let (host, event) = call.call.split_once(':').unwrap_or((call.call, ""));
            catalog.actions_for(host, event).map(|a| {
                a.into_iter()
                    .map(|action| Need {
                        action,
                        name: action.iam_name(),
                    })
                    .collect()
            })
        });
        let context = match call.region {
            Some(r) => &*contexts
                .entry(r)
                .or_insert_with(|| Context::from([("aws:requestedregion".into(), vec![r.into()])])),
            None => &no_context,
        };
        match actions {
            Ok(actions) => {
                if tally.judge(&call, actions, context, policies, catalog) {
                    tally.denied_events += n;
                }
            }
            Err(e) => {
                unknown.entry(call.call).or_insert_with(|| e.clone());
                tally.not_evaluated_events += n;
            }
        }
    }
    BlastRadius {
        events: tally.events,
        requests: tally.requests,
        denied_events: tally.denied_events,
        denials: tally.denied.into_values().collect(),
        not_evaluated: unknown.into_values().collect(),
        not_evaluated_events: tally.not_evaluated_events,
        allowed_by: tally
            .allowed
            .into_iter()
            .map(|(at, e)| (statement_name(policies, at), e))
            .collect(),
    }
}

impl Tally {
    /// Evaluates each action `call` needs; whether any would be denied.
    fn judge(
        &mut self,
        call: &Call<'_>,
        needs: &[Need<'_>],
        context: &Context,
        policies: &[Policy],
        catalog: &Catalog,
    ) -> bool {
        let mut any_denied = false;
        for need in needs {
            self.requests += 1;
            let resource = resource_for(catalog, need.action, call.resources);
            let request = Request {
                action: &need.name,
                resource,
                context,
            };
            let decision = match verdict(policies, &request) {
                Verdict::Allowed(at) => {
                    self.allowed
                        .entry(at)
                        .or_insert_with(|| Evidence::new(call))
                        .add(call);
                    continue;
                }
                Verdict::Denied(at) => Decision::ExplicitlyDenied {
                    by: statement_name(policies, at),
                },
                Verdict::Implicit => Decision::ImplicitlyDenied,
            };
            any_denied = true;
            let key = (
                call.call.to_string(),
                need.name.clone(),
                resource.to_string(),
            );
            self.denied
                .entry(key)
                .or_insert_with(|| Denial {
                    call: call.call.to_string(),
                    action: need.name.clone(),
                    resource: resource.to_string(),
                    decision,
                    evidence: Evidence::new(call),
                })
                .evidence
                .add(call);
        }
        any_denied
    }
}

#[cfg(test)]
mod tests;
