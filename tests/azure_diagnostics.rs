//! The azure-diagnostic-logs source end to end: AI Foundry resource logs as a diagnostic
//! setting archives them to a storage account (`resourceId=/…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`,
//! one record per line), from a directory and from a container over the Blob service REST
//! API (a local server checking the bearer token, the List Blobs query and the markers it
//! issued), attributed to the Foundry agents the example's recording inventories.

mod common;

use common::spec_server::{Reply, Request, SpecServer};
use common::{layer_statements, repo_root};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SUB: &str = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
const DESK: &str = "acme-foundry/support/asst_7Hq2mXb0";
const REFUNDS: &str = "acme-foundry/support/refund-helper";
const ROUTER: &str = "acme-foundry/support/ticket-router";
const TOKEN: &str = "storage-bearer-token";
const BLOB: &str = "resourceId=/SUBSCRIPTIONS/6F1C2D3E-4B5A-4C6D-8E7F-9A0B1C2D3E4F/RESOURCEGROUPS/SUPPORT-AI/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/ACME-FOUNDRY/y=2026/m=11/d=20/h=10/m=00/PT1H.json";
const LATER: &str = "resourceId=/SUBSCRIPTIONS/6F1C2D3E-4B5A-4C6D-8E7F-9A0B1C2D3E4F/RESOURCEGROUPS/SUPPORT-AI/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/ACME-FOUNDRY/y=2026/m=11/d=20/h=11/m=00/PT1H.json";

/// One resource-log record as the archive holds it (`properties` is a JSON string).
fn record(
    minute: u32,
    category: &str,
    operation: &str,
    deployment: Option<&str>,
    signature: &str,
) -> String {
    let mut properties = json!({"apiName": "Azure OpenAI API version 2024-10-21", "objectId": "5a6b7c8d-0000-4000-8000-00000000abcd",
                                "requestTime": 1763632800, "requestLength": 812, "responseLength": 2048});
    if let Some(d) = deployment {
        properties["modelDeploymentName"] = json!(d);
        properties["modelName"] = json!(if d == "gpt-4o-prod" {
            "gpt-4o"
        } else {
            "gpt-4o-mini"
        });
        properties["modelVersion"] = json!(if d == "gpt-4o-prod" {
            "2024-11-20"
        } else {
            "2024-07-18"
        });
    }
    json!({
        "time": format!("2026-11-20T10:{minute:02}:07.1234567Z"),
        "resourceId": "/SUBSCRIPTIONS/6F1C2D3E-4B5A-4C6D-8E7F-9A0B1C2D3E4F/RESOURCEGROUPS/SUPPORT-AI/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/ACME-FOUNDRY",
        "category": category,
        "operationName": operation,
        "callerIpAddress": "203.0.113.*",
        "correlationId": format!("c0ffee00-0000-4000-8000-0000000000{minute:02}"),
        "durationMs": 640,
        "resultSignature": signature,
        "resultType": if signature.starts_with('2') { "Succeeded" } else { "Failed" },
        "level": "Informational",
        "location": "eastus",
        "properties": properties.to_string(),
    })
    .to_string()
}

/// The archive: a model call through each agent's own deployment (one throttled), a key
/// listing on the account (no deployment: the account has three agents), a line cut short,
/// and a blob that is not an archive.
fn archive() -> BTreeMap<&'static str, String> {
    let lines = [
        record(
            1,
            "RequestResponse",
            "ChatCompletions_Create",
            Some("gpt-4o-prod"),
            "200",
        ),
        record(
            2,
            "RequestResponse",
            "ChatCompletions_Create",
            Some("gpt-4o-mini-prod"),
            "429",
        ),
        record(3, "Audit", "ListKey", None, "200"),
        "{\"time\": \"2026-11-20T10:04:00Z\", \"resourceId\"".to_string(),
    ];
    BTreeMap::from([
        (BLOB, lines.join("\n") + "\n"),
        (
            LATER,
            record(
                4,
                "RequestResponse",
                "ChatCompletions_Create",
                Some("gpt-4o-prod"),
                "200",
            ) + "\n",
        ),
        (
            "README.txt",
            "exported by the diagnostic setting to-storage\n".to_string(),
        ),
    ])
}

fn write_config(root: &Path, diagnostics: &str) -> PathBuf {
    let recording = repo_root().join("examples/managed-agents/recording/foundry-agents");
    let text = format!(
        "[store]\nurl = {:?}\n\n[[source]]\nname = \"foundry\"\nkind = \"azure-api\"\nsubscriptions = [\"{SUB}\"]\nreplay = {:?}\n\n[[source]]\nname = \"diag\"\nkind = \"azure-diagnostic-logs\"\n{diagnostics}\n",
        root.join("store").display().to_string(),
        recording.display().to_string()
    );
    let path = root.join("agentward.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn agentward(root: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let env: Vec<(&str, &std::ffi::OsStr)> = env
        .iter()
        .map(|(k, v)| (*k, std::ffi::OsStr::new(*v)))
        .collect();
    common::agentward_at(
        root,
        args,
        &[
            "AZURE_STORAGE_ACCOUNT_NAME",
            "AZURE_STORAGE_TOKEN",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_TENANT_ID",
        ],
        &env,
    )
}

fn source<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
}

/// Stored events of the diagnostic source: agent id (or `unattributed`) → (operation, status).
fn events(root: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let out = agentward(
        root,
        &["events", "--format", "ocsf", "--layer", "identity_api"],
        &[],
    );
    let mut grouped: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let a = &e["unmapped"]["agentward"];
        grouped
            .entry(
                a["agent"]["id"]
                    .as_str()
                    .unwrap_or("unattributed")
                    .to_string(),
            )
            .or_default()
            .push((
                e["api"]["operation"].as_str().unwrap().to_string(),
                e["status_code"].as_str().unwrap_or("ok").to_string(),
            ));
    }
    grouped
}

fn assert_attributed(root: &Path, summary: &Value) {
    let diag = source(summary, "diag");
    assert_eq!(diag["files"], 2, "{diag}");
    assert_eq!(diag["events"], 4);
    assert_eq!(diag["quarantined"], 1);
    assert_eq!(diag["skipped_objects"][0]["key"], "README.txt");
    let events = events(root);
    assert_eq!(
        events[DESK],
        vec![("ChatCompletions_Create".to_string(), "ok".to_string()); 2],
        "calls through the deployment only it uses"
    );
    assert_eq!(
        events[REFUNDS],
        [("ChatCompletions_Create".into(), "429".into())]
    );
    assert_eq!(events["unattributed"], [("ListKey".into(), "ok".into())]);
    assert!(!events.contains_key(ROUTER));

    let inventory = agentward(root, &["inventory", "--format", "json"], &[]);
    let v: Value = serde_json::from_slice(&inventory.stdout).unwrap();
    let desk = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"]["id"] == DESK)
        .unwrap();
    assert!(
        desk["models_invoked"]
            .to_string()
            .contains("gpt-4o 2024-11-20"),
        "{desk}"
    );
    let out = agentward(root, &["coverage", "--format", "json"], &[]);
    let identity = layer_statements(&out.stdout, DESK)
        .into_iter()
        .find(|(l, _)| l == "identity_api")
        .unwrap()
        .1;
    assert!(
        identity.contains("diag: 2 records of calls through its deployment"),
        "{identity}"
    );
    assert!(
        identity.contains("records in these archives could not be read"),
        "the cut line degrades it: {identity}"
    );
}

#[test]
fn archived_resource_logs_become_calls_of_the_agent_whose_deployment_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let archive_dir = root.join("archive");
    for (key, content) in archive() {
        let path = archive_dir.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    write_config(root, "url = \"archive\"");
    let out = agentward(root, &["scan", "--format", "json"], &[]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_attributed(root, &summary);
    // Read once: a rescan reads nothing again.
    let again: Value =
        serde_json::from_slice(&agentward(root, &["scan", "--format", "json"], &[]).stdout)
            .unwrap();
    assert_eq!(source(&again, "diag")["files_scanned"], 0);
}

/// Blob service (api 2021+): List Blobs (`?restype=container&comp=list`, `prefix`, one blob
/// per page, `marker` as issued) and Get Blob, behind a bearer token.
fn blob_service(
    request: &Request,
    blobs: &BTreeMap<&'static str, String>,
    issued: &std::sync::Mutex<Vec<String>>,
) -> Reply {
    let error = |status: u16, code: &str| Reply {
        status,
        headers: vec![
            ("content-type".into(), "application/xml".into()),
            ("x-ms-error-code".into(), code.into()),
        ],
        body: format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{code}</Message></Error>"
        ),
    };
    if request.header("authorization") != Some(&format!("Bearer {TOKEN}"))
        || request.header("x-ms-version").is_none()
    {
        return error(403, "AuthenticationFailed");
    }
    let path =
        url::form_urlencoded::parse(format!("p={}", request.path.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
    let container = "/acmelogs/insights-logs-requestresponse";
    if path == container
        && request.param("restype").as_deref() == Some("container")
        && request.param("comp").as_deref() == Some("list")
    {
        let prefix = request.param("prefix").unwrap_or_default();
        let keys: Vec<&&str> = blobs.keys().filter(|k| k.starts_with(&prefix)).collect();
        let start = match request.param("marker") {
            None => 0,
            Some(m) if issued.lock().unwrap().contains(&m) => {
                m.trim_start_matches("page-").parse().unwrap()
            }
            Some(_) => return error(400, "InvalidQueryParameterValue"),
        };
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://127.0.0.1/acmelogs/\" ContainerName=\"insights-logs-requestresponse\"><Prefix>{prefix}</Prefix><Blobs>"
        );
        if let Some(key) = keys.get(start) {
            xml.push_str(&format!(
                "<Blob><Name>{key}</Name><Properties><Creation-Time>Fri, 20 Nov 2026 11:00:00 GMT</Creation-Time><Last-Modified>Fri, 20 Nov 2026 11:00:00 GMT</Last-Modified><Etag>0x8DD{}</Etag><Content-Length>{}</Content-Length><Content-Type>application/json</Content-Type><BlobType>AppendBlob</BlobType></Properties><OrMetadata /></Blob>",
                key.len(),
                blobs[**key].len()
            ));
        }
        xml.push_str("</Blobs>");
        if start + 1 < keys.len() {
            let marker = format!("page-{}", start + 1);
            issued.lock().unwrap().push(marker.clone());
            xml.push_str(&format!("<NextMarker>{marker}</NextMarker>"));
        } else {
            xml.push_str("<NextMarker />");
        }
        xml.push_str("</EnumerationResults>");
        return Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/xml".into())],
            body: xml,
        };
    }
    match path
        .strip_prefix(&format!("{container}/"))
        .and_then(|k| blobs.get_key_value(k))
    {
        Some((key, body)) if request.method == "GET" => Reply {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (
                    "last-modified".into(),
                    "Fri, 20 Nov 2026 11:00:00 GMT".into(),
                ),
                ("etag".into(), format!("\"0x8DD{}\"", key.len())),
                ("x-ms-blob-type".into(), "AppendBlob".into()),
            ],
            body: body.clone(),
        },
        _ => error(404, "BlobNotFound"),
    }
}

#[test]
fn archives_are_read_from_the_storage_container_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let blobs = Arc::new(archive());
    let issued = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (served, markers) = (blobs.clone(), issued.clone());
    let server = SpecServer::start(Arc::new(move |r: &Request| {
        blob_service(r, &served, &markers)
    }));
    write_config(
        root,
        &format!(
            "url = \"az://insights-logs-requestresponse\"\nendpoint = \"{}/acmelogs\"\nallow_http = true",
            server.url()
        ),
    );
    let env = [
        ("AZURE_STORAGE_ACCOUNT_NAME", "acmelogs"),
        ("AZURE_STORAGE_TOKEN", TOKEN),
    ];
    let out = agentward(root, &["scan", "--format", "json"], &env);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_attributed(root, &summary);
    assert_eq!(
        issued.lock().unwrap().len(),
        2,
        "three blobs, one per page: two markers followed"
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}")))
    );
}
