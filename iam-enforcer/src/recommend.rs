//! The IAM recommendation of one agent: for every role it acts as, what it is granted now,
//! the least-privilege policy its observed calls need (each statement traced, with its
//! confidence), what goes (reconcile's unused excess, proven or unverified) and what is
//! narrowed (its inherited overreach), the trust policy pinned to the agent, the size
//! against IAM's limits, and the blast radius: the observed window replayed against the
//! proposal. Also the agent's action-group functions' resource policies, pinned.

use crate::EnforcerError;
use crate::aws_policy::{IdentityPolicy, identity_policy, observed_as};
use crate::catalog::Catalog;
use crate::eval::Policy;
use crate::replay::{BlastRadius, Call, replay};
use crate::trust;
use normalizer::baseline::Baseline;
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Size {
    /// The proposed document's characters, whitespace not counted (as IAM counts them).
    pub characters: usize,
    pub managed_limit: usize,
    pub inline_limit: usize,
    pub fits: bool,
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
fn document_text(document: &Document) -> Result<Value, String> {
    match document {
        Document::Parsed { document } => match &document.text {
            Some(text) => serde_json::from_str(text).map_err(|e| format!("its text is not JSON: {e}")),
            None => Err("it was recorded before agentward kept documents whole; rescan the identity source to record it again".into()),
        },
        Document::Unreadable { reason } => Err(format!("it could not be read ({reason})")),
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
    let value = match document_text(document) {
        Ok(v) => v,
        Err(reason) => {
            return Ok(Pin::Unchanged {
                subject: subject.to_string(),
                reason,
            });
        }
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
    }
}

/// The role's trust policy pinned to the agent when it is the agent's own role on Bedrock
/// Agents; left as it is, and why, otherwise.
fn trust_of(
    role: &str,
    declared_role: Option<&DeclaredRole>,
    input: &Input<'_>,
) -> Result<Pin, EnforcerError> {
    let is_agent_role = input
        .inventory
        .and_then(|i| i.role.as_ref())
        .is_some_and(|r| normalizer::identity::role_key(&r.value) == role);
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

fn role_recommendation(
    role: &str,
    input: &Input<'_>,
    catalog: &Catalog,
) -> Result<RoleRecommendation, EnforcerError> {
    let baseline = input.baseline;
    let proposed = identity_policy(
        role,
        observed_as(role, baseline.behaviors()),
        baseline.events_per_window(),
        catalog,
    );
    let document = proposed.document();
    let policy = Policy::parse("proposed", &document)?;
    let calls = input.calls.get(role).map(Vec::as_slice).unwrap_or_default();
    let blast_radius = replay(&[policy], calls.iter().copied(), catalog);
    let declared_role = input.declared.roles.get(role);
    let trust = trust_of(role, declared_role, input)?;
    let items = |axis: Axis| -> Vec<Item> {
        input
            .reconciliation
            .items
            .iter()
            .filter(|i| i.axis == axis && i.subject == role)
            .cloned()
            .collect()
    };
    Ok(RoleRecommendation {
        role: role.to_string(),
        current: current_grants(declared_role, input.declared),
        size: size_of(&document),
        document,
        proposed,
        trust,
        removed: items(Axis::UnusedExcess),
        // A trust item is answered by the pin, the others by the proposed policy.
        narrowed: items(Axis::InheritedOverreach),
        blast_radius,
    })
}

/// One agent's recommendation.
pub fn recommend(
    input: &Input<'_>,
    catalog: &Catalog,
) -> Result<AgentRecommendation, EnforcerError> {
    let r = input.reconciliation;
    let roles = r
        .roles
        .iter()
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
    Ok(AgentRecommendation {
        agent: input.baseline.agent.clone(),
        observed_from: r.observed_from,
        observed_until: r.observed_until,
        observed_days: r.observed_days,
        roles,
        resource_policies,
        notes: r.notes.clone(),
    })
}
