use crate::{AgentRef, CoverageStatus, Layer, Timestamp};
use serde::{Deserialize, Serialize};

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
}

impl FindingKind {
    pub fn name(&self) -> &'static str {
        match self {
            FindingKind::CoverageGap { .. } => "CoverageGap",
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
}
