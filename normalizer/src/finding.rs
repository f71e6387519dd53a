use crate::inventory::InventorySnapshot;
use crate::{AgentRef, CoverageStatus, Layer, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// OCSF `severity_id`.
    pub fn ocsf_id(self) -> u8 {
        match self {
            Severity::Informational => 1,
            Severity::Low => 2,
            Severity::Medium => 3,
            Severity::High => 4,
            Severity::Critical => 5,
        }
    }

    pub fn caption(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingKind {
    /// A layer of an agent that agentward cannot see; an auditor must know it is dark.
    CoverageGap {
        layer: Layer,
        coverage: CoverageStatus,
    },
    /// A departure from the agent's baseline that is not a deployed evolution.
    Drift {
        /// `risky_drift` or `unclassified`.
        class: String,
        /// UTC date of the window the departures happened in.
        window: String,
        /// One line per departure.
        departures: Vec<String>,
        /// The deploy the departure followed, if any (operation and time).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deploy: Option<String>,
    },
    /// Declared vs observed: a grant never used, or behavior reachable only through
    /// inherited grants.
    Reconciliation {
        axis: crate::reconcile::Axis,
        /// The role or tool it is about.
        subject: String,
        evidence: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proof: Option<String>,
    },
    /// What runs is configured so that a known attack goes unchecked.
    Configuration {
        /// `no-guardrail`, `no-prompt-attack-filter` or `unbounded-identity-grant`.
        check: String,
        /// The version that runs, and the aliases that route to it.
        subject: String,
        evidence: Vec<String>,
    },
}

impl FindingKind {
    pub fn name(&self) -> &'static str {
        match self {
            FindingKind::CoverageGap { .. } => "CoverageGap",
            FindingKind::Configuration { .. } => "Configuration",
            FindingKind::Drift { .. } => "Drift",
            FindingKind::Reconciliation { axis, .. } => match axis {
                crate::reconcile::Axis::UnusedExcess => "UnusedExcess",
                crate::reconcile::Axis::InheritedOverreach => "InheritedOverreach",
            },
        }
    }
}

/// A conclusion about one agent, with what justifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable across scans: the same gap on the same agent has the same uid.
    pub uid: String,
    pub agent: AgentRef,
    #[serde(flatten)]
    pub kind: FindingKind,
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    /// When the scan that produced it ran (passed in, never read from a clock here).
    pub time: Timestamp,
}

impl Finding {
    /// Gap findings for every layer of `coverage` that is not fully observed.
    pub fn coverage_gaps(coverage: &[crate::Coverage], time: Timestamp) -> Vec<Finding> {
        coverage
            .iter()
            .filter(|c| c.status.is_gap())
            .map(|c| {
                let severity = match (&c.status, c.layer) {
                    (CoverageStatus::Degraded { .. }, _) => Severity::High,
                    (
                        CoverageStatus::AvailableIfEnabled { .. },
                        Layer::Prompt | Layer::ToolInvocation,
                    ) => Severity::Medium,
                    (CoverageStatus::AvailableIfEnabled { .. }, _) => Severity::Low,
                    (_, _) => Severity::Informational,
                };
                Finding {
                    uid: format!(
                        "agentward:coverage-gap:{}:{}",
                        c.agent.key(),
                        c.layer.as_str()
                    ),
                    agent: c.agent.clone(),
                    kind: FindingKind::CoverageGap {
                        layer: c.layer,
                        coverage: c.status.clone(),
                    },
                    severity,
                    title: format!("{} layer {}", c.layer.as_str(), c.status.label()),
                    detail: c.status.explanation(),
                    time,
                }
            })
            .collect()
    }

    /// A finding for every episode a human must look at: risky drift and unclassified
    /// departures. Evolutions are absorbed into the baseline and recorded in the audit
    /// trail instead.
    pub fn drift(episodes: &[crate::drift::Episode], time: Timestamp) -> Vec<Finding> {
        use crate::drift::DriftClass;
        episodes
            .iter()
            .filter(|e| e.class != DriftClass::Evolution && !e.accepted)
            .map(|e| {
                let (class, severity) = match e.class {
                    DriftClass::RiskyDrift => ("risky_drift", Severity::High),
                    _ => ("unclassified", Severity::Medium),
                };
                let date = e.window_start.utc_date();
                Finding {
                    uid: e.uid.clone(),
                    agent: e.agent.clone(),
                    kind: FindingKind::Drift {
                        class: class.to_string(),
                        window: date.clone(),
                        departures: e.departures.iter().map(|d| d.describe()).collect(),
                        deploy: e
                            .deploy
                            .as_ref()
                            .map(|d| format!("{} at {}", d.operation, d.time.rfc3339())),
                    },
                    severity,
                    title: format!("{} on {date}", e.class.label()),
                    detail: e.explanation.clone(),
                    time,
                }
            })
            .collect()
    }

    /// A finding for every reconciliation item. An unused grant whose absence could be
    /// unlogged rather than unused is informational only.
    pub fn reconciliation(
        results: &[crate::reconcile::Reconciliation],
        time: Timestamp,
    ) -> Vec<Finding> {
        use crate::reconcile::Axis;
        results
            .iter()
            .flat_map(|r| r.items.iter().map(move |i| (r, i)))
            .map(|(r, i)| Finding {
                uid: i.uid.clone(),
                agent: r.agent.clone(),
                kind: FindingKind::Reconciliation {
                    axis: i.axis,
                    subject: i.subject.clone(),
                    evidence: i.evidence.clone(),
                    proof: i.proof.clone(),
                },
                severity: match (i.axis, &i.proof) {
                    (Axis::InheritedOverreach, _) => Severity::Medium,
                    (Axis::UnusedExcess, Some(p)) if p.starts_with("proven") => Severity::Low,
                    (Axis::UnusedExcess, _) => Severity::Informational,
                },
                title: format!("{}: {}", i.axis.label(), i.title),
                detail: i.evidence.join("; "),
                time,
            })
            .collect()
    }

    /// Findings on what each agent runs (the versions its aliases route to, not the
    /// draft): a live version that reads text others write — knowledge bases, tool
    /// results — with no guardrail, or with a guardrail that does not filter prompt
    /// attacks. A guardrail whose contents were not read is not judged.
    pub fn configuration(snapshot: &InventorySnapshot, time: Timestamp) -> Vec<Finding> {
        let mut out = Vec::new();
        for agent in snapshot.agents.iter().filter(|a| a.deleted.is_none()) {
            let mut routed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (alias, config) in agent.live() {
                if let (Some(config), Some(version)) = (config, alias.routed_version.as_deref())
                    && version != "DRAFT"
                {
                    routed
                        .entry(&config.value.version)
                        .or_default()
                        .push(alias.name.as_deref().unwrap_or(&alias.id));
                }
            }
            // A Foundry agent has no aliases: callers reach its latest version (versions
            // read in one scan share a time; the highest number is the latest).
            if agent.agent.provider == crate::Provider::Azure
                && routed.is_empty()
                && let Some(latest) = agent
                    .configs
                    .iter()
                    .max_by_key(|c| (c.since, c.value.version.parse::<u64>().unwrap_or(0)))
            {
                routed.insert(&latest.value.version, Vec::new());
            }
            for (version, aliases) in routed {
                let Some(config) = agent.config(version).map(|c| &c.value) else {
                    continue;
                };
                let subject = if aliases.is_empty() {
                    format!("version {version} (the latest, which callers reach)")
                } else {
                    format!("v{version} (routed by {})", aliases.join(", "))
                };
                let mut inputs: Vec<String> = config
                    .knowledge_bases
                    .iter()
                    .map(|kb| {
                        let sources: Vec<String> = agent
                            .knowledge_base_configs
                            .iter()
                            .filter(|k| &k.value.id == kb)
                            .flat_map(|k| k.value.data_sources.iter())
                            .flat_map(|d| d.locations.iter().cloned())
                            .collect();
                        if sources.is_empty() {
                            format!("knowledge base {kb}")
                        } else {
                            format!("knowledge base {kb} (from {})", sources.join(", "))
                        }
                    })
                    .collect();
                inputs.extend(
                    config
                        .tools
                        .iter()
                        .filter(|t| t.state.as_deref() != Some("DISABLED"))
                        .map(|t| format!("tool {}", t.name)),
                );
                if inputs.is_empty() {
                    continue;
                }
                let (check, title, mut evidence) = match &config.guardrail {
                    None => (
                        "no-guardrail",
                        format!("{subject} runs with no guardrail"),
                        vec!["no guardrail is configured on this version".to_string()],
                    ),
                    Some(g) => match agent.guardrail_config(g) {
                        Some(gc)
                            if !gc.filters_prompt_attacks()
                                && agent.agent.provider == crate::Provider::Azure =>
                        {
                            (
                                "no-prompt-attack-filter",
                                format!(
                                    "{subject}: RAI policy {} does not filter indirect prompt attacks",
                                    gc.id
                                ),
                                vec![format!(
                                    "RAI policy {} does not screen documents and tool output for injected instructions (its Indirect Attack filter is absent or off)",
                                    gc.id
                                )],
                            )
                        }
                        Some(gc) if !gc.filters_prompt_attacks() => (
                            "no-prompt-attack-filter",
                            format!(
                                "{subject}: guardrail {} v{} does not filter prompt attacks",
                                gc.id, gc.version
                            ),
                            vec![format!(
                                "guardrail {} v{} does not screen input for prompt attacks (its PROMPT_ATTACK filter is absent or NONE)",
                                gc.id, gc.version
                            )],
                        ),
                        _ => continue,
                    },
                };
                evidence.push(format!(
                    "text others can write reaches the model through: {}",
                    inputs.join("; ")
                ));
                out.push(Finding {
                    uid: format!(
                        "agentward:configuration:{}:{check}:{version}",
                        agent.agent.key()
                    ),
                    agent: agent.agent.clone(),
                    kind: FindingKind::Configuration {
                        check: check.to_string(),
                        subject: subject.clone(),
                        evidence: evidence.clone(),
                    },
                    severity: Severity::Medium,
                    title,
                    detail: format!(
                        "{}; injected instructions in that text are not screened before the model acts on them",
                        evidence.join("; ")
                    ),
                    time,
                });
            }
            // An identity allowed every operation somewhere: whatever steers the agent
            // (an injected instruction, a compromised tool) can use all of it.
            if let Some(grants) = &agent.identity_grants {
                let unbounded: Vec<String> = grants
                    .value
                    .iter()
                    .filter(|g| g.is_unbounded())
                    .map(|g| {
                        let what = if g.actions.iter().any(|a| a == "*") {
                            "every control-plane operation"
                        } else {
                            "every data operation"
                        };
                        let except: Vec<&String> =
                            g.not_actions.iter().chain(&g.not_data_actions).collect();
                        format!(
                            "{} on {}{} allows {what}{}",
                            g.role,
                            g.scope,
                            g.holder
                                .as_ref()
                                .map(|h| format!(" (held by {h})"))
                                .unwrap_or_default(),
                            if except.is_empty() {
                                String::new()
                            } else {
                                format!(
                                    " except {}",
                                    except
                                        .iter()
                                        .map(|e| e.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            }
                        )
                    })
                    .collect();
                if !unbounded.is_empty() {
                    let subject = agent
                        .role
                        .as_ref()
                        .map(|r| r.value.clone())
                        .unwrap_or_else(|| "its identity".into());
                    out.push(Finding {
                        uid: format!(
                            "agentward:configuration:{}:unbounded-identity-grant",
                            agent.agent.key()
                        ),
                        agent: agent.agent.clone(),
                        kind: FindingKind::Configuration {
                            check: "unbounded-identity-grant".into(),
                            subject: subject.clone(),
                            evidence: unbounded.clone(),
                        },
                        severity: Severity::High,
                        title: format!(
                            "{subject} may perform any operation {}",
                            grants
                                .value
                                .iter()
                                .filter(|g| g.is_unbounded())
                                .map(|g| format!("on {}", g.scope))
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                        detail: format!(
                            "{}; whatever steers the agent (an injected instruction, a compromised tool) can do the same — assign a role limited to the operations the agent needs",
                            unbounded.join("; ")
                        ),
                        time,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{
        ContentFilter, Fact, Guardrail, GuardrailConfig, InventoryHistory, Observation,
        VersionConfig, test_provenance,
    };

    fn obs(fact: Fact) -> Observation {
        Observation {
            time: Timestamp(10),
            agent: crate::agent::test_agent("AG1", None),
            fact,
            provenance: test_provenance(0),
        }
    }

    fn live(guardrail: Option<Guardrail>, knowledge_bases: Vec<String>) -> Vec<Observation> {
        vec![
            obs(Fact::Alias {
                id: "PROD".into(),
                routed_version: Some("2".into()),
                name: Some("prod".into()),
            }),
            obs(Fact::VersionConfig(VersionConfig {
                version: "2".into(),
                knowledge_bases,
                guardrail,
                ..VersionConfig::default()
            })),
        ]
    }

    fn checks(observations: Vec<Observation>) -> Vec<(String, String)> {
        let mut h = InventoryHistory::default();
        h.merge(observations);
        Finding::configuration(&h.snapshot_at(Timestamp(100)), Timestamp(100))
            .into_iter()
            .map(|f| match f.kind {
                FindingKind::Configuration { check, subject, .. } => (check, subject),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn what_runs_is_judged_on_its_guardrail_not_the_draft() {
        let kb = vec!["KB1".to_string()];
        assert_eq!(
            checks(live(None, kb.clone())),
            [(
                "no-guardrail".to_string(),
                "v2 (routed by prod)".to_string()
            )]
        );
        // Nothing others write reaches it: nothing to screen.
        assert!(checks(live(None, vec![])).is_empty());
        let guardrail = Guardrail {
            id: "gr".into(),
            version: Some("1".into()),
        };
        // A guardrail whose contents were not read is not judged.
        assert!(checks(live(Some(guardrail.clone()), kb.clone())).is_empty());
        let read = |input: &str| {
            let mut o = live(Some(guardrail.clone()), kb.clone());
            o.push(obs(Fact::GuardrailConfig(GuardrailConfig {
                id: "gr".into(),
                version: "1".into(),
                content_filters: vec![ContentFilter {
                    kind: "PROMPT_ATTACK".into(),
                    input: Some(input.into()),
                    output: None,
                }],
                ..GuardrailConfig::default()
            })));
            checks(o)
        };
        assert_eq!(read("NONE")[0].0, "no-prompt-attack-filter");
        assert!(read("HIGH").is_empty());
        // A draft that is not routed is not what runs.
        let mut draft_only = live(None, kb);
        draft_only[0] = obs(Fact::Alias {
            id: "TST".into(),
            routed_version: Some("DRAFT".into()),
            name: None,
        });
        assert!(checks(draft_only).is_empty());
    }
    #[test]
    fn an_identity_allowed_everything_somewhere_is_a_finding() {
        use crate::inventory::RoleGrant;
        let grant = |role: &str, actions: &[&str], condition: Option<&str>| RoleGrant {
            role: role.into(),
            scope: "/subscriptions/s/resourceGroups/agents".into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            not_actions: vec!["Microsoft.Authorization/*/Write".into()],
            data_actions: Vec::new(),
            not_data_actions: Vec::new(),
            condition: condition.map(str::to_string),
            holder: None,
        };
        let bounded = vec![
            grant("Reader", &["*/read"], None),
            grant("Owner", &["*"], Some("@Resource[tag] StringEquals 'x'")),
        ];
        let mut h = InventoryHistory::default();
        h.merge(vec![obs(Fact::IdentityGrants(bounded.clone()))]);
        assert!(
            Finding::configuration(&h.snapshot_at(Timestamp(100)), Timestamp(100)).is_empty(),
            "read-only and conditioned grants are bounded"
        );
        let mut with_contributor = bounded;
        with_contributor.push(grant("Contributor", &["*"], None));
        let mut h = InventoryHistory::default();
        h.merge(vec![obs(Fact::IdentityGrants(with_contributor))]);
        let found = Finding::configuration(&h.snapshot_at(Timestamp(100)), Timestamp(100));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::High);
        let FindingKind::Configuration {
            check, evidence, ..
        } = &found[0].kind
        else {
            panic!("{:?}", found[0].kind)
        };
        assert_eq!(check, "unbounded-identity-grant");
        assert_eq!(
            evidence,
            &[
                "Contributor on /subscriptions/s/resourceGroups/agents allows every control-plane operation except Microsoft.Authorization/*/Write"
            ]
        );
    }
}
