//! The gcp-audit-logs source end to end: Cloud Audit Logs as a Logging sink exports them
//! (one LogEntry per line under `cloudaudit.googleapis.com/<log>/YYYY/MM/DD/`), read from a
//! directory and from a bucket over the Cloud Storage XML API (a local server checking the
//! service account's self-signed token and the continuation tokens it issued), attributed
//! to the Vertex AI engines a gcp-api source inventoried (the example's recording).

mod common;

use common::spec_server::{Reply, Request, SpecServer};
use common::{layer_statements, repo_root, verify_jwt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PROJECT: &str = "acme-support-prod";
const NUMBER: &str = "418203957316";
const TRIAGE: &str = "5723190044817195008";
const REFUND: &str = "8867342190013235200";
const KB: &str = "1290447781234567168";
const REFUND_SA: &str = "refund-agent@acme-support-prod.iam.gserviceaccount.com";
const CLIENT_EMAIL: &str = "agentward-reader@acme-security.iam.gserviceaccount.com";
const ACTIVITY: &str = "cloudaudit.googleapis.com/activity/2026/11/20/10:00:00_10:59:59_S0.json";
const DATA_ACCESS: &str =
    "cloudaudit.googleapis.com/data_access/2026/11/20/10:00:00_10:59:59_S0.json";
const OTHER: &str = "syslog/2026/11/20/10:00:00_10:59:59_S0.json";
const STDOUT: &str =
    "aiplatform.googleapis.com/reasoning_engine_stdout/2026/11/20/10:00:00_10:59:59_S0.json";

fn engine(location: &str, id: &str) -> String {
    format!("projects/{NUMBER}/locations/{location}/reasoningEngines/{id}")
}

/// Who made a call: a principal's e-mail, or an engine's agent identity (`principalSubject`).
enum Who<'a> {
    Email(&'a str),
    AgentIdentity(&'a str),
}

/// One audit LogEntry as a sink exports it.
fn entry(
    log: &str,
    (insert_id, minute): (&str, u32),
    (service, method): (&str, &str),
    resource: &str,
    who: Who,
    status: Option<(i64, &str)>,
    project_label: &str,
) -> Value {
    let authentication = match who {
        Who::Email(e) => json!({"principalEmail": e}),
        Who::AgentIdentity(s) => json!({"principalSubject": s}),
    };
    json!({
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "status": status.map(|(code, message)| json!({"code": code, "message": message})).unwrap_or(json!({})),
            "authenticationInfo": authentication,
            "requestMetadata": {"callerIp": "203.0.113.9", "callerSuppliedUserAgent": "test-client/1.0"},
            "serviceName": service,
            "methodName": method,
            "resourceName": resource,
        },
        "insertId": insert_id,
        "resource": {"type": "audited_resource", "labels": {"project_id": project_label, "service": service}},
        "timestamp": format!("2026-11-20T10:{minute:02}:00.123456Z"),
        "severity": "NOTICE",
        "logName": format!("projects/{project_label}/logs/cloudaudit.googleapis.com%2F{log}"),
    })
}

fn lines(entries: &[Value]) -> String {
    entries.iter().map(|e| format!("{e}\n")).collect()
}

/// The exported objects: key → content.
fn export() -> BTreeMap<&'static str, String> {
    const AIPLATFORM: &str = "aiplatform.googleapis.com";
    let method = |service: &str, verb: &str| format!("google.cloud.aiplatform.v1.{service}.{verb}");
    let update = method("ReasoningEngineService", "UpdateReasoningEngine");
    let delete = method("ReasoningEngineService", "DeleteReasoningEngine");
    let query = method(
        "ReasoningEngineExecutionService",
        "StreamQueryReasoningEngine",
    );
    let generate = method("PredictionService", "GenerateContent");
    let activity = [
        entry(
            "activity",
            ("a1", 1),
            (AIPLATFORM, &update),
            &engine("us-central1", TRIAGE),
            Who::Email("maria.lopez@acme.example"),
            None,
            PROJECT,
        ),
        entry(
            "activity",
            ("a2", 2),
            (AIPLATFORM, &delete),
            &engine("us-central1", REFUND),
            Who::Email("dev@partner.example"),
            Some((7, "Permission 'aiplatform.reasoningEngines.delete' denied")),
            PROJECT,
        ),
    ];
    let mut data_access = lines(&[
        entry(
            "data_access",
            ("d1", 3),
            (AIPLATFORM, &query),
            &engine("europe-west4", KB),
            Who::Email("analyst@acme.example"),
            None,
            PROJECT,
        ),
        entry(
            "data_access",
            ("d2", 4),
            (AIPLATFORM, &generate),
            &format!(
                "projects/{PROJECT}/locations/us-central1/publishers/google/models/gemini-2.5-pro"
            ),
            Who::Email(REFUND_SA),
            None,
            PROJECT,
        ),
        // The engine's own agent identity reading a bucket of another project.
        entry(
            "data_access",
            ("d3", 5),
            ("storage.googleapis.com", "storage.objects.get"),
            "projects/_/buckets/partner-kb/objects/faq.md",
            Who::AgentIdentity(&format!(
                "principal://agents.global.org-7781.system.id.goog/resources/aiplatform/{}",
                engine("europe-west4", KB)
            )),
            None,
            "partner-data",
        ),
        entry(
            "data_access",
            ("d4", 6),
            (
                "bigquery.googleapis.com",
                "google.cloud.bigquery.v2.TableDataService.List",
            ),
            &format!("projects/{PROJECT}/datasets/support/tables/refunds"),
            Who::Email("etl-nightly@acme-support-prod.iam.gserviceaccount.com"),
            None,
            PROJECT,
        ),
    ]);
    // An engine's stdout line routed into the audit export by a broad sink filter (read as
    // runtime output: nothing in it names a model, nothing is kept), and a line cut short
    // (quarantined).
    data_access.push_str(
        &json!({"textPayload": "refund approved for ticket 4411", "insertId": "r1",
                "resource": {"type": "aiplatform.googleapis.com/ReasoningEngine"},
                "timestamp": "2026-11-20T10:16:00Z",
                "logName": format!("projects/{PROJECT}/logs/aiplatform.googleapis.com%2Freasoning_engine_stdout")})
        .to_string(),
    );
    data_access.push('\n');
    data_access.push_str("{\"protoPayload\": {\"@type\": \"type.googleapis.com/google.cloud.audit.AuditLog\", \"serviceName\"\n");
    BTreeMap::from([
        (ACTIVITY, lines(&activity)),
        (DATA_ACCESS, data_access),
        (
            STDOUT,
            format!(
                "{{\"textPayload\": \"starting agent\"}}\n{}\n",
                json!({"textPayload": "2026-11-20 10:20:00,001 - INFO - google_llm.py:90 - Sending out request, model: gemini-2.5-pro, backend: GoogleLLMVariant.VERTEX_AI, stream: False",
                       "insertId": "o2", "timestamp": "2026-11-20T10:20:00.001Z", "severity": "INFO",
                       "resource": {"type": "aiplatform.googleapis.com/ReasoningEngine",
                                    "labels": {"reasoning_engine_id": TRIAGE, "location": "us-central1", "resource_container": PROJECT}},
                       "logName": format!("projects/{PROJECT}/logs/aiplatform.googleapis.com%2Freasoning_engine_stdout")})
            ),
        ),
        (OTHER, "{\"jsonPayload\": {}}\n".to_string()),
    ])
}

fn write_export(dir: &Path) {
    for (key, content) in export() {
        let path = dir.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// A config reading the example's recorded project, and the audit export at `audit` when
/// given (a `[[source]]` body after name and kind).
fn write_config(root: &Path, audit: Option<&str>) -> PathBuf {
    let recording = repo_root().join("examples/managed-agents/recording/vertex-agents");
    let mut text = format!(
        "[store]\nurl = {:?}\n\n[[source]]\nname = \"vertex\"\nkind = \"gcp-api\"\nprojects = [\"{PROJECT}\"]\nlocations = [\"us-central1\", \"europe-west4\"]\nreplay = {:?}\n",
        root.join("store").display().to_string(),
        recording.display().to_string()
    );
    if let Some(body) = audit {
        text.push_str(&format!(
            "\n[[source]]\nname = \"audit\"\nkind = \"gcp-audit-logs\"\n{body}\n"
        ));
    }
    let path = root.join("agentward.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn agentward(root: &Path, args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    let env: Vec<(&str, &std::ffi::OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    common::agentward_at(
        root,
        args,
        &[
            "GOOGLE_APPLICATION_CREDENTIALS",
            "GOOGLE_SERVICE_ACCOUNT",
            "GOOGLE_SERVICE_ACCOUNT_KEY",
        ],
        &env,
    )
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Stored events as OCSF, grouped by agent id (or `unattributed`) and layer.
fn events_by_agent(root: &Path, env: &[(&str, &Path)]) -> BTreeMap<(String, String), Vec<Value>> {
    let out = agentward(root, &["events", "--format", "ocsf"], env);
    let mut grouped: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let a = &e["unmapped"]["agentward"];
        let agent = a["agent"]["id"]
            .as_str()
            .unwrap_or("unattributed")
            .to_string();
        let layer = a["layer"].as_str().unwrap().to_string();
        grouped.entry((agent, layer)).or_default().push(e);
    }
    grouped
}

fn statement(root: &Path, id: &str, layer: &str) -> String {
    let out = agentward(root, &["coverage", "--format", "json"], &[]);
    layer_statements(&out.stdout, id)
        .into_iter()
        .find(|(l, _)| l == layer)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no {layer} coverage for {id}"))
}

fn source_summary<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
}

#[test]
fn audit_entries_become_events_of_the_engines_they_concern() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_config(root, None);
    agentward(root, &["scan", "--format", "json"], &[]);
    assert!(
        statement(root, TRIAGE, "control").contains("no gcp-audit-logs source reads them"),
        "{}",
        statement(root, TRIAGE, "control")
    );

    write_export(&root.join("export"));
    write_config(root, Some("url = \"export\""));
    let summary = json_of(&agentward(root, &["scan", "--format", "json"], &[]));
    let audit = source_summary(&summary, "audit");
    assert_eq!(audit["files"], 3, "{audit}");
    assert_eq!(audit["records"], 10);
    assert_eq!(audit["events"], 6);
    assert_eq!(audit["quarantined"], 1);
    let skipped = audit["skipped_objects"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["key"], OTHER);
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("neither a Cloud Audit Logs export")
    );

    let events = events_by_agent(root, &[]);
    let ids = |agent: &str, layer: &str| -> Vec<String> {
        events
            .get(&(agent.to_string(), layer.to_string()))
            .map(|v| v.iter().map(common::verb).collect())
            .unwrap_or_default()
    };
    assert_eq!(ids(TRIAGE, "control"), ["UpdateReasoningEngine"]);
    assert_eq!(ids(TRIAGE, "identity_api"), Vec::<String>::new());
    assert_eq!(ids(REFUND, "control"), ["DeleteReasoningEngine"]);
    assert_eq!(ids(REFUND, "identity_api"), ["GenerateContent"]);
    assert_eq!(
        ids(KB, "identity_api"),
        ["StreamQueryReasoningEngine", "get"],
        "the query on the engine, and the call its agent identity made in another project"
    );
    assert_eq!(ids("unattributed", "identity_api"), ["List"]);
    assert_eq!(events.values().map(Vec::len).sum::<usize>(), 6);

    let denied = &events[&(REFUND.to_string(), "control".to_string())][0];
    assert_eq!(denied["status"], "Failure");
    assert_eq!(denied["status_code"], "PERMISSION_DENIED");
    assert_eq!(denied["actor"]["user"]["uid"], "dev@partner.example");
    assert_eq!(denied["actor"]["user"]["account"]["type"], "GCP Project");
    assert_eq!(denied["cloud"]["provider"], "GCP");
    let model_call = &events[&(REFUND.to_string(), "identity_api".to_string())][0];
    assert_eq!(model_call["ai_model"]["name"], "gemini-2.5-pro");
    assert_eq!(
        model_call["cloud"]["region"], "us-central1",
        "the location in the model's resource name"
    );
    let by_identity = &events[&(KB.to_string(), "identity_api".to_string())][1];
    assert_eq!(by_identity["cloud"]["account"]["uid"], "partner-data");

    // The model a call proved is in the engine's inventory, with the record behind it.
    let inventory = json_of(&agentward(root, &["inventory", "--format", "json"], &[]));
    let refund = common::agent_in(inventory["agents"].as_array().unwrap(), REFUND);
    let invoked = refund["models_invoked"].as_array().unwrap();
    assert_eq!(invoked.len(), 1, "{invoked:?}");
    assert_eq!(invoked[0]["value"], "gemini-2.5-pro");
    assert_eq!(invoked[0]["provenance"]["record"]["object"], DATA_ACCESS);
    // The triage engine's own runtime line names the model it calls: evidence, not an event.
    let triage = common::agent_in(inventory["agents"].as_array().unwrap(), TRIAGE);
    assert_eq!(
        triage["models_invoked"][0]["value"], "gemini-2.5-pro",
        "{triage}"
    );
    assert_eq!(
        triage["models_invoked"][0]["provenance"]["record"]["object"],
        STDOUT
    );

    // The model the engine was seen calling has its request-response logging read (the
    // recording says: on, 10% to BigQuery).
    let prompt = statement(root, REFUND, "prompt");
    assert!(
        prompt.contains("request-response logging is on in us-central1")
            && prompt.contains("gemini-2.5-pro (sampling 10%, to bq://acme-support-prod.vertex_logs.request_response)"),
        "{prompt}"
    );
    assert!(
        statement(root, KB, "prompt").contains("none was seen in its audit logs"),
        "no model call of kb-summarizer in this export"
    );

    // Control is observed where changes were logged; elsewhere the statement names the
    // exports that hold nothing of the engine.
    assert!(statement(root, TRIAGE, "control").contains("Cloud Audit Logs (audit): 1 record"));
    assert!(
        statement(root, REFUND, "control").contains("Cloud Audit Logs (audit)"),
        "an attempt is a record of the control plane too"
    );
    let kb_control = statement(root, KB, "control");
    assert!(
        kb_control.contains("the exports audit read hold no Admin Activity records"),
        "{kb_control}"
    );
    // Records the export held but that could not be read degrade what they would show.
    let kb_identity = statement(root, KB, "identity_api");
    assert!(kb_identity.contains("2 records"), "{kb_identity}");
    let coverage: Vec<Value> =
        serde_json::from_slice(&agentward(root, &["coverage", "--format", "json"], &[]).stdout)
            .unwrap();
    let status = |id: &str, layer: &str| {
        coverage
            .iter()
            .find(|c| c["agent"]["id"] == id && c["layer"] == layer)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status(KB, "identity_api"), "degraded");
    assert_eq!(status(KB, "control"), "available_if_enabled");

    // The unreadable line is kept with its reason, never its text; the engine's stdout line
    // routed into the audit export is read as runtime output, not quarantined.
    let quarantine =
        String::from_utf8_lossy(&agentward(root, &["quarantine", "--source", "audit"], &[]).stdout)
            .into_owned();
    assert!(quarantine.contains("not a JSON log entry"), "{quarantine}");
    assert!(quarantine.contains("1 quarantined"), "{quarantine}");
    assert!(!quarantine.contains("refund approved"), "{quarantine}");

    // A second scan reads nothing again and stores nothing twice.
    let again = json_of(&agentward(root, &["scan", "--format", "json"], &[]));
    assert_eq!(source_summary(&again, "audit")["records"], 0);
    assert_eq!(source_summary(&again, "audit")["files_already_scanned"], 3);
    assert_eq!(
        events_by_agent(root, &[])
            .values()
            .map(Vec::len)
            .sum::<usize>(),
        6
    );
}

/// The bucket as the Cloud Storage XML API serves it: objects listed two per page.
fn storage(request: &Request, objects: &BTreeMap<String, String>) -> Reply {
    let bearer = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    if verify_jwt(bearer).is_none_or(|claims| claims["iss"] != CLIENT_EMAIL) {
        return Reply::google_error(401, "UNAUTHENTICATED", "invalid bearer token");
    }
    let path = percent_decode(&request.path);
    if path == "/acme-audit-exports" && request.param("list-type").as_deref() == Some("2") {
        let prefix = request.param("prefix").unwrap_or_default();
        let keys: Vec<&String> = objects.keys().filter(|k| k.starts_with(&prefix)).collect();
        let start: usize = request
            .param("continuation-token")
            .map(|t| t.trim_start_matches("page-").parse().unwrap())
            .unwrap_or(0);
        let page = &keys[start.min(keys.len())..(start + 2).min(keys.len())];
        let mut xml = String::from(
            "<?xml version='1.0' encoding='UTF-8'?><ListBucketResult xmlns=\"http://doc.s3.amazonaws.com/2006-03-01\"><Name>acme-audit-exports</Name>",
        );
        for key in page {
            xml.push_str(&format!(
                "<Contents><Key>{key}</Key><Generation>1763633700000000</Generation><LastModified>2026-11-20T11:05:00.000Z</LastModified><ETag>\"{}\"</ETag><Size>{}</Size></Contents>",
                key.len(),
                objects[*key].len()
            ));
        }
        if start + 2 < keys.len() {
            xml.push_str(&format!(
                "<IsTruncated>true</IsTruncated><NextContinuationToken>page-{}</NextContinuationToken>",
                start + 2
            ));
        } else {
            xml.push_str("<IsTruncated>false</IsTruncated>");
        }
        xml.push_str("</ListBucketResult>");
        return Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/xml".into())],
            body: xml,
        };
    }
    match path
        .strip_prefix("/acme-audit-exports/")
        .and_then(|key| objects.get(key).map(|body| (key, body)))
    {
        Some((key, body)) if request.method == "GET" => Reply {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (
                    "last-modified".into(),
                    "Fri, 20 Nov 2026 11:05:00 GMT".into(),
                ),
                ("etag".into(), format!("\"{}\"", key.len())),
            ],
            body: body.clone(),
        },
        _ => Reply::google_error(404, "NOT_FOUND", "No such object"),
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[test]
fn a_sink_bucket_is_read_over_the_cloud_storage_api() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut objects: BTreeMap<String, String> = export()
        .into_iter()
        .map(|(k, v)| (format!("vertex/{k}"), v))
        .collect();
    // Another sink's objects in the same bucket are outside the source's prefix.
    objects.insert(
        format!("other-team/{ACTIVITY}"),
        "{\"not\": \"ours\"}\n".to_string(),
    );
    let objects = Arc::new(objects);
    let served = objects.clone();
    let server = SpecServer::start(Arc::new(move |r: &Request| storage(r, &served)));
    let key = root.join("reader-key.json");
    std::fs::write(
        &key,
        json!({
            "type": "service_account",
            "project_id": "acme-security",
            "private_key_id": "0123456789abcdef",
            "private_key": std::fs::read_to_string(repo_root().join("tests/data/gcp-test-service-account.pem")).unwrap(),
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000002",
            "token_uri": format!("{}/token", server.url())
        })
        .to_string(),
    )
    .unwrap();
    write_config(
        root,
        Some(&format!(
            "url = \"gs://acme-audit-exports/vertex\"\nendpoint = \"{}\"\nallow_http = true",
            server.url()
        )),
    );
    let env = [("GOOGLE_APPLICATION_CREDENTIALS", key.as_path())];
    let summary = json_of(&agentward(root, &["scan", "--format", "json"], &env));
    let audit = source_summary(&summary, "audit");
    assert_eq!(audit["files"], 3, "{audit}");
    assert_eq!(audit["events"], 6);
    assert_eq!(audit["skipped_objects"].as_array().unwrap().len(), 1);
    assert_eq!(audit["failures"].as_array().unwrap().len(), 0);
    let events = events_by_agent(root, &env);
    assert_eq!(events.values().map(Vec::len).sum::<usize>(), 6);
    assert_eq!(
        events[&(REFUND.to_string(), "control".to_string())].len(),
        1
    );

    let requests = server.requests();
    let lists: Vec<&Request> = requests
        .iter()
        .filter(|r| r.param("list-type").is_some())
        .collect();
    assert_eq!(
        lists.len(),
        2,
        "three objects under the prefix, two per page"
    );
    assert_eq!(lists[0].param("prefix").as_deref(), Some("vertex/"));
    assert_eq!(
        lists[1].param("continuation-token").as_deref(),
        Some("page-2")
    );
    assert!(
        requests.iter().all(|r| r
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .and_then(verify_jwt)
            .is_some()),
        "every request carries the service account's signed token"
    );
    assert!(
        requests.iter().all(|r| !r.path.contains("other-team")),
        "nothing outside the prefix is read"
    );
    assert!(server.requests_to("POST", "/token").is_empty());
}
