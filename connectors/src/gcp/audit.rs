//! Cloud Audit Logs of Vertex AI Agent Engine as a source: the objects a Cloud Logging
//! sink exports to Cloud Storage (`cloudaudit.googleapis.com/activity/YYYY/MM/DD/…json`,
//! one `LogEntry` per line), in a bucket (`gs://`) or a directory they were copied to.
//!
//! Which agent a record is about: a call on a reasoning engine (its resource name) is that
//! engine's; any other call is the agent's whose identity made it, when exactly one agent
//! runs as that service account. Both are learned from the inventory the gcp-api sources
//! read, so an engine deployed before the logs begin is attributed from the first record.

use crate::ConnectorError;
use crate::location::Opened;
use crate::records::{Listing, Mapped, NotARecord, Output};
use normalizer::event::{CloudContext, Target};
use normalizer::inventory::{InventorySnapshot, Observation};
use normalizer::{
    AgentRef, Correlation, Coverage, CoverageStatus, Event, Layer, Outcome, Principal, Provider,
    RawPointer, Timestamp,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The log IDs of Cloud Audit Logs, as a sink names their directories, and what each holds.
const AUDIT_LOGS: [(&str, &str); 4] = [
    ("activity", "Admin Activity"),
    ("data_access", "Data Access"),
    ("system_event", "System Event"),
    ("policy", "Policy Denied"),
];
const AUDIT_LOG_TYPE: &str = "type.googleapis.com/google.cloud.audit.AuditLog";
/// `ReasoningEngineService` (deploy, change, read) and `ReasoningEngineExecutionService`
/// (query, stream query).
const ENGINE_SERVICES: &str = ".ReasoningEngine";
const ENGINE_KIND: &str = "aiplatform.googleapis.com/ReasoningEngine";
/// Methods that change an engine (everything else on it reads or queries it).
const ENGINE_CONTROL_VERBS: [&str; 3] = ["Create", "Update", "Delete"];
/// Model calls, whose resource names the model: evidence of what an engine really uses.
const MODEL_METHODS: [&str; 6] = [
    "GenerateContent",
    "StreamGenerateContent",
    "Predict",
    "RawPredict",
    "StreamRawPredict",
    "ChatCompletions",
];

/// The audit-log type of an object, from the sink's directory layout; `None` for objects
/// that are not Cloud Audit Logs.
fn audit_log_of(key: &str) -> Option<&'static str> {
    let parts: Vec<&str> = key.split('/').collect();
    parts.windows(2).find_map(|w| {
        (w[0] == "cloudaudit.googleapis.com")
            .then(|| {
                AUDIT_LOGS
                    .iter()
                    .find(|(id, _)| *id == w[1])
                    .map(|(_, n)| *n)
            })
            .flatten()
    })
}

/// An engine's own output, as Agent Engine routes it to Cloud Logging.
const RUNTIME_LOGS: [&str; 2] = ["reasoning_engine_stdout", "reasoning_engine_stderr"];

/// Whether an object holds an engine's runtime log (`aiplatform.googleapis.com/reasoning_engine_stdout/…`).
fn runtime_log_of(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    parts
        .windows(2)
        .any(|w| w[0] == "aiplatform.googleapis.com" && RUNTIME_LOGS.contains(&w[1]))
}

/// The model an agent framework's own log line says it is calling: ADK logs `Sending out
/// request, model: gemini-2.0-flash, backend: …` before every model call.
pub(crate) fn runtime_model(line: &str) -> Option<String> {
    let rest = line.split_once("Sending out request, model: ")?.1;
    let model = rest.split([',', ' ']).next()?.trim();
    let model = model.rsplit("/models/").next().unwrap_or(model);
    (!model.is_empty()).then(|| model.to_string())
}

/// Every object under the source: the audit-log exports and the engines' runtime logs,
/// oldest hour first; anything else (another log a sink routes there, a temporary object)
/// listed as skipped with the reason.
pub async fn list(source: &Opened) -> Result<Listing, ConnectorError> {
    let mut listing = crate::records::list_objects(source, |key| {
        if audit_log_of(key).is_none() && !runtime_log_of(key) {
            Some(
                "neither a Cloud Audit Logs export (cloudaudit.googleapis.com/{activity,data_access,system_event,policy}/…) \
                 nor an engine's runtime log (aiplatform.googleapis.com/reasoning_engine_{stdout,stderr}/…)"
                    .into(),
            )
        } else if key.ends_with(".json") || key.ends_with(".json.gz") {
            None
        } else {
            Some("not a log export file name (.json)".into())
        }
    })
    .await?;
    // `…/YYYY/MM/DD/HH:MM:SS_HH:MM:SS_S0.json`: the date path and hour order files by time
    // across the four logs.
    listing
        .files
        .sort_by(|a, b| (time_path(&a.key), &a.key).cmp(&(time_path(&b.key), &b.key)));
    Ok(listing)
}

fn time_path(key: &str) -> &str {
    match key.split_once("cloudaudit.googleapis.com/") {
        // Past the log ID: `YYYY/MM/DD/file`.
        Some((_, rest)) => rest.split_once('/').map(|(_, t)| t).unwrap_or(rest),
        None => key,
    }
}

/// Which engine is which, and which agents run as which service account, from the
/// inventory.
#[derive(Debug, Clone, Default)]
pub struct EngineAttribution {
    /// engine id → the engines with that id (one, unless two projects reuse it).
    engines: BTreeMap<String, Vec<AgentRef>>,
    /// service account e-mail → the engines running as it.
    identities: BTreeMap<String, BTreeSet<AgentRef>>,
}

impl EngineAttribution {
    pub fn from_inventory(snapshot: &InventorySnapshot) -> EngineAttribution {
        let mut out = EngineAttribution::default();
        for a in snapshot.agents.iter().filter(|a| {
            a.agent.provider == Provider::Gcp
                && a.platform
                    .as_ref()
                    .is_some_and(|p| p.value == super::PLATFORM)
        }) {
            out.engines
                .entry(a.agent.id.clone())
                .or_default()
                .push(a.agent.clone());
            let identity = a
                .engine
                .as_ref()
                .map(|e| e.value.service_account.clone())
                .or_else(|| a.role.as_ref().map(|r| r.value.clone()));
            if let Some(sa) = identity {
                out.identities
                    .entry(sa)
                    .or_default()
                    .insert(a.agent.clone());
            }
        }
        out
    }

    /// The engine a resource name points at, in the project the record names.
    fn engine(
        &self,
        resource: &str,
        project: Option<&str>,
        location: Option<&str>,
    ) -> Option<AgentRef> {
        let id = engine_id(resource)?;
        let candidates = self.engines.get(id)?;
        let matching: Vec<&AgentRef> = candidates
            .iter()
            .filter(|a| {
                project.is_none_or(|p| a.scope == p || resource_project(resource) == Some(&a.scope))
            })
            .filter(|a| location.is_none_or(|l| a.location == l))
            .collect();
        match matching.as_slice() {
            [one] => Some((*one).clone()),
            _ => None,
        }
    }

    /// The only engine running as this service account; none when several share it (the
    /// project's Reasoning Engine service agent, typically): the call is kept unattributed.
    fn running_as(&self, email: &str) -> Option<AgentRef> {
        match self.identities.get(email) {
            Some(set) if set.len() == 1 => set.iter().next().cloned(),
            _ => None,
        }
    }
}

/// `…/reasoningEngines/ID[/…]` → `ID`.
fn engine_id(resource: &str) -> Option<&str> {
    let mut parts = resource.split('/');
    parts.find(|p| *p == "reasoningEngines")?;
    parts.next().filter(|id| !id.is_empty())
}

/// `projects/P/…` → `P` (an id or a number).
fn resource_project(resource: &str) -> Option<&str> {
    resource_segment(resource, "projects")
}

/// The segment after `collection/` in a resource name.
fn resource_segment<'a>(resource: &'a str, collection: &str) -> Option<&'a str> {
    let mut parts = resource.split('/');
    parts.find(|p| *p == collection)?;
    parts.next().filter(|s| !s.is_empty())
}

/// `…/publishers/google/models/gemini-2.5-flash` or `…/endpoints/123` → the model.
fn model_of(resource: &str) -> Option<String> {
    let mut parts = resource.split('/');
    while let Some(p) = parts.next() {
        if p == "models" || p == "endpoints" {
            return parts.next().filter(|m| !m.is_empty()).map(|m| {
                if p == "endpoints" {
                    format!("endpoints/{m}")
                } else {
                    m.to_string()
                }
            });
        }
    }
    None
}

/// google.rpc.Code names, for failures as the console shows them.
fn status_name(code: i64) -> String {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map(|n| n.to_string())
        .unwrap_or_else(|| code.to_string())
}

/// Maps audit-log entries to events, remembering which models each agent was already seen
/// calling so a file proves each only once.
pub type AuditMapper = crate::records::lines::SightingMapper<EngineAttribution>;

/// What the scanned audit logs show of one engine: the calls on it and by its identity
/// (Data Access), its changes (Admin Activity); records that could not be read degrade
/// what they would have shown. Layers audit logs never hold are said as such.
pub fn coverage(
    agent: &AgentRef,
    source: &str,
    seen: &BTreeMap<Layer, u64>,
    loss: Option<crate::records::Loss>,
) -> Vec<Coverage> {
    let count = |l: Layer| seen.get(&l).copied().unwrap_or(0);
    let observed = |via: String| {
        crate::records::Loss::observed(
            loss,
            via,
            "entries in these exports could not be read and are quarantined (agentward quarantine); events in that window may be missing",
        )
    };
    let records = crate::records::records;
    let project = &agent.scope;
    let mut out: Vec<Coverage> = super::coverage(agent, source, None, None, &[], &[])
        .into_iter()
        .filter(|c| !matches!(c.layer, Layer::IdentityApi | Layer::Control))
        .collect();
    let at = |layer, status| Coverage {
        agent: agent.clone(),
        layer,
        status,
    };
    out.push(at(
        Layer::IdentityApi,
        if count(Layer::IdentityApi) > 0 {
            observed(format!(
                "Cloud Audit Logs ({source}): {} of calls on the engine or by its identity",
                records(count(Layer::IdentityApi))
            ))
        } else {
            CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: no Data Access records of calls on this engine or by its service account in the scanned exports: Data Access audit logs are off by default, or the sink's filter leaves them out (read through the Logging API: the scanner may lack roles/logging.privateLogViewer)"
                ),
                how_to_enable: format!(
                    "turn on DATA_READ and DATA_WRITE for aiplatform.googleapis.com in the IAM policy of {project} (auditConfigs), and route logName:\"cloudaudit.googleapis.com%2Fdata_access\" to the sink"
                ),
            }
        },
    ));
    out.push(at(
        Layer::Control,
        if count(Layer::Control) > 0 {
            observed(format!(
                "Cloud Audit Logs ({source}): {} of changes to the engine (attempts included)",
                records(count(Layer::Control))
            ))
        } else {
            CoverageStatus::AvailableIfEnabled {
                setting: format!(
                    "{source}: no Admin Activity records of changes to this engine in the scanned exports: it was not changed in that period, or the sink's filter leaves them out"
                ),
                how_to_enable: "route logName:\"cloudaudit.googleapis.com%2Factivity\" AND protoPayload.serviceName=\"aiplatform.googleapis.com\" to the sink (gcloud logging sinks update SINK --log-filter=…)".into(),
            }
        },
    ));
    out
}

/// A non-empty string at `path` of a log entry.
fn text(v: &Value, path: &str) -> Option<String> {
    v.pointer(path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl AuditMapper {
    /// The engine's own output is no event and may hold prompts: only the model it names is
    /// kept, as evidence, never the line.
    fn runtime_evidence(
        &mut self,
        entry: &Value,
        object: &str,
        index: u64,
    ) -> Result<Output, NotARecord> {
        let labels = |k: &str| text(entry, &format!("/resource/labels/{k}"));
        let (Some(id), Some(location), Some(project)) = (
            labels("reasoning_engine_id"),
            labels("location"),
            labels("resource_container"),
        ) else {
            return Ok(Output::Evidence(Vec::new()));
        };
        let name = format!("projects/{project}/locations/{location}/reasoningEngines/{id}");
        // `resource_container` may be the project's id or number: the engine id and
        // its location decide.
        let agent = self.attribution.engine(&name, None, Some(&location));
        let line = text(entry, "/textPayload").or_else(|| text(entry, "/jsonPayload/message"));
        let model = line.as_deref().and_then(runtime_model);
        let time = text(entry, "/timestamp")
            .and_then(|t| Timestamp::parse_rfc3339(&t).ok())
            .ok_or("runtime log entry without a timestamp")?;
        let raw = RawPointer {
            source: self.source.clone(),
            object: object.to_string(),
            index,
        };
        let insert_id = text(entry, "/insertId");
        Ok(Output::Evidence(
            self.sighted
                .first(
                    (agent.as_ref(), model.as_ref()),
                    &Outcome::Success,
                    time,
                    (&raw, insert_id.as_deref()),
                )
                .into_iter()
                .collect(),
        ))
    }
}

/// The permissions Google checked and granted for the call (`authorizationInfo[]` with
/// `granted: true`; an absent `granted` is a refusal), each once, in order.
fn granted_permissions(payload: &Value) -> Vec<String> {
    let mut out: Vec<String> = payload
        .pointer("/authorizationInfo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("granted").and_then(Value::as_bool) == Some(true))
        .filter_map(|a| text(a, "/permission"))
        .collect();
    out.sort();
    out.dedup();
    out
}

impl crate::records::lines::RecordMap for AuditMapper {
    /// One `LogEntry` line → an event, or the reason it is not one.
    fn map(&mut self, object: &str, index: u64, bytes: &[u8]) -> Result<Output, NotARecord> {
        let entry: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not a JSON log entry: {e}"))?;
        let runtime = runtime_log_of(object)
            || text(&entry, "/logName")
                .is_some_and(|l| RUNTIME_LOGS.iter().any(|r| l.ends_with(r)));
        if runtime {
            return self.runtime_evidence(&entry, object, index);
        }
        let payload = entry
            .get("protoPayload")
            .filter(|p| p.get("@type").and_then(Value::as_str) == Some(AUDIT_LOG_TYPE))
            .ok_or("not a Cloud Audit Logs entry (no protoPayload of type google.cloud.audit.AuditLog)")?;
        let stamp = text(&entry, "/timestamp").ok_or("entry without a timestamp")?;
        let time = Timestamp::parse_rfc3339(&stamp)
            .map_err(|_| format!("timestamp {stamp:?} is not an RFC 3339 timestamp"))?;
        let log_name = text(&entry, "/logName").unwrap_or_default();
        let service = text(payload, "/serviceName").ok_or("audit entry without serviceName")?;
        let method = text(payload, "/methodName").ok_or("audit entry without methodName")?;
        let resource = text(payload, "/resourceName").unwrap_or_default();
        // The project the entry was logged in; the monitored resource of an engine names
        // it `resource_container`.
        let project = text(&entry, "/resource/labels/project_id")
            .or_else(|| text(&entry, "/resource/labels/resource_container"))
            .or_else(|| resource_project(&log_name).map(str::to_string));
        let location = text(&entry, "/resource/labels/location")
            .or_else(|| text(&entry, "/resource/labels/region"))
            .or_else(|| resource_segment(&resource, "locations").map(str::to_string));
        // The verb is the last segment: `google.cloud.aiplatform.v1.ReasoningEngineService.QueryReasoningEngine`.
        let verb = method.rsplit('.').next().unwrap_or(&method).to_string();

        let principal_email = text(payload, "/authenticationInfo/principalEmail");
        let principal_subject = text(payload, "/authenticationInfo/principalSubject");
        let delegated_by = payload
            .pointer("/authenticationInfo/serviceAccountDelegationInfo")
            .and_then(Value::as_array)
            .and_then(|chain| {
                chain.iter().find_map(|d| {
                    text(d, "/firstPartyPrincipal/principalEmail")
                        .or_else(|| text(d, "/principalSubject"))
                })
            });
        let principal = Principal {
            kind: match principal_email.as_deref() {
                Some(e) if e.ends_with(".gserviceaccount.com") => "ServiceAccount".into(),
                Some(_) => "User".into(),
                None if principal_subject.is_some() => "FederatedPrincipal".into(),
                None => "Unknown".into(),
            },
            id: principal_email.clone().or(principal_subject.clone()),
            arn: None,
            account: project.clone(),
            issuer: None,
            session_name: None,
            invoked_by: delegated_by,
            credential_id: text(payload, "/authenticationInfo/serviceAccountKeyName"),
        };

        let is_engine_call = method.contains(ENGINE_SERVICES);
        let mut layer = Layer::IdentityApi;
        let mut agent = None;
        let mut targets = Vec::new();
        if !resource.is_empty() {
            targets.push(Target {
                uid: resource.clone(),
                kind: if engine_id(&resource).is_some() {
                    Some(ENGINE_KIND.into())
                } else {
                    text(&entry, "/resource/type")
                },
                name: None,
            });
        }
        // A call on an engine is that engine's; a create names only the parent, and the
        // engine it made is in the response.
        let subject = engine_id(&resource)
            .map(|_| resource.clone())
            .or_else(|| text(payload, "/response/name").filter(|n| engine_id(n).is_some()));
        if is_engine_call && let Some(name) = &subject {
            agent = self
                .attribution
                .engine(name, project.as_deref(), location.as_deref());
            if ENGINE_CONTROL_VERBS.iter().any(|v| verb.starts_with(v)) {
                layer = Layer::Control;
            }
        }
        // An engine with its own agent identity acts as
        // `principal://agents.global.org-…/…/reasoningEngines/ID`: that engine, in whatever
        // project it calls.
        if agent.is_none()
            && let Some(subject) = &principal_subject
        {
            agent = self.attribution.engine(subject, None, None);
        }
        if agent.is_none()
            && let Some(email) = &principal_email
        {
            agent = self.attribution.running_as(email);
        }

        let status_code = payload
            .pointer("/status/code")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let outcome = if status_code == 0 {
            Outcome::Success
        } else {
            Outcome::Failure {
                code: status_name(status_code),
                message: text(payload, "/status/message"),
            }
        };
        let model = MODEL_METHODS
            .contains(&verb.as_str())
            .then(|| model_of(&resource))
            .flatten();

        let raw = RawPointer {
            source: self.source.clone(),
            object: object.to_string(),
            index,
        };
        let insert_id = text(&entry, "/insertId");
        let observations: Vec<Observation> = self
            .sighted
            .first(
                (agent.as_ref(), model.as_ref()),
                &outcome,
                time,
                (&raw, insert_id.as_deref()),
            )
            .into_iter()
            .collect();

        // insertId is unique within a log and timestamp; with both it is unique anywhere.
        let uid = crate::record_uid(&[&log_name, &stamp, insert_id.as_deref().unwrap_or("")]);
        let category = audit_log_of(&log_name.replace("%2F", "/")).map(str::to_string);
        let read_only = if verb.starts_with("Get") || verb.starts_with("List") {
            Some(true)
        } else if ENGINE_CONTROL_VERBS.iter().any(|v| verb.starts_with(v))
            || verb.starts_with("Set")
        {
            Some(false)
        } else {
            None
        };
        let event = Event {
            uid,
            time,
            agent,
            layer,
            service,
            operation: method,
            targets,
            outcome,
            principal,
            correlation: Correlation {
                request_id: text(&entry, "/operation/id"),
                trace_id: text(&entry, "/trace"),
                ..Correlation::default()
            },
            source: raw,
            cloud: project.map(|p| CloudContext {
                provider: Provider::Gcp,
                account: p,
                region: location.unwrap_or_else(|| "global".into()),
            }),
            src_ip: text(payload, "/requestMetadata/callerIp"),
            user_agent: text(payload, "/requestMetadata/callerSuppliedUserAgent"),
            model,
            category,
            read_only,
            original_time: Some(stamp),
            prompt: None,
            count: None,
            permissions: granted_permissions(payload),
        };
        Ok(Output::Mapped(Box::new(Mapped {
            event,
            observations,
            identity: Vec::new(),
        })))
    }
}

pub const KIND: &str = "gcp-audit-logs";

/// Cloud Audit Logs as a Logging sink exports them (or the gcp-api source pulls them), as a
/// log source reads them: attributed by the engines and service accounts the inventory
/// knows.
pub struct AuditFormat;

#[async_trait::async_trait]
impl crate::source::LogFormat for AuditFormat {
    async fn list(&self, at: &Opened) -> Result<Listing, ConnectorError> {
        list(at).await
    }

    fn mapper(
        &self,
        source: &str,
        _attribution: crate::attribution::Attribution,
        known: &InventorySnapshot,
    ) -> Box<dyn crate::source::RecordMapper> {
        Box::new(AuditMapper::new(
            source.to_string(),
            EngineAttribution::from_inventory(known),
        ))
    }

    fn provider(&self) -> normalizer::Provider {
        normalizer::Provider::Gcp
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

    #[test]
    fn objects_are_recognised_by_the_sinks_layout() {
        assert_eq!(
            audit_log_of("cloudaudit.googleapis.com/activity/2026/11/20/10:00:00_10:59:59_S0.json"),
            Some("Admin Activity")
        );
        assert_eq!(
            audit_log_of("prod/cloudaudit.googleapis.com/data_access/2026/11/20/x.json"),
            Some("Data Access")
        );
        assert_eq!(
            audit_log_of("projects/p/logs/cloudaudit.googleapis.com/policy"),
            Some("Policy Denied")
        );
        assert_eq!(
            audit_log_of("aiplatform.googleapis.com/reasoning_engine_stdout/2026/11/20/x.json"),
            None
        );
        assert_eq!(audit_log_of("cloudaudit.googleapis.com/other/x.json"), None);
        assert_eq!(
            time_path(
                "a/cloudaudit.googleapis.com/data_access/2026/11/20/09:00:00_09:59:59_S0.json"
            ),
            "2026/11/20/09:00:00_09:59:59_S0.json"
        );
    }

    #[test]
    fn resource_names_give_engine_project_and_model() {
        let engine =
            "projects/418203957316/locations/us-central1/reasoningEngines/5723190044817195008";
        assert_eq!(engine_id(engine), Some("5723190044817195008"));
        assert_eq!(
            engine_id(&format!("{engine}/operations/77")),
            Some("5723190044817195008")
        );
        assert_eq!(resource_project(engine), Some("418203957316"));
        assert_eq!(resource_segment(engine, "locations"), Some("us-central1"));
        assert_eq!(resource_segment("projects/_/buckets/b", "locations"), None);
        assert_eq!(engine_id("projects/p/locations/l"), None);
        assert_eq!(
            model_of("projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash"),
            Some("gemini-2.5-flash".into())
        );
        assert_eq!(
            model_of("projects/p/locations/us-central1/endpoints/123"),
            Some("endpoints/123".into())
        );
        assert_eq!(status_name(7), "PERMISSION_DENIED");
        assert_eq!(status_name(99), "99");
    }
}
