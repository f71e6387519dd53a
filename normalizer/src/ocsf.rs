//! OCSF 1.8.0 serialization. Events from cloud API audit logs become API Activity (6003);
//! findings become Detection Finding (2004). agentward's own fields that OCSF has no
//! attribute for travel under `unmapped.agentward`, which every OCSF class allows.

use crate::event::{Event, Layer, Outcome};
use crate::finding::Finding;
use crate::{AgentRef, Provider};
use serde_json::{Map, Value, json};

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

fn insert_some(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        map.insert(key.to_string(), Value::String(v.to_string()));
    }
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

/// An [`Event`] as an OCSF 1.8.0 API Activity record.
///
/// Every event the cloud connectors produce is an API call, whatever its layer; kernel and
/// network layer events from the node probe map to other classes and are not produced here.
pub fn event_to_ocsf(event: &Event, product_version: &str) -> Value {
    let (activity_id, activity_name) = api_activity(&event.operation);
    let (status_id, status) = match &event.outcome {
        Outcome::Success => (1, "Success"),
        Outcome::Failure { .. } => (2, "Failure"),
        Outcome::Unknown => (0, "Unknown"),
    };

    let mut user = Map::new();
    user.insert("type".into(), json!(event.principal.kind));
    insert_some(&mut user, "uid", event.principal.id.as_deref());
    insert_some(
        &mut user,
        "name",
        event
            .principal
            .session_name
            .as_deref()
            .or(event.principal.arn.as_deref()),
    );
    insert_some(&mut user, "uid_alt", event.principal.arn.as_deref());
    insert_some(
        &mut user,
        "credential_uid",
        event.principal.credential_id.as_deref(),
    );
    if let Some(account) = &event.principal.account {
        user.insert(
            "account".into(),
            json!({ "uid": account, "type": "AWS Account", "type_id": 10 }),
        );
    }
    if user.len() == 1 {
        // OCSF needs one identifying attribute; the kind alone is all some records carry.
        user.insert("name".into(), json!(event.principal.kind));
    }
    let mut actor = json!({ "user": Value::Object(user) });
    if let Some(issuer) = &event.principal.issuer {
        actor["session"] = json!({ "issuer": issuer });
    }
    if let Some(by) = &event.principal.invoked_by {
        actor["invoked_by"] = json!(by);
    }

    let mut api = json!({ "operation": event.operation, "service": { "name": event.service } });
    if let Some(request) = &event.correlation.request_id {
        api["request"] = json!({ "uid": request });
    }

    let src_endpoint = match event.src_ip.as_deref() {
        Some(ip) if ip.parse::<std::net::IpAddr>().is_ok() => json!({ "ip": ip }),
        Some(name) => json!({ "domain": name }),
        None => json!({ "name": "not recorded" }),
    };

    let mut profiles = Vec::new();
    let mut out = json!({
        "class_uid": API_ACTIVITY,
        "class_name": "API Activity",
        "category_uid": 6,
        "category_name": "Application Activity",
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": API_ACTIVITY * 100 + activity_id,
        "type_name": format!("API Activity: {activity_name}"),
        "severity_id": 1,
        "severity": "Informational",
        "status_id": status_id,
        "status": status,
        "time": event.time.millis(),
        "actor": actor,
        "api": api,
        "src_endpoint": src_endpoint,
    });
    if let Outcome::Failure { code, message } = &event.outcome {
        out["status_code"] = json!(code);
        if let Some(m) = message {
            out["status_detail"] = json!(m);
        }
    }
    if let Some(ua) = &event.user_agent {
        out["http_request"] = json!({ "user_agent": ua });
    }
    if !event.targets.is_empty() {
        let resources: Vec<Value> = event
            .targets
            .iter()
            .map(|t| {
                let mut r = Map::new();
                r.insert("uid".into(), json!(t.uid));
                insert_some(&mut r, "type", t.kind.as_deref());
                insert_some(&mut r, "name", t.name.as_deref());
                Value::Object(r)
            })
            .collect();
        out["resources"] = Value::Array(resources);
    }
    if let Some(cloud) = &event.cloud {
        profiles.push("cloud");
        out["cloud"] = cloud_json(cloud.provider, &cloud.account, &cloud.region);
    }
    if let Some(model) = &event.model {
        profiles.push("ai_operation");
        let ai_provider = match event.cloud.as_ref().map(|c| c.provider) {
            Some(Provider::Aws) => "aws.bedrock",
            Some(Provider::Gcp) => "gcp.vertex_ai",
            Some(Provider::Azure) => "azure.ai.inference",
            _ => "unknown",
        };
        out["ai_model"] = json!({ "name": model, "uid": model, "ai_provider": ai_provider });
    }
    profiles.sort_unstable();

    let mut metadata = json!({
        "version": OCSF_VERSION,
        "product": product(product_version, event.category.as_deref()),
        "uid": event.uid,
        "event_code": event.operation,
        "log_provider": event.source.source,
        "log_name": event.source.object,
        "profiles": profiles,
    });
    if let Some(original) = &event.original_time {
        metadata["original_time"] = json!(original);
    }
    if let Some(c) = &event.correlation.shared_event_id {
        metadata["correlation_uid"] = json!(c);
    }
    out["metadata"] = metadata;

    let mut ours = json!({
        "layer": event.layer.as_str(),
        "action": event.action(),
        "raw": event.source,
        "correlation": event.correlation,
    });
    if let Some(agent) = &event.agent {
        ours["agent"] = agent_json(agent);
        ours["agent_key"] = json!(agent.key());
    }
    if let Some(ro) = event.read_only {
        ours["read_only"] = json!(ro);
    }
    out["unmapped"] = json!({ "agentward": ours });
    out
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
