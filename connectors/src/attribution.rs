//! Which AWS agent a log record is about when it names only a role, a Lambda function or a
//! knowledge base: what the APIs and CloudTrail's control plane taught, merged by every
//! scanner. It seeds every log source's mapper.

use normalizer::identity::role_key;
use normalizer::{AgentRef, Provider};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// agent id → where it lives.
    pub agents: BTreeMap<String, AgentHome>,
    /// IAM role ARN → agents that run as it.
    pub roles: BTreeMap<String, BTreeSet<String>>,
    /// Lambda function name → agents whose action groups it executes.
    pub functions: BTreeMap<String, BTreeSet<String>>,
    /// Knowledge base id → agents it is associated with.
    #[serde(default)]
    pub knowledge_bases: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentHome {
    pub account: String,
    pub region: String,
}

impl Attribution {
    /// Union with what another scanner learned; commutative, so merges converge.
    pub fn merge(&mut self, other: &Attribution) {
        for (k, v) in &other.agents {
            self.agents.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &other.roles {
            self.roles
                .entry(k.clone())
                .or_default()
                .extend(v.iter().cloned());
        }
        for (k, v) in &other.functions {
            self.functions
                .entry(k.clone())
                .or_default()
                .extend(v.iter().cloned());
        }
        for (k, v) in &other.knowledge_bases {
            self.knowledge_bases
                .entry(k.clone())
                .or_default()
                .extend(v.iter().cloned());
        }
    }

    /// What the providers' APIs say about which agent runs as which role, which functions
    /// run its tools and which knowledge bases it reads: agents created before the logs
    /// begin are attributed from the first record on.
    pub fn from_inventory(snapshot: &normalizer::inventory::InventorySnapshot) -> Attribution {
        let mut out = Attribution::default();
        for agent in snapshot.agents.iter().filter(|a| {
            a.agent.provider == Provider::Aws
                && (!a.configs.is_empty() || !a.runtime_configs.is_empty())
        }) {
            let id = agent.agent.id.clone();
            out.agents.insert(
                id.clone(),
                AgentHome {
                    account: agent.agent.scope.clone(),
                    region: agent.agent.location.clone(),
                },
            );
            let roles = agent
                .runtime_configs
                .iter()
                .filter_map(|c| c.value.role.as_ref())
                .chain(agent.configs.iter().filter_map(|c| c.value.role.as_ref()));
            // Sessions name the role without its path; the API with it.
            for role in roles {
                for key in [role.clone(), role_key(role)] {
                    out.roles.entry(key).or_default().insert(id.clone());
                }
            }
            for config in agent.configs.iter().map(|c| &c.value) {
                for executor in config.tools.iter().filter_map(|t| t.executor.as_deref()) {
                    if executor.contains(":function:") {
                        out.functions
                            .entry(function_name(executor))
                            .or_default()
                            .insert(id.clone());
                    }
                }
                for kb in &config.knowledge_bases {
                    out.knowledge_bases
                        .entry(kb.clone())
                        .or_default()
                        .insert(id.clone());
                }
            }
        }
        out
    }

    pub fn agent_ref(&self, id: &str, qualifier: Option<&str>) -> Option<AgentRef> {
        self.agents.get(id).map(|home| AgentRef {
            provider: Provider::Aws,
            scope: home.account.clone(),
            location: home.region.clone(),
            id: id.to_string(),
            qualifier: qualifier.map(str::to_string),
        })
    }

    pub(crate) fn only(set: Option<&BTreeSet<String>>) -> Option<&str> {
        match set {
            Some(s) if s.len() == 1 => s.iter().next().map(String::as_str),
            _ => None,
        }
    }
}

/// Function name from a Lambda ARN (`…:function:NAME[:QUALIFIER]`) or a bare name.
pub(crate) fn function_name(reference: &str) -> String {
    match reference.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest).to_string(),
        None => reference.to_string(),
    }
}
