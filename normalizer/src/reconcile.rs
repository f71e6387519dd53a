//! Declared-vs-observed reconciliation, on two axes, each item with its evidence.
//!
//! - *Unused excess*: granted (a policy statement of a role the agent acts as, a declared
//!   tool) and never exercised over a window long enough to say so. Only judged for agents
//!   observed for at least `min_observed_days`; and where the telemetry that would show the
//!   use is not seen at all, the item says it is unverified rather than claiming it.
//! - *Inherited overreach*: behavior that is allowed only through grants the agent did not
//!   get for itself — wildcard actions or resources, AWS-managed policies, a role shared
//!   with another agent, `NotAction`/`NotResource` — and grants that make whole classes of
//!   behavior exercisable that way.

use crate::baseline::{Baseline, Behavior, Seen};
use crate::identity::{DeclaredIdentity, DeclaredRole, Document, is_aws_managed, role_key};
use crate::inventory::AgentInventory;
use crate::policy::{Effect, Statement, glob, is_read_operation as is_read};
use crate::{AgentRef, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReconcileConfig {
    /// Agents observed for less than this are not judged on unused grants.
    pub min_observed_days: i64,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            min_observed_days: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    UnusedExcess,
    InheritedOverreach,
}

impl Axis {
    pub fn label(self) -> &'static str {
        match self {
            Axis::UnusedExcess => "unused excess",
            Axis::InheritedOverreach => "inherited overreach",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub axis: Axis,
    /// The role (key) or tool the item is about.
    pub subject: String,
    pub title: String,
    /// The grants and the observations that justify it, one per line.
    pub evidence: Vec<String>,
    /// Whether the telemetry that would show a use was seen: `None` when the item does not
    /// depend on it, else why the absence is (or is not) proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
    /// Stable across runs.
    pub uid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub agent: AgentRef,
    pub observed_from: Option<Timestamp>,
    pub observed_until: Option<Timestamp>,
    pub observed_days: i64,
    /// Why unused grants were not judged, when they were not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unused_not_judged: Option<String>,
    /// The roles the agent acts as, or is declared to run as.
    pub roles: Vec<String>,
    pub items: Vec<Item>,
    /// What could not be judged, and why (unreadable or unread documents, roles with no
    /// known policy).
    pub notes: Vec<String>,
}

/// A resource a role acted on, how often, and the grants that allow it.
type Use<'a, 'g> = (&'a str, &'a Seen, Vec<&'g Grant<'g>>);

/// A statement with where it comes from.
struct Grant<'a> {
    /// `inline policy NAME` or the managed policy ARN.
    source: String,
    statement: &'a Statement,
    /// Why it is inherited rather than the role's own precise grant, if it is.
    inherited: Option<String>,
}

fn statements_of(
    role: &DeclaredRole,
    declared: &DeclaredIdentity,
    notes: &mut Vec<String>,
) -> Vec<(String, Vec<Statement>, Option<String>)> {
    let mut out = Vec::new();
    let attachments = declared.attachments();
    for (name, doc) in &role.inline {
        match &doc.value {
            Document::Parsed { document } => out.push((
                format!("inline policy {name}"),
                document.statements.clone(),
                None,
            )),
            Document::Unreadable { reason } => notes.push(format!(
                "{}: inline policy {name} could not be read ({reason}); its grants are not judged",
                role.arn
            )),
        }
    }
    for policy in role.managed.keys() {
        let aws = is_aws_managed(policy);
        let document = declared
            .policies
            .get(policy)
            .and_then(|p| p.default_document());
        if aws && document.is_none() {
            continue; // the caller reports it: AWS's document is not in the account's logs
        }
        // Whatever an AWS-managed policy grants, the agent got it by inheritance.
        let shared = if aws {
            Some("AWS-managed policy".to_string())
        } else {
            attachments
                .get(policy.as_str())
                .filter(|roles| roles.len() > 1)
                .map(|roles| format!("customer-managed policy shared by {} roles", roles.len()))
        };
        match document {
            Some(doc) => match &doc.value {
                Document::Parsed { document } => {
                    out.push((policy.clone(), document.statements.clone(), shared))
                }
                Document::Unreadable { reason } => notes.push(format!(
                    "{}: managed policy {policy} could not be read ({reason}); its grants are not judged",
                    role.arn
                )),
            },
            None => notes.push(format!(
                "{}: managed policy {policy} is attached but its document was never seen (created before the logs begin); its grants are not judged",
                role.arn
            )),
        }
    }
    out
}

fn uid(agent: &AgentRef, axis: Axis, subject: &str, what: &str) -> String {
    format!(
        "agentward:reconcile:{}:{}:{subject}:{what}",
        agent.key(),
        match axis {
            Axis::UnusedExcess => "unused",
            Axis::InheritedOverreach => "overreach",
        }
    )
}

/// Reconciles one agent. `inventory` is the agent's declared configuration (role, tools)
/// if known; `role_users` says, for every role, which agents were seen acting as it.
pub fn reconcile(
    baseline: &Baseline,
    inventory: Option<&AgentInventory>,
    declared: &DeclaredIdentity,
    role_users: &BTreeMap<String, BTreeSet<AgentRef>>,
    config: &ReconcileConfig,
) -> Reconciliation {
    let agent = baseline.agent.clone();
    let (from, until) = (baseline.first_event(), baseline.last_event());
    let observed_days = match (from, until) {
        (Some(f), Some(u)) => (u.millis() - f.millis()) / Timestamp::MS_PER_DAY + 1,
        _ => 0,
    };
    let unused_not_judged = (observed_days < config.min_observed_days).then(|| {
        format!(
            "observed for {observed_days} days, fewer than the {} needed before a grant can be called unused",
            config.min_observed_days
        )
    });

    // What the agent did, as which role.
    let mut calls: BTreeMap<&str, Vec<(&str, &str, &Seen)>> = BTreeMap::new();
    // (service, is a read) pairs this agent's recorded calls cover.
    let mut services_seen: BTreeSet<(&str, bool)> = BTreeSet::new();
    let mut invoked: BTreeSet<&str> = BTreeSet::new();
    for (behavior, seen) in baseline.behaviors() {
        match behavior {
            Behavior::ActionAs {
                role,
                action,
                resource,
            } => calls.entry(role.as_str()).or_default().push((
                action.as_str(),
                resource.as_str(),
                seen,
            )),
            Behavior::Action { action } => {
                let (service, operation) = action.split_once(':').unwrap_or((action, ""));
                services_seen.insert((service, is_read(operation)));
            }
            Behavior::ActionOn { action, resource } if action == "lambda:Invoke" => {
                invoked.insert(resource.as_str());
            }
            _ => {}
        }
    }
    for list in calls.values_mut() {
        list.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    }
    let mut roles: BTreeSet<String> = calls.keys().map(|r| r.to_string()).collect();
    if let Some(r) = inventory.and_then(|i| i.role.as_ref()) {
        roles.insert(role_key(&r.value));
    }

    let mut items = Vec::new();
    let mut notes = Vec::new();
    for role_arn in &roles {
        let role_calls = calls.get(role_arn.as_str()).cloned().unwrap_or_default();
        let Some(role) = declared.roles.get(role_arn) else {
            notes.push(format!(
                "{role_arn}: no policy of this role was seen (created before the logs begin); its grants are not judged"
            ));
            continue;
        };
        let sources = statements_of(role, declared, &mut notes);
        let aws_managed: Vec<&String> = role.managed.keys().filter(|p| is_aws_managed(p)).collect();
        let others: Vec<&AgentRef> = role_users
            .get(role_arn)
            .map(|users| users.iter().filter(|a| a.key() != agent.key()).collect())
            .unwrap_or_default();
        let shared = (!others.is_empty()).then(|| {
            format!(
                "role shared with {}",
                others
                    .iter()
                    .map(|a| a.key())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let grants: Vec<Grant> = sources
            .iter()
            .flat_map(|(source, statements, shared_policy)| {
                statements.iter().map(move |s| (source, s, shared_policy))
            })
            .map(|(source, statement, shared_policy)| Grant {
                source: source.clone(),
                statement,
                inherited: statement
                    .breadth()
                    .or_else(|| shared_policy.clone())
                    .or_else(|| shared.clone()),
            })
            .collect();

        if let Some(why) = &shared {
            items.push(Item {
                axis: Axis::InheritedOverreach,
                subject: role_arn.clone(),
                title: format!("{why}: everything this role may do, the other agents may do too"),
                evidence: others
                    .iter()
                    .map(|a| format!("{} was seen acting as {role_arn}", a.key()))
                    .collect(),
                proof: None,
                uid: uid(&agent, Axis::InheritedOverreach, role_arn, "shared-role"),
            });
        }
        for policy in &aws_managed {
            let since = &role.managed[policy.as_str()];
            let read = declared
                .policies
                .get(policy.as_str())
                .and_then(|p| Some((p.default_version.clone()?, p.default_document()?)));
            let document_line = match read {
                Some((version, doc)) => match &doc.value {
                    Document::Parsed { document } => format!(
                        "its document ({version}, read {} from {}) grants: {}",
                        doc.since,
                        doc.provenance.record.source,
                        document
                            .statements
                            .iter()
                            .map(Statement::describe)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    Document::Unreadable { reason } => {
                        format!("its document ({version}) could not be read: {reason}")
                    }
                },
                None => "its document is maintained by AWS and is not in the account's logs; the IAM API (GetPolicyVersion) shows it".into(),
            };
            items.push(Item {
                axis: Axis::InheritedOverreach,
                subject: role_arn.clone(),
                title: format!(
                    "AWS-managed policy {} attached: the agent can do whatever AWS puts in it",
                    policy.rsplit('/').next().unwrap_or(policy)
                ),
                evidence: vec![
                    format!(
                        "attached {} ({} {} #{})",
                        since.since,
                        since.provenance.record.source,
                        since.provenance.record.object,
                        since.provenance.record.index
                    ),
                    document_line,
                ],
                proof: None,
                uid: uid(&agent, Axis::InheritedOverreach, role_arn, policy),
            });
        }

        // Inherited overreach: behavior no precise grant of the role's own covers.
        let mut by_action: BTreeMap<&str, Vec<Use>> = BTreeMap::new();
        for (action, resource, seen) in &role_calls {
            let allowing: Vec<&Grant> = grants
                .iter()
                .filter(|g| g.statement.effect == Effect::Allow)
                .filter(|g| {
                    g.statement.covers_action(action)
                        && (*resource == "*" || g.statement.covers_resource(resource))
                })
                .collect();
            if allowing.iter().any(|g| g.inherited.is_none()) {
                continue;
            }
            by_action
                .entry(action)
                .or_default()
                .push((resource, seen, allowing));
        }
        for (action, uses) in by_action {
            let calls_total: u64 = uses.iter().map(|(_, s, _)| s.count).sum();
            let mut evidence: Vec<String> = uses
                .iter()
                .map(|(resource, seen, _)| {
                    format!(
                        "{} calls on {resource}, {} → {}",
                        crate::thousands(seen.count),
                        seen.first.utc_date(),
                        seen.last.utc_date()
                    )
                })
                .collect();
            let mut through: BTreeSet<String> = BTreeSet::new();
            for (_, _, allowing) in &uses {
                for g in allowing {
                    through.insert(format!(
                        "{}: {} ({})",
                        g.source,
                        g.statement.describe(),
                        g.inherited.as_deref().unwrap_or("")
                    ));
                }
            }
            through.extend(
                aws_managed
                    .iter()
                    .filter(|p| !declared.policies.contains_key(p.as_str()))
                    .map(|p| format!("{p} (AWS-managed; its document is not read)")),
            );
            if through.is_empty() {
                notes.push(format!(
                    "{role_arn}: {action} ({} calls) is covered by no grant agentward has seen; the grant predates the logs",
                    crate::thousands(calls_total)
                ));
                continue;
            }
            evidence.extend(
                through
                    .into_iter()
                    .map(|t| format!("allowed only through {t}")),
            );
            items.push(Item {
                axis: Axis::InheritedOverreach,
                subject: role_arn.clone(),
                title: format!(
                    "{action} ({} calls) is exercised only through inherited grants",
                    crate::thousands(calls_total)
                ),
                evidence,
                proof: None,
                uid: uid(&agent, Axis::InheritedOverreach, role_arn, action),
            });
        }

        // Unused excess: each action a statement grants, never exercised as this role.
        if unused_not_judged.is_some() {
            continue;
        }
        for g in grants
            .iter()
            .filter(|g| g.statement.effect == Effect::Allow)
        {
            if g.statement.not_action {
                continue; // reported as overreach by breadth, not enumerable here
            }
            for pattern in &g.statement.actions {
                let used: BTreeSet<&str> = role_calls
                    .iter()
                    .filter(|(action, resource, _)| {
                        glob(pattern, action, true)
                            && (*resource == "*" || g.statement.covers_resource(resource))
                    })
                    .map(|(action, _, _)| *action)
                    .collect();
                let wildcard = pattern.contains('*') || pattern.contains('?');
                if !used.is_empty() && !wildcard {
                    continue;
                }
                let (service, operation) = pattern.split_once(':').unwrap_or((pattern, "*"));
                let read = is_read(operation);
                let kind = if read { "read" } else { "write" };
                let proof = if service == "*" || services_seen.contains(&(service, read)) {
                    format!(
                        "proven: this agent's {service} {kind} calls are recorded ({observed_days} days observed)"
                    )
                } else if services_seen.iter().any(|(s, _)| *s == service) {
                    format!(
                        "unverified: this agent's {service} calls are recorded, but no {kind} call ever was; if the trail logs only {} events, unused cannot be told from unlogged",
                        if read { "write" } else { "read" }
                    )
                } else {
                    format!(
                        "unverified: no {service} call by this agent was ever recorded; if the trail does not log them (data events off), unused cannot be told from unlogged"
                    )
                };
                let (title, what) = if used.is_empty() {
                    (
                        format!(
                            "{pattern} on {} granted, never exercised in {observed_days} days",
                            g.statement.resources.join(", ")
                        ),
                        pattern.clone(),
                    )
                } else {
                    (
                        format!(
                            "{pattern} granted, only {} used in {observed_days} days",
                            used.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                        format!("{pattern}-partial"),
                    )
                };
                items.push(Item {
                    axis: Axis::UnusedExcess,
                    subject: role_arn.clone(),
                    title,
                    evidence: vec![format!("{}: {}", g.source, g.statement.describe())],
                    proof: Some(proof),
                    uid: uid(&agent, Axis::UnusedExcess, role_arn, &what),
                });
            }
        }
    }

    // Declared tools never invoked.
    if unused_not_judged.is_none()
        && let Some(inv) = inventory
    {
        for tool in &inv.tools {
            let Some(executor) = tool.value.executor.as_deref() else {
                continue;
            };
            if !executor.starts_with("arn:aws:lambda:") || invoked.contains(executor) {
                continue;
            }
            items.push(Item {
                axis: Axis::UnusedExcess,
                subject: tool.value.name.clone(),
                title: format!(
                    "tool {} declared since {}, never invoked in {observed_days} days",
                    tool.value.name,
                    tool.since.utc_date()
                ),
                evidence: vec![format!("executor {executor}")],
                proof: Some(if invoked.is_empty() {
                    "unverified: no Lambda invocation of this agent was ever recorded (Lambda data events may be off)".into()
                } else {
                    "proven: this agent's other tool invocations are recorded".into()
                }),
                uid: uid(&agent, Axis::UnusedExcess, &tool.value.name, "tool"),
            });
        }
    }

    if let Some(inv) = inventory {
        items.extend(deputy_items(&agent, inv, declared));
    }

    items.sort_by(|a, b| (a.axis, &a.uid).cmp(&(b.axis, &b.uid)));
    Reconciliation {
        agent,
        observed_from: from,
        observed_until: until,
        observed_days,
        unused_not_judged,
        roles: roles.into_iter().collect(),
        items,
        notes,
    }
}

/// An agent known from its configuration but never seen acting: only what its declared
/// identities expose can be judged.
pub fn declared_only(inventory: &AgentInventory, declared: &DeclaredIdentity) -> Reconciliation {
    let agent = inventory.agent.clone();
    let mut items = deputy_items(&agent, inventory, declared);
    items.sort_by(|a, b| (a.axis, &a.uid).cmp(&(b.axis, &b.uid)));
    Reconciliation {
        observed_from: None,
        observed_until: None,
        observed_days: 0,
        unused_not_judged: Some(
            "no event of this agent was ever recorded: unused grants cannot be judged".into(),
        ),
        roles: inventory.role.iter().map(|r| role_key(&r.value)).collect(),
        items,
        notes: Vec::new(),
        agent,
    }
}

/// The Bedrock resource a grant to the Bedrock service should be pinned to.
struct PinTarget {
    /// Its ARN, and a prefix whose ARNs are its own too (an agent's aliases).
    arn: String,
    own_prefix: Option<String>,
    /// `agent`, `knowledge base`.
    noun: &'static str,
}

impl PinTarget {
    fn agent(agent: &AgentRef) -> PinTarget {
        PinTarget {
            arn: format!(
                "arn:aws:bedrock:{}:{}:agent/{}",
                agent.location, agent.scope, agent.id
            ),
            own_prefix: Some(format!(
                "arn:aws:bedrock:{}:{}:agent-alias/{}/",
                agent.location, agent.scope, agent.id
            )),
            noun: "agent",
        }
    }

    fn knowledge_base(agent: &AgentRef, id: &str) -> PinTarget {
        PinTarget {
            arn: format!(
                "arn:aws:bedrock:{}:{}:knowledge-base/{id}",
                agent.location, agent.scope
            ),
            own_prefix: None,
            noun: "knowledge base",
        }
    }

    fn fix(&self) -> String {
        format!(
            "add Condition {{\"ArnLike\": {{\"aws:SourceArn\": \"{}\"}}}}",
            self.arn
        )
    }
}

/// How far a grant to the Bedrock service reaches beyond `target`, or `None` when it is
/// pinned to it (its ARN, or for an agent its aliases') by `aws:SourceArn`.
fn unpinned_reach(statement: &Statement, target: &PinTarget) -> Option<String> {
    let noun = target.noun;
    let anyone = statement.principals.iter().any(|p| p == "*");
    let arns: Vec<&str> = statement
        .source_pins
        .iter()
        .filter_map(|p| p.strip_prefix("aws:sourcearn="))
        .collect();
    let accounts: Vec<&str> = statement
        .source_pins
        .iter()
        .filter_map(|p| p.strip_prefix("aws:sourceaccount="))
        .collect();
    if !arns.is_empty() {
        // Pinned to the target when no pin reaches another resource's ARN.
        let reaches_others = arns.iter().any(|pin| {
            let exact = *pin == target.arn
                || target
                    .own_prefix
                    .as_deref()
                    .is_some_and(|prefix| pin.starts_with(prefix));
            !exact && (glob(pin, &target.arn, false) || pin.contains('*') || pin.contains('?'))
        });
        return reaches_others.then(|| {
            format!(
                "any {noun} whose ARN matches {} (aws:SourceArn is a pattern)",
                arns.join(" or ")
            )
        });
    }
    if !accounts.is_empty() {
        return Some(format!(
            "any Bedrock {noun} of account {} (pinned by aws:SourceAccount only)",
            accounts.join(", ")
        ));
    }
    Some(if anyone {
        "anyone (Principal \"*\" with no aws:SourceArn condition)".to_string()
    } else {
        format!(
            "any Bedrock {noun} in any account (no aws:SourceArn or aws:SourceAccount condition)"
        )
    })
}

/// Confused-deputy exposure of the identities behind an agent: the agent role's trust
/// policy and each action-group function's resource policy, when they let the Bedrock
/// service act for callers other than this agent.
fn deputy_items(agent: &AgentRef, inv: &AgentInventory, declared: &DeclaredIdentity) -> Vec<Item> {
    let mut items = Vec::new();
    let own = PinTarget::agent(agent);
    let fix = own.fix();
    let bedrock_grants = |doc: &crate::identity::Document,
                          action: &str,
                          target: &PinTarget|
     -> Vec<(String, String)> {
        let crate::identity::Document::Parsed { document } = doc else {
            return Vec::new();
        };
        document
            .statements
            .iter()
            .filter(|st| st.effect == Effect::Allow && st.covers_action(action))
            .filter(|st| {
                st.principals
                    .iter()
                    .any(|p| p == "*" || p == "service:bedrock.amazonaws.com")
            })
            .filter_map(|st| {
                unpinned_reach(st, target)
                    .map(|reach| (st.sid.clone().unwrap_or_else(|| "(no Sid)".into()), reach))
            })
            .collect()
    };
    if let Some(role) = &inv.role {
        let key = role_key(&role.value);
        if let Some(trust) = declared.roles.get(&key).and_then(|r| r.trust.as_ref()) {
            for (sid, reach) in bedrock_grants(&trust.value, "sts:AssumeRole", &own) {
                items.push(Item {
                    axis: Axis::InheritedOverreach,
                    subject: key.clone(),
                    title: format!(
                        "the agent's role can be assumed by Bedrock on behalf of {reach}"
                    ),
                    evidence: vec![
                        format!("trust policy statement {sid} of {key} allows sts:AssumeRole to bedrock.amazonaws.com"),
                        format!("fix: {fix}"),
                    ],
                    proof: None,
                    uid: uid(agent, Axis::InheritedOverreach, &key, &format!("trust:{sid}")),
                });
            }
        }
    }
    for function in inv.lambda_functions() {
        let Some(declared_function) = declared.functions.get(&function) else {
            continue;
        };
        let Some(policy) = &declared_function.policy else {
            continue;
        };
        for (sid, reach) in bedrock_grants(&policy.value, "lambda:InvokeFunction", &own) {
            items.push(Item {
                axis: Axis::InheritedOverreach,
                subject: function.clone(),
                title: format!(
                    "action-group function {} can be invoked through Bedrock by {reach}",
                    function.rsplit(':').next().unwrap_or(&function)
                ),
                evidence: vec![
                    format!(
                        "resource policy statement {sid} of {function} allows lambda:InvokeFunction"
                    ),
                    format!("fix: {fix}"),
                ],
                proof: None,
                uid: uid(
                    agent,
                    Axis::InheritedOverreach,
                    &function,
                    &format!("invoke:{sid}"),
                ),
            });
        }
    }
    // A knowledge base's role reads its sources and index: Bedrock must assume it only
    // for that knowledge base.
    let used: BTreeSet<&String> = inv
        .configs
        .iter()
        .flat_map(|c| c.value.knowledge_bases.iter())
        .collect();
    for kb in inv
        .knowledge_base_configs
        .iter()
        .map(|k| &k.value)
        .filter(|k| used.contains(&k.id))
    {
        let Some(role) = &kb.role else { continue };
        let key = role_key(role);
        let Some(trust) = declared.roles.get(&key).and_then(|r| r.trust.as_ref()) else {
            continue;
        };
        let target = PinTarget::knowledge_base(agent, &kb.id);
        for (sid, reach) in bedrock_grants(&trust.value, "sts:AssumeRole", &target) {
            items.push(Item {
                axis: Axis::InheritedOverreach,
                subject: key.clone(),
                title: format!(
                    "knowledge base {}'s role can be assumed by Bedrock on behalf of {reach}",
                    kb.id
                ),
                evidence: vec![
                    format!("trust policy statement {sid} of {key} allows sts:AssumeRole to bedrock.amazonaws.com"),
                    format!("fix: {}", target.fix()),
                ],
                proof: None,
                uid: uid(agent, Axis::InheritedOverreach, &key, &format!("kb-trust:{sid}")),
            });
        }
    }
    items
}

/// For every role, the agents seen acting as it (from their baselines).
pub fn role_users<'a>(
    baselines: impl IntoIterator<Item = &'a Baseline>,
) -> BTreeMap<String, BTreeSet<AgentRef>> {
    let mut out: BTreeMap<String, BTreeSet<AgentRef>> = BTreeMap::new();
    for b in baselines {
        for (behavior, _) in b.behaviors() {
            if let Behavior::Role { role } = behavior {
                out.entry(role.clone()).or_default().insert(b.agent.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineConfig;
    use crate::event::test_event;
    use crate::identity::{IdentityFact, IdentityHistory, IdentityObservation};
    use crate::{Event, Layer, Principal};
    use serde_json::json;

    const TOOLS: &str = "arn:aws:iam::111122223333:role/tools";

    fn as_role(mut e: Event, role: &str) -> Event {
        e.principal = Principal {
            kind: "AssumedRole".into(),
            issuer: Some(role.into()),
            ..Principal::default()
        };
        e
    }

    fn put(day: i64, agent: &str) -> Event {
        let mut e = as_role(
            test_event(
                day,
                60,
                Layer::IdentityApi,
                "PutObject",
                "arn:aws:s3:::exports/weekly/x",
            ),
            TOOLS,
        );
        e.agent = Some(crate::agent::test_agent(agent, None));
        e
    }

    fn baseline(agent: &str, days: i64) -> Baseline {
        let mut b = Baseline::new(
            crate::agent::test_agent(agent, None),
            BaselineConfig::default(),
        );
        for day in 0..days {
            b.observe(&put(day, agent));
        }
        b
    }

    fn declare(facts: Vec<(&str, IdentityFact)>) -> DeclaredIdentity {
        let mut h = IdentityHistory::default();
        h.merge(
            facts
                .into_iter()
                .enumerate()
                .map(|(i, (subject, fact))| IdentityObservation {
                    time: Timestamp(i as i64),
                    subject: subject.into(),
                    fact,
                    provenance: crate::inventory::test_provenance(i as u64),
                }),
        );
        h.declared_at(Timestamp(i64::MAX))
    }

    fn inline(statements: serde_json::Value) -> IdentityFact {
        IdentityFact::InlinePolicy {
            name: "data".into(),
            document: Document::from_value(&json!({ "Statement": statements })),
        }
    }

    /// Reconciles an agent alone in its account, with the default window.
    fn judge(b: &Baseline, declared: &DeclaredIdentity) -> Reconciliation {
        reconcile(
            b,
            None,
            declared,
            &role_users([b]),
            &ReconcileConfig::default(),
        )
    }

    fn titles(r: &Reconciliation, axis: Axis) -> Vec<String> {
        r.items
            .iter()
            .filter(|i| i.axis == axis)
            .map(|i| i.title.clone())
            .collect()
    }

    #[test]
    fn a_precise_grant_in_use_is_fine_and_its_unused_neighbours_are_excess() {
        let declared = declare(vec![(
            TOOLS,
            inline(json!([
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::exports/*"},
                {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::exports/*"}
            ])),
        )]);
        let b = baseline("AG1", 40);
        let r = judge(&b, &declared);
        assert_eq!(r.roles, vec![TOOLS.to_string()]);
        assert!(titles(&r, Axis::InheritedOverreach).is_empty(), "{r:#?}");
        let unused = titles(&r, Axis::UnusedExcess);
        assert_eq!(
            unused,
            vec!["s3:DeleteObject on arn:aws:s3:::exports/* granted, never exercised in 40 days"]
        );
        assert!(
            r.items[0].proof.as_deref().unwrap().starts_with("proven"),
            "{r:#?}"
        );
    }

    #[test]
    fn wildcards_aws_managed_policies_and_shared_roles_are_inherited_overreach() {
        let declared = declare(vec![
            (
                TOOLS,
                inline(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])),
            ),
            (
                TOOLS,
                IdentityFact::ManagedPolicyAttached {
                    policy: "arn:aws:iam::aws:policy/AmazonS3FullAccess".into(),
                },
            ),
        ]);
        let mine = baseline("AG1", 40);
        let other = baseline("AG2", 3);
        let users = role_users([&mine, &other]);
        let r = reconcile(&mine, None, &declared, &users, &ReconcileConfig::default());
        let over = titles(&r, Axis::InheritedOverreach);
        assert!(
            over.iter()
                .any(|t| t.starts_with("role shared with aws.111122223333.us-east-1.AG2")),
            "{over:#?}"
        );
        assert!(
            over.iter()
                .any(|t| t.contains("AmazonS3FullAccess attached")),
            "{over:#?}"
        );
        let put = r
            .items
            .iter()
            .find(|i| i.title.starts_with("s3:PutObject (40 calls)"))
            .unwrap();
        assert!(
            put.evidence
                .iter()
                .any(|e| e.contains("wildcard action s3:*")),
            "{put:#?}"
        );
        // s3:* was used for one action only: the rest of it is excess.
        assert_eq!(
            titles(&r, Axis::UnusedExcess),
            vec!["s3:* granted, only s3:PutObject used in 40 days"]
        );
    }

    #[test]
    fn young_agents_are_not_judged_on_unused_grants_but_overreach_is_reported() {
        let declared = declare(vec![(
            TOOLS,
            inline(
                json!([{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"}]),
            ),
        )]);
        let b = baseline("AG1", 5);
        let r = judge(&b, &declared);
        assert!(
            r.unused_not_judged
                .as_deref()
                .unwrap()
                .contains("observed for 5 days")
        );
        assert!(titles(&r, Axis::UnusedExcess).is_empty());
        assert_eq!(titles(&r, Axis::InheritedOverreach).len(), 1, "{r:#?}");
    }

    #[test]
    fn what_cannot_be_judged_is_said() {
        let b = baseline("AG1", 40);
        let unknown = judge(&b, &DeclaredIdentity::default());
        assert!(unknown.items.is_empty());
        assert!(
            unknown.notes[0].contains("no policy of this role was seen"),
            "{unknown:#?}"
        );
        let declared = declare(vec![(
            TOOLS,
            IdentityFact::InlinePolicy {
                name: "bad".into(),
                document: Document::from_value(&json!("{oops")),
            },
        )]);
        let r = judge(&b, &declared);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("inline policy bad could not be read")),
            "{r:#?}"
        );
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("covered by no grant agentward has seen")),
            "{r:#?}"
        );
    }

    #[test]
    fn a_read_never_seen_where_only_writes_are_logged_is_unverified() {
        let declared = declare(vec![(
            TOOLS,
            inline(
                json!([{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "dynamodb:GetItem"], "Resource": "arn:aws:s3:::exports/*"}]),
            ),
        )]);
        let b = baseline("AG1", 40);
        let r = judge(&b, &declared);
        let proof = |needle: &str| {
            r.items
                .iter()
                .find(|i| i.title.starts_with(needle))
                .and_then(|i| i.proof.clone())
                .unwrap()
        };
        assert!(proof("s3:GetObject").contains("no read call ever was"));
        assert!(proof("dynamodb:GetItem").contains("no dynamodb call by this agent"));
    }

    #[test]
    fn a_call_to_the_agent_does_not_make_the_callers_role_the_agents() {
        let mut b = baseline("AG1", 2);
        let invoke = as_role(
            test_event(
                1,
                5,
                Layer::IdentityApi,
                "InvokeAgent",
                "arn:aws:bedrock:us-east-1:111122223333:agent-alias/AG1/prod",
            ),
            "arn:aws:iam::111122223333:role/frontend",
        );
        b.observe(&invoke);
        let r = judge(&b, &DeclaredIdentity::default());
        assert_eq!(r.roles, vec![TOOLS.to_string()]);
    }
}
