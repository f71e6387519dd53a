//! Helpers for end-to-end tests: run the real binary against stores and trail logs in
//! temporary directories.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod front;
pub mod spec_server;

pub const ACCOUNT: &str = "111122223333";

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentward"));
    c.env_remove("AGENTWARD_CONFIG")
        .env_remove("AGENTWARD_STORE");
    c
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("agentward runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `agentward --config CONFIG --store STORE ARGS…` and asserts it succeeded: a
/// bundled example's sources read into a store of the test's own.
pub fn run_on(config: &Path, store: &Path, args: &[&str]) -> Output {
    let mut all = vec![
        "--config",
        config.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = run(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A config with one store and the given CloudTrail sources (name, dir).
pub fn write_config(dir: &Path, store: &Path, sources: &[(&str, &Path)]) -> PathBuf {
    let mut text = format!("[store]\nurl = {:?}\n", store.display().to_string());
    for (name, path) in sources {
        text.push_str(&format!(
            "\n[[source]]\nname = {name:?}\nkind = \"cloudtrail\"\nurl = {:?}\n",
            path.display().to_string()
        ));
    }
    let path = dir.join(format!(
        "agentward-{}.toml",
        sources.iter().map(|s| s.0).collect::<Vec<_>>().join("-")
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// One S3 PutObject data event by an export Lambda's role, unique by `n`.
pub fn put_object_record(n: u64, minute: u64) -> String {
    format!(
        concat!(
            r#"{{"eventVersion":"1.09","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE:export","#,
            r#""arn":"arn:aws:sts::111122223333:assumed-role/tools/export","accountId":"111122223333","#,
            r#""sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::111122223333:role/tools","userName":"tools"}}}}}},"#,
            r#""eventTime":"2026-10-06T14:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","#,
            r#""awsRegion":"us-east-1","sourceIPAddress":"3.91.0.12","userAgent":"Boto3/1.35.0","#,
            r#""requestParameters":{{"bucketName":"exports","key":"records/{}.json"}},"responseElements":null,"#,
            r#""requestID":"REQ{}","eventID":"evt-{:012}","readOnly":false,"#,
            r#""resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::exports/records/{}.json"}}],"#,
            r#""eventType":"AwsApiEvent","managementEvent":false,"recipientAccountId":"111122223333","eventCategory":"Data"}}"#
        ),
        minute % 60,
        n % 60,
        n,
        n,
        n,
        n
    )
}

/// Writes `files` gzip log files of `per_file` records each in the trail layout; returns
/// the trail root and the number of records.
pub fn write_trail(root: &Path, files: u64, per_file: u64, first_id: u64) -> u64 {
    let day = root.join(format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/10/06"));
    std::fs::create_dir_all(&day).unwrap();
    let mut n = first_id;
    for f in 0..files {
        let name = format!(
            "{ACCOUNT}_CloudTrail_us-east-1_20261006T{:02}{:02}Z_{first_id:08}{f:04}.json.gz",
            10 + f / 12,
            (f % 12) * 5
        );
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(day.join(name)).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(b"{\"Records\":[").unwrap();
        for i in 0..per_file {
            if i > 0 {
                gz.write_all(b",").unwrap();
            }
            gz.write_all(put_object_record(n, f).as_bytes()).unwrap();
            n += 1;
        }
        gz.write_all(b"]}").unwrap();
        gz.finish().unwrap();
    }
    n - first_id
}

/// Every stored event's uid, counted: a duplicate shows up as a count above one.
pub fn stored_event_uids(store: &Path) -> BTreeMap<String, u32> {
    let mut uids = BTreeMap::new();
    let mut stack = vec![store.join("events")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".ocsf.jsonl") {
                for line in std::fs::read_to_string(&p).unwrap().lines() {
                    let v: Value = serde_json::from_str(line).unwrap();
                    *uids
                        .entry(v["metadata"]["uid"].as_str().unwrap().to_string())
                        .or_insert(0) += 1;
                }
            }
        }
    }
    uids
}

pub fn assert_no_duplicates(uids: &BTreeMap<String, u32>) {
    let dups: Vec<_> = uids.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(dups.is_empty(), "duplicated events: {dups:?}");
}

/// Shared schemas sit beside the repository; CI must have them.
pub fn schemas_dir() -> Option<PathBuf> {
    let found = repo_root()
        .ancestors()
        .map(|d| d.join("shared/schemas"))
        .find(|d| d.join("README.md").is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI runs with ../shared/schemas present: schema validation must not be skipped there"
        );
        eprintln!("SKIPPED schema validation: ../shared/schemas not found beside the repository");
    }
    found
}

/// The bundled example account (scripts/make-support-agent-example.py).
pub const QUICKSTART_RECORDS: u64 = 4_653;
pub const QUICKSTART_FILES: u64 = 382;
/// Model invocation log records (one per model call of both agents).
pub const QUICKSTART_INVOCATIONS: u64 = 900;

pub const SUPPORT_AGENT: &str = "aws.111122223333.us-east-1.K7QX2M4TZP";

/// The quickstart agent's baseline as `baseline show --format json` gives it: behavior
/// (as the envelope prints it) → event count.
/// The support agent's baseline behaviors, each `{behavior, seen}`, as `baseline show` gives.
pub fn baseline_behaviors(store: &Path) -> Vec<Value> {
    let out = run(&[
        "--store",
        store.to_str().unwrap(),
        "baseline",
        "show",
        SUPPORT_AGENT,
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let docs: Value = serde_json::from_slice(&out.stdout).unwrap();
    docs[0]["baseline"]["behaviors"].as_array().unwrap().clone()
}

pub fn baseline_counts(store: &Path) -> BTreeMap<String, u64> {
    baseline_behaviors(store)
        .iter()
        .map(|e| {
            let b = &e["behavior"];
            let name = [&b["action"], &b["resource"], &b["model"]]
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            (name, e["seen"]["count"].as_u64().unwrap())
        })
        .collect()
}

/// What the quickstart's baseline must count, whatever way its logs were scanned.
pub fn assert_quickstart_baseline(counts: &BTreeMap<String, u64>) {
    for (behavior, expected) in [
        ("s3:PutObject", 2_640),
        (
            "s3:PutObject arn:aws:s3:::acme-support-exports/weekly/*/*",
            2_640,
        ),
        ("bedrock:InvokeModel", 714),
        ("bedrock:InvokeAgent", 357),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", 284),
    ] {
        assert_eq!(
            counts.get(behavior),
            Some(&expected),
            "{behavior}: {counts:#?}"
        );
    }
}

/// A moto_server child process, killed when dropped.
pub struct Moto {
    child: std::process::Child,
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Starts moto_server (installed by scripts/test, which sets AGENTWARD_MOTO_SERVER) on a
/// loopback port it picks itself, with extra environment; `None` outside CI when it is not
/// installed. Picking a free port here and handing it over raced with the other tests'
/// servers; the port moto announces is the one it really bound.
pub fn moto_server(env: &[(&str, &str)]) -> Option<Moto> {
    use std::io::BufRead;
    use std::time::Duration;
    let Ok(server) = std::env::var("AGENTWARD_MOTO_SERVER") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the moto tests: run them through scripts/test, which installs moto"
        );
        eprintln!(
            "SKIPPED: AGENTWARD_MOTO_SERVER is not set (scripts/test installs moto and sets it)"
        );
        return None;
    };
    let mut child = std::process::Command::new(server)
        .args(["-H", "127.0.0.1", "-p", "0"])
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("moto_server starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (announced, port) = std::sync::mpsc::channel();
    // The server logs every request to stderr: keep draining it so it never blocks.
    std::thread::spawn(move || {
        let mut announced = Some(announced);
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(port) = line
                .split("Running on http://127.0.0.1:")
                .nth(1)
                .and_then(|rest| rest.trim().parse::<u16>().ok())
            {
                if let Some(announced) = announced.take() {
                    let _ = announced.send(port);
                }
            }
        }
    });
    let mut moto = Moto { child, port: 0 };
    moto.port = port
        .recv_timeout(Duration::from_secs(60))
        .expect("moto_server announces its port within 60 s");
    Some(moto)
}

/// An SDK configuration for moto; built inside the runtime that uses it, since its
/// connection pool belongs to that runtime.
pub async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    sdk_in(endpoint, "us-east-1").await
}

/// [`sdk`] in another region.
pub async fn sdk_in(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    use aws_smithy_http_client::{
        Builder,
        tls::{self, rustls_provider::CryptoMode},
    };
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(
            Builder::new()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .build_https(),
        )
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .endpoint_url(endpoint)
        .load()
        .await
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// `agentward scan --format json` with moto's test credentials in the environment.
pub fn scan_with_credentials(config: &std::path::Path) -> std::process::Output {
    bin()
        .args([
            "--config",
            config.to_str().unwrap(),
            "scan",
            "--format",
            "json",
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

/// An empty zip archive: moto keeps a function's code, never runs it.
const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// A Lambda function running as `role` (a role name in the test account).
pub async fn create_function(lambda: &aws_sdk_lambda::Client, name: &str, role: &str) {
    lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("tools.handler")
        .role(format!("arn:aws:iam::{ACCOUNT}:role/{role}"))
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(EMPTY_ZIP.to_vec()))
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Every statement `agentward coverage --format json` gives.
pub fn coverage_all(config: &std::path::Path) -> Vec<Value> {
    let out = run(&[
        "--config",
        config.to_str().unwrap(),
        "coverage",
        "--format",
        "json",
    ]);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The layer status `agentward coverage --format json` gives an agent.
pub fn coverage_of(config: &std::path::Path, agent: &str, layer: &str) -> Value {
    coverage_all(config)
        .into_iter()
        .find(|c| c["agent"]["id"] == agent && c["layer"] == layer)
        .unwrap_or_else(|| panic!("no {layer} coverage for {agent}"))
}

/// Model invocation logging on in the SDK config's region, with text, to an S3 bucket.
pub async fn invocation_logging_to_s3(
    config: &aws_config::SdkConfig,
    bucket: &str,
    prefix: Option<&str>,
) {
    aws_sdk_bedrock::Client::new(config)
        .put_model_invocation_logging_configuration()
        .logging_config(
            aws_sdk_bedrock::types::LoggingConfig::builder()
                .s3_config(
                    aws_sdk_bedrock::types::S3Config::builder()
                        .bucket_name(bucket)
                        .set_key_prefix(prefix.map(str::to_string))
                        .build()
                        .unwrap(),
                )
                .text_data_delivery_enabled(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Whether any file under `dir` holds `needle`: what must never be stored.
pub fn grep_dir(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            grep_dir(&path, needle)
        } else {
            std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b).contains(needle))
                .unwrap_or(false)
        }
    })
}

/// A JSON file, or a panic naming it.
pub fn load(p: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

/// The official CycloneDX 1.6 schema, with what it references, offline.
pub fn bom_validator(schemas: &Path) -> jsonschema::Validator {
    let cdx = schemas.join("cyclonedx");
    let spdx = load(&cdx.join("spdx.schema.json"));
    let jsf = load(&cdx.join("jsf-0.82.schema.json"));
    let registry = jsonschema::Registry::new()
        .add("http://cyclonedx.org/schema/spdx.schema.json", &spdx)
        .unwrap()
        .add("http://cyclonedx.org/schema/jsf-0.82.schema.json", &jsf)
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_registry(&registry)
        .offline()
        .should_validate_formats(true)
        .build(&load(&cdx.join("bom-1.6.schema.json")))
        .expect("bom-1.6 builds offline")
}

/// One plain HTTP/1.1 exchange with moto (which takes unsigned S3 requests).
pub fn http(port: u16, method: &str, path: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Each layer of one agent's coverage in `coverage --format json` output, with its
/// statement (reason, setting or source), sorted by layer.
pub fn layer_statements(coverage_json: &[u8], id: &str) -> Vec<(String, String)> {
    let all: Vec<Value> = serde_json::from_slice(coverage_json).unwrap();
    let mut layers: Vec<(String, String)> = all
        .iter()
        .filter(|c| c["agent"]["id"] == id)
        .map(|c| {
            let text = [&c["reason"], &c["setting"], &c["via"]]
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            (c["layer"].as_str().unwrap().to_string(), text)
        })
        .collect();
    layers.sort();
    layers
}

/// The agent with this id in `inventory --format json`'s agents.
pub fn agent_in<'a>(agents: &'a [Value], id: &str) -> &'a Value {
    agents
        .iter()
        .find(|a| a["agent"]["id"] == id)
        .unwrap_or_else(|| panic!("no agent {id} in the inventory"))
}

/// The JWT's claims when its RS256 signature is the test service account's
/// (`tests/data/gcp-test-service-account.pem`).
pub fn verify_jwt(token: &str) -> Option<Value> {
    let (signed, signature) = token.rsplit_once('.')?;
    let public =
        std::fs::read(repo_root().join("tests/data/gcp-test-service-account.pub.der")).ok()?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public)
        .verify(signed.as_bytes(), &base64url_decode(signature)?)
        .ok()?;
    serde_json::from_slice(&base64url_decode(signed.split('.').nth(1)?)?).ok()
}

/// base64url without padding, as JWTs carry it.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for b in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == b)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The current time, as the store keeps it: for test data that must fall in a read's window.
pub fn now() -> normalizer::Timestamp {
    normalizer::Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    )
}

/// The verb of an OCSF event's operation (`google.cloud.….UpdateReasoningEngine` →
/// `UpdateReasoningEngine`).
pub fn verb(event: &Value) -> String {
    let operation = event["api"]["operation"].as_str().unwrap();
    operation
        .rsplit('.')
        .next()
        .unwrap_or(operation)
        .to_string()
}

/// Runs the binary on `root/agentward.toml`, with `HOME` at `root`, without the `cleared`
/// variables and with `env`; the run must succeed.
pub fn agentward_at(
    root: &Path,
    args: &[&str],
    cleared: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> Output {
    let mut command = bin();
    command
        .arg("--config")
        .arg(root.join("agentward.toml"))
        .args(args)
        .env("HOME", root);
    for k in cleared {
        command.env_remove(k);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    out
}
