//! The IAM recommendation of one agent: for every role it acts as, what it is granted now,
//! the least-privilege policy its observed calls need (each statement traced, with its
//! confidence), what goes (reconcile's unused excess, proven or unverified) and what is
//! narrowed (its inherited overreach), the trust policy pinned to the agent, the size
//! against IAM's limits, and the blast radius: the observed window replayed against the
//! proposal. Also the agent's action-group functions' resource policies, pinned.

use crate::EnforcerError;
use crate::aws_policy::{
    Basis, Confidence, IdentityPolicy, Level, Observed, Statement, Trace, identity_policy,
    observed_as,
};
use crate::catalog::Catalog;
use crate::compact;
use crate::egress::{self, Allowlist, Connection, EgressRadius};
use crate::eval::Policy;
use crate::gcp_role::{self, CustomRole, Granted};
use crate::replay::{BlastRadius, Call, replay};
use crate::seccomp::{self, Envelope, Syscall, SyscallRadius};
use crate::trust;
use normalizer::baseline::{Baseline, Behavior, generalize};
use normalizer::classes::AgentClass;
use normalizer::drift::{Departure, DriftClass, Episode};
use normalizer::identity::{DeclaredIdentity, DeclaredRole, Document, is_aws_managed};
use normalizer::inventory::AgentInventory;
use normalizer::reconcile::{Axis, Item, Reconciliation};
use normalizer::{AgentRef, Timestamp};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// IAM's limits on policy size, in characters without whitespace.
pub const MANAGED_POLICY_LIMIT: usize = 6_144;
pub const ROLE_INLINE_LIMIT: usize = 10_240;

/// What one agent's recommendation is made from.
pub struct Input<'a> {
    pub baseline: &'a Baseline,
    pub inventory: Option<&'a AgentInventory>,
    pub declared: &'a DeclaredIdentity,
    pub reconciliation: &'a Reconciliation,
    /// The agent's observed calls in the window, by the role (key) they were made as.
    pub calls: &'a BTreeMap<String, Vec<Call<'a>>>,
    /// Drift episodes of the agent over the window: the new behavior of a risky drift that
    /// nobody accepted is withheld from the proposal (an unclassified one's is granted and
    /// said).
    pub episodes: &'a [Episode],
    /// The agent's observed connections (a probe's), for its egress allowlist.
    pub connections: &'a [Connection<'a>],
    /// The permissions Google granted its identities' calls (Cloud Audit Logs).
    pub granted: &'a [Granted<'a>],
    /// The syscalls a probe recorded for it (`probe record-syscalls`).
    pub syscalls: &'a [Syscall<'a>],
    /// Its class, which adds to its seccomp envelope what its kind of runtime needs.
    pub class: AgentClass,
}

/// A self-hosted agent's seccomp envelope and its replay.
#[derive(Debug, Clone, Serialize)]
pub struct SeccompRecommendation {
    pub envelope: Envelope,
    /// The recorded syscalls (the withheld apart) judged by it: goal 0 denied.
    pub replay: SyscallRadius,
}

/// A self-hosted agent's kernel egress allowlist and its replay.
#[derive(Debug, Clone, Serialize)]
pub struct EgressRecommendation {
    pub allowlist: Allowlist,
    /// The observed connections (the withheld apart) judged by it: goal 0 denied.
    pub replay: EgressRadius,
}

/// Behaviors withheld from a proposal, each with why.
#[derive(Debug, Clone, Serialize)]
pub struct Withheld {
    pub behavior: String,
    pub episode: String,
    pub class: String,
    /// Calls of it in the window: not replayed, since the proposal is meant to deny them.
    pub events: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Size {
    /// The proposed document's characters, whitespace not counted (as IAM counts them).
    pub characters: usize,
    pub managed_limit: usize,
    pub inline_limit: usize,
    pub fits: bool,
    /// Why it does not fit, when it does not even after widening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A policy document rewritten to pin it to the agent, or why it was not.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Pin {
    Pinned {
        subject: String,
        document: Value,
        changes: Vec<String>,
    },
    /// Already pinned to exactly this agent.
    AlreadyPinned { subject: String },
    /// Not rewritten, and why (no document recorded, a platform without a known pin).
    Unchanged { subject: String, reason: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleRecommendation {
    pub role: String,
    /// The role's grants now, one line per statement with where it comes from.
    pub current: Vec<String>,
    pub proposed: IdentityPolicy,
    /// The proposal as an IAM policy document.
    pub document: Value,
    pub size: Size,
    pub trust: Pin,
    /// Unused excess that the proposal drops, each proven or unverified.
    pub removed: Vec<Item>,
    /// Inherited overreach that the proposal replaces with the role's own grant.
    pub narrowed: Vec<Item>,
    pub blast_radius: BlastRadius,
    /// New behavior of risky drift episodes nobody accepted: not granted (accept the
    /// episode to grant it).
    pub withheld: Vec<Withheld>,
    /// Behaviors every call of which AWS refused (access denied): attempted, not granted
    /// now, and not added. `call on resource` → its calls.
    pub refused: BTreeMap<String, u64>,
    /// What the configuration implies that the proposal could not grant, and why.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentRecommendation {
    pub agent: AgentRef,
    pub observed_from: Option<Timestamp>,
    pub observed_until: Option<Timestamp>,
    pub observed_days: i64,
    pub roles: Vec<RoleRecommendation>,
    /// Resource policies of the agent's action-group functions, pinned to it.
    pub resource_policies: Vec<Pin>,
    /// For an agent a probe watched: its egress allowlist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<EgressRecommendation>,
    /// For an agent whose syscalls a probe recorded: its seccomp envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<SeccompRecommendation>,
    /// For a GCP agent: a custom role per identity it acts as.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gcp_roles: Vec<CustomRole>,
    /// What could not be judged, and why.
    pub notes: Vec<String>,
}

/// The ARN Bedrock names as `aws:SourceArn` when it acts for this agent.
fn agent_arn(agent: &AgentRef) -> String {
    format!(
        "arn:aws:bedrock:{}:{}:agent/{}",
        agent.location, agent.scope, agent.id
    )
}

/// A parsed document's own JSON, or why there is none to rewrite.
fn document_text(subject: &str, document: &Document) -> Result<Value, EnforcerError> {
    let unusable = |reason: String| EnforcerError::Unusable {
        subject: subject.to_string(),
        reason,
    };
    match document {
        Document::Parsed { document } => match &document.text {
            Some(text) => {
                serde_json::from_str(text).map_err(|e| unusable(format!("its text is not JSON: {e}")))
            }
            None => Err(unusable(
                "it was recorded before agentward kept documents whole; rescan the identity source to record it again".into(),
            )),
        },
        Document::Unreadable { reason } => Err(unusable(format!("it could not be read ({reason})"))),
    }
}

fn pin_of(
    subject: &str,
    document: Option<&Document>,
    action: &str,
    agent: &AgentRef,
) -> Result<Pin, EnforcerError> {
    let Some(document) = document else {
        return Ok(Pin::Unchanged {
            subject: subject.to_string(),
            reason: "no document of it was ever recorded".into(),
        });
    };
    let value = match document_text(subject, document) {
        Ok(v) => v,
        Err(EnforcerError::Unusable { reason, .. }) => {
            return Ok(Pin::Unchanged {
                subject: subject.to_string(),
                reason,
            });
        }
        Err(e) => return Err(e),
    };
    let p = trust::pinned_for(
        &value,
        "bedrock.amazonaws.com",
        action,
        &agent_arn(agent),
        &agent.scope,
    )?;
    Ok(if p.changes.is_empty() {
        if !trust::allows_any(&value, "bedrock.amazonaws.com", action) {
            Pin::Unchanged {
                subject: subject.to_string(),
                reason: format!("no statement allows {action} to bedrock.amazonaws.com"),
            }
        } else {
            Pin::AlreadyPinned {
                subject: subject.to_string(),
            }
        }
    } else {
        Pin::Pinned {
            subject: subject.to_string(),
            document: p.document,
            changes: p.changes,
        }
    })
}

/// The role's grants as one line per statement: `source: Allow … on …`.
fn current_grants(role: Option<&DeclaredRole>, declared: &DeclaredIdentity) -> Vec<String> {
    let Some(role) = role else {
        return vec![
            "(no declaration of this role was ever recorded: its grants are unknown)".into(),
        ];
    };
    let describe = |source: &str, doc: Option<&Document>| -> Vec<String> {
        match doc {
            Some(Document::Parsed { document }) => document
                .statements
                .iter()
                .map(|s| format!("{source}: {}", s.describe()))
                .collect(),
            Some(Document::Unreadable { reason }) => {
                vec![format!("{source}: unreadable ({reason})")]
            }
            None => vec![format!(
                "{source}: attached, its document never recorded (grants unknown)"
            )],
        }
    };
    let mut out = Vec::new();
    for (name, doc) in &role.inline {
        out.extend(describe(&format!("inline policy {name}"), Some(&doc.value)));
    }
    for policy in role.managed.keys() {
        let doc = declared
            .policies
            .get(policy)
            .and_then(|p| p.default_document())
            .map(|d| &d.value);
        let kind = if is_aws_managed(policy) {
            "AWS-managed"
        } else {
            "managed"
        };
        out.extend(describe(&format!("{kind} {policy}"), doc));
    }
    if let Some(boundary) = &role.boundary {
        out.push(format!("permissions boundary {}", boundary.value));
    }
    out
}

fn size_of(document: &Value) -> Size {
    // serde_json writes no whitespace outside strings: the count IAM makes.
    let characters = document.to_string().chars().count();
    Size {
        characters,
        managed_limit: MANAGED_POLICY_LIMIT,
        inline_limit: ROLE_INLINE_LIMIT,
        fits: characters <= MANAGED_POLICY_LIMIT,
        problem: None,
    }
}

/// An IAM role's ARN (in any AWS partition).
fn is_aws_role(role: &str) -> bool {
    role.starts_with("arn:aws") && role.contains(":iam::") && role.contains(":role/")
}

/// Whether `role` is the agent's own (its configuration's) role on Bedrock Agents.
fn is_agent_role(role: &str, input: &Input<'_>) -> bool {
    input.baseline.agent.provider == normalizer::Provider::Aws
        && input
            .inventory
            .and_then(|i| i.role.as_ref())
            .is_some_and(|r| normalizer::identity::role_key(&r.value) == role)
}

/// The role's grants now as the evaluator takes them.
struct Current {
    policies: Vec<Policy>,
    /// Its permissions boundary: what it may be granted at most.
    boundary: Option<Policy>,
}

/// The role's grants now, or the first document that cannot be used.
fn current_policies(
    role_key: &str,
    role: Option<&DeclaredRole>,
    declared: &DeclaredIdentity,
) -> Result<Current, EnforcerError> {
    let role = role.ok_or_else(|| EnforcerError::Unusable {
        subject: role_key.to_string(),
        reason: "no declaration of the role was ever recorded".into(),
    })?;
    let parse = |name: &str, doc: Option<&Document>| -> Result<Policy, EnforcerError> {
        let doc = doc.ok_or_else(|| EnforcerError::Unusable {
            subject: name.to_string(),
            reason: "its document was never recorded".into(),
        })?;
        Policy::parse(name, &document_text(name, doc)?)
    };
    let managed = |arn: &str| {
        declared
            .policies
            .get(arn)
            .and_then(|p| p.default_document())
            .map(|d| &d.value)
    };
    let mut policies = Vec::new();
    for (name, doc) in &role.inline {
        policies.push(parse(name, Some(&doc.value))?);
    }
    for arn in role.managed.keys() {
        policies.push(parse(arn, managed(arn))?);
    }
    let boundary = match &role.boundary {
        Some(b) => Some(parse(&b.value, managed(&b.value))?),
        None => None,
    };
    Ok(Current { policies, boundary })
}

/// `arn` of a model as the agent's configuration names it: an ARN as it is, an inference
/// profile (`us.…`, `eu.…`, `apac.…`, `global.…`) in the agent's account, else a
/// foundation model.
fn model_arn(model: &str, agent: &AgentRef) -> String {
    if model.starts_with("arn:") {
        return model.to_string();
    }
    let profile = ["us.", "eu.", "apac.", "us-gov.", "global."]
        .iter()
        .any(|p| model.starts_with(p));
    if profile {
        format!(
            "arn:aws:bedrock:{}:{}:inference-profile/{model}",
            agent.location, agent.scope
        )
    } else {
        format!(
            "arn:aws:bedrock:{}::foundation-model/{model}",
            agent.location
        )
    }
}

/// What the agent's own role needs by its configuration though no log of the window shows
/// the calls: its declared model (InvokeModel) and its knowledge bases (Retrieve). Each not
/// already covered is added as `inferred`, with the fact, when the role is granted it now;
/// otherwise it is a note (a proposal never grants more than the role has).
fn infer(
    policy: &mut IdentityPolicy,
    inventory: &AgentInventory,
    agent: &AgentRef,
    current: &Result<Current, EnforcerError>,
) -> Vec<String> {
    let source = |p: &normalizer::Provenance| format!("{} {}", p.record.source, p.record.object);
    let mut wanted = Vec::new();
    if let Some(m) = &inventory.declared_model {
        let fact = format!("{} names the model {}", source(&m.provenance), m.value);
        wanted.push((
            "bedrock:InvokeModel",
            model_arn(&m.value, agent),
            fact,
            m.since,
        ));
    }
    for kb in &inventory.knowledge_bases {
        let arn = format!(
            "arn:aws:bedrock:{}:{}:knowledge-base/{}",
            agent.location, agent.scope, kb.value
        );
        let fact = format!(
            "{} associates the knowledge base {}",
            source(&kb.provenance),
            kb.value
        );
        wanted.push(("bedrock:Retrieve", arn, fact, kb.since));
    }
    let mut notes = Vec::new();
    for (action, arn, fact, since) in wanted {
        let covered = policy.statements.iter().any(|s| {
            s.actions.iter().any(|a| a.eq_ignore_ascii_case(action))
                && s.resources
                    .iter()
                    .any(|r| normalizer::policy::glob(r, &arn, false))
        });
        if covered {
            continue;
        }
        match granted_now(current, action, &arn) {
            Ok(true) => {
                let n = policy.statements.iter().filter(|s| s.basis != Basis::Observed).count();
                policy.statements.push(inferred_statement(n + 1, action, arn, fact, since));
            }
            Ok(false) => notes.push(format!(
                "{fact}, but no call of {action} on {arn} was recorded and the role is not granted it now: nothing is added (a call to it would be denied today)"
            )),
            Err(why) => notes.push(format!(
                "{fact}, but no call of {action} on {arn} was recorded and the role's current grants could not be evaluated ({why}): nothing is added; unverified"
            )),
        }
    }
    notes
}

fn granted_now(
    current: &Result<Current, EnforcerError>,
    action: &str,
    arn: &str,
) -> Result<bool, EnforcerError> {
    let current = current.as_ref().map_err(Clone::clone)?;
    let context = Default::default();
    let request = crate::eval::Request {
        action,
        resource: arn,
        context: &context,
    };
    let by_identity = crate::eval::evaluate(&current.policies, &request).allowed();
    let by_boundary = current
        .boundary
        .as_ref()
        .is_none_or(|b| crate::eval::evaluate(std::slice::from_ref(b), &request).allowed());
    Ok(by_identity && by_boundary)
}

fn inferred_statement(
    n: usize,
    action: &str,
    arn: String,
    fact: String,
    since: Timestamp,
) -> Statement {
    let name: String = action.chars().filter(char::is_ascii_alphanumeric).collect();
    Statement {
        sid: format!("Inferred{n}{name}"),
        actions: vec![action.to_string()],
        resources: vec![arn],
        resource_unnamed: false,
        widened: Vec::new(),
        trace: Trace {
            behaviors: Vec::new(),
            events: 0,
            first: since,
            last: since,
            windows: Default::default(),
        },
        confidence: Confidence {
            level: Level::Review,
            windows_seen: 0,
            windows_observed: 0,
        },
        basis: Basis::Inferred { fact },
        conditions: BTreeMap::new(),
    }
}

/// The role's trust policy pinned to the agent when it is the agent's own role on Bedrock
/// Agents; left as it is, and why, otherwise.
fn trust_of(
    role: &str,
    declared_role: Option<&DeclaredRole>,
    input: &Input<'_>,
) -> Result<Pin, EnforcerError> {
    let is_agent_role = is_agent_role(role, input);
    if is_agent_role && input.inventory.is_some_and(|i| i.platform.is_none()) {
        let doc = declared_role
            .and_then(|r| r.trust.as_ref())
            .map(|t| &t.value);
        return pin_of(role, doc, "sts:AssumeRole", &input.baseline.agent);
    }
    Ok(Pin::Unchanged {
        subject: role.to_string(),
        reason: if is_agent_role {
            "the agent runs on a platform whose aws:SourceArn is not known to agentward; its trust is left as it is".into()
        } else {
            "not the agent's own role (Bedrock does not assume it for the agent); its trust is left as it is".into()
        },
    })
}

/// The role's observed behaviors the proposal is derived from: all but those AWS refused
/// every call of, and the new behavior of a risky drift episode nobody accepted (withheld,
/// by behavior). An unclassified
/// episode's is kept and noted, since withholding what may be a use the agent always had
/// breaks it.
fn derivable<'a>(
    role: &'a str,
    input: &'a Input<'_>,
    refused: &BTreeMap<String, u64>,
    withheld: &mut BTreeMap<String, Withheld>,
    notes: &mut Vec<String>,
) -> Vec<Observed<'a>> {
    let open = open_departures(input.episodes);
    observed_as(role, input.baseline.behaviors())
        .filter(|o| {
            let behavior = format!("{} on {}", o.call, o.resource);
            if refused.contains_key(&behavior) {
                return false;
            }
            let Some(episode) = withholding(&open, o.call, o.resource) else {
                return true;
            };
            if episode.class != DriftClass::RiskyDrift {
                notes.push(format!(
                    "{behavior} is granted, but it first appeared in episode {} ({}), which nobody reviewed: review it (agentward drift) before enforcing",
                    episode.uid,
                    episode.class.label()
                ));
                return true;
            }
            withheld.insert(
                behavior.clone(),
                Withheld {
                    behavior,
                    episode: episode.uid.clone(),
                    class: episode.class.label().to_string(),
                    events: 0,
                },
            );
            false
        })
        .collect()
}

/// The role's calls replayed against `policy`; a withheld behavior's calls are counted on
/// it instead, since the proposal is meant to deny them.
fn blast_radius_of(
    role: &str,
    input: &Input<'_>,
    policy: Policy,
    withheld: &mut BTreeMap<String, Withheld>,
    catalog: &Catalog,
) -> BlastRadius {
    let calls = input.calls.get(role).map(Vec::as_slice).unwrap_or_default();
    // What AWS refused was denied for real: it is no part of what the proposal must allow.
    let replayed = calls.iter().copied().filter(|c| {
        if c.refused {
            return false;
        }
        if withheld.is_empty() {
            return true;
        }
        let behavior = format!("{} on {}", c.call, authorized_resource(c));
        match withheld.get_mut(&behavior) {
            Some(w) => {
                w.events += c.count.max(1);
                false
            }
            None => true,
        }
    });
    replay(&[policy], replayed, catalog)
}

fn role_recommendation(
    role: &str,
    input: &Input<'_>,
    catalog: &Catalog,
) -> Result<RoleRecommendation, EnforcerError> {
    let (mut withheld, mut notes) = (BTreeMap::new(), Vec::new());
    let calls = input.calls.get(role).map(Vec::as_slice).unwrap_or_default();
    let refused = refused_behaviors(calls);
    let kept = derivable(role, input, &refused, &mut withheld, &mut notes);
    let windows = input.baseline.events_per_window();
    let mut proposed = identity_policy(role, kept, windows, catalog);
    let declared_role = input.declared.roles.get(role);
    if is_agent_role(role, input)
        && let Some(inventory) = input.inventory
    {
        let current = current_policies(role, declared_role, input.declared);
        let agent = &input.baseline.agent;
        notes.extend(infer(&mut proposed, inventory, agent, &current));
    }
    pin_regions(&mut proposed, calls);
    let problem = compact::fit(&mut proposed, MANAGED_POLICY_LIMIT)
        .err()
        .map(|e| e.to_string());
    let document = proposed.document();
    let policy = Policy::parse("proposed", &document)?;
    let blast_radius = blast_radius_of(role, input, policy, &mut withheld, catalog);
    let items = |axis: Axis| -> Vec<Item> {
        let r = input.reconciliation;
        let of_role = r
            .items
            .iter()
            .filter(|i| i.axis == axis && i.subject == role);
        of_role.cloned().collect()
    };
    Ok(RoleRecommendation {
        role: role.to_string(),
        current: current_grants(declared_role, input.declared),
        size: Size {
            problem,
            ..size_of(&document)
        },
        document,
        proposed,
        trust: trust_of(role, declared_role, input)?,
        removed: items(Axis::UnusedExcess),
        // A trust item is answered by the pin, the others by the proposed policy.
        narrowed: items(Axis::InheritedOverreach),
        blast_radius,
        withheld: withheld.into_values().collect(),
        refused,
        notes,
    })
}

/// Services whose calls go to one global endpoint, or whose `aws:RequestedRegion` is not
/// the region CloudTrail records for the call (S3 logs the bucket's): no region condition.
const NOT_REGIONAL: &[&str] = &[
    "iam",
    "sts",
    "s3",
    "organizations",
    "cloudfront",
    "route53",
    "globalaccelerator",
    "support",
];

/// Pins each observed statement to the regions all its calls were made in
/// (`aws:RequestedRegion`), where every call's region is recorded and its service is
/// regional; the replay then checks the condition against every call.
fn pin_regions(policy: &mut IdentityPolicy, calls: &[Call<'_>]) {
    let mut regions: BTreeMap<String, Option<std::collections::BTreeSet<&str>>> = BTreeMap::new();
    for c in calls.iter().filter(|c| !c.refused) {
        let behavior = format!("{} on {}", c.call, authorized_resource(c));
        let entry = regions
            .entry(behavior)
            .or_insert_with(|| Some(Default::default()));
        match (entry.as_mut(), c.region) {
            (Some(set), Some(r)) => {
                set.insert(r);
            }
            // One call without a region: the behavior cannot be pinned.
            _ => *entry = None,
        }
    }
    for s in policy
        .statements
        .iter_mut()
        .filter(|s| s.basis == Basis::Observed)
    {
        let regional = s.actions.iter().all(|a| {
            let service = a.split(':').next().unwrap_or(a);
            !NOT_REGIONAL.contains(&service)
        });
        let mut all = std::collections::BTreeSet::new();
        let known = regional
            && s.trace.behaviors.iter().all(|b| match regions.get(b) {
                Some(Some(set)) => {
                    all.extend(set.iter().map(|r| r.to_string()));
                    true
                }
                _ => false,
            });
        if known && !all.is_empty() {
            s.conditions
                .entry("StringEquals".into())
                .or_default()
                .insert("aws:RequestedRegion".into(), all.into_iter().collect());
        }
    }
}

/// Behaviors (`call on resource`, as the baseline keys them) every call of which AWS
/// refused, with their calls.
fn refused_behaviors(calls: &[Call<'_>]) -> BTreeMap<String, u64> {
    let mut tally: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for c in calls {
        let behavior = format!("{} on {}", c.call, authorized_resource(c));
        let entry = tally.entry(behavior).or_default();
        entry.0 += c.count.max(1);
        if c.refused {
            entry.1 += c.count.max(1);
        }
    }
    tally
        .into_iter()
        .filter(|(_, (all, refused))| all == refused)
        .map(|(behavior, (all, _))| (behavior, all))
        .collect()
}

/// The allowlist of the agent's observed connections, risky drift withheld, and its replay.
fn egress_of(input: &Input<'_>) -> Option<EgressRecommendation> {
    if input.connections.is_empty() {
        return None;
    }
    let open = open_departures(input.episodes);
    let risky = |call: &str, endpoint: &str| {
        withholding(&open, call, endpoint)
            .filter(|e| e.class == DriftClass::RiskyDrift)
            .map(|e| (e.uid.clone(), e.class.label().to_string()))
    };
    let allowlist = egress::allowlist(input.connections.iter().copied(), risky);
    let kept = input
        .connections
        .iter()
        .copied()
        .filter(|c| risky(c.call, c.endpoint).is_none());
    let replay = allowlist.replay(kept);
    Some(EgressRecommendation { allowlist, replay })
}

fn seccomp_of(input: &Input<'_>) -> Option<SeccompRecommendation> {
    if input.syscalls.is_empty() {
        return None;
    }
    let window_ms = input.baseline.config.window_ms;
    let syscalls = input.syscalls.iter().copied();
    let envelope = seccomp::envelope(syscalls.clone(), input.class, window_ms);
    let replay = envelope.replay(syscalls);
    Some(SeccompRecommendation { envelope, replay })
}

/// The departures of the episodes that are findings: not an evolution, not accepted.
fn open_departures(episodes: &[Episode]) -> Vec<(&Behavior, &Episode)> {
    episodes
        .iter()
        .filter(|e| e.class != DriftClass::Evolution && !e.accepted)
        .flat_map(|e| {
            e.departures.iter().filter_map(move |d| match d {
                Departure::NewBehavior { behavior, .. } => Some((behavior, e)),
                Departure::Volume { .. } => None,
            })
        })
        .collect()
}

/// The open episode whose new behavior a call kind is: the same action as a role, on the
/// same resource, or an action never done before at all.
fn withholding<'e>(
    open: &[(&Behavior, &'e Episode)],
    call: &str,
    resource: &str,
) -> Option<&'e Episode> {
    open.iter()
        .find(|(b, _)| match b {
            Behavior::ActionAs {
                action,
                resource: r,
                ..
            }
            | Behavior::ActionOn {
                action,
                resource: r,
            } => action == call && r == resource,
            Behavior::Action { action } => action == call,
            Behavior::Model { .. } | Behavior::Role { .. } => false,
        })
        .map(|(_, e)| *e)
}

/// The resource a call is authorized against, as the baseline keys it: the most specific
/// one it names (the object, not its bucket), generalized; `*` when it names none.
fn authorized_resource(call: &Call<'_>) -> String {
    let arns: Vec<&str> = call.resources.iter().map(|r| r.arn.as_str()).collect();
    arns.iter()
        .find(|a| {
            !arns
                .iter()
                .any(|o| o.len() > a.len() && o.starts_with(**a) && o.as_bytes()[a.len()] == b'/')
        })
        .map_or_else(|| "*".to_string(), |a| generalize(a))
}

/// One agent's recommendation.
pub fn recommend(
    input: &Input<'_>,
    catalog: &Catalog,
) -> Result<AgentRecommendation, EnforcerError> {
    let r = input.reconciliation;
    let mut notes = r.notes.clone();
    // Only AWS roles get an AWS policy; other identities are said, not guessed at.
    let (aws, other): (Vec<&String>, Vec<&String>) =
        r.roles.iter().partition(|role| is_aws_role(role));
    for identity in other {
        notes.push(format!(
            "{identity}: least-privilege roles for {} identities are not built yet; its grants are shown by `agentward reconcile`",
            input.baseline.agent.provider.as_str()
        ));
    }
    let roles = aws
        .into_iter()
        .map(|role| role_recommendation(role, input, catalog))
        .collect::<Result<Vec<_>, _>>()?;
    let mut resource_policies = Vec::new();
    if let Some(inventory) = input.inventory {
        for function in inventory.lambda_functions() {
            let doc = input
                .declared
                .functions
                .get(&function)
                .and_then(|f| f.policy.as_ref())
                .map(|p| &p.value);
            resource_policies.push(pin_of(
                &function,
                doc,
                "lambda:InvokeFunction",
                &input.baseline.agent,
            )?);
        }
    }
    let gcp_roles = gcp_role::custom_roles(input.granted.iter().copied());
    if !gcp_roles.is_empty() {
        notes.push(match input.inventory.and_then(|i| i.identity_grants.as_ref()) {
            Some(_) if r.unused_not_judged.is_none() => "the custom roles replace the identities' current roles once applied: `agentward reconcile` lists each of those with its evidence".into(),
            Some(_) => format!("which current roles the custom roles replace is not judged: {}", r.unused_not_judged.as_deref().unwrap_or_default()),
            None => "which current roles the custom roles replace is not judged: the identities' roles were not read (the gcp-api source reads a project's IAM policy)".into(),
        });
    }
    Ok(AgentRecommendation {
        gcp_roles,
        egress: egress_of(input),
        seccomp: seccomp_of(input),
        agent: input.baseline.agent.clone(),
        observed_from: r.observed_from,
        observed_until: r.observed_until,
        observed_days: r.observed_days,
        roles,
        resource_policies,
        notes,
    })
}

#[cfg(test)]
mod tests;
