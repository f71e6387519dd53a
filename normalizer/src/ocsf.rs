//! OCSF 1.8.0 serialization. Events from cloud API audit logs become API Activity (6003);
//! findings become Detection Finding (2004). agentward's own fields that OCSF has no
//! attribute for travel under `unmapped.agentward`, which every OCSF class allows.

use crate::event::{Event, Layer, Outcome};
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
            },
        },
    }
}

/// Appends an [`Event`] as one OCSF 1.8.0 API Activity JSON line (no newline) to `out`.
///
/// Every event the cloud connectors produce is an API call, whatever its layer; kernel and
/// network layer events from the node probe map to other classes and are not produced here.
pub fn write_event_ocsf(
    event: &Event,
    product_version: &str,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    serde_json::to_writer(out, &api_record(event, product_version))
}

/// An [`Event`] as an OCSF 1.8.0 API Activity record.
pub fn event_to_ocsf(event: &Event, product_version: &str) -> Value {
    serde_json::to_value(api_record(event, product_version)).unwrap_or(Value::Null)
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

/// The layer an OCSF record produced by [`event_to_ocsf`] belongs to.
pub fn layer_of(record: &Value) -> Option<Layer> {
    record["unmapped"]["agentward"]["layer"]
        .as_str()
        .and_then(Layer::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_follows_the_operation_verb() {
        assert_eq!(api_activity("PutObject"), (1, "Create"));
        assert_eq!(api_activity("GetAgent"), (2, "Read"));
        assert_eq!(api_activity("UpdateAgentAlias"), (3, "Update"));
        assert_eq!(api_activity("DeleteObject"), (4, "Delete"));
        assert_eq!(api_activity("InvokeAgent"), (99, "Other"));
    }
}
