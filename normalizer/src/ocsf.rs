//! OCSF 1.8.0 serialization. Events from cloud API audit logs become API Activity (6003);
//! findings become Detection Finding (2004). agentward's own fields that OCSF has no
//! attribute for travel under `unmapped.agentward`, which every OCSF class allows.

use crate::event::{Event, Layer, Outcome, Target};
use crate::finding::Finding;
use crate::{AgentRef, Provider};
use serde::Serialize;
use serde_json::{Value, json};

pub const OCSF_VERSION: &str = "1.8.0";
pub const API_ACTIVITY: u32 = 6003;
pub const DETECTION_FINDING: u32 = 2004;

/// OCSF API Activity activity ids, chosen from the operation's verb.
fn api_activity(operation: &str) -> (u32, &'static str) {
    const CREATE: [&str; 5] = ["Create", "Put", "Post", "Upload", "Copy"];
    const READ: [&str; 7] = [
        "Get", "List", "Describe", "Head", "Lookup", "Search", "Retrieve",
    ];
    const UPDATE: [&str; 9] = [
        "Update",
        "Modify",
        "Set",
        "Attach",
        "Associate",
        "Prepare",
        "Enable",
        "Tag",
        "Start",
    ];
    const DELETE: [&str; 6] = [
        "Delete",
        "Remove",
        "Detach",
        "Disassociate",
        "Disable",
        "Untag",
    ];
    let starts = |verbs: &[&str]| verbs.iter().any(|v| operation.starts_with(v));
    if starts(&CREATE) {
        (1, "Create")
    } else if starts(&READ) {
        (2, "Read")
    } else if starts(&UPDATE) {
        (3, "Update")
    } else if starts(&DELETE) {
        (4, "Delete")
    } else {
        (99, "Other")
    }
}

fn provider_caption(p: Provider) -> &'static str {
    match p {
        Provider::Aws => "AWS",
        Provider::Gcp => "GCP",
        Provider::Azure => "Azure",
        Provider::SelfHosted => "self-hosted",
    }
}

fn agent_json(agent: &AgentRef) -> Value {
    serde_json::to_value(agent).unwrap_or(Value::Null)
}

fn product(version: &str, feature: Option<&str>) -> Value {
    let mut p = json!({ "name": "agentward", "vendor_name": "agentward", "version": version });
    if let Some(f) = feature {
        p["feature"] = json!({ "name": f });
    }
    p
}

fn cloud_json(provider: Provider, account: &str, region: &str) -> Value {
    let account = match provider {
        Provider::Aws => json!({ "uid": account, "type": "AWS Account", "type_id": 10 }),
        _ => json!({ "uid": account }),
    };
    json!({ "provider": provider_caption(provider), "region": region, "account": account })
}

// The API Activity record, serialized straight from borrowed event fields: building a
// `serde_json::Value` tree per event cost more than parsing the CloudTrail record.
#[derive(Serialize)]
struct ApiActivity<'a> {
    class_uid: u32,
    class_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    activity_id: u32,
    activity_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: Option<&'a str>,
    time: i64,
    /// OCSF's count: how many occurrences this one event stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    actor: Actor<'a>,
    api: Api<'a>,
    src_endpoint: SrcEndpoint<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_request: Option<HttpRequest<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Resource<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud: Option<Cloud<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ai_model: Option<AiModel<'a>>,
    metadata: Metadata<'a>,
    unmapped: Unmapped<'a>,
}

#[derive(Serialize)]
struct Account<'a> {
    uid: &'a str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_id: Option<u8>,
}

fn account(provider: Provider, uid: &str) -> Account<'_> {
    match provider {
        Provider::Aws => Account {
            uid,
            kind: Some("AWS Account"),
            type_id: Some(10),
        },
        Provider::Gcp => Account {
            uid,
            kind: Some("GCP Project"),
            type_id: Some(11),
        },
        Provider::Azure => Account {
            uid,
            kind: Some("Azure Subscription"),
            type_id: Some(13),
        },
        _ => Account {
            uid,
            kind: None,
            type_id: None,
        },
    }
}

#[derive(Serialize)]
struct User<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid_alt: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<Account<'a>>,
}

#[derive(Serialize)]
struct Session<'a> {
    issuer: &'a str,
}

#[derive(Serialize)]
struct Actor<'a> {
    user: User<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<Session<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoked_by: Option<&'a str>,
}

#[derive(Serialize)]
struct Named<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Request<'a> {
    uid: &'a str,
}

#[derive(Serialize)]
struct Api<'a> {
    operation: &'a str,
    service: Named<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<Request<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum SrcEndpoint<'a> {
    #[serde(rename = "ip")]
    Ip(&'a str),
    #[serde(rename = "domain")]
    Domain(&'a str),
    #[serde(rename = "name")]
    Name(&'a str),
}

#[derive(Serialize)]
struct HttpRequest<'a> {
    user_agent: &'a str,
}

#[derive(Serialize)]
struct Resource<'a> {
    uid: &'a str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct Cloud<'a> {
    provider: &'static str,
    region: &'a str,
    account: Account<'a>,
}

#[derive(Serialize)]
struct AiModel<'a> {
    name: &'a str,
    uid: &'a str,
    ai_provider: &'static str,
}

#[derive(Serialize)]
struct Product<'a> {
    name: &'static str,
    vendor_name: &'static str,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    feature: Option<Named<'a>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    version: &'static str,
    product: Product<'a>,
    uid: &'a str,
    event_code: &'a str,
    log_provider: &'a str,
    log_name: &'a str,
    profiles: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_time: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_uid: Option<&'a str>,
}

#[derive(Serialize)]
struct Ours<'a> {
    layer: &'static str,
    action: String,
    raw: &'a crate::RawPointer,
    correlation: &'a crate::Correlation,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a AgentRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<&'a crate::event::PromptContent>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    permissions: &'a [String],
}

#[derive(Serialize)]
struct Unmapped<'a> {
    agentward: Ours<'a>,
}

const API_TYPE_NAMES: [(u32, &str); 6] = [
    (0, "API Activity: Unknown"),
    (1, "API Activity: Create"),
    (2, "API Activity: Read"),
    (3, "API Activity: Update"),
    (4, "API Activity: Delete"),
    (99, "API Activity: Other"),
];

fn api_record<'a>(event: &'a Event, product_version: &'a str) -> ApiActivity<'a> {
    let (activity_id, activity_name) = api_activity(&event.operation);
    let (status_id, status) = match &event.outcome {
        Outcome::Success => (1, "Success"),
        Outcome::Failure { .. } => (2, "Failure"),
        Outcome::Unknown => (0, "Unknown"),
    };
    let (status_code, status_detail) = match &event.outcome {
        Outcome::Failure { code, message } => (Some(code.as_str()), message.as_deref()),
        _ => (None, None),
    };
    let p = &event.principal;
    // The principal's account is in the provider the record came from.
    let provider = event
        .cloud
        .as_ref()
        .map(|c| c.provider)
        .or(event.agent.as_ref().map(|a| a.provider))
        .unwrap_or(Provider::Aws);
    let user = User {
        kind: &p.kind,
        uid: p.id.as_deref(),
        // OCSF needs one identifying attribute; the kind alone is all some records carry.
        name: p
            .session_name
            .as_deref()
            .or(p.arn.as_deref())
            .or(p.id.as_deref().filter(|_| provider != Provider::Aws))
            .unwrap_or(&p.kind),
        uid_alt: p.arn.as_deref(),
        credential_uid: p.credential_id.as_deref(),
        account: p.account.as_deref().map(|a| account(provider, a)),
    };
    let src_endpoint = match event.src_ip.as_deref() {
        Some(ip) if ip.parse::<std::net::IpAddr>().is_ok() => SrcEndpoint::Ip(ip),
        Some(name) => SrcEndpoint::Domain(name),
        None => SrcEndpoint::Name("not recorded"),
    };
    let mut profiles = Vec::with_capacity(2);
    if event.model.is_some() {
        profiles.push("ai_operation");
    }
    if event.cloud.is_some() {
        profiles.push("cloud");
    }
    let ai_provider = match event.cloud.as_ref().map(|c| c.provider) {
        Some(Provider::Aws) => "aws.bedrock",
        Some(Provider::Gcp) => "gcp.vertex_ai",
        Some(Provider::Azure) => "azure.ai.inference",
        _ => "unknown",
    };
    ApiActivity {
        class_uid: API_ACTIVITY,
        class_name: "API Activity",
        category_uid: 6,
        category_name: "Application Activity",
        activity_id,
        activity_name,
        type_uid: API_ACTIVITY * 100 + activity_id,
        type_name: API_TYPE_NAMES
            .iter()
            .find(|(id, _)| *id == activity_id)
            .map_or("API Activity: Other", |(_, n)| n),
        severity_id: 1,
        severity: "Informational",
        status_id,
        status,
        status_code,
        status_detail,
        time: event.time.millis(),
        count: event.count,
        actor: Actor {
            user,
            session: p.issuer.as_deref().map(|issuer| Session { issuer }),
            invoked_by: p.invoked_by.as_deref(),
        },
        api: Api {
            operation: &event.operation,
            service: Named {
                name: &event.service,
            },
            request: event
                .correlation
                .request_id
                .as_deref()
                .map(|uid| Request { uid }),
        },
        src_endpoint,
        http_request: event
            .user_agent
            .as_deref()
            .map(|user_agent| HttpRequest { user_agent }),
        resources: event
            .targets
            .iter()
            .map(|t| Resource {
                uid: &t.uid,
                kind: t.kind.as_deref(),
                name: t.name.as_deref(),
            })
            .collect(),
        cloud: event.cloud.as_ref().map(|c| Cloud {
            provider: provider_caption(c.provider),
            region: &c.region,
            account: account(c.provider, &c.account),
        }),
        ai_model: event.model.as_deref().map(|m| AiModel {
            name: m,
            uid: m,
            ai_provider,
        }),
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "agentward",
                vendor_name: "agentward",
                version: product_version,
                feature: event.category.as_deref().map(|name| Named { name }),
            },
            uid: &event.uid,
            event_code: &event.operation,
            log_provider: &event.source.source,
            log_name: &event.source.object,
            profiles,
            original_time: event.original_time.as_deref(),
            correlation_uid: event.correlation.shared_event_id.as_deref(),
        },
        unmapped: Unmapped {
            agentward: Ours {
                layer: event.layer.as_str(),
                action: event.action(),
                raw: &event.source,
                correlation: &event.correlation,
                agent: event.agent.as_ref(),
                agent_key: event.agent.as_ref().map(AgentRef::key),
                read_only: event.read_only,
                prompt: event.prompt.as_ref(),
                permissions: &event.permissions,
            },
        },
    }
}

/// Appends an [`Event`] as one OCSF 1.8.0 JSON line (no newline) to `out`: a node
/// probe's process, file and network events as Process Activity, File System Activity and
/// Network Activity; every other event — an API call, whatever its layer — as API Activity.
pub fn write_event_ocsf(
    event: &Event,
    product_version: &str,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    match system_record(event, product_version) {
        Some(record) => serde_json::to_writer(out, &record),
        None => serde_json::to_writer(out, &api_record(event, product_version)),
    }
}

/// An [`Event`] as an OCSF 1.8.0 record (see [`write_event_ocsf`]).
pub fn event_to_ocsf(event: &Event, product_version: &str) -> Value {
    system_record(event, product_version).unwrap_or_else(|| {
        serde_json::to_value(api_record(event, product_version)).unwrap_or(Value::Null)
    })
}

pub const PROCESS_ACTIVITY: u32 = 1007;
pub const FILE_ACTIVITY: u32 = 1001;
pub const NETWORK_ACTIVITY: u32 = 4001;

/// A node probe's event in the OCSF class of what it is, or `None` for any other event.
/// The probe's events are a process's (its principal) on services `process`, `file`,
/// `network` and `egress`.
fn system_record(event: &Event, product_version: &str) -> Option<Value> {
    if event.principal.kind != "process" {
        return None;
    }
    // The probe names its events `HOST-BOOT_NS-TID-OPERATION`; a node's name may hold dashes.
    let host = event.uid.rsplitn(4, '-').nth(3).unwrap_or("unknown");
    let (class_uid, class_name, category_uid, category_name, activity_id, activity_name) =
        match (event.service.as_str(), event.operation.as_str()) {
            ("process", "exit") => (
                PROCESS_ACTIVITY,
                "Process Activity",
                1,
                "System Activity",
                2,
                "Terminate",
            ),
            ("process", _) => (
                PROCESS_ACTIVITY,
                "Process Activity",
                1,
                "System Activity",
                1,
                "Launch",
            ),
            ("file", _) => (
                FILE_ACTIVITY,
                "File System Activity",
                1,
                "System Activity",
                14,
                "Open",
            ),
            // A datagram sent to whoever asked, and a DNS lookup (its resolver the
            // destination, the name in `unmapped.agentward.target`): traffic, not a
            // connection opened. OCSF's DNS Activity class has no JSON Schema in 1.8.0's
            // generated set to validate against.
            ("network", op) if op.starts_with("sendto_") => (
                NETWORK_ACTIVITY,
                "Network Activity",
                4,
                "Network Activity",
                6,
                "Traffic",
            ),
            ("dns", _) => (
                NETWORK_ACTIVITY,
                "Network Activity",
                4,
                "Network Activity",
                6,
                "Traffic",
            ),
            ("network", _) => (
                NETWORK_ACTIVITY,
                "Network Activity",
                4,
                "Network Activity",
                1,
                "Open",
            ),
            ("egress", "denied") => (
                NETWORK_ACTIVITY,
                "Network Activity",
                4,
                "Network Activity",
                5,
                "Refuse",
            ),
            ("egress", _) => (
                NETWORK_ACTIVITY,
                "Network Activity",
                4,
                "Network Activity",
                1,
                "Open",
            ),
            _ => return None,
        };
    let (status_id, status) = match &event.outcome {
        Outcome::Success => (1, "Success"),
        Outcome::Failure { .. } => (2, "Failure"),
        Outcome::Unknown => (0, "Unknown"),
    };
    let p = &event.principal;
    let c = &event.correlation;
    let mut process = json!({});
    if let Some(pid) = c.pid {
        process["pid"] = json!(pid);
    }
    if let Some(comm) = &p.session_name {
        process["name"] = json!(comm);
    }
    if let Some(uid) = &p.id {
        process["user"] = json!({ "uid": uid });
    }
    if let Some(ppid) = c.ppid {
        process["parent_process"] = json!({ "pid": ppid });
    }
    let target = event.targets.first();
    let mut out = json!({
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": format!("{class_name}: {activity_name}"),
        "severity_id": 1,
        "severity": "Informational",
        "status_id": status_id,
        "status": status,
        "time": event.time.millis(),
        "actor": { "process": process.clone() },
        "device": { "hostname": host, "type_id": 0, "type": "Unknown" },
        "metadata": {
            "version": OCSF_VERSION,
            "product": product(product_version, event.category.as_deref()),
            "uid": event.uid,
            "event_code": event.operation,
            "log_provider": event.source.source,
            "log_name": event.source.object,
            // The host profile brings the device and the acting process to every class
            // (Network Activity has them only through it); agents run in containers.
            "profiles": ["container", "host"],
        },
        "unmapped": { "agentward": {
            "layer": event.layer.as_str(),
            "action": event.action(),
            "raw": event.source,
            "correlation": event.correlation,
            "agent": event.agent,
            "agent_key": event.agent.as_ref().map(AgentRef::key),
            "target": target.map(|t| &t.uid),
        }},
    });
    if let Outcome::Failure { code, message } = &event.outcome {
        out["status_code"] = json!(code);
        if let Some(m) = message {
            out["status_detail"] = json!(m);
        }
    }
    if let Some(n) = event.count {
        out["count"] = json!(n);
    }
    match class_uid {
        PROCESS_ACTIVITY => {
            // What was started: the exec's command line and binary; a fork or exit is the
            // process itself.
            let mut subject = process;
            if let Some(t) = target {
                subject["cmd_line"] = json!(t.uid);
                if let Some(path) = &t.name {
                    subject["file"] = json!({ "name": basename(path), "path": path, "type_id": 1, "type": "Regular File" });
                    subject["name"] = json!(basename(path));
                }
            }
            out["process"] = subject;
        }
        FILE_ACTIVITY => {
            let path = target.map(|t| t.uid.as_str()).unwrap_or_default();
            out["file"] =
                json!({ "name": basename(path), "path": path, "type_id": 0, "type": "Unknown" });
        }
        _ => {
            // Where the packets went: the endpoint itself, or a DNS lookup's resolver.
            let destination = match (event.service.as_str(), target) {
                ("dns", Some(t)) => t
                    .name
                    .as_deref()
                    .and_then(|n| n.strip_prefix("resolver "))
                    .map(|resolver| Target {
                        uid: resolver.to_string(),
                        kind: None,
                        name: None,
                    }),
                _ => target.cloned(),
            };
            if let Some(t) = destination.as_ref() {
                let mut endpoint = match t.uid.rsplit_once(':') {
                    Some((ip, port)) => {
                        let ip = ip.trim_start_matches('[').trim_end_matches(']');
                        match (ip.parse::<std::net::IpAddr>(), port.parse::<u16>()) {
                            (Ok(ip), Ok(port)) => json!({ "ip": ip.to_string(), "port": port }),
                            _ => json!({ "name": t.uid }),
                        }
                    }
                    None => json!({ "name": t.uid }),
                };
                if endpoint.get("ip").is_none() {
                    endpoint = json!({ "name": t.uid });
                }
                // The name a connect's address was looked up by, when the probe saw it.
                if event.service == "network"
                    && let Some(host) = &t.name
                {
                    endpoint["hostname"] = json!(host);
                }
                out["dst_endpoint"] = endpoint;
            }
            let protocol = match event.service.as_str() {
                "dns" => Some("udp"),
                "network" => event
                    .operation
                    .split_once('_')
                    .map(|(_, transport)| transport),
                _ => target.and_then(|t| t.name.as_deref()),
            };
            let mut connection = json!({ "direction_id": 2, "direction": "Outbound" });
            if let Some(p) = protocol {
                connection["protocol_name"] = json!(p);
            }
            out["connection_info"] = connection;
        }
    }
    Some(out)
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A [`Finding`] as an OCSF 1.8.0 Detection Finding.
pub fn finding_to_ocsf(finding: &Finding, product_version: &str) -> Value {
    let mut out = json!({
        "class_uid": DETECTION_FINDING,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": DETECTION_FINDING * 100 + 1,
        "type_name": "Detection Finding: Create",
        "severity_id": finding.severity.ocsf_id(),
        "severity": finding.severity.caption(),
        "status_id": 1,
        "status": "New",
        "time": finding.time.millis(),
        "message": finding.detail,
        "finding_info": {
            "uid": finding.uid,
            "title": finding.title,
            "desc": finding.detail,
            "types": [finding.kind.name()],
        },
        "resources": [{ "uid": finding.agent.to_string(), "type": "AI Agent", "name": finding.agent.id }],
        "unmapped": { "agentward": { "agent": agent_json(&finding.agent), "finding": finding.kind } },
    });
    let mut profiles: Vec<&str> = Vec::new();
    if finding.agent.provider != Provider::SelfHosted {
        profiles.push("cloud");
        out["cloud"] = cloud_json(
            finding.agent.provider,
            &finding.agent.scope,
            &finding.agent.location,
        );
    }
    out["metadata"] = json!({
        "version": OCSF_VERSION,
        "product": product(product_version, None),
        "uid": finding.uid,
        "profiles": profiles,
    });
    out
}

/// What a listing shows of a stored event record, read back from the OCSF agentward wrote:
/// API calls name their resources; the probe's process, file and network records keep their
/// target with agentward's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFields<'a> {
    pub time: crate::Timestamp,
    pub layer: Option<&'a str>,
    pub action: Option<&'a str>,
    pub status: Option<&'a str>,
    /// `None`: no agent could be tied to it.
    pub agent_key: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub target: Option<&'a str>,
}

impl<'a> EventFields<'a> {
    pub fn of(record: &'a Value) -> Self {
        let ours = &record["unmapped"]["agentward"];
        let user = &record["actor"]["user"];
        EventFields {
            time: crate::Timestamp(record["time"].as_i64().unwrap_or_default()),
            layer: ours["layer"].as_str(),
            action: ours["action"].as_str(),
            status: record["status"].as_str(),
            agent_key: ours["agent_key"].as_str(),
            actor: user["name"].as_str().or(user["uid"].as_str()),
            target: record["resources"][0]["uid"]
                .as_str()
                .or(ours["target"].as_str()),
        }
    }
}

/// The layer an OCSF record produced by [`event_to_ocsf`] belongs to.
pub fn layer_of(record: &Value) -> Option<Layer> {
    record["unmapped"]["agentward"]["layer"]
        .as_str()
        .and_then(Layer::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_event(service: &str, operation: &str, target: &str, name: Option<&str>) -> Event {
        let layer = if service == "file" || service == "process" {
            Layer::Kernel
        } else {
            Layer::Network
        };
        let mut e = crate::event::test_event(20_409, 0, layer, operation, target);
        e.uid = format!("node-1-42-7-{operation}");
        e.agent = None;
        e.service = service.into();
        e.targets[0].name = name.map(str::to_string);
        e.principal = crate::Principal {
            kind: "process".into(),
            id: Some("1000".into()),
            session_name: Some("python3".into()),
            ..crate::Principal::default()
        };
        e.correlation = crate::Correlation {
            pid: Some(4242),
            ppid: Some(1),
            ..crate::Correlation::default()
        };
        e
    }

    #[test]
    fn a_stored_record_reads_back_as_the_event_it_was() {
        let api = crate::event::test_event(
            20_409,
            7,
            Layer::IdentityApi,
            "PutObject",
            "arn:aws:s3:::b/k",
        );
        let record = event_to_ocsf(&api, "0");
        let fields = EventFields::of(&record);
        assert_eq!(fields.time, api.time);
        assert_eq!(fields.layer, Some(Layer::IdentityApi.as_str()));
        let key = api.agent.as_ref().map(AgentRef::key);
        assert_eq!(fields.agent_key, key.as_deref());
        assert_eq!(fields.target, Some("arn:aws:s3:::b/k"));
        // A probe record keeps its target with agentward's fields, and no agent when none was tied.
        let open = event_to_ocsf(&probe_event("file", "open_read", "/srv/m.gguf", None), "0");
        let fields = EventFields::of(&open);
        assert_eq!(
            (fields.agent_key, fields.target),
            (None, Some("/srv/m.gguf"))
        );
        assert_eq!(fields.layer, Some(Layer::Kernel.as_str()));
    }

    #[test]
    fn probe_events_take_the_class_of_what_they_are() {
        let exec = event_to_ocsf(
            &probe_event(
                "process",
                "exec",
                "npx -y @modelcontextprotocol/server-github",
                Some("/usr/bin/npx"),
            ),
            "0",
        );
        assert_eq!(
            (exec["class_uid"].as_u64(), exec["activity_name"].as_str()),
            (Some(1007), Some("Launch"))
        );
        assert_eq!(
            exec["process"]["cmd_line"],
            "npx -y @modelcontextprotocol/server-github"
        );
        assert_eq!(exec["process"]["file"]["path"], "/usr/bin/npx");
        assert_eq!(exec["actor"]["process"]["parent_process"]["pid"], 1);
        assert_eq!(exec["device"]["hostname"], "node-1");
        let open = event_to_ocsf(
            &probe_event("file", "open_read", "/srv/models/llama.gguf", None),
            "0",
        );
        assert_eq!(
            (open["class_uid"].as_u64(), open["file"]["name"].as_str()),
            (Some(1001), Some("llama.gguf"))
        );
        let connect = event_to_ocsf(
            &probe_event("network", "connect_tcp", "[2001:db8::1]:443", None),
            "0",
        );
        assert_eq!(connect["class_uid"], 4001);
        assert_eq!(
            connect["dst_endpoint"],
            json!({"ip": "2001:db8::1", "port": 443})
        );
        assert_eq!(connect["connection_info"]["protocol_name"], "tcp");
        let named = event_to_ocsf(
            &probe_event(
                "network",
                "connect_tcp",
                "203.0.113.7:443",
                Some("api.openai.com"),
            ),
            "0",
        );
        assert_eq!(
            named["dst_endpoint"],
            json!({"ip": "203.0.113.7", "port": 443, "hostname": "api.openai.com"})
        );
        let sent = event_to_ocsf(
            &probe_event("network", "sendto_udp", "10.0.0.2:5353", None),
            "0",
        );
        assert_eq!(
            (sent["activity_name"].as_str(), sent["type_uid"].as_u64()),
            (Some("Traffic"), Some(400106))
        );
        assert_eq!(sent["connection_info"]["protocol_name"], "udp");
        let lookup = event_to_ocsf(
            &probe_event(
                "dns",
                "query_A",
                "api.openai.com",
                Some("resolver 127.0.0.53:53"),
            ),
            "0",
        );
        assert_eq!(
            (lookup["class_uid"].as_u64(), lookup["activity_id"].as_u64()),
            (Some(4001), Some(6))
        );
        assert_eq!(
            lookup["dst_endpoint"],
            json!({"ip": "127.0.0.53", "port": 53})
        );
        assert_eq!(lookup["unmapped"]["agentward"]["target"], "api.openai.com");
        let denied = event_to_ocsf(
            &probe_event("egress", "denied", "10.0.0.9:5432", Some("tcp")),
            "0",
        );
        assert_eq!(
            (denied["activity_id"].as_u64(), denied["type_uid"].as_u64()),
            (Some(5), Some(400105))
        );
        // Anything else stays an API call.
        let mut api = probe_event("bedrock", "InvokeModel", "m", None);
        api.principal.kind = "AssumedRole".into();
        assert_eq!(event_to_ocsf(&api, "0")["class_uid"], API_ACTIVITY);
    }

    #[test]
    fn activity_follows_the_operation_verb() {
        assert_eq!(api_activity("PutObject"), (1, "Create"));
        assert_eq!(api_activity("GetAgent"), (2, "Read"));
        assert_eq!(api_activity("UpdateAgentAlias"), (3, "Update"));
        assert_eq!(api_activity("DeleteObject"), (4, "Delete"));
        assert_eq!(api_activity("InvokeAgent"), (99, "Other"));
    }
}
