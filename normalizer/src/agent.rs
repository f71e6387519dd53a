use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Aws,
    Gcp,
    Azure,
    /// Kubernetes or plain Linux nodes watched by the probe.
    SelfHosted,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
            Provider::SelfHosted => "selfhosted",
        }
    }
}

/// The stable identity of an agent: the unit baselines are kept for.
///
/// Managed platforms: `scope` is the account / project / subscription, `location` the
/// region, `id` the agent id and `qualifier` an alias or version when one is known.
/// Self-hosted: `scope` is the cluster (or host), `location` the namespace, `id` the
/// owning Deployment (never the pod, so replica churn does not fork the identity).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AgentRef {
    pub provider: Provider,
    pub scope: String,
    pub location: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
}

impl AgentRef {
    /// The agent without alias/version: what inventory and baselines are keyed by.
    pub fn unqualified(&self) -> AgentRef {
        AgentRef {
            qualifier: None,
            ..self.clone()
        }
    }

    /// A path-safe key, `provider.scope.location.id`: used for storage partitions and on
    /// the command line. Characters outside `[A-Za-z0-9_-]` are replaced so that a hostile
    /// id cannot escape its partition.
    pub fn key(&self) -> String {
        [
            self.provider.as_str(),
            &self.scope,
            &self.location,
            &self.id,
        ]
        .iter()
        .map(|part| sanitize(part))
        .collect::<Vec<_>>()
        .join(".")
    }
}

fn sanitize(part: &str) -> String {
    let cleaned: String = part
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "_".to_string()
    } else {
        cleaned
    }
}

impl fmt::Display for AgentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key())?;
        if let Some(q) = &self.qualifier {
            write!(f, "@{q}")?;
        }
        Ok(())
    }
}

/// An AWS agent in the account and region every unit test uses.
#[cfg(test)]
pub(crate) fn test_agent(id: &str, qualifier: Option<&str>) -> AgentRef {
    AgentRef {
        provider: Provider::Aws,
        scope: "111122223333".into(),
        location: "us-east-1".into(),
        id: id.into(),
        qualifier: qualifier.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_cannot_escape_its_partition() {
        let agent = AgentRef {
            provider: Provider::Aws,
            scope: "111122223333".into(),
            location: "us-east-1".into(),
            id: "../../etc/passwd".into(),
            qualifier: Some("prod".into()),
        };
        assert_eq!(agent.key(), "aws.111122223333.us-east-1.______etc_passwd");
        assert!(!agent.key().contains('/'));
        assert_eq!(agent.unqualified().qualifier, None);
    }
}
