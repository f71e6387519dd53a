//! What Foundry agents did, read through Azure's APIs: the Activity Log of the accounts
//! (changes: control layer) and the run steps of the classic agents' recent runs (tool
//! calls: tool layer). What is read is written into the store as JSON lines of our own
//! shape — one line per tool call or per agent an Activity Log entry concerns, holding ids,
//! names, status and times, never a tool's arguments or output, nor a request body — and
//! scanned from there like any log: cursors, evidence pointers, baselines.

use super::{ARM_SCOPE, CLASSIC_API, FOUNDRY_SCOPE};
use crate::failure::rest_failure;
use crate::location::Opened;
use crate::records::{Listing, Mapped, NotARecord, Output};
use crate::rest::{Call, RestClient, RestError};
use crate::{ConnectorError, FailureClass};
use normalizer::event::{CloudContext, Target};
use normalizer::inventory::InventorySnapshot;
use normalizer::{
    AgentRef, Correlation, Coverage, Event, Layer, Outcome, Principal, Provider, RawPointer,
    Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

pub const ACTIVITY_API: &str = "2015-04-01";
/// Activity Log entries can appear well after their `eventTimestamp`: the last hours are
/// asked for again by the next read (entries already written are left out by id).
const ACTIVITY_SETTLE_MS: i64 = 2 * 60 * 60 * 1000;
/// Run states after which a run's steps no longer change.
const TERMINAL_RUNS: [&str; 5] = ["completed", "failed", "cancelled", "expired", "incomplete"];
/// Activity Log states that end an operation; `Started` and `Accepted` precede one of them.
const FINAL_ACTIVITY: [&str; 3] = ["Succeeded", "Failed", "Canceled"];

/// How much to read.
pub use crate::source::PullLimits;

/// Where the reading of one subscription's Activity Log stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityState {
    pub from: Timestamp,
    /// `eventDataId` → event time of the entries written at or after `from`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seen: BTreeMap<String, Timestamp>,
}

/// How far an azure-api source has read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsState {
    /// Subscription → its Activity Log.
    #[serde(default)]
    pub activity: BTreeMap<String, ActivityState>,
    /// `SUBSCRIPTION/ACCOUNT/PROJECT` → run id → creation time, of the runs whose steps
    /// were written (they are not read again).
    #[serde(default)]
    pub runs: BTreeMap<String, BTreeMap<String, Timestamp>>,
}

/// A Foundry project whose agents were read, and where its data plane answers.
#[derive(Debug, Clone)]
pub struct ProjectEndpoint {
    pub subscription: String,
    pub location: String,
    pub account: String,
    pub project: String,
    pub endpoint: url::Url,
}

/// What one pull produced.
#[derive(Debug, Default)]
pub struct Pulled {
    /// Object key (relative to the source's pulled directory) → JSON lines.
    pub files: Vec<(String, Vec<u8>)>,
    pub tool_calls: usize,
    pub activity: usize,
    pub failures: Vec<ConnectorError>,
}

/// The agents of one source, by subscription, account and project.
#[derive(Debug, Default)]
pub struct AgentScopes {
    /// `SUBSCRIPTION/ACCOUNT` → (location, agents `ACCOUNT/PROJECT/AGENT`).
    accounts: BTreeMap<String, (String, BTreeSet<String>)>,
}

impl AgentScopes {
    pub fn from_inventory(snapshot: &InventorySnapshot, source: &str) -> AgentScopes {
        let mut out = AgentScopes::default();
        for a in snapshot.agents.iter().filter(|a| {
            a.agent.provider == Provider::Azure
                && a.deleted.is_none()
                && a.platform
                    .as_ref()
                    .is_some_and(|p| p.provenance.record.source == source)
        }) {
            let account = super::account_of(&a.agent).unwrap_or_default();
            let entry = out
                .accounts
                .entry(format!("{}/{account}", a.agent.scope))
                .or_insert_with(|| (a.agent.location.clone(), BTreeSet::new()));
            entry.1.insert(a.agent.id.clone());
        }
        out
    }

    /// The agents a resource concerns: a project and what is under it → the project's
    /// agents; the account or anything else under it (deployments, content filters,
    /// network) → every agent of the account.
    fn concerned(&self, subscription: &str, resource_id: &str) -> (Option<String>, Vec<String>) {
        let lower = resource_id.to_ascii_lowercase();
        let segment = |name: &str| {
            let key = format!("/{name}/");
            lower.find(&key).map(|at| {
                let start = at + key.len();
                let rest = &resource_id[start..];
                rest.split('/').next().unwrap_or(rest).to_string()
            })
        };
        let Some(account) = segment("accounts") else {
            return (None, Vec::new());
        };
        let Some((location, agents)) = self.accounts.get(&format!("{subscription}/{account}"))
        else {
            return (None, Vec::new());
        };
        let agents = match segment("projects") {
            Some(project) => {
                let prefix = format!("{account}/{project}/");
                agents
                    .iter()
                    .filter(|a| a.starts_with(&prefix))
                    .cloned()
                    .collect()
            }
            None => agents.iter().cloned().collect(),
        };
        (Some(location.clone()), agents)
    }
}

fn unix_time(v: &Value) -> Option<Timestamp> {
    v.as_i64().map(|s| Timestamp(s * 1000))
}

fn text<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A list of the Foundry data plane, newest first, page by page, until `keep` says an
/// item is too old or the budget runs out; `true` with the items when the budget ran out.
async fn newest_first(
    client: &RestClient,
    service: &str,
    base: &url::Url,
    budget: &mut u32,
    keep: impl Fn(&Value) -> bool,
) -> Result<(Vec<Value>, bool), RestError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        if *budget == 0 {
            return Ok((all, true));
        }
        *budget -= 1;
        let url = super::cursor_url(base, CLASSIC_API, "desc", after.as_deref());
        let page = client.json(Call::get(service, url, FOUNDRY_SCOPE)).await?;
        let items = page["data"].as_array().cloned().unwrap_or_default();
        let last = page["last_id"].as_str().map(str::to_string).or_else(|| {
            items
                .last()
                .and_then(|i| i["id"].as_str().map(str::to_string))
        });
        let mut ended = false;
        for item in items {
            if keep(&item) {
                all.push(item);
            } else {
                ended = true;
            }
        }
        match (page["has_more"].as_bool().unwrap_or(false) && !ended, last) {
            (true, Some(l)) if after.as_deref() != Some(l.as_str()) => after = Some(l),
            (true, _) => {
                return Err(RestError::Parse {
                    call: format!("{service} {}", base.path()),
                    reason: "has_more without a new last_id: the list cannot go on".into(),
                });
            }
            (false, _) => return Ok((all, false)),
        }
    }
}

/// One line per tool call of a run step: names and outcome, never arguments or output.
fn tool_call_lines(
    step: &Value,
    project: &ProjectEndpoint,
    run: &Value,
    lines: &mut Vec<u8>,
) -> usize {
    let calls = step
        .pointer("/step_details/tool_calls")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let agent = text(step, "/assistant_id").or(text(run, "/assistant_id"));
    for call in &calls {
        let kind = text(call, "/type").unwrap_or("unknown");
        let inner = &call[kind];
        let name = text(inner, "/name").or(text(call, "/name"));
        let server = text(call, "/server_label").or(text(inner, "/server_label"));
        let tool = match (server, name) {
            (Some(s), Some(n)) => format!("{s}/{n}"),
            (Some(s), None) => s.to_string(),
            (None, Some(n)) => n.to_string(),
            (None, None) => kind.to_string(),
        };
        let line = json!({
            "record": "tool_call",
            "subscription": project.subscription,
            "location": project.location,
            "account": project.account,
            "project": project.project,
            "agent": agent,
            "thread_id": text(step, "/thread_id").or(text(run, "/thread_id")),
            "run_id": text(step, "/run_id").or(text(run, "/id")),
            "step_id": text(step, "/id"),
            "tool_call_id": text(call, "/id"),
            "tool_type": kind,
            "tool": tool,
            "status": text(step, "/status"),
            "error": step.get("last_error").filter(|e| !e.is_null()).map(|e| json!({
                "code": e["code"], "message": e["message"]
            })),
            "created_at": step["created_at"],
            "completed_at": step["completed_at"],
            "failed_at": step["failed_at"],
            "model": run["model"],
        });
        // Serializing a value we built cannot fail.
        let _ = serde_json::to_writer(&mut *lines, &line);
        lines.push(b'\n');
    }
    calls.len()
}

/// The classic agents' runs of one project created in the last `limits.days`, each read
/// once its steps can no longer change: one line per tool call. `false` when the threads
/// could not be listed.
pub async fn pull_runs(
    client: &RestClient,
    project: &ProjectEndpoint,
    done: &mut BTreeMap<String, Timestamp>,
    now: Timestamp,
    limits: PullLimits,
    out: &mut Pulled,
) -> bool {
    let window = Timestamp(now.millis() - i64::from(limits.days) * Timestamp::MS_PER_DAY);
    let service = format!("foundry {}/{}", project.account, project.project);
    let base = |path: &str| {
        let mut url = project.endpoint.clone();
        let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    };
    let recent = |item: &Value| unix_time(&item["created_at"]).is_none_or(|t| t >= window);
    let mut budget = limits.max_pages;
    let mut cut = false;
    let fail = |out: &mut Pulled, what: String, e: RestError| {
        out.failures.push(rest_failure(
            format!(
                "account {}, project {}: {what}",
                project.account, project.project
            ),
            &e,
        ));
    };
    let threads = match newest_first(client, &service, &base("threads"), &mut budget, recent).await
    {
        Ok((t, more)) => {
            cut |= more;
            t
        }
        Err(e) => {
            fail(out, "threads not listed (tool calls not read)".into(), e);
            return false;
        }
    };
    'threads: for thread in &threads {
        let Some(thread_id) = text(thread, "/id") else {
            continue;
        };
        let runs = match newest_first(
            client,
            &service,
            &base(&format!("threads/{thread_id}/runs")),
            &mut budget,
            recent,
        )
        .await
        {
            Ok((r, more)) => {
                cut |= more;
                r
            }
            Err(e) => {
                fail(out, format!("runs of thread {thread_id} not listed"), e);
                continue;
            }
        };
        for run in &runs {
            let (Some(run_id), Some(status)) = (text(run, "/id"), text(run, "/status")) else {
                continue;
            };
            if done.contains_key(run_id) || !TERMINAL_RUNS.contains(&status) {
                // Read already, or still running: its steps are read once it ends.
                continue;
            }
            let mut lines = Vec::new();
            let mut calls = 0;
            let mut after: Option<String> = None;
            loop {
                if budget == 0 {
                    cut = true;
                    break 'threads;
                }
                budget -= 1;
                let url = super::cursor_url(
                    &base(&format!("threads/{thread_id}/runs/{run_id}/steps")),
                    CLASSIC_API,
                    "asc",
                    after.as_deref(),
                );
                let page = match client.json(Call::get(&service, url, FOUNDRY_SCOPE)).await {
                    Ok(p) => p,
                    Err(e) => {
                        fail(out, format!("steps of run {run_id} not read"), e);
                        continue 'threads;
                    }
                };
                let steps = page["data"].as_array().cloned().unwrap_or_default();
                for step in &steps {
                    calls += tool_call_lines(step, project, run, &mut lines);
                }
                let last = page["last_id"].as_str().map(str::to_string).or_else(|| {
                    steps
                        .last()
                        .and_then(|s| s["id"].as_str().map(str::to_string))
                });
                match (page["has_more"].as_bool().unwrap_or(false), last) {
                    (true, Some(l)) if after.as_deref() != Some(l.as_str()) => after = Some(l),
                    _ => break,
                }
            }
            let created = unix_time(&run["created_at"]).unwrap_or(now);
            if !lines.is_empty() {
                out.files.push((
                    format!(
                        "runs/{}/{}/{}/{}/{run_id}.jsonl",
                        project.subscription,
                        project.account,
                        project.project,
                        created.utc_date().replace('-', "/")
                    ),
                    lines,
                ));
            }
            out.tool_calls += calls;
            done.insert(run_id.to_string(), created);
        }
    }
    if cut {
        out.failures.push(ConnectorError::failed(
            FailureClass::Limit,
            format!("account {}, project {}", project.account, project.project),
            format!(
                "runs remain past {} pages (logging_max_pages); the next scan reads them",
                limits.max_pages
            ),
        ));
    }
    done.retain(|_, created| *created >= window);
    true
}

/// The subscription's Activity Log entries of Cognitive Services resources since the last
/// read: one line per agent an entry concerns (one unattributed line when none).
pub async fn pull_activity(
    client: &RestClient,
    settings: &super::AzureSettings,
    subscription: &str,
    state: Option<ActivityState>,
    scopes: &AgentScopes,
    (now, limits): (Timestamp, PullLimits),
    out: &mut Pulled,
) -> Option<ActivityState> {
    let resumed = state.is_some();
    let mut state = state.unwrap_or_else(|| ActivityState {
        from: Timestamp(now.millis() - i64::from(limits.days) * Timestamp::MS_PER_DAY),
        seen: BTreeMap::new(),
    });
    let filter = format!(
        "eventTimestamp ge '{}' and eventTimestamp le '{}' and resourceProvider eq 'Microsoft.CognitiveServices'",
        state.from.rfc3339(),
        now.rfc3339()
    );
    let mut url = match settings.arm(
        &format!("/subscriptions/{subscription}/providers/Microsoft.Insights/eventtypes/management/values"),
        ACTIVITY_API,
    ) {
        Ok(u) => u,
        Err(e) => {
            out.failures.push(e.into());
            return None;
        }
    };
    url.query_pairs_mut().append_pair("$filter", &filter);
    let mut lines: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut next = Some(url);
    let mut pages = 0;
    let mut cut = false;
    while let Some(url) = next.take() {
        if pages == limits.max_pages {
            cut = true;
            break;
        }
        pages += 1;
        let page = match client.json(Call::get("arm", url, ARM_SCOPE)).await {
            Ok(p) => p,
            Err(e) => {
                out.failures.push(rest_failure(
                    format!("subscription {subscription}: Activity Log not read"),
                    &e,
                ));
                return None;
            }
        };
        for entry in page["value"].as_array().into_iter().flatten() {
            let Some(id) = text(entry, "/eventDataId") else {
                continue;
            };
            let Some(time) =
                text(entry, "/eventTimestamp").and_then(|t| Timestamp::parse_rfc3339(t).ok())
            else {
                continue;
            };
            // A recording answers whatever window is asked: what an earlier read covered
            // is left out here too.
            if (resumed && time < state.from) || state.seen.contains_key(id) {
                continue;
            }
            if !text(entry, "/status/value").is_some_and(|s| FINAL_ACTIVITY.contains(&s)) {
                continue;
            }
            state.seen.insert(id.to_string(), time);
            let resource = text(entry, "/resourceId").unwrap_or_default();
            let (location, agents) = scopes.concerned(subscription, resource);
            let claims = &entry["claims"];
            let base = json!({
                "record": "activity",
                "subscription": subscription,
                "location": location,
                "event_data_id": id,
                "correlation_id": text(entry, "/correlationId"),
                "operation_id": text(entry, "/operationId"),
                "operation": text(entry, "/operationName/value"),
                "operation_label": text(entry, "/operationName/localizedValue"),
                "status": text(entry, "/status/value"),
                "sub_status": text(entry, "/subStatus/value"),
                "caller": text(entry, "/caller"),
                "caller_ip": text(entry, "/httpRequest/clientIpAddress"),
                "app_id": claims["appid"].as_str(),
                "identity_type": claims["idtyp"].as_str(),
                "resource_id": resource,
                "time": text(entry, "/eventTimestamp"),
                "submitted": text(entry, "/submissionTimestamp"),
                "level": text(entry, "/level"),
            });
            let day = time.utc_date().replace('-', "/");
            let buffer = lines.entry(day).or_default();
            let targets: Vec<Option<String>> = if agents.is_empty() {
                vec![None]
            } else {
                agents.into_iter().map(Some).collect()
            };
            for agent in targets {
                let mut line = base.clone();
                line["agent"] = json!(agent);
                let _ = serde_json::to_writer(&mut *buffer, &line);
                buffer.push(b'\n');
            }
            out.activity += 1;
        }
        next = match text(&page, "/nextLink") {
            Some(link) => match url::Url::parse(link) {
                Ok(u) => Some(u),
                Err(e) => {
                    out.failures.push(ConnectorError::failed(
                        FailureClass::Malformed,
                        format!("subscription {subscription}"),
                        format!("Activity Log nextLink {link:?} is not a URL: {e}"),
                    ));
                    break;
                }
            },
            None => None,
        };
    }
    for (day, bytes) in lines {
        let name = hex::encode(&Sha256::digest(&bytes)[..8]);
        out.files
            .push((format!("activity/{subscription}/{day}/{name}.jsonl"), bytes));
    }
    if cut {
        out.failures.push(ConnectorError::failed(FailureClass::Limit, format!("subscription {subscription}"), format!("Activity Log entries remain past {} pages (logging_max_pages); the next scan reads the same window again and skips what it already has", limits.max_pages)));
    } else {
        let next = Timestamp(now.millis() - ACTIVITY_SETTLE_MS).max(state.from);
        state.from = next;
        state.seen.retain(|_, t| *t >= next);
    }
    Some(state)
}

/// Every object the pulls wrote, oldest day first.
pub async fn list(source: &Opened) -> Result<Listing, ConnectorError> {
    let mut listing = crate::records::list_objects(source, |key| {
        if key.ends_with(".jsonl") && (key.starts_with("runs/") || key.starts_with("activity/")) {
            None
        } else {
            Some(
                "not written by an azure-api source's log read (runs/…jsonl, activity/…jsonl)"
                    .into(),
            )
        }
    })
    .await?;
    listing.files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(listing)
}

/// Maps the lines the pulls wrote.
pub struct LogMapper {
    pub source: String,
}

/// What the read logs show of one agent: its tool calls (classic agents' run steps) and
/// the changes to its project and account (Activity Log).
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
            "lines of the read logs could not be mapped and are quarantined (agentward quarantine)",
        )
    };
    let records = crate::records::records;
    let mut out = Vec::new();
    for (layer, what) in [
        (Layer::ToolInvocation, "tool calls in the agent's run steps"),
        (
            Layer::Control,
            "Activity Log changes to its project or account",
        ),
    ] {
        if count(layer) > 0 {
            out.push(Coverage {
                agent: agent.clone(),
                layer,
                status: observed(format!("{source}: {} of {what}", records(count(layer)))),
            });
        }
    }
    out
}

impl crate::records::lines::RecordMap for LogMapper {
    fn map(&mut self, object: &str, index: u64, bytes: &[u8]) -> Result<Output, NotARecord> {
        let line: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not a JSON line: {e}"))?;
        let field = |k: &str| text(&line, &format!("/{k}")).map(str::to_string);
        let subscription = field("subscription").ok_or("line without a subscription")?;
        let raw = RawPointer {
            source: self.source.clone(),
            object: object.to_string(),
            index,
        };
        let uid = |parts: &[Option<String>]| {
            let joined: Vec<&str> = parts.iter().map(|p| p.as_deref().unwrap_or("")).collect();
            crate::record_uid(&joined)
        };
        let location = field("location").unwrap_or_default();
        let agent_ref = |id: String| AgentRef {
            provider: Provider::Azure,
            scope: subscription.clone(),
            location: location.clone(),
            id,
            qualifier: None,
        };
        let cloud = Some(CloudContext {
            provider: Provider::Azure,
            account: subscription.clone(),
            region: if location.is_empty() {
                "global".into()
            } else {
                location.clone()
            },
        });
        let event = match line["record"].as_str() {
            Some("tool_call") => {
                let (account, project) = (
                    field("account").ok_or("tool call without an account")?,
                    field("project").ok_or("tool call without a project")?,
                );
                let agent_id = field("agent");
                let time = ["completed_at", "failed_at", "created_at"]
                    .iter()
                    .find_map(|k| unix_time(&line[*k]))
                    .ok_or("tool call without a time")?;
                let tool = field("tool").unwrap_or_default();
                let kind = field("tool_type").unwrap_or_else(|| "unknown".into());
                let status = field("status").unwrap_or_default();
                Event {
                    uid: uid(&[field("run_id"), field("step_id"), field("tool_call_id")]),
                    time,
                    agent: agent_id
                        .as_ref()
                        .map(|a| agent_ref(format!("{account}/{project}/{a}"))),
                    layer: Layer::ToolInvocation,
                    service: format!("{account}.services.ai.azure.com"),
                    operation: kind.clone(),
                    targets: vec![Target {
                        uid: tool.clone(),
                        kind: Some(format!("foundry-tool:{kind}")),
                        name: Some(tool),
                    }],
                    outcome: if status == "completed" {
                        Outcome::Success
                    } else {
                        Outcome::Failure {
                            code: text(&line, "/error/code").unwrap_or(&status).to_string(),
                            message: text(&line, "/error/message").map(str::to_string),
                        }
                    },
                    principal: Principal {
                        kind: "FoundryAgent".into(),
                        id: agent_id,
                        arn: None,
                        account: Some(subscription.clone()),
                        issuer: None,
                        session_name: None,
                        invoked_by: None,
                        credential_id: None,
                    },
                    correlation: Correlation {
                        request_id: field("run_id"),
                        session_id: field("thread_id"),
                        shared_event_id: field("step_id"),
                        ..Correlation::default()
                    },
                    source: raw,
                    cloud,
                    src_ip: None,
                    user_agent: None,
                    model: field("model"),
                    category: Some("run step".into()),
                    read_only: None,
                    original_time: None,
                    prompt: None,
                    count: None,
                    permissions: Vec::new(),
                }
            }
            Some("activity") => {
                let stamp = field("time").ok_or("Activity Log entry without a time")?;
                let time = Timestamp::parse_rfc3339(&stamp)
                    .map_err(|_| format!("time {stamp:?} is not an RFC 3339 timestamp"))?;
                let operation =
                    field("operation").ok_or("Activity Log entry without an operation")?;
                let status = field("status").unwrap_or_default();
                let agent = field("agent");
                Event {
                    uid: uid(&[field("event_data_id"), agent.clone()]),
                    time,
                    agent: agent.map(agent_ref),
                    layer: Layer::Control,
                    service: "management.azure.com".into(),
                    operation,
                    targets: field("resource_id")
                        .map(|r| {
                            vec![Target {
                                uid: r,
                                kind: None,
                                name: None,
                            }]
                        })
                        .unwrap_or_default(),
                    outcome: if status == "Failed" || status == "Canceled" {
                        Outcome::Failure {
                            code: field("sub_status").unwrap_or(status),
                            message: None,
                        }
                    } else {
                        Outcome::Success
                    },
                    principal: Principal {
                        kind: match field("identity_type").as_deref() {
                            Some("app") => "ServicePrincipal".into(),
                            Some("user") => "User".into(),
                            _ => "Unknown".into(),
                        },
                        id: field("caller"),
                        arn: None,
                        account: Some(subscription.clone()),
                        issuer: None,
                        session_name: None,
                        invoked_by: field("app_id"),
                        credential_id: None,
                    },
                    correlation: Correlation {
                        request_id: field("correlation_id"),
                        ..Correlation::default()
                    },
                    source: raw,
                    cloud,
                    src_ip: field("caller_ip"),
                    user_agent: None,
                    model: None,
                    category: Some("Administrative".into()),
                    read_only: Some(false),
                    original_time: Some(stamp),
                    prompt: None,
                    count: None,
                    permissions: Vec::new(),
                }
            }
            _ => {
                return Err(
                    "not a line an azure-api log read writes (record: tool_call or activity)"
                        .into(),
                );
            }
        };
        Ok(Output::Mapped(Box::new(Mapped {
            event,
            observations: Vec::new(),
            identity: Vec::new(),
        })))
    }
}

/// The kind of an azure-api source's `NAME.logs` (never configured: it comes with `logging_api`).
pub const KIND: &str = "azure-api-logs";

/// What an azure-api source read of the Activity Log and run steps (`NAME.logs`), as a log
/// source reads it: attributed when it was read.
pub struct LogsFormat;

#[async_trait::async_trait]
impl crate::source::LogFormat for LogsFormat {
    async fn list(&self, at: &Opened) -> Result<Listing, ConnectorError> {
        list(at).await
    }

    fn mapper(
        &self,
        source: &str,
        _attribution: crate::attribution::Attribution,
        _known: &InventorySnapshot,
    ) -> Box<dyn crate::source::RecordMapper> {
        Box::new(LogMapper {
            source: source.to_string(),
        })
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

impl crate::source::RecordMapper for LogMapper {
    fn read(
        &mut self,
        reader: &mut dyn std::io::Read,
        object: &str,
        max_record: usize,
        emit: &mut dyn FnMut(Output),
    ) -> Result<crate::records::FileCounts, crate::records::ReadFailure> {
        crate::records::lines::read_records(reader, object, self, max_record, emit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::lines::RecordMap;

    #[test]
    fn resources_concern_their_projects_agents_or_the_whole_account() {
        let mut scopes = AgentScopes::default();
        scopes.accounts.insert(
            "sub/acme-ai".into(),
            (
                "eastus2".into(),
                [
                    "acme-ai/support/asst_1",
                    "acme-ai/support/asst_2",
                    "acme-ai/hr/asst_3",
                ]
                .into_iter()
                .map(String::from)
                .collect(),
            ),
        );
        let rg = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.CognitiveServices";
        let (location, agents) = scopes.concerned(
            "sub",
            &format!("{rg}/accounts/acme-ai/projects/support/connections/kb"),
        );
        assert_eq!(location.as_deref(), Some("eastus2"));
        assert_eq!(agents, ["acme-ai/support/asst_1", "acme-ai/support/asst_2"]);
        let (_, agents) =
            scopes.concerned("sub", &format!("{rg}/accounts/acme-ai/deployments/gpt-4o"));
        assert_eq!(agents.len(), 3);
        assert_eq!(
            scopes.concerned("sub", &format!("{rg}/accounts/other")),
            (None, Vec::new())
        );
        assert_eq!(
            scopes
                .concerned("other-sub", &format!("{rg}/accounts/acme-ai"))
                .1
                .len(),
            0
        );
    }

    #[test]
    fn tool_calls_keep_names_and_never_arguments_or_output() {
        let project = ProjectEndpoint {
            subscription: "sub".into(),
            location: "eastus2".into(),
            account: "acme-ai".into(),
            project: "support".into(),
            endpoint: url::Url::parse("https://acme-ai.services.ai.azure.com/api/projects/support")
                .unwrap(),
        };
        let step = json!({
            "id": "step_1", "object": "thread.run.step", "type": "tool_calls", "status": "completed",
            "assistant_id": "asst_1", "thread_id": "thread_1", "run_id": "run_1",
            "created_at": 1763800000, "completed_at": 1763800002,
            "step_details": {"type": "tool_calls", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"order\": \"4411\"}", "output": "shipped to 12 Main St"}},
                {"id": "call_2", "type": "mcp", "server_label": "crm", "name": "find_customer", "arguments": "{\"email\": \"jo@example.com\"}", "output": "..."},
                {"id": "call_3", "type": "bing_grounding", "bing_grounding": {"requesturl": "https://api.bing.microsoft.com/v7.0/search?q=secret"}}
            ]}
        });
        let mut lines = Vec::new();
        assert_eq!(
            tool_call_lines(&step, &project, &json!({"model": "gpt-4o"}), &mut lines),
            3
        );
        let text = String::from_utf8(lines).unwrap();
        for private in ["4411", "Main St", "jo@example.com", "q=secret"] {
            assert!(!text.contains(private), "{private} kept in {text}");
        }
        let mut mapper = LogMapper {
            source: "foundry.logs".into(),
        };
        let tools: Vec<(String, String)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let e = mapper
                    .map("runs/x.jsonl", i as u64, l.as_bytes())
                    .unwrap()
                    .mapped()
                    .unwrap()
                    .event;
                assert_eq!(e.agent.as_ref().unwrap().id, "acme-ai/support/asst_1");
                assert_eq!(e.layer, Layer::ToolInvocation);
                assert_eq!(e.time, Timestamp(1_763_800_002_000));
                (e.operation, e.targets[0].uid.clone())
            })
            .collect();
        assert_eq!(
            tools,
            [
                ("function".to_string(), "lookup_order".to_string()),
                ("mcp".into(), "crm/find_customer".into()),
                ("bing_grounding".into(), "bing_grounding".into()),
            ]
        );
    }
}
