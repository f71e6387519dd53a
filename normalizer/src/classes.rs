//! Agent classes: what kind of agent this is, derived from its declared configuration and
//! what it was seen doing, with the reasons. A class sets the defaults the agent is judged
//! with (a read-only agent gets tighter volume bounds; a code-execution agent is expected
//! never to converge), and its members form a class envelope that shows what is unusual
//! for an agent of its kind.

use crate::AgentRef;
use crate::baseline::{Baseline, BaselineState, Behavior};
use crate::drift::DriftConfig;
use crate::inventory::AgentInventory;
use crate::policy::is_read_operation as is_read;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentClass {
    /// Delegates to other agents.
    Orchestrator,
    /// Runs code it writes (a code interpreter), so its behavior is open-ended.
    CodeExecution,
    /// Has tools and uses them to change things (writes, exports, updates).
    WriteTools,
    /// Only retrieves and calls models.
    ReadOnlyRetrieval,
    /// None of the above could be told.
    General,
}

impl AgentClass {
    pub fn label(self) -> &'static str {
        match self {
            AgentClass::Orchestrator => "orchestrator",
            AgentClass::CodeExecution => "code execution",
            AgentClass::WriteTools => "tools that write",
            AgentClass::ReadOnlyRetrieval => "read-only retrieval",
            AgentClass::General => "general",
        }
    }

    /// How departures of members are judged. Read-only agents get tighter volume bounds:
    /// anything they do in bulk is worth a look. Code-execution agents get wider ones.
    pub fn drift_defaults(self) -> DriftConfig {
        let k = match self {
            AgentClass::ReadOnlyRetrieval => 3.0,
            AgentClass::CodeExecution => 8.0,
            _ => DriftConfig::default().k,
        };
        DriftConfig {
            k,
            ..DriftConfig::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub agent: AgentRef,
    pub class: AgentClass,
    /// Why, one line per signal that decided it.
    pub reasons: Vec<String>,
}

/// Model calls and retrievals: what a read-only agent does besides reading.
fn is_model_or_retrieval(operation: &str) -> bool {
    ["InvokeModel", "Converse", "Retrieve"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// Classifies one agent from its baseline and, when known, its declared inventory.
pub fn classify_agent(baseline: &Baseline, inventory: Option<&AgentInventory>) -> Classification {
    let agent = baseline.agent.clone();
    let mut own_actions: BTreeSet<&str> = BTreeSet::new();
    let mut delegations: BTreeSet<String> = BTreeSet::new();
    for (behavior, _) in baseline.behaviors() {
        if let Behavior::ActionAs {
            action, resource, ..
        } = behavior
        {
            own_actions.insert(action);
            // Invoking another agent as its own role is delegation.
            if action == "bedrock:InvokeAgent" && !resource.contains(&agent.id) {
                delegations.insert(resource.clone());
            }
        }
    }
    let tools = inventory.map(|i| i.tools.as_slice()).unwrap_or_default();
    if !delegations.is_empty() {
        return Classification {
            agent,
            class: AgentClass::Orchestrator,
            reasons: delegations
                .into_iter()
                .map(|d| format!("invokes another agent as its own role: {d}"))
                .collect(),
        };
    }
    let interpreter: Vec<String> = tools
        .iter()
        .filter(|t| t.value.name.contains("CodeInterpreter") || t.value.kind == "code_interpreter")
        .map(|t| format!("declares the code interpreter tool {}", t.value.name))
        .collect();
    if !interpreter.is_empty() {
        return Classification {
            agent,
            class: AgentClass::CodeExecution,
            reasons: interpreter,
        };
    }
    if let BaselineState::NotConverging { windows } = baseline.state() {
        return Classification {
            agent,
            class: AgentClass::CodeExecution,
            reasons: vec![format!(
                "still doing new things after {windows} windows, as agents that run their own code do"
            )],
        };
    }
    let writes: Vec<&str> = own_actions
        .iter()
        .copied()
        .filter(|a| {
            let operation = a.split_once(':').map_or(*a, |(_, op)| op);
            !is_read(operation) && !is_model_or_retrieval(operation)
        })
        .collect();
    if !writes.is_empty() {
        let mut reasons = vec![format!("writes as its own roles: {}", writes.join(", "))];
        if !tools.is_empty() {
            reasons.push(format!(
                "declares {} tools: {}",
                tools.len(),
                tools
                    .iter()
                    .map(|t| t.value.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return Classification {
            agent,
            class: AgentClass::WriteTools,
            reasons,
        };
    }
    let retrieves = own_actions.iter().any(|a| a.contains(":Retrieve"))
        || inventory.is_some_and(|i| !i.knowledge_bases.is_empty());
    if !own_actions.is_empty() && retrieves && tools.is_empty() {
        return Classification {
            agent,
            class: AgentClass::ReadOnlyRetrieval,
            reasons: vec![
                format!(
                    "everything it does as its own roles reads, retrieves or calls a model: {}",
                    own_actions.iter().copied().collect::<Vec<_>>().join(", ")
                ),
                "declares no tools".into(),
            ],
        };
    }
    Classification {
        agent,
        class: AgentClass::General,
        reasons: vec![if own_actions.is_empty() {
            "never seen acting as its own role".into()
        } else {
            "reads only, but neither retrieves nor is tool-less".into()
        }],
    }
}

/// What the members of one class do, action by action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassEnvelope {
    pub class: AgentClass,
    pub members: Vec<AgentRef>,
    /// Action (service:Operation) → members doing it.
    pub actions: BTreeMap<String, usize>,
}

/// Class envelopes from classified baselines.
pub fn class_envelopes<'a>(
    members: impl IntoIterator<Item = (&'a Classification, &'a Baseline)>,
) -> BTreeMap<AgentClass, ClassEnvelope> {
    let mut out: BTreeMap<AgentClass, ClassEnvelope> = BTreeMap::new();
    for (c, b) in members {
        let env = out.entry(c.class).or_insert_with(|| ClassEnvelope {
            class: c.class,
            members: Vec::new(),
            actions: BTreeMap::new(),
        });
        env.members.push(b.agent.clone());
        for (behavior, _) in b.behaviors() {
            if let Behavior::Action { action } = behavior {
                *env.actions.entry(action.clone()).or_default() += 1;
            }
        }
    }
    out
}

impl ClassEnvelope {
    /// Actions the agent does that no other member of its class does; empty when the
    /// agent is alone in its class (nothing to compare with).
    pub fn unusual_for(&self, baseline: &Baseline) -> Vec<String> {
        if self.members.len() < 2 {
            return Vec::new();
        }
        baseline
            .behaviors()
            .filter_map(|(b, _)| match b {
                Behavior::Action { action } if self.actions.get(action) == Some(&1) => {
                    Some(action.clone())
                }
                _ => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineConfig;
    use crate::event::test_event;
    use crate::{Event, Layer, Principal};

    fn as_role(mut e: Event, role: &str, agent: &str) -> Event {
        e.principal = Principal {
            kind: "AssumedRole".into(),
            issuer: Some(role.into()),
            ..Principal::default()
        };
        e.agent = Some(crate::agent::test_agent(agent, None));
        e
    }

    fn agent(id: &str, operations: &[(&str, &str, &str)]) -> Baseline {
        let mut b = Baseline::new(
            crate::agent::test_agent(id, None),
            BaselineConfig::default(),
        );
        for day in 0..10 {
            for (service, op, target) in operations {
                let mut e = test_event(day, 1, Layer::IdentityApi, op, target);
                e.service = (*service).into();
                b.observe(&as_role(e, "arn:aws:iam::1:role/r", id));
            }
        }
        b
    }

    #[test]
    fn classes_come_with_their_reasons() {
        let reader = agent(
            "R1",
            &[
                (
                    "bedrock.amazonaws.com",
                    "Retrieve",
                    "arn:aws:bedrock:us-east-1:1:knowledge-base/KB",
                ),
                (
                    "bedrock.amazonaws.com",
                    "InvokeModel",
                    "arn:aws:bedrock:us-east-1::foundation-model/m",
                ),
            ],
        );
        let c = classify_agent(&reader, None);
        assert_eq!(c.class, AgentClass::ReadOnlyRetrieval, "{c:#?}");
        assert!(c.reasons[0].contains("bedrock:InvokeModel, bedrock:Retrieve"));

        let writer = agent(
            "W1",
            &[
                ("s3.amazonaws.com", "PutObject", "arn:aws:s3:::exports/x"),
                ("s3.amazonaws.com", "GetObject", "arn:aws:s3:::exports/x"),
            ],
        );
        let c = classify_agent(&writer, None);
        assert_eq!(c.class, AgentClass::WriteTools);
        assert_eq!(c.reasons, vec!["writes as its own roles: s3:PutObject"]);

        let supervisor = agent(
            "S1",
            &[(
                "bedrock.amazonaws.com",
                "InvokeAgent",
                "arn:aws:bedrock:us-east-1:1:agent-alias/W1/prod",
            )],
        );
        let c = classify_agent(&supervisor, None);
        assert_eq!(c.class, AgentClass::Orchestrator, "{c:#?}");

        let mut coder = Baseline::new(
            crate::agent::test_agent("C1", None),
            BaselineConfig::default(),
        );
        for day in 0..20 {
            let e = test_event(
                day,
                1,
                Layer::IdentityApi,
                &format!("Op{day}"),
                "arn:aws:s3:::scratch/x",
            );
            coder.observe(&as_role(e, "arn:aws:iam::1:role/c", "C1"));
        }
        assert_eq!(
            classify_agent(&coder, None).class,
            AgentClass::CodeExecution
        );
    }

    #[test]
    fn read_only_agents_get_tighter_bounds_and_unusual_actions_stand_out() {
        assert!(
            AgentClass::ReadOnlyRetrieval.drift_defaults().k
                < AgentClass::WriteTools.drift_defaults().k
        );
        let kb = (
            "bedrock.amazonaws.com",
            "Retrieve",
            "arn:aws:bedrock:us-east-1:1:knowledge-base/KB",
        );
        let a = agent("A", &[kb]);
        let b = agent(
            "B",
            &[kb, ("s3.amazonaws.com", "GetObject", "arn:aws:s3:::docs/x")],
        );
        let ca = classify_agent(&a, None);
        let cb = classify_agent(&b, None);
        assert_eq!(cb.class, AgentClass::ReadOnlyRetrieval);
        let envelopes = class_envelopes([(&ca, &a), (&cb, &b)]);
        let env = &envelopes[&AgentClass::ReadOnlyRetrieval];
        assert_eq!(env.members.len(), 2);
        assert_eq!(env.unusual_for(&b), vec!["s3:GetObject"]);
        assert!(env.unusual_for(&a).is_empty());
    }
}
