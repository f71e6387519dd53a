//! Output formats validated against the official schemas in ../shared/schemas: OCSF 1.8.0
//! for events and findings, CycloneDX 1.6 for the inventory.

mod common;
use common::*;
use jsonschema::Validator;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

struct Ocsf {
    dir: std::path::PathBuf,
    validators: HashMap<String, Validator>,
    captions: Value,
}

impl Ocsf {
    fn new(schemas: &Path) -> Self {
        let dir = schemas.join("ocsf-1.8.0");
        let captions = load(&dir.join("compiled/ocsf-1.8.0.json"));
        Ocsf {
            dir,
            validators: HashMap::new(),
            captions,
        }
    }

    /// Every line of OCSF JSON lines, each asserted valid.
    fn valid_lines(&mut self, text: &str) -> Vec<Value> {
        text.lines()
            .map(|line| {
                let record: Value = serde_json::from_str(line).unwrap();
                let errs = self.errors(&record);
                assert!(errs.is_empty(), "{errs:?}\n{line}");
                record
            })
            .collect()
    }

    fn errors(&mut self, event: &Value) -> Vec<String> {
        let class = match event["class_uid"].as_u64() {
            Some(6003) => "api_activity",
            Some(2004) => "detection_finding",
            Some(1007) => "process_activity",
            Some(1001) => "file_activity",
            Some(4001) => "network_activity",
            other => return vec![format!("unexpected class_uid {other:?}")],
        };
        let mut profiles: Vec<&str> = event["metadata"]["profiles"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        profiles.sort_unstable();
        let file = format!(
            "{class}{}.schema.json",
            profiles.iter().map(|p| format!("+{p}")).collect::<String>()
        );
        let dir = self.dir.clone();
        let validator = self.validators.entry(file.clone()).or_insert_with(|| {
            jsonschema::options()
                .offline()
                .build(&load(&dir.join("json-schema").join(&file)))
                .unwrap_or_else(|e| panic!("{file}: {e}"))
        });
        let mut errs: Vec<String> = validator
            .iter_errors(event)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        let (c, a, t) = (
            event["class_uid"].as_u64().unwrap(),
            event["activity_id"].as_u64().unwrap(),
            event["type_uid"].as_u64().unwrap(),
        );
        if t != c * 100 + a {
            errs.push(format!("type_uid {t} != {}", c * 100 + a));
        }
        if event["metadata"]["version"] != "1.8.0" {
            errs.push("metadata.version is not 1.8.0".into());
        }
        // Captions must match their ids.
        let class_def = self.captions["classes"]
            .as_object()
            .unwrap()
            .values()
            .find(|v| v["uid"].as_u64() == Some(c))
            .unwrap();
        if event["class_name"] != class_def["caption"] {
            errs.push(format!(
                "class_name {} != {}",
                event["class_name"], class_def["caption"]
            ));
        }
        let activity = &class_def["attributes"]["activity_id"]["enum"][a.to_string()]["caption"];
        if event["activity_name"] != *activity {
            errs.push(format!(
                "activity_name {} != {activity}",
                event["activity_name"]
            ));
        }
        let severity = &class_def["attributes"]["severity_id"]["enum"]
            [event["severity_id"].as_u64().unwrap().to_string()]["caption"];
        if event["severity"] != *severity {
            errs.push(format!("severity {} != {severity}", event["severity"]));
        }
        errs
    }
}

fn scanned_quickstart() -> tempfile::TempDir {
    let store = tempfile::tempdir().unwrap();
    let config = repo_root().join("examples/support-agent/agentward.toml");
    run_on(&config, store.path(), &["scan"]);
    store
}

#[test]
fn every_stored_event_and_finding_is_valid_ocsf_1_8() {
    let Some(schemas) = schemas_dir() else { return };
    let store = scanned_quickstart();
    let mut ocsf = Ocsf::new(&schemas);
    let events = run(&[
        "--store",
        store.path().to_str().unwrap(),
        "events",
        "--format",
        "ocsf",
    ]);
    let events = ocsf.valid_lines(&stdout(&events));
    let profiles_seen: std::collections::BTreeSet<String> = events
        .iter()
        .map(|e| e["metadata"]["profiles"].to_string())
        .collect();
    assert_eq!(
        events.len() as u64,
        QUICKSTART_RECORDS + QUICKSTART_INVOCATIONS
    );
    assert!(
        profiles_seen.contains(r#"["ai_operation","cloud"]"#),
        "model calls carry the ai_operation profile: {profiles_seen:?}"
    );

    let findings =
        std::fs::read_to_string(store.path().join("findings/current.ocsf.jsonl")).unwrap();
    let of_type = |t: &str| {
        findings
            .lines()
            .filter(|l| l.contains(&format!("\"types\":[\"{t}\"]")))
            .count()
    };
    assert_eq!(
        of_type("CoverageGap"),
        4,
        "kernel and network of both agents (the research agent has no tools, the API says)"
    );
    assert_eq!(of_type("Drift"), 1, "the week-seven risky drift");
    assert_eq!(
        of_type("UnusedExcess"),
        4,
        "AmazonS3FullAccess is read through the API, so its grants are judged too: {findings}"
    );
    assert_eq!(
        of_type("Configuration"),
        2,
        "prod of the support agent: guardrail without a prompt-attack filter; prod of the research agent: no guardrail: {findings}"
    );
    assert_eq!(
        of_type("InheritedOverreach"),
        5,
        "three grants of the support agent, and both agents' roles trust Bedrock beyond themselves: {findings}"
    );
    assert_eq!(ocsf.valid_lines(&findings).len(), 16);
}

#[test]
fn ocsf_checks_reject_the_shared_invalid_examples() {
    let Some(schemas) = schemas_dir() else { return };
    let mut ocsf = Ocsf::new(&schemas);
    for sub in ["invalid", "schema-valid-but-wrong"] {
        for e in std::fs::read_dir(schemas.join("examples/ocsf").join(sub)).unwrap() {
            let p = e.unwrap().path();
            let v = load(&p);
            if !matches!(v["class_uid"].as_u64(), Some(6003) | Some(2004)) {
                continue;
            }
            let errs =
                if v["activity_id"].is_u64() && v["type_uid"].is_u64() && v["severity_id"].is_u64()
                {
                    ocsf.errors(&v)
                } else {
                    vec!["missing ids".into()]
                };
            assert!(!errs.is_empty(), "{} passed but must fail", p.display());
        }
    }
}

#[test]
fn the_inventory_is_a_valid_cyclonedx_1_6_bom_at_any_time() {
    let Some(schemas) = schemas_dir() else { return };
    let store = scanned_quickstart();
    let validator = bom_validator(&schemas);
    for at in ["2026-10-01", "2026-11-20T00:00:00Z"] {
        let bom_at = |at: &str| {
            run(&[
                "--store",
                store.path().to_str().unwrap(),
                "inventory",
                "--at",
                at,
                "--format",
                "cyclonedx",
            ])
        };
        let out = bom_at(at);
        assert!(out.status.success(), "{}", stderr(&out));
        let bom: Value = serde_json::from_slice(&out.stdout).unwrap();
        let errs: Vec<String> = validator
            .iter_errors(&bom)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errs.is_empty(), "{errs:?}");
        let agent = &bom["services"][0];
        assert_eq!(agent["name"], "customer-support-agent");
        assert_eq!(
            agent["services"].as_array().unwrap().len(),
            3,
            "three action groups as tools"
        );
        let models: Vec<&str> = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["type"] == "machine-learning-model")
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        if at == "2026-10-01" {
            assert_eq!(models, ["anthropic.claude-3-haiku-20240307-v1:0"]);
        } else {
            // Both support models, and the research assistant's (from 2026-10-01 10:00).
            assert_eq!(models.len(), 3, "{models:?}");
            assert_eq!(bom["services"][1]["name"], "research-assistant");
        }
        assert!(
            agent["properties"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "agentward:identity:provenance"
                    && p["value"] == "provider_api")
        );
        // Identical input, identical bytes.
        let again = bom_at(at);
        assert_eq!(out.stdout, again.stdout);
    }
    for e in std::fs::read_dir(schemas.join("examples/cyclonedx/invalid")).unwrap() {
        assert!(
            !validator.is_valid(&load(&e.unwrap().path())),
            "the validator must reject invalid examples"
        );
    }
}

#[test]
fn the_selfhosted_example_is_valid_ocsf_and_cyclonedx_with_its_runtime_inventory() {
    let Some(schemas) = schemas_dir() else { return };
    let store = tempfile::tempdir().unwrap();
    let config = repo_root().join("examples/selfhosted-agent/agentward.toml");
    let with_store = |args: &[&str]| run_on(&config, store.path(), args);
    with_store(&["scan"]);

    let mut ocsf = Ocsf::new(&schemas);
    let events = with_store(&[
        "events",
        "--format",
        "ocsf",
        "--since",
        "2026-11-11T14:00:00Z",
        "--until",
        "2026-11-11T15:00:00Z",
    ]);
    let events = ocsf.valid_lines(&stdout(&events));
    let counted = events
        .iter()
        .filter(|e| e["count"].as_u64().is_some_and(|n| n > 1))
        .count();
    assert!(events.len() > 1000, "{}", events.len());
    assert!(
        counted > 0,
        "repeats counted in the kernel carry OCSF count"
    );
    // What the probe saw, each in the class of what it is.
    let classes: std::collections::BTreeSet<u64> = events
        .iter()
        .filter_map(|e| e["class_uid"].as_u64())
        .collect();
    assert_eq!(classes, [1001, 1007, 4001, 6003].into_iter().collect());
    // The syscalls the probe recorded are calls of the kernel's API, each named: OCSF's
    // Kernel Activity class has no JSON Schema in 1.8.0's generated set to validate against.
    for e in events.iter().filter(|e| e["class_uid"] == 6003) {
        assert_eq!(e["api"]["service"]["name"], "syscall", "{e}");
        assert!(e["api"]["operation"].is_string(), "{e}");
        assert_eq!(e["unmapped"]["agentward"]["layer"], "kernel", "{e}");
    }
    let launch = events
        .iter()
        .find(|e| {
            e["class_uid"] == 1007 && e["activity_id"] == 1 && e["process"]["cmd_line"].is_string()
        })
        .expect("a process launch with its command line");
    assert!(launch["device"]["hostname"].is_string() && launch["actor"]["process"]["pid"].is_u64());
    let connect = events.iter().find(|e| e["class_uid"] == 4001).unwrap();
    assert!(
        connect["dst_endpoint"]["ip"].is_string() && connect["dst_endpoint"]["port"].is_u64(),
        "{connect}"
    );
    assert_eq!(connect["connection_info"]["direction"], "Outbound");
    let open = events.iter().find(|e| e["class_uid"] == 1001).unwrap();
    assert!(
        open["file"]["path"].as_str().unwrap().starts_with('/'),
        "{open}"
    );

    let out = with_store(&["inventory", "--format", "cyclonedx"]);
    let bom: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errs: Vec<String> = bom_validator(&schemas)
        .iter_errors(&bom)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errs.is_empty(), "{errs:?}");
    let purls: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    for purl in [
        "pkg:pypi/langgraph@1.2.22",
        "pkg:pypi/openai@1.109.1",
        "pkg:pypi/mcp@1.30.0",
    ] {
        assert!(purls.contains(&purl), "{purl} in {purls:?}");
    }
    let bot = bom["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "support-bot")
        .unwrap_or_else(|| panic!("support-bot in {:#}", bom["services"]));
    let servers: Vec<&str> = bot["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(servers, ["mcp_server_time", "mcp_server_fetch"]);
}

#[test]
fn the_managed_agents_example_is_valid_cyclonedx_with_both_providers_and_valid_ocsf() {
    let Some(schemas) = schemas_dir() else { return };
    let store = tempfile::tempdir().unwrap();
    let config = repo_root().join("examples/managed-agents/agentward.toml");
    let with_store = |args: &[&str]| run_on(&config, store.path(), args);
    with_store(&["scan"]);
    let out = with_store(&["inventory", "--format", "cyclonedx"]);
    let bom: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errs: Vec<String> = bom_validator(&schemas)
        .iter_errors(&bom)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errs.is_empty(), "{errs:?}");
    let text = bom.to_string();
    // The engines' declared requirements, with package URLs where pinned.
    for purl in [
        "pkg:pypi/google-adk@1.17.0",
        "pkg:pypi/llama-index-core@0.12.52",
    ] {
        assert!(text.contains(purl), "{purl}");
    }
    assert!(text.contains("support-desk") && text.contains("kb-summarizer"));

    // The Vertex project's audit-log events and the Foundry agents' tool calls and Activity
    // Log changes, each in its own provider's terms.
    let mut ocsf = Ocsf::new(&schemas);
    let events = with_store(&["events", "--format", "ocsf"]);
    let events = ocsf.valid_lines(&stdout(&events));
    let mut by_provider: std::collections::BTreeMap<String, Vec<&Value>> = Default::default();
    for event in &events {
        let provider = event["cloud"]["provider"].as_str().unwrap().to_string();
        let account_type = match provider.as_str() {
            "GCP" => 11,
            "Azure" => 13,
            other => panic!("{other}: {event}"),
        };
        assert_eq!(
            event["actor"]["user"]["account"]["type_id"], account_type,
            "{event}"
        );
        by_provider.entry(provider).or_default().push(event);
    }
    assert_eq!(by_provider["GCP"].len(), 8);
    let layer = |e: &&Value| {
        e["unmapped"]["agentward"]["layer"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let azure_layers: Vec<String> = by_provider["Azure"].iter().map(layer).collect();
    assert_eq!(
        azure_layers
            .iter()
            .filter(|l| *l == "tool_invocation")
            .count(),
        4,
        "the classic agent's tool calls"
    );
    assert_eq!(
        azure_layers.iter().filter(|l| *l == "control").count(),
        9,
        "three Activity Log changes, each of the project's three agents"
    );

    // The findings too, the Foundry identity's Contributor grant among them.
    let findings =
        std::fs::read_to_string(store.path().join("findings/current.ocsf.jsonl")).unwrap();
    ocsf.valid_lines(&findings);
    assert_eq!(
        findings
            .lines()
            .filter(|l| l.contains("unbounded-identity-grant"))
            .count(),
        3,
        "one per Foundry agent, the hosted one through the project identity it holds beside its own: {findings}"
    );
}

/// All three providers in one store: each agent's coverage speaks only of the sources that
/// can see it (a trail or Bedrock invocation logs say nothing of a Vertex or Foundry agent).
#[test]
fn in_a_store_of_every_provider_coverage_comes_from_each_agents_own_sources() {
    let dir = tempfile::tempdir().unwrap();
    let examples = repo_root().join("examples");
    let config = dir.path().join("agentward.toml");
    let mut text = format!(
        "[store]\nurl = {:?}\n",
        dir.path().join("store").display().to_string()
    );
    for example in ["support-agent", "managed-agents"] {
        let own = std::fs::read_to_string(examples.join(example).join("agentward.toml")).unwrap();
        let sources = &own[own.find("[[source]]").unwrap()..];
        // Relative paths in the example are relative to its directory.
        let base = examples.join(example).display().to_string();
        for line in sources.lines() {
            let line = match line.split_once(" = \"") {
                Some((key @ ("url" | "replay"), rest)) => format!("{key} = \"{base}/{rest}"),
                _ => line.to_string(),
            };
            text.push_str(&line);
            text.push('\n');
        }
    }
    std::fs::write(&config, text).unwrap();
    let scan = run(&["--config", config.to_str().unwrap(), "scan"]);
    assert!(scan.status.success(), "{}", stderr(&scan));
    let coverage = common::coverage_all(&config);
    let mut providers = std::collections::BTreeSet::new();
    for c in &coverage {
        let provider = c["agent"]["provider"].as_str().unwrap();
        providers.insert(provider.to_string());
        let said = c.to_string();
        if provider != "aws" {
            assert!(
                !said.contains("CloudTrail") && !said.contains("Bedrock"),
                "an AWS source speaks of a {provider} agent: {said}"
            );
        }
    }
    assert_eq!(
        providers.into_iter().collect::<Vec<_>>(),
        ["aws", "azure", "gcp"]
    );
}
