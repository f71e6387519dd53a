use crate::{AgentRef, Layer, Timestamp};
use serde::{Deserialize, Serialize};

/// What agentward can see of one layer of one agent. A layer that is not observed always
/// says why: the provider cannot supply it, or it can once a named setting is turned on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CoverageStatus {
    Observed {
        via: String,
    },
    AvailableIfEnabled {
        setting: String,
        how_to_enable: String,
    },
    /// Architecturally unavailable: no setting on this provider exposes it.
    Unavailable {
        reason: String,
    },
    /// Nothing to observe: the provider's API shows the agent has nothing of this layer
    /// (no tools, say), so there is no setting to turn on.
    NotApplicable {
        reason: String,
    },
    /// Observed, but records were lost in the window; the count is exact.
    Degraded {
        via: String,
        lost: u64,
        from: Timestamp,
        to: Timestamp,
        reason: String,
    },
}

impl CoverageStatus {
    pub fn label(&self) -> &'static str {
        match self {
            CoverageStatus::Observed { .. } => "observed",
            CoverageStatus::AvailableIfEnabled { .. } => "available if enabled",
            CoverageStatus::Unavailable { .. } => "unavailable",
            CoverageStatus::NotApplicable { .. } => "not applicable",
            CoverageStatus::Degraded { .. } => "degraded",
        }
    }

    pub fn is_gap(&self) -> bool {
        !matches!(
            self,
            CoverageStatus::Observed { .. } | CoverageStatus::NotApplicable { .. }
        )
    }

    /// One line for a person: what is seen, or why not and what would change it.
    pub fn explanation(&self) -> String {
        match self {
            CoverageStatus::Observed { via } => format!("via {via}"),
            CoverageStatus::AvailableIfEnabled {
                setting,
                how_to_enable,
            } => format!("{setting}; to enable: {how_to_enable}"),
            CoverageStatus::Unavailable { reason } | CoverageStatus::NotApplicable { reason } => {
                reason.clone()
            }
            CoverageStatus::Degraded {
                via,
                lost,
                from,
                to,
                reason,
            } => format!("via {via}, {lost} records lost between {from} and {to}: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub agent: AgentRef,
    pub layer: Layer,
    #[serde(flatten)]
    pub status: CoverageStatus,
}

/// How much a source's statement about a layer weighs against the others'. Statements are
/// weighed in this order, each against what the ones before it left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    /// What a source's events showed. With several sources of a layer, the layer is as well
    /// covered as its best source.
    Events,
    /// What a provider's configuration read says (Google Cloud, Azure): it never hides what
    /// events showed, and it says more precisely than an absence of events which setting is
    /// missing, so it replaces an equal statement at or below "available if enabled".
    Configuration,
    /// What an audit-log configuration says is not recorded (CloudTrail trails, model
    /// invocation logging): it replaces a statement that ranks no higher; under events that
    /// show the layer it becomes a note of what part is not recorded and how to record it.
    Settings,
    /// The agent's own configuration, which replaces whatever was said of the layer (an
    /// AgentCore runtime's kernel, network and tools are its own, not a Bedrock agent's;
    /// an agent whose API lists no tools has no tool layer to record).
    Overrides,
}

/// One source's statement about one layer of one agent, with its weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub weight: Weight,
    pub coverage: Coverage,
}

impl Judgement {
    pub fn new(weight: Weight, coverage: Coverage) -> Self {
        Judgement { weight, coverage }
    }
}

/// How much a status says: what was observed outranks what could be, which outranks what
/// cannot be.
pub fn rank(s: &CoverageStatus) -> u8 {
    match s {
        CoverageStatus::Unavailable { .. } => 0,
        CoverageStatus::AvailableIfEnabled { .. } => 1,
        CoverageStatus::Degraded { .. } => 2,
        CoverageStatus::Observed { .. } => 3,
        // Only ever set from the API's own statement, after every source was weighed.
        CoverageStatus::NotApplicable { .. } => 4,
    }
}

/// One agent's coverage, layer by layer, from every source's statements: weighed by
/// [`Weight`] (stable: statements of one weight in the order given), each layer listed in
/// the order it was first spoken of.
pub fn merge(mut judgements: Vec<Judgement>) -> Vec<Coverage> {
    judgements.sort_by_key(|j| j.weight);
    let mut merged: Vec<Coverage> = Vec::new();
    for Judgement { weight, coverage } in judgements {
        let Some(existing) = merged.iter_mut().find(|c| c.layer == coverage.layer) else {
            merged.push(coverage);
            continue;
        };
        let (mine, theirs) = (rank(&existing.status), rank(&coverage.status));
        match weight {
            Weight::Events if mine < theirs => *existing = coverage,
            Weight::Configuration if mine < theirs || (mine == theirs && mine <= 1) => {
                *existing = coverage
            }
            Weight::Settings if mine <= theirs => *existing = coverage,
            Weight::Settings => note_unrecorded(&mut existing.status, &coverage.status),
            Weight::Overrides => *existing = coverage,
            Weight::Events | Weight::Configuration => {}
        }
    }
    merged
}

/// Events show the layer, but part of it is not recorded: say which part and how to record
/// it, without calling the layer a gap.
fn note_unrecorded(existing: &mut CoverageStatus, gap: &CoverageStatus) {
    if let (
        CoverageStatus::Observed { via } | CoverageStatus::Degraded { via, .. },
        CoverageStatus::AvailableIfEnabled {
            setting,
            how_to_enable,
        },
    ) = (existing, gap)
    {
        via.push_str(&format!(
            "; not recorded: {setting}; to record it: {how_to_enable}"
        ));
    }
}

/// The API says the agent has no tools at all (its draft and every configuration read list
/// none) and no tool call was seen: a missing tool layer is no gap.
pub fn no_tools(
    agent: &AgentRef,
    inventory: &crate::inventory::AgentInventory,
    tool_events: u64,
) -> Option<Judgement> {
    let read = inventory.configs.first()?;
    if !inventory.tools.is_empty()
        || inventory.configs.iter().any(|c| !c.value.tools.is_empty())
        || tool_events > 0
    {
        return None;
    }
    let why = if agent.provider == crate::Provider::Aws {
        "no action group in its draft or in any version an alias routes to"
    } else {
        "its configuration lists none"
    };
    Some(Judgement::new(
        Weight::Overrides,
        Coverage {
            agent: agent.clone(),
            layer: Layer::ToolInvocation,
            status: CoverageStatus::NotApplicable {
                reason: format!(
                    "{}: the agent has no tools ({why}); there are no tool invocations to record",
                    read.provenance.record.source
                ),
            },
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> AgentRef {
        AgentRef {
            provider: crate::Provider::Aws,
            scope: "111122223333".into(),
            location: "us-east-1".into(),
            id: "K7QX2M4TZP".into(),
            qualifier: None,
        }
    }

    fn said(weight: Weight, layer: Layer, status: CoverageStatus) -> Judgement {
        Judgement::new(
            weight,
            Coverage {
                agent: agent(),
                layer,
                status,
            },
        )
    }

    fn observed(via: &str) -> CoverageStatus {
        CoverageStatus::Observed { via: via.into() }
    }

    fn enable(setting: &str) -> CoverageStatus {
        CoverageStatus::AvailableIfEnabled {
            setting: setting.into(),
            how_to_enable: "turn it on".into(),
        }
    }

    #[test]
    fn a_layer_is_as_well_covered_as_its_best_source() {
        let merged = merge(vec![
            said(Weight::Events, Layer::Control, enable("a trail")),
            said(Weight::Events, Layer::Control, observed("trail b")),
            said(Weight::Events, Layer::Control, enable("another trail")),
        ]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].status, observed("trail b"));
    }

    #[test]
    fn a_configuration_read_never_hides_what_events_showed() {
        let merged = merge(vec![
            said(
                Weight::Configuration,
                Layer::Prompt,
                enable("request-response logging"),
            ),
            said(Weight::Events, Layer::Prompt, observed("audit logs")),
            said(
                Weight::Events,
                Layer::Control,
                enable("no events in the window"),
            ),
            said(
                Weight::Configuration,
                Layer::Control,
                enable("Admin Activity"),
            ),
        ]);
        assert_eq!(merged[0].status, observed("audit logs"));
        // The events' statement came first but is weighed first: the layer order stays.
        assert_eq!(merged[0].layer, Layer::Prompt);
        assert_eq!(merged[1].status, enable("Admin Activity"));
    }

    #[test]
    fn an_unrecorded_setting_under_observed_events_is_a_note_not_a_gap() {
        let merged = merge(vec![
            said(
                Weight::Settings,
                Layer::ToolInvocation,
                enable("Lambda data events"),
            ),
            said(Weight::Events, Layer::ToolInvocation, observed("trail t")),
        ]);
        assert_eq!(
            merged[0].status,
            observed("trail t; not recorded: Lambda data events; to record it: turn it on")
        );
    }

    #[test]
    fn an_override_replaces_whatever_was_said() {
        let unavailable = CoverageStatus::Unavailable {
            reason: "managed".into(),
        };
        let merged = merge(vec![
            said(Weight::Overrides, Layer::Kernel, unavailable.clone()),
            said(Weight::Events, Layer::Kernel, observed("probe")),
        ]);
        assert_eq!(merged[0].status, unavailable);
    }
}
