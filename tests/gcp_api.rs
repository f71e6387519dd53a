//! The gcp-api source end to end: the real `google-cloud-auth` gets its token from a local
//! OAuth endpoint (user credentials whose `token_uri` is 127.0.0.1) or signs its own JWT
//! (a service-account key), and a local server answers the aiplatform, Cloud Resource
//! Manager and Cloud Storage REST APIs in the shapes of their published references,
//! checking what it receives: the bearer token, page tokens it issued, the policy version.

mod common;

use common::spec_server::{Reply, Request, SpecServer};
use common::{agent_in as agent, bin, stderr, verify_jwt};
use normalizer::Timestamp;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "ya29.local-test-token";
const REFRESH: &str = "1//local-refresh-token";
const PROJECT: &str = "acme-agents";
const PROJECT_NUMBER: &str = "123456789012";
const LOCKED: &str = "acme-locked";
/// More than two pages of 100 in one location.
const ENGINES: usize = 230;

/// What the test server holds; tests change it between scans.
struct Cloud {
    engines: usize,
    audit_log_types: Vec<&'static str>,
    /// Log types the project's folder turns on for every service (inherited).
    folder_audit_log_types: Vec<&'static str>,
    psc: bool,
    telemetry: bool,
    /// The first list call is throttled once, to prove the retry.
    throttled: bool,
    issued_page_tokens: Vec<String>,
    /// Requests without the expected bearer token.
    unauthorized: Vec<String>,
    /// A service-account JWT's claims, when the token is one.
    jwt_claims: Vec<Value>,
    /// What the Logging API holds of the project's audit logs, and the bodies of the
    /// `entries.list` calls it received.
    log_entries: Vec<Value>,
    logging_calls: Vec<Value>,
}

fn engine(i: usize, cloud: &Cloud) -> Value {
    let name = format!(
        "projects/{PROJECT_NUMBER}/locations/us-central1/reasoningEngines/{}",
        1000 + i
    );
    let mut spec = json!({
        "agentFramework": if i % 2 == 0 { "langgraph" } else { "google-adk" },
        "classMethods": [{"name": "query", "api_mode": "", "parameters": {"type": "object"}},
                         {"name": "stream_query", "api_mode": "stream"}],
        "deploymentSpec": {
            "env": [{"name": "SUPPORT_API", "value": "https://support.internal.acme"}],
            "secretEnv": [{"name": "CRM_TOKEN", "secretRef": {"secret": "crm-token", "version": "2"}}]
        }
    });
    match i {
        0 => {
            spec["packageSpec"] = json!({
                "pickleObjectGcsUri": "gs://acme-staging/agents/support/agent_engine.pkl",
                "requirementsGcsUri": "gs://acme-staging/agents/support/requirements.txt",
                "pythonVersion": "3.11"
            });
            if cloud.psc {
                spec["deploymentSpec"]["pscInterfaceConfig"] = json!({
                    "networkAttachment": "projects/acme-agents/regions/us-central1/networkAttachments/agents"
                });
            }
            if cloud.telemetry {
                spec["deploymentSpec"]["env"].as_array_mut().unwrap().push(
                    json!({"name": "GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY", "value": "true"}),
                );
            }
        }
        1 => {
            spec["serviceAccount"] = json!("triage-agent@acme-agents.iam.gserviceaccount.com");
            spec["sourceCodeSpec"] = json!({"pythonSpec": {"version": "3.12", "entrypointModule": "triage.agent", "entrypointObject": "app"}});
        }
        _ => {
            spec["serviceAccount"] =
                json!(format!("agent-{i}@acme-agents.iam.gserviceaccount.com"));
        }
    }
    json!({
        "name": name,
        "displayName": format!("agent-{i}"),
        "spec": spec,
        "createTime": "2026-10-01T09:00:00.000000Z",
        "updateTime": "2026-11-02T10:30:00.123456Z",
        "etag": format!("etag-{i}")
    })
}

fn route(cloud: &Arc<Mutex<Cloud>>, request: &Request) -> Reply {
    let mut c = cloud.lock().unwrap();
    if request.method == "POST" && request.path == "/token" {
        let body = request.json();
        if body["grant_type"] != "refresh_token" || body["refresh_token"] != REFRESH {
            return Reply {
                status: 400,
                ..Reply::json(json!({"error": "invalid_grant"}))
            };
        }
        return Reply::json(
            json!({"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"}),
        );
    }
    let auth = request
        .header("authorization")
        .unwrap_or_default()
        .to_string();
    let bearer = auth.strip_prefix("Bearer ").unwrap_or_default();
    if bearer.matches('.').count() == 2 && bearer.starts_with("ey") {
        // A self-signed service-account JWT: verified against the test key's public half.
        match verify_jwt(bearer) {
            Some(claims) => c.jwt_claims.push(claims),
            None => {
                c.unauthorized.push(request.path.clone());
                return Reply::google_error(401, "UNAUTHENTICATED", "bad signature");
            }
        }
    } else if bearer != TOKEN {
        c.unauthorized.push(request.path.clone());
        return Reply::google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        );
    }
    let engines_path = |project: &str, location: &str| {
        format!("/v1/projects/{project}/locations/{location}/reasoningEngines")
    };
    if request.method == "GET" && request.path.starts_with(&format!("/v1/projects/{LOCKED}/")) {
        return Reply::google_error(
            403,
            "PERMISSION_DENIED",
            "Permission 'aiplatform.reasoningEngines.list' denied on resource '//aiplatform.googleapis.com/projects/acme-locked/locations/us-central1' (or it may not exist).",
        );
    }
    if request.method == "GET" && request.path == engines_path(PROJECT, "us-central1") {
        if request.param("pageSize").as_deref() != Some("100") {
            return Reply::google_error(400, "INVALID_ARGUMENT", "pageSize expected");
        }
        if !c.throttled {
            c.throttled = true;
            return Reply::google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for aiplatform.googleapis.com/read_requests.",
            )
            .with_header("retry-after", "0");
        }
        let start = match request.param("pageToken") {
            None => 0,
            Some(t) if c.issued_page_tokens.contains(&t) => {
                t.trim_start_matches("offset-").parse().unwrap()
            }
            Some(_) => return Reply::google_error(400, "INVALID_ARGUMENT", "Invalid page token."),
        };
        let end = (start + 100).min(c.engines);
        let items: Vec<Value> = (start..end).map(|i| engine(i, &c)).collect();
        let mut body = json!({ "reasoningEngines": items });
        if end < c.engines {
            let token = format!("offset-{end}");
            c.issued_page_tokens.push(token.clone());
            body["nextPageToken"] = json!(token);
        }
        return Reply::json(body);
    }
    if request.method == "GET" && request.path == engines_path(PROJECT, "europe-west4") {
        // An empty location answers with an empty object, as the API does.
        return Reply::json(json!({}));
    }
    if request.method == "POST" && request.path.ends_with(":getIamPolicy") {
        if request.json()["options"]["requestedPolicyVersion"] != 3 {
            return Reply::google_error(
                400,
                "INVALID_ARGUMENT",
                "requestedPolicyVersion 3 expected",
            );
        }
        if request.path == format!("/v1/projects/{LOCKED}:getIamPolicy")
            || request.path == "/v3/organizations/4567:getIamPolicy"
        {
            return Reply::google_error(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
            );
        }
        if request.path == "/v3/folders/8123:getIamPolicy" {
            let mut policy = json!({"version": 3, "etag": "BwYfolder=", "bindings": [
                {"role": "roles/storage.admin", "members": [
                    "serviceAccount:triage-agent@acme-agents.iam.gserviceaccount.com",
                    "group:platform@acme.example"]}
            ]});
            if !c.folder_audit_log_types.is_empty() {
                policy["auditConfigs"] = json!([{
                    "service": "allServices",
                    "auditLogConfigs": c.folder_audit_log_types.iter().map(|t| json!({"logType": t})).collect::<Vec<_>>()
                }]);
            }
            return Reply::json(policy);
        }
        if request.path != format!("/v1/projects/{PROJECT}:getIamPolicy") {
            return Reply::google_error(404, "NOT_FOUND", "no such resource");
        }
        let mut policy = json!({
            "version": 3,
            "etag": "BwYkV1pX3nM=",
            "bindings": [
                {"role": "roles/aiplatform.user", "members": [
                    "serviceAccount:triage-agent@acme-agents.iam.gserviceaccount.com",
                    "user:ops@acme.example"]},
                {"role": "roles/storage.objectViewer", "members": [
                    format!("serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-aiplatform-re.iam.gserviceaccount.com")],
                 "condition": {"title": "staging only", "expression": "resource.name.startsWith('projects/_/buckets/acme-staging')"}}
            ]
        });
        if !c.audit_log_types.is_empty() {
            policy["auditConfigs"] = json!([{
                "service": "aiplatform.googleapis.com",
                "auditLogConfigs": c.audit_log_types.iter().map(|t| json!({"logType": t})).collect::<Vec<_>>()
            }]);
        }
        return Reply::json(policy);
    }
    if request.method == "GET" && request.path.ends_with("/memories") {
        // Engine 1000 keeps memories per user, over two pages; the others keep none.
        let engine_1000 = format!(
            "/v1beta1/projects/{PROJECT_NUMBER}/locations/us-central1/reasoningEngines/1000/memories"
        );
        if request.path != engine_1000 {
            return Reply::json(json!({}));
        }
        let memory = |n: u32, scope: Value, expires: bool| {
            let mut m = json!({"name": format!("{}/{n}", &engine_1000[8..]), "fact": format!("user prefers refunds to store credit ({n})"),
                               "scope": scope, "createTime": "2026-11-01T10:00:00Z", "updateTime": "2026-11-01T10:00:00Z"});
            if expires {
                m["expireTime"] = json!("2027-02-01T10:00:00Z");
            }
            m
        };
        return match request.param("pageToken").as_deref() {
            None => {
                c.issued_page_tokens.push("memories-2".into());
                Reply::json(
                    json!({"memories": [memory(1, json!({"user_id": "u-1"}), true),
                                                  memory(2, json!({"user_id": "u-2"}), false)],
                                   "nextPageToken": "memories-2"}),
                )
            }
            Some("memories-2") => Reply::json(json!({"memories": [
                memory(3, json!({"user_id": "u-1", "session_id": "s-9"}), false)]})),
            Some(_) => Reply::google_error(400, "INVALID_ARGUMENT", "Invalid page token."),
        };
    }
    if request.method == "GET" && request.path.starts_with("/v3beta1/") {
        return dialogflow(request);
    }
    if request.method == "POST" && request.path == "/v2/entries:list" {
        return list_entries(request, &mut c);
    }
    if request.method == "POST" && request.path == format!("/v1/projects/{PROJECT}:getAncestry") {
        return Reply::json(json!({"ancestor": [
            {"resourceId": {"type": "project", "id": PROJECT}},
            {"resourceId": {"type": "folder", "id": "8123"}},
            {"resourceId": {"type": "organization", "id": "4567"}}
        ]}));
    }
    if request.method == "GET"
        && request.path
            == format!(
                "/v1/projects/{PROJECT}/locations/global/recommenders/google.iam.policy.Recommender/recommendations"
            )
    {
        return recommendations(request, &mut c);
    }
    if request.method == "GET"
        && request.path == "/storage/v1/b/acme-staging/o/agents%2Fsupport%2Frequirements.txt"
        && request.param("alt").as_deref() == Some("media")
    {
        return Reply::text(
            "# deployed by agent_engines.create\ngoogle-cloud-aiplatform[agent_engines,langchain]==1.112.0\nlanggraph==0.6.7\n\nlangchain-google-vertexai==2.0.27  # model client\n",
        );
    }
    Reply::google_error(
        404,
        "NOT_FOUND",
        &format!("no route for {} {}", request.method, request.path),
    )
}

const CX_AGENT: &str =
    "projects/acme-agents/locations/global/agents/5e0d4c3b-2a19-4f88-b7e6-1c2d3e4f5a6b";

/// Dialogflow CX v3beta1: one Conversational Agent in `global` with three tools and two
/// playbooks; none in the regions; the API disabled in the locked project.
fn dialogflow(request: &Request) -> Reply {
    if request
        .path
        .starts_with(&format!("/v3beta1/projects/{LOCKED}/"))
    {
        return Reply::google_error(
            403,
            "PERMISSION_DENIED",
            "Dialogflow API has not been used in project acme-locked before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/dialogflow.googleapis.com/overview?project=acme-locked then retry. (reason: SERVICE_DISABLED)",
        );
    }
    match request.path.trim_start_matches("/v3beta1/") {
        "projects/acme-agents/locations/global/agents" => Reply::json(json!({"agents": [{
            "name": CX_AGENT, "displayName": "order-desk", "defaultLanguageCode": "en", "timeZone": "Europe/Paris",
            "startPlaybook": format!("{CX_AGENT}/playbooks/00000000-0000-0000-0000-000000000000"),
            "advancedSettings": {"loggingSettings": {"enableInteractionLogging": true, "enableStackdriverLogging": false}}
        }]})),
        p if p.ends_with("/agents") => Reply::json(json!({})),
        p if p == format!("{CX_AGENT}/tools") => {
            let schema = json!({"openapi": "3.0.0", "info": {"title": "Orders", "version": "1"},
                "servers": [{"url": "https://orders.internal.acme"}],
                "paths": {"/orders/{id}": {"get": {"operationId": "getOrder"}},
                          "/orders/{id}/refund": {"post": {"operationId": "refundOrder"}}}});
            Reply::json(json!({"tools": [
                {"name": format!("{CX_AGENT}/tools/t1"), "displayName": "orders", "toolType": "CUSTOMIZED_TOOL",
                 "openApiSpec": {"textSchema": schema.to_string(), "authentication": {"serviceAgentAuthConfig": {}},
                                 "serviceDirectoryConfig": {"service": "projects/acme-agents/locations/us-central1/namespaces/n/services/orders"}}},
                {"name": format!("{CX_AGENT}/tools/t2"), "displayName": "help-center", "toolType": "CUSTOMIZED_TOOL",
                 "dataStoreSpec": {"dataStoreConnections": [{"dataStoreType": "UNSTRUCTURED",
                     "dataStore": "projects/123456789012/locations/global/collections/default_collection/dataStores/help-center"}]}},
                {"name": format!("{CX_AGENT}/tools/t3"), "displayName": "open_ticket", "toolType": "CUSTOMIZED_TOOL",
                 "functionSpec": {"inputSchema": {"type": "object"}, "outputSchema": {"type": "object"}}}
            ]}))
        }
        p if p == format!("{CX_AGENT}/playbooks") => Reply::json(json!({"playbooks": [
            {"name": format!("{CX_AGENT}/playbooks/11111111-0000-0000-0000-000000000000"), "displayName": "refunds",
             "goal": "Handle refunds", "instruction": {"steps": [{"text": "Use ${TOOL:orders} to find the order."}]},
             "llmModelSettings": {"model": "gemini-2.0-flash-001"}},
            {"name": format!("{CX_AGENT}/playbooks/00000000-0000-0000-0000-000000000000"), "displayName": "Default Generative Playbook",
             "goal": "Help customers with orders", "instruction": {"steps": [{"text": "Greet the customer."}]},
             "llmModelSettings": {"model": "gemini-2.5-flash"}}
        ]})),
        other => Reply::google_error(404, "NOT_FOUND", &format!("no route for {other}")),
    }
}

/// Logging API `entries.list` (POST /v2/entries:list), as its reference describes: the
/// filter honored (the audit logs, the receive-time window and the resume point), entries in
/// timestamp order, two per page whatever `pageSize` asks (the API may return fewer).
fn list_entries(request: &Request, c: &mut Cloud) -> Reply {
    let body = request.json();
    c.logging_calls.push(body.clone());
    if body["resourceNames"] == json!([format!("projects/{LOCKED}")]) {
        return Reply::google_error(
            403,
            "PERMISSION_DENIED",
            "Permission 'logging.logEntries.list' denied on resource (or it may not exist).",
        );
    }
    if body["resourceNames"] != json!([format!("projects/{PROJECT}")])
        || body["orderBy"] != "timestamp asc"
        || body["pageSize"] != 1000
    {
        return Reply::google_error(400, "INVALID_ARGUMENT", "unexpected request");
    }
    let filter = body["filter"].as_str().unwrap_or_default();
    let bound = |field: &str| {
        filter
            .split(" AND ")
            .find_map(|c| c.strip_prefix(&format!("{field}>=\"")))
            .map(|t| Timestamp::parse_rfc3339(t.trim_end_matches('"')).unwrap())
    };
    let Some(received_from) = bound("receiveTimestamp") else {
        return Reply::google_error(400, "INVALID_ARGUMENT", "no receiveTimestamp bound");
    };
    if !filter.starts_with("((logName:\"cloudaudit.googleapis.com\" AND (") {
        return Reply::google_error(400, "INVALID_ARGUMENT", "not an audit-log filter");
    }
    let since = bound("timestamp");
    let stamp = |e: &Value, f: &str| Timestamp::parse_rfc3339(e[f].as_str().unwrap()).unwrap();
    let mut matching: Vec<&Value> = c
        .log_entries
        .iter()
        .filter(|e| stamp(e, "receiveTimestamp") >= received_from)
        .filter(|e| since.is_none_or(|t| stamp(e, "timestamp") >= t))
        .collect();
    matching.sort_by_key(|e| stamp(e, "timestamp"));
    let start = match body["pageToken"].as_str() {
        None => 0,
        Some(t) if c.issued_page_tokens.iter().any(|i| i == t) => {
            t.trim_start_matches("entries-").parse().unwrap()
        }
        Some(_) => return Reply::google_error(400, "INVALID_ARGUMENT", "Invalid page token."),
    };
    let end = (start + 2).min(matching.len());
    let mut page = json!({"entries": matching[start..end]});
    if end < matching.len() {
        let token = format!("entries-{end}");
        c.issued_page_tokens.push(token.clone());
        page["nextPageToken"] = json!(token);
    }
    Reply::json(page)
}

/// IAM Recommender, two pages: the triage agent's identity should trade aiplatform.user for
/// a viewer role; an applied recommendation and one for a person are not the engines'.
fn recommendations(request: &Request, c: &mut Cloud) -> Reply {
    let triage = "serviceAccount:triage-agent@acme-agents.iam.gserviceaccount.com";
    let op = |action: &str, member: &str, role: &str| {
        let mut op = json!({"action": action, "resourceType": "cloudresourcemanager.googleapis.com/Project",
                            "resource": format!("//cloudresourcemanager.googleapis.com/projects/{PROJECT_NUMBER}"),
                            "pathFilters": {"/iamPolicy/bindings/*/condition/expression": "", "/iamPolicy/bindings/*/role": role}});
        if action == "remove" {
            op["path"] = json!("/iamPolicy/bindings/*/members/*");
            op["pathFilters"]["/iamPolicy/bindings/*/members/*"] = json!(member);
        } else {
            op["path"] = json!("/iamPolicy/bindings/*/members/-");
            op["value"] = json!(member);
        }
        op
    };
    let recommendation = |n: u32, subtype: &str, state: &str, ops: Vec<Value>| {
        json!({
            "name": format!("projects/{PROJECT_NUMBER}/locations/global/recommenders/google.iam.policy.Recommender/recommendations/r{n}"),
            "description": "Replace the current role with a smaller role to cover the permissions needed.",
            "recommenderSubtype": subtype, "priority": "P2", "primaryImpact": {"category": "SECURITY"},
            "content": {"operationGroups": [{"operations": ops}]},
            "stateInfo": {"state": state}, "etag": format!("\"e{n}\"")
        })
    };
    match request.param("pageToken").as_deref() {
        None => {
            c.issued_page_tokens.push("recommendations-2".into());
            Reply::json(json!({
                "recommendations": [recommendation(1, "REPLACE_ROLE", "ACTIVE", vec![
                    op("add", triage, "roles/aiplatform.viewer"),
                    op("remove", triage, "roles/aiplatform.user"),
                ])],
                "nextPageToken": "recommendations-2"
            }))
        }
        Some("recommendations-2")
            if c.issued_page_tokens
                .iter()
                .any(|t| t == "recommendations-2") =>
        {
            Reply::json(json!({"recommendations": [
                recommendation(2, "REMOVE_ROLE", "SUCCEEDED", vec![op("remove", triage, "roles/editor")]),
                recommendation(3, "REMOVE_ROLE", "ACTIVE", vec![op("remove", "user:ops@acme.example", "roles/aiplatform.user")]),
            ]}))
        }
        Some(_) => Reply::google_error(400, "INVALID_ARGUMENT", "Invalid page token."),
    }
}

fn test_data(name: &str) -> PathBuf {
    common::repo_root().join("tests/data").join(name)
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
    adc: PathBuf,
    server: SpecServer,
    cloud: Arc<Mutex<Cloud>>,
}

fn setup(adc_kind: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let cloud = Arc::new(Mutex::new(Cloud {
        engines: ENGINES,
        audit_log_types: vec!["ADMIN_READ", "DATA_READ"],
        folder_audit_log_types: Vec::new(),
        psc: false,
        telemetry: false,
        throttled: false,
        issued_page_tokens: Vec::new(),
        unauthorized: Vec::new(),
        jwt_claims: Vec::new(),
        log_entries: Vec::new(),
        logging_calls: Vec::new(),
    }));
    let routed = cloud.clone();
    let server = SpecServer::start(Arc::new(move |r: &Request| route(&routed, r)));
    let adc = root.join("adc.json");
    let credentials = match adc_kind {
        "authorized_user" => json!({
            "type": "authorized_user",
            "client_id": "local-client.apps.googleusercontent.com",
            "client_secret": "local-client-secret",
            "refresh_token": REFRESH,
            "token_uri": format!("{}/token", server.url())
        }),
        _ => json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "0123456789abcdef",
            "private_key": std::fs::read_to_string(test_data("gcp-test-service-account.pem")).unwrap(),
            "client_email": "agentward-scanner@acme-agents.iam.gserviceaccount.com",
            "client_id": "100000000000000000001",
            "token_uri": format!("{}/token", server.url())
        }),
    };
    std::fs::write(&adc, credentials.to_string()).unwrap();
    let config = root.join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"{}\"\n\n[[source]]\nname = \"vertex\"\nkind = \"gcp-api\"\nendpoint = \"{}\"\nprojects = [\"{PROJECT}\", \"{LOCKED}\"]\nlocations = [\"us-central1\", \"europe-west4\"]\n",
            root.join("store").display(),
            server.url()
        ),
    )
    .unwrap();
    Setup {
        _dir: dir,
        root,
        config,
        adc,
        server,
        cloud,
    }
}

fn agentward(s: &Setup, args: &[&str]) -> std::process::Output {
    bin()
        .arg("--config")
        .arg(&s.config)
        .args(args)
        .env("GOOGLE_APPLICATION_CREDENTIALS", &s.adc)
        .env("HOME", &s.root)
        .env_remove("GOOGLE_CLOUD_QUOTA_PROJECT")
        .env_remove("GCE_METADATA_HOST")
        .output()
        .unwrap()
}

fn scan(s: &Setup) -> Value {
    let out = agentward(s, &["scan", "--format", "json"]);
    // One project is locked: the scan is partial (exit 2) and says why.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn inventory(s: &Setup) -> Vec<Value> {
    let out = agentward(s, &["inventory", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["agents"].as_array().cloned().unwrap_or_default()
}

fn coverage(s: &Setup, id: &str) -> Vec<(String, String)> {
    let out = agentward(s, &["coverage", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    common::layer_statements(&out.stdout, id)
}

#[test]
fn reasoning_engines_are_inventoried_through_every_page_with_user_credentials() {
    let s = setup("authorized_user");
    let summary = scan(&s);
    let source = &summary["sources"][0];
    // The locked project is named with the provider's reason; the other is read whole.
    let failures: Vec<&str> = source["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        failures
            .iter()
            .any(|f| f.contains("project acme-locked, us-central1")
                && f.contains(
                    "403 PERMISSION_DENIED: Permission 'aiplatform.reasoningEngines.list' denied"
                )),
        "{failures:?}"
    );
    assert!(
        failures
            .iter()
            .any(|f| f.contains("project acme-locked: IAM policy not read")),
        "{failures:?}"
    );
    assert!(
        !failures
            .iter()
            .any(|f| f.contains(PROJECT) && !f.contains(LOCKED)),
        "{failures:?}"
    );
    assert_eq!(source["api"]["gcp"]["reasoning_engines"], ENGINES);
    assert_eq!(source["api"]["gcp"]["policies_read"], 1);
    let unreadable_org = source["api"]["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u.as_str().unwrap().contains("organizations/4567"))
        .count();
    assert_eq!(
        unreadable_org, 1,
        "said once for the project, not per engine"
    );
    assert!(
        source["api"]["gcp"]["credential"]
            .as_str()
            .unwrap()
            .contains("authorized_user"),
        "{source}"
    );

    // Every request carried the token the OAuth endpoint issued for the refresh token.
    let c = s.cloud.lock().unwrap();
    assert!(c.unauthorized.is_empty(), "{:?}", c.unauthorized);
    assert!(c.jwt_claims.is_empty());
    drop(c);
    assert_eq!(
        s.server.requests_to("POST", "/token").len(),
        1,
        "the token is cached"
    );
    // 429 once, then three pages, each page token one the server issued.
    let pages = s.server.requests_to(
        "GET",
        "/v1/projects/acme-agents/locations/us-central1/reasoningEngines",
    );
    let tokens: Vec<Option<String>> = pages.iter().map(|r| r.param("pageToken")).collect();
    assert_eq!(
        tokens,
        [
            None,
            None,
            Some("offset-100".into()),
            Some("offset-200".into())
        ],
        "throttled first call retried, then every page in order"
    );
    assert_eq!(
        source["api"]["calls"].as_u64().unwrap(),
        s.server.requests().len() as u64 - 1
    );

    let agents = inventory(&s);
    let engines = agents
        .iter()
        .filter(|a| a["platform"]["value"] == "vertex-ai-agent-engine")
        .count();
    assert_eq!(engines, ENGINES);
    assert_eq!(agents.len(), ENGINES + 1, "and the Conversational Agent");
    let support = agent(&agents, "1000");
    assert_eq!(support["agent"]["scope"], PROJECT);
    assert_eq!(support["agent"]["location"], "us-central1");
    assert_eq!(support["name"]["value"], "agent-0");
    assert_eq!(support["platform"]["value"], "vertex-ai-agent-engine");
    let engine = &support["engine"]["value"];
    assert_eq!(engine["framework"], "langgraph");
    assert_eq!(
        engine["service_account"],
        format!("service-{PROJECT_NUMBER}@gcp-sa-aiplatform-re.iam.gserviceaccount.com")
    );
    assert_eq!(engine["service_account_defaulted"], true);
    assert_eq!(
        engine["requirements"],
        json!([
            "google-cloud-aiplatform[agent_engines,langchain]==1.112.0",
            "langgraph==0.6.7",
            "langchain-google-vertexai==2.0.27"
        ])
    );
    assert_eq!(engine["environment"], json!(["SUPPORT_API"]));
    assert_eq!(
        engine["secret_environment"],
        json!(["CRM_TOKEN from crm-token (version 2)"])
    );
    assert_eq!(engine["class_methods"], json!(["query", "stream_query"]));
    // What its Memory Bank keeps, over two pages, without a memory's text.
    assert_eq!(
        engine["memory"],
        "Memory Bank: 3 memories kept per session_id, user_id, 1 expiring"
    );
    assert!(!common::grep_dir(
        &s.root.join("store"),
        "prefers refunds to store credit"
    ));
    assert!(agent(&agents, "1001")["engine"]["value"]["memory"].is_null());
    let unresolved = engine["unresolved"].to_string();
    assert!(
        unresolved.contains("no model field") && unresolved.contains("no tools field"),
        "{unresolved}"
    );
    assert!(support["declared_model"].is_null(), "no model is invented");
    assert_eq!(
        support["role"]["value"],
        format!("service-{PROJECT_NUMBER}@gcp-sa-aiplatform-re.iam.gserviceaccount.com")
    );
    // Environment values never reach the store.
    assert!(!common::grep_dir(
        &s.root.join("store"),
        "support.internal.acme"
    ));
    let triage = agent(&agents, "1001");
    assert_eq!(
        triage["engine"]["value"]["service_account"],
        "triage-agent@acme-agents.iam.gserviceaccount.com"
    );
    // The project's grants to each identity; a conditional one says so.
    assert_eq!(
        triage["engine"]["value"]["project_roles"],
        json!(["roles/aiplatform.user"])
    );
    assert_eq!(
        engine["project_roles"],
        json!(["roles/storage.objectViewer (conditional)"])
    );
    // Grants through the project's folder; the organization's policy is unreadable, which
    // is said, not taken for "no grants".
    let triage_engine = &triage["engine"]["value"];
    assert_eq!(
        triage_engine["inherited_roles"],
        json!(["roles/storage.admin (from folders/8123)"])
    );
    assert!(
        triage_engine["unresolved"]
            .to_string()
            .contains("the IAM policy of organizations/4567 could not be read"),
        "{triage_engine}"
    );
    // Google's recommendation for that identity, from the first of two pages; applied ones
    // and other principals' are left out.
    assert_eq!(
        triage_engine["recommendations"],
        json!([
            "REPLACE_ROLE: roles/aiplatform.user → roles/aiplatform.viewer: Replace the current role with a smaller role to cover the permissions needed."
        ])
    );
    let recommender_pages: Vec<Option<String>> = s
        .server
        .requests_to(
            "GET",
            &format!("/v1/projects/{PROJECT}/locations/global/recommenders/google.iam.policy.Recommender/recommendations"),
        )
        .iter()
        .map(|r| r.param("pageToken"))
        .collect();
    assert_eq!(recommender_pages, [None, Some("recommendations-2".into())]);
    assert!(
        triage["engine"]["value"]["unresolved"]
            .to_string()
            .contains("requirements.txt inside the uploaded source archive"),
        "{}",
        triage["engine"]
    );

    // An engine deleted from Vertex is recorded as deleted at the next scan; nothing else
    // changes, and the locked project's absence deletes nothing.
    s.cloud.lock().unwrap().engines = ENGINES - 1;
    scan(&s);
    let agents = inventory(&s);
    let gone = agent(&agents, &(1000 + ENGINES - 1).to_string());
    assert!(
        gone["deleted"]["value"]
            .as_str()
            .unwrap()
            .contains("no longer lists reasoning engine"),
        "{gone}"
    );
    assert_eq!(agents.iter().filter(|a| !a["deleted"].is_null()).count(), 1);
}

#[test]
fn coverage_flips_exactly_the_layer_whose_setting_changed() {
    let s = setup("authorized_user");
    scan(&s);
    let before = coverage(&s, "1000");
    let layers: Vec<&str> = before.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        layers,
        [
            "control",
            "identity_api",
            "kernel",
            "network",
            "prompt",
            "tool_invocation"
        ]
    );
    let text =
        |c: &[(String, String)], layer: &str| c.iter().find(|(l, _)| l == layer).unwrap().1.clone();
    assert!(
        text(&before, "identity_api")
            .contains("are off in acme-agents (on: ADMIN_READ, DATA_READ)")
    );
    assert!(
        text(&before, "identity_api").contains(
            "unless an ancestor whose policy could not be read turns them on (organizations/4567"
        ),
        "{}",
        text(&before, "identity_api")
    );
    assert!(text(&before, "network").contains("no PSC interface"));
    assert!(text(&before, "tool_invocation").contains("does not turn tracing on"));
    assert!(text(&before, "kernel").contains("Google-managed"));

    /// The layer a change of setting must flip, the change, and what the layer says after.
    type Flip = (&'static str, fn(&mut Cloud), &'static str);
    let flips: [Flip; 4] = [
        (
            "identity_api",
            |c| c.folder_audit_log_types = vec!["DATA_WRITE"],
            "are on in acme-agents (DATA_WRITE from folders/8123)",
        ),
        (
            "identity_api",
            |c| {
                c.folder_audit_log_types.clear();
                c.audit_log_types = vec!["ADMIN_READ", "DATA_READ", "DATA_WRITE"]
            },
            "are on in acme-agents, and",
        ),
        ("network", |c| c.psc = true, "networkAttachments/agents"),
        (
            "tool_invocation",
            |c| c.telemetry = true,
            "GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY=true",
        ),
    ];
    let mut current = before;
    for (layer, change, expected) in flips {
        change(&mut s.cloud.lock().unwrap());
        scan(&s);
        let after = coverage(&s, "1000");
        for ((l, was), (_, now)) in current.iter().zip(&after) {
            if l == layer {
                assert_ne!(was, now, "{layer} did not change");
                assert!(now.contains(expected), "{layer}: {now}");
            } else {
                assert_eq!(was, now, "{l} changed when only {layer}'s setting did");
            }
        }
        current = after;
    }
    // Another engine's deployment did not change: its network statement stays.
    assert!(text(&coverage(&s, "1002"), "network").contains("no PSC interface"));
}

#[test]
fn a_service_account_key_signs_its_own_token_and_a_recording_replays_offline() {
    let s = setup("service_account");
    let recording = s.root.join("recording");
    let out = agentward(
        &s,
        &["record", recording.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !common::grep_dir(&recording, "prefers refunds to store credit"),
        "what a Memory Bank remembers about people stays out of recordings"
    );
    {
        let c = s.cloud.lock().unwrap();
        assert!(c.unauthorized.is_empty(), "{:?}", c.unauthorized);
        let claims = c
            .jwt_claims
            .first()
            .expect("requests carried the self-signed JWT");
        assert_eq!(
            claims["iss"],
            "agentward-scanner@acme-agents.iam.gserviceaccount.com"
        );
        assert_eq!(
            claims["scope"],
            "https://www.googleapis.com/auth/cloud-platform"
        );
    }
    assert!(
        s.server.requests_to("POST", "/token").is_empty(),
        "a key needs no exchange"
    );
    let exchanges = std::fs::read_to_string(recording.join("vertex/exchanges.jsonl")).unwrap();
    assert!(
        !exchanges.contains("support.internal.acme"),
        "environment values are not recorded"
    );
    assert!(!exchanges.contains("Bearer") && !exchanges.contains("BEGIN PRIVATE KEY"));
    let recorded = inventory(&s);

    // Offline: another store, no server answering, no credentials at all.
    let offline = s.root.join("offline.toml");
    std::fs::write(
        &offline,
        std::fs::read_to_string(&s.config)
            .unwrap()
            .replace(
                &s.root.join("store").display().to_string(),
                &s.root.join("store2").display().to_string(),
            )
            .replace(&s.server.url(), "http://127.0.0.1:9"),
    )
    .unwrap();
    let replayed = bin()
        .args([
            "--config",
            offline.to_str().unwrap(),
            "scan",
            "--format",
            "json",
            "--replay",
        ])
        .arg(&recording)
        .env(
            "GOOGLE_APPLICATION_CREDENTIALS",
            s.root.join("missing.json"),
        )
        .output()
        .unwrap();
    assert_eq!(replayed.status.code(), Some(2), "{}", stderr(&replayed));
    let summary: Value = serde_json::from_slice(&replayed.stdout).unwrap();
    assert_eq!(
        summary["sources"][0]["api"]["gcp"]["reasoning_engines"],
        ENGINES
    );
    let out = bin()
        .args([
            "--config",
            offline.to_str().unwrap(),
            "inventory",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let strip = |agents: &[Value]| -> Vec<Value> {
        agents
            .iter()
            .map(|a| {
                json!([
                    a["agent"],
                    a["name"]["value"],
                    a["engine"]["value"],
                    a["role"]["value"]
                ])
            })
            .collect()
    };
    assert_eq!(strip(v["agents"].as_array().unwrap()), strip(&recorded));
}

#[test]
fn missing_credentials_fail_the_source_with_the_reason() {
    let s = setup("authorized_user");
    let out = bin()
        .arg("--config")
        .arg(&s.config)
        .args(["scan", "--format", "json"])
        .env(
            "GOOGLE_APPLICATION_CREDENTIALS",
            s.root.join("nowhere.json"),
        )
        .env("HOME", &s.root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failures = summary["sources"][0]["failures"].to_string();
    assert!(
        failures.contains("no Google credentials") && failures.contains("nowhere.json"),
        "{failures}"
    );
    assert!(s.server.requests().is_empty());
}

/// One audit entry as the Logging API returns it, `hours_ago` old, received a second after
/// (or at `received`).
fn audit_entry(
    (log, insert_id): (&str, &str),
    method: &str,
    resource: &str,
    principal: &str,
    (at, received): (Timestamp, Timestamp),
) -> Value {
    json!({
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "status": {},
            "authenticationInfo": {"principalEmail": principal},
            "requestMetadata": {"callerIp": "203.0.113.7"},
            "serviceName": method.split('/').next().unwrap(),
            "methodName": method.split('/').nth(1).unwrap(),
            "resourceName": resource,
        },
        "insertId": insert_id,
        "resource": {"type": "audited_resource", "labels": {"project_id": PROJECT}},
        "timestamp": at.rfc3339(),
        "receiveTimestamp": received.rfc3339(),
        "severity": "INFO",
        "logName": format!("projects/{PROJECT}/logs/cloudaudit.googleapis.com%2F{log}"),
    })
}

#[test]
fn audit_logs_are_read_through_the_logging_api_page_by_page_and_never_twice() {
    let s = setup("authorized_user");
    let config = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(
        &s.config,
        format!("{config}logging_api = true\nlogging_max_pages = 1\n"),
    )
    .unwrap();
    let now = common::now();
    let ago = |minutes: i64| Timestamp(now.millis() - minutes * 60_000);
    let engine =
        |id: u32| format!("projects/{PROJECT_NUMBER}/locations/us-central1/reasoningEngines/{id}");
    const TRIAGE_SA: &str = "triage-agent@acme-agents.iam.gserviceaccount.com";
    const AIPLATFORM: &str = "aiplatform.googleapis.com/google.cloud.aiplatform.v1";
    s.cloud.lock().unwrap().log_entries = vec![
        audit_entry(
            ("activity", "e1"),
            &format!("{AIPLATFORM}.ReasoningEngineService.UpdateReasoningEngine"),
            &engine(1000),
            "ops@acme.example",
            (ago(180), ago(179)),
        ),
        audit_entry(
            ("data_access", "e2"),
            &format!("{AIPLATFORM}.ReasoningEngineExecutionService.QueryReasoningEngine"),
            &engine(1001),
            "ops@acme.example",
            (ago(120), ago(119)),
        ),
        audit_entry(
            ("data_access", "e3"),
            "storage.googleapis.com/storage.objects.get",
            "projects/_/buckets/acme-kb/objects/faq.md",
            TRIAGE_SA,
            (ago(90), ago(89)),
        ),
        // Eight days old: before the first read's window.
        audit_entry(
            ("data_access", "old"),
            "storage.googleapis.com/storage.objects.get",
            "projects/_/buckets/acme-kb/objects/old.md",
            TRIAGE_SA,
            (ago(8 * 24 * 60), ago(8 * 24 * 60)),
        ),
    ];
    let vertex = |summary: &Value| {
        summary["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "vertex")
            .unwrap()
            .clone()
    };
    let pulled = |summary: &Value| vertex(summary)["api"]["gcp"]["log_entries"].clone();

    // One page per scan: two entries, and the scan says the rest waits.
    let first = scan(&s);
    assert_eq!(pulled(&first), 2, "{}", first["sources"]);
    let failures = vertex(&first)["failures"].to_string();
    assert!(
        failures.contains("audit-log entries remain past 1 pages")
            && failures.contains("acme-locked: audit logs not read through the Logging API")
            && failures.contains("PERMISSION_DENIED"),
        "{failures}"
    );
    {
        let c = s.cloud.lock().unwrap();
        let filter = c.logging_calls[0]["filter"].as_str().unwrap();
        assert!(filter.contains(&format!("\"{TRIAGE_SA}\"")));
        assert!(!filter.contains(" AND timestamp>="));
    }
    // The next scan continues where the page budget stopped, in the same window.
    let second = scan(&s);
    assert_eq!(pulled(&second), 1);
    {
        let c = s.cloud.lock().unwrap();
        let ours = c
            .logging_calls
            .iter()
            .rfind(|b| b["resourceNames"][0] == format!("projects/{PROJECT}"))
            .unwrap();
        let filter = ours["filter"].as_str().unwrap();
        assert!(
            filter.contains(" AND timestamp>=\""),
            "{}",
            &filter[filter.len() - 120..]
        );
    }
    // An entry that reached Cloud Logging late (an old timestamp, received now) is read;
    // the ones read before are not read again.
    s.cloud.lock().unwrap().log_entries.push(audit_entry(
        ("data_access", "late"),
        &format!("{AIPLATFORM}.PredictionService.GenerateContent"),
        &format!(
            "projects/{PROJECT}/locations/us-central1/publishers/google/models/gemini-2.5-flash"
        ),
        TRIAGE_SA,
        (ago(240), now),
    ));
    // And an engine's runtime line in which ADK names the model it calls: evidence of the
    // model, never an event, its text never kept.
    s.cloud.lock().unwrap().log_entries.push(json!({
        "textPayload": "2026-11-22 10:00:00,123 - INFO - google_llm.py:90 - Sending out request, model: gemini-2.0-flash-001, backend: GoogleLLMVariant.VERTEX_AI, stream: False (user asked about order 77)",
        "insertId": "rt1",
        "resource": {"type": "aiplatform.googleapis.com/ReasoningEngine",
                     "labels": {"reasoning_engine_id": "1002", "location": "us-central1", "resource_container": PROJECT_NUMBER}},
        "timestamp": ago(30).rfc3339(),
        "receiveTimestamp": now.rfc3339(),
        "severity": "INFO",
        "logName": format!("projects/{PROJECT}/logs/aiplatform.googleapis.com%2Freasoning_engine_stderr"),
    }));
    assert_eq!(pulled(&scan(&s)), 2);
    assert_eq!(
        pulled(&scan(&s)),
        0,
        "the late entries are asked for again, and left out"
    );
    assert!(
        inventory(&s)
            .iter()
            .find(|a| a["agent"]["id"] == "1002")
            .unwrap()["models_invoked"]
            .to_string()
            .contains("gemini-2.0-flash-001")
    );
    assert!(
        !common::grep_dir(&s.root.join("store"), "order 77"),
        "runtime lines are not kept in the store's events"
    );

    let out = agentward(&s, &["events", "--format", "ocsf"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut seen: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let e: Value = serde_json::from_str(l).unwrap();
            let a = &e["unmapped"]["agentward"];
            (
                a["agent"]["id"].as_str().unwrap_or("-").to_string(),
                common::verb(&e),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("1000".to_string(), "UpdateReasoningEngine".to_string()),
            ("1001".into(), "GenerateContent".into()),
            ("1001".into(), "QueryReasoningEngine".into()),
            ("1001".into(), "get".into()),
        ],
        "every entry once, attributed by engine and by identity"
    );
    let identity = coverage(&s, "1001")
        .into_iter()
        .find(|(l, _)| l == "identity_api")
        .unwrap()
        .1;
    assert!(
        identity.contains("Cloud Audit Logs (vertex.logs): 3 records"),
        "{identity}"
    );
    assert!(
        inventory(&s)
            .iter()
            .find(|a| a["agent"]["id"] == "1001")
            .unwrap()["models_invoked"]
            .to_string()
            .contains("gemini-2.5-flash")
    );

    // A recording of a first read replays offline, and a second replay reads nothing again.
    let fresh = std::fs::read_to_string(&s.config).unwrap().replace(
        &s.root.join("store").display().to_string(),
        &s.root.join("store2").display().to_string(),
    );
    std::fs::write(&s.config, &fresh).unwrap();
    let recording = s.root.join("recording");
    let out = agentward(
        &s,
        &["record", recording.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    std::fs::write(
        &s.config,
        fresh
            .replace(
                &s.root.join("store2").display().to_string(),
                &s.root.join("store3").display().to_string(),
            )
            .replace(&s.server.url(), "http://127.0.0.1:9"),
    )
    .unwrap();
    let replay = |expected: u64| {
        let out = agentward(
            &s,
            &[
                "scan",
                "--format",
                "json",
                "--replay",
                recording.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(pulled(&summary), expected, "{}", vertex(&summary));
    };
    replay(2);
    replay(0);
}

#[test]
fn conversational_agents_are_inventoried_with_their_playbooks_and_tools() {
    let s = setup("authorized_user");
    let summary = scan(&s);
    let vertex = &summary["sources"][0];
    assert_eq!(vertex["api"]["gcp"]["conversational_agents"], 1, "{vertex}");
    assert!(
        vertex["api"]["gcp"]["notes"]
            .to_string()
            .contains("project acme-locked: the Dialogflow API is not enabled"),
        "{vertex}"
    );
    assert!(
        !vertex["failures"].to_string().contains("Dialogflow"),
        "a disabled API is no failure: {}",
        vertex["failures"]
    );
    let agents = inventory(&s);
    let cx = agents
        .iter()
        .find(|a| a["agent"]["id"] == "5e0d4c3b-2a19-4f88-b7e6-1c2d3e4f5a6b")
        .expect("the Conversational Agent is in the inventory");
    assert_eq!(cx["agent"]["location"], "global");
    assert_eq!(cx["platform"]["value"], "dialogflow-cx-agent");
    assert_eq!(cx["name"]["value"], "order-desk");
    assert_eq!(
        cx["declared_model"]["value"],
        "gemini-2.5-flash (start playbook; others use gemini-2.0-flash-001)"
    );
    let text = cx.to_string();
    for expected in [
        "getOrder",
        "refundOrder",
        "https://orders.internal.acme (serviceAgentAuthConfig)",
        "dataStores/help-center",
        "open_ticket",
    ] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    assert!(
        !text.contains("Greet the customer"),
        "instructions are kept as a digest only"
    );
    let layers = coverage(&s, "5e0d4c3b-2a19-4f88-b7e6-1c2d3e4f5a6b");
    let of = |layer: &str| layers.iter().find(|(l, _)| l == layer).unwrap().1.clone();
    assert!(of("prompt").contains("conversation history"), "{layers:?}");
    assert!(
        of("network").contains("tools orders reach their servers through Service Directory"),
        "{layers:?}"
    );
    assert!(of("kernel").contains("Google-managed"), "{layers:?}");
}
