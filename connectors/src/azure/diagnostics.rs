//! Resource logs of AI Foundry (AIServices) accounts as a diagnostic setting archives them
//! to a storage account: one container per category (`insights-logs-requestresponse`,
//! `insights-logs-audit`), blobs at
//! `resourceId=/SUBSCRIPTIONS/…/ACCOUNTS/NAME/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`, one
//! record per line — read from the container (`az://`) or a directory it was copied to.
//!
//! A record names the account and, for model calls, the deployment: a call through a
//! deployment exactly one agent of the account uses is that agent's; in an account with a
//! single agent, every call is its; others stay unattributed. RequestResponse records hold
//! no prompt or completion, so none is kept.

use crate::ConnectorError;
use crate::location::Opened;
use crate::records::{Listing, Mapped, NotARecord, Output};
use normalizer::event::{CloudContext, Target};
use normalizer::inventory::{InventorySnapshot, Observation};
use normalizer::{
    AgentRef, Correlation, Coverage, Event, Layer, Outcome, Principal, Provider, RawPointer,
    Timestamp,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// Every archived blob under the source, in time order per resource; anything else listed
/// as skipped with the reason.
pub async fn list(source: &Opened) -> Result<Listing, ConnectorError> {
    let mut listing = crate::records::list_objects(source, |key| {
        if !key.contains("resourceId=") || !key.contains("/y=") {
            Some("not a diagnostic-setting archive (resourceId=/…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json)".into())
        } else if key.ends_with(".json") {
            None
        } else {
            Some("not a resource-log blob name (.json)".into())
        }
    })
    .await?;
    listing.files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(listing)
}

/// Which agents each account holds, and which deployment each uses, from the inventory
/// the azure-api sources read.
#[derive(Debug, Clone, Default)]
pub struct DeploymentAttribution {
    /// `SUBSCRIPTION/ACCOUNT` (upper case, as resource ids in logs are) → (agent,
    /// deployment it uses).
    accounts: BTreeMap<String, Vec<(AgentRef, Option<String>)>>,
}

/// `gpt-4o 2024-11-20 (OpenAI) (deployment gpt-4o-prod)` → `gpt-4o-prod`.
fn deployment_of(model: &str) -> Option<String> {
    let start = model.rfind("(deployment ")? + "(deployment ".len();
    let rest = &model[start..];
    let end = rest.find([')', ' '])?;
    Some(rest[..end].to_string())
}

impl DeploymentAttribution {
    pub fn from_inventory(snapshot: &InventorySnapshot) -> DeploymentAttribution {
        let mut out = DeploymentAttribution::default();
        for a in snapshot
            .agents
            .iter()
            .filter(|a| a.agent.provider == Provider::Azure && a.deleted.is_none())
        {
            let account = super::account_of(&a.agent).unwrap_or_default();
            let deployment = a
                .declared_model
                .as_ref()
                .and_then(|m| deployment_of(&m.value));
            out.accounts
                .entry(format!("{}/{account}", a.agent.scope).to_ascii_uppercase())
                .or_default()
                .push((a.agent.clone(), deployment));
        }
        out
    }

    fn agent(
        &self,
        subscription: &str,
        account: &str,
        deployment: Option<&str>,
    ) -> Option<AgentRef> {
        let agents = self
            .accounts
            .get(&format!("{subscription}/{account}").to_ascii_uppercase())?;
        if let Some(d) = deployment {
            let using: Vec<&AgentRef> = agents
                .iter()
                .filter(|(_, used)| used.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(d)))
                .map(|(a, _)| a)
                .collect();
            if let [one] = using.as_slice() {
                return Some((*one).clone());
            }
        }
        match agents.as_slice() {
            [(one, _)] => Some(one.clone()),
            _ => None,
        }
    }
}

/// `…/SUBSCRIPTIONS/S/…/ACCOUNTS/A[/…]` → the segment after `collection`, case kept.
fn segment<'a>(resource_id: &'a str, collection: &str) -> Option<&'a str> {
    let parts: Vec<&str> = resource_id.split('/').collect();
    parts
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case(collection))
        .map(|w| w[1])
        .filter(|s| !s.is_empty())
}

/// Maps resource-log records to events, each model an agent was seen calling said once.
pub type DiagnosticsMapper = crate::records::lines::SightingMapper<DeploymentAttribution>;

/// What the archived resource logs show of one agent: the calls attributed to it.
pub fn coverage(
    agent: &AgentRef,
    source: &str,
    seen: &BTreeMap<Layer, u64>,
    loss: Option<crate::records::Loss>,
) -> Vec<Coverage> {
    let calls = seen.get(&Layer::IdentityApi).copied().unwrap_or(0);
    if calls == 0 {
        return Vec::new();
    }
    vec![Coverage {
        agent: agent.clone(),
        layer: Layer::IdentityApi,
        status: crate::records::Loss::observed(
            loss,
            format!(
                "{source}: {} of calls through its deployment (Audit, RequestResponse resource logs: caller, operation, status; never a payload)",
                crate::records::records(calls)
            ),
            "records in these archives could not be read and are quarantined (agentward quarantine); calls in that window may be missing",
        ),
    }]
}

impl crate::records::lines::RecordMap for DiagnosticsMapper {
    fn map(&mut self, object: &str, index: u64, bytes: &[u8]) -> Result<Output, NotARecord> {
        let record: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not a JSON log record: {e}"))?;
        let text = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let stamp = text(&record, "time").ok_or("record without a time")?;
        let time = Timestamp::parse_rfc3339(&stamp)
            .map_err(|_| format!("time {stamp:?} is not an RFC 3339 timestamp"))?;
        let resource = text(&record, "resourceId").ok_or("record without a resourceId")?;
        let category = text(&record, "category").ok_or("record without a category")?;
        let operation = text(&record, "operationName").ok_or("record without an operationName")?;
        let subscription = segment(&resource, "subscriptions")
            .ok_or("resourceId names no subscription")?
            .to_ascii_lowercase();
        let account = segment(&resource, "accounts").ok_or("resourceId names no account")?;
        // `properties` is a JSON object, or a string holding one.
        let properties = match record.get("properties") {
            Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
            Some(v) => v.clone(),
            None => Value::Null,
        };
        let deployment = text(&properties, "modelDeploymentName");
        let model =
            text(&properties, "modelName").map(|m| match text(&properties, "modelVersion") {
                Some(v) => format!("{m} {v}"),
                None => m,
            });
        let agent = self
            .attribution
            .agent(&subscription, account, deployment.as_deref());
        let signature = text(&record, "resultSignature");
        let failed = text(&record, "resultType").is_some_and(|t| t.eq_ignore_ascii_case("Failed"))
            || signature
                .as_deref()
                .and_then(|s| s.parse::<u16>().ok())
                .is_some_and(|code| code >= 400);
        let outcome = if failed {
            Outcome::Failure {
                code: signature.clone().unwrap_or_else(|| "Failed".into()),
                message: text(&record, "resultDescription"),
            }
        } else {
            Outcome::Success
        };
        let object_id = text(&properties, "objectId").or_else(|| {
            record
                .pointer("/identity/claim/http:~1~1schemas.microsoft.com~1identity~1claims~1objectidentifier")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let raw = RawPointer {
            source: self.source.clone(),
            object: object.to_string(),
            index,
        };
        let correlation_id = text(&record, "correlationId");
        let observations: Vec<Observation> = self
            .sighted
            .first(
                (agent.as_ref(), model.as_ref()),
                &outcome,
                time,
                (&raw, correlation_id.as_deref()),
            )
            .into_iter()
            .collect();
        let uid = crate::record_uid(&[
            &resource,
            &stamp,
            &category,
            &operation,
            correlation_id.as_deref().unwrap_or(""),
        ]);
        let location = text(&record, "location").unwrap_or_default();
        let event = Event {
            uid,
            time,
            agent,
            layer: Layer::IdentityApi,
            service: format!("{account}.cognitiveservices.azure.com"),
            operation,
            targets: vec![Target {
                uid: match &deployment {
                    Some(d) => format!("{resource}/DEPLOYMENTS/{d}"),
                    None => resource.clone(),
                },
                kind: Some("Microsoft.CognitiveServices/accounts".into()),
                name: deployment.clone(),
            }],
            outcome,
            principal: Principal {
                kind: if object_id.is_some() {
                    "EntraPrincipal".into()
                } else {
                    "Unknown".into()
                },
                id: object_id,
                account: Some(subscription.clone()),
                ..Principal::default()
            },
            correlation: Correlation {
                request_id: correlation_id,
                ..Correlation::default()
            },
            source: raw,
            cloud: Some(CloudContext {
                provider: Provider::Azure,
                account: subscription,
                region: if location.is_empty() {
                    "global".into()
                } else {
                    location
                },
            }),
            src_ip: text(&record, "callerIpAddress"),
            user_agent: None,
            model,
            category: Some(category),
            read_only: None,
            original_time: Some(stamp),
            prompt: None,
            count: None,
            permissions: Vec::new(),
        };
        Ok(Output::Mapped(Box::new(Mapped {
            event,
            observations,
            identity: Vec::new(),
        })))
    }
}

pub const KIND: &str = "azure-diagnostic-logs";

/// Foundry resource logs a diagnostic setting archives, as a log source reads them:
/// attributed by the accounts and deployments the inventory knows.
pub struct DiagnosticsFormat;

#[async_trait::async_trait]
impl crate::source::LogFormat for DiagnosticsFormat {
    async fn list(&self, at: &Opened) -> Result<Listing, ConnectorError> {
        list(at).await
    }

    fn mapper(
        &self,
        source: &str,
        _attribution: crate::attribution::Attribution,
        known: &InventorySnapshot,
    ) -> Box<dyn crate::source::RecordMapper> {
        Box::new(DiagnosticsMapper::new(
            source.to_string(),
            DeploymentAttribution::from_inventory(known),
        ))
    }

    fn provider(&self) -> normalizer::Provider {
        normalizer::Provider::Azure
    }

    fn coverage(
        &self,
        source: &str,
        agent: &AgentRef,
        tally: &crate::source::Tally,
    ) -> Vec<Coverage> {
        coverage(agent, source, &tally.seen, tally.loss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::lines::RecordMap;

    #[test]
    fn records_go_to_the_agent_whose_deployment_they_name() {
        assert_eq!(
            deployment_of("gpt-4o 2024-11-20 (OpenAI) (deployment gpt-4o-prod)").as_deref(),
            Some("gpt-4o-prod")
        );
        assert_eq!(deployment_of("gpt-4o"), None);
        let agent = |id: &str| AgentRef {
            provider: Provider::Azure,
            scope: "6f1c2d3e".into(),
            location: "eastus".into(),
            id: format!("acme-foundry/support/{id}"),
            qualifier: None,
        };
        let mut attribution = DeploymentAttribution::default();
        attribution.accounts.insert(
            "6F1C2D3E/ACME-FOUNDRY".into(),
            vec![
                (agent("desk"), Some("gpt-4o-prod".into())),
                (agent("refunds"), Some("gpt-4o-mini-prod".into())),
                (agent("router"), None),
            ],
        );
        let mut mapper = DiagnosticsMapper::new("diag".into(), attribution);
        let record = |deployment: &str, signature: &str| {
            serde_json::json!({
                "time": "2026-11-20T10:00:01.1234567Z",
                "resourceId": "/SUBSCRIPTIONS/6F1C2D3E/RESOURCEGROUPS/SUPPORT-AI/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/ACME-FOUNDRY",
                "category": "RequestResponse", "operationName": "ChatCompletions_Create",
                "callerIpAddress": "203.0.113.*", "correlationId": format!("c-{deployment}"),
                "resultSignature": signature, "durationMs": 812, "location": "eastus",
                "properties": serde_json::json!({"apiName": "Azure OpenAI API version 2024-10-21",
                    "objectId": "0f0e0d0c", "modelDeploymentName": deployment,
                    "modelName": "gpt-4o-mini", "modelVersion": "2024-07-18"}).to_string()
            })
            .to_string()
        };
        let mapped = mapper
            .map("x.json", 0, record("gpt-4o-mini-prod", "200").as_bytes())
            .unwrap()
            .mapped()
            .unwrap();
        assert_eq!(mapped.event.agent, Some(agent("refunds")));
        assert_eq!(
            mapped.event.model.as_deref(),
            Some("gpt-4o-mini 2024-07-18")
        );
        assert_eq!(mapped.event.principal.id.as_deref(), Some("0f0e0d0c"));
        assert_eq!(
            mapped.observations.len(),
            1,
            "the model joins the agent's inventory as invoked"
        );
        let shared = mapper
            .map("x.json", 1, record("gpt-4.1-shared", "429").as_bytes())
            .unwrap()
            .mapped()
            .unwrap();
        assert_eq!(
            shared.event.agent, None,
            "no agent uses that deployment alone"
        );
        assert!(matches!(shared.event.outcome, Outcome::Failure { ref code, .. } if code == "429"));
        assert!(mapper.map("x.json", 2, b"{\"time\": \"x\"}").is_err());
        // A lost line is placed on its blob's day.
        let (from, _) = crate::records::file_day(
            "resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/A/y=2026/m=11/d=20/h=10/m=00/PT1H.json",
        )
        .unwrap();
        assert_eq!(from.utc_date(), "2026-11-20");
    }
}
