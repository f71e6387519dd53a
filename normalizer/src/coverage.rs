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
