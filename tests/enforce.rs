//! Least-privilege policies from the quickstart's real baseline: the support agent's roles
//! get exactly what the 47 days of logs show them doing, each statement traced.

mod common;
use common::*;
use iam_enforcer::aws_policy::{IdentityPolicy, Observed, identity_policy};
use iam_enforcer::catalog::Catalog;
use iam_enforcer::eval::Policy;
use iam_enforcer::replay::{Call, Resource, replay};
use normalizer::Timestamp;
use normalizer::baseline::Seen;
use serde_json::Value;

const TOOLS: &str = "arn:aws:iam::111122223333:role/support-agent-tools";
const BEDROCK: &str = "arn:aws:iam::111122223333:role/AmazonBedrockExecutionRoleForAgents_support";

/// The support agent's `action_as` behaviors: (role, call, resource, seen).
fn acted_as(store: &std::path::Path) -> Vec<(String, String, String, Seen)> {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    baseline_behaviors(store)
        .iter()
        .filter(|e| e["behavior"]["kind"] == "action_as")
        .map(|e| {
            let (b, s) = (&e["behavior"], &e["seen"]);
            let seen = Seen {
                first: Timestamp(s["first"].as_i64().unwrap()),
                last: Timestamp(s["last"].as_i64().unwrap()),
                count: s["count"].as_u64().unwrap(),
                windows: Default::default(),
            };
            (
                text(&b["role"]),
                text(&b["action"]),
                text(&b["resource"]),
                seen,
            )
        })
        .collect()
}

fn policy_of(role: &str, behaviors: &[(String, String, String, Seen)]) -> IdentityPolicy {
    let observed = behaviors
        .iter()
        .filter(|(r, ..)| r == role)
        .map(|(_, call, resource, seen)| Observed {
            call,
            resource,
            seen,
        });
    identity_policy(role, observed, &Default::default(), Catalog::aws().unwrap())
}

#[test]
fn the_support_agents_roles_get_what_their_logs_show_and_no_more() {
    let store = tempfile::tempdir().unwrap();
    let config = repo_root().join("examples/support-agent/agentward.toml");
    let out = run_on(&config, store.path(), &["scan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let behaviors = acted_as(store.path());

    let tools = policy_of(TOOLS, &behaviors);
    assert!(tools.unknown.is_empty(), "{:?}", tools.unknown);
    assert_eq!(tools.statements.len(), 1, "{:#?}", tools.statements);
    let put = &tools.statements[0];
    assert_eq!(put.actions, ["s3:PutObject"]);
    assert_eq!(
        put.resources,
        ["arn:aws:s3:::acme-support-exports/weekly/*"]
    );
    assert_eq!(put.trace.events, 2_640);
    assert!(put.trace.first < put.trace.last);
    assert_eq!(put.widened.len(), 1, "{:?}", put.widened);

    let bedrock = policy_of(BEDROCK, &behaviors);
    assert_eq!(bedrock.statements.len(), 1, "{:#?}", bedrock.statements);
    let invoke = &bedrock.statements[0];
    assert_eq!(invoke.actions, ["bedrock:InvokeModel"]);
    assert_eq!(
        invoke.resources,
        [
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        ]
    );
    assert_eq!(invoke.trace.events, 714);
    assert!(invoke.widened.is_empty());
    let document = bedrock.document();
    assert_eq!(document["Statement"][0]["Effect"], "Allow");
    assert_eq!(document["Version"], "2012-10-17");
    for policy in [&tools, &bedrock] {
        lint(&policy.role, &policy.document());
    }
}

/// IAM's limit for a managed policy, counted without whitespace as IAM counts it.
const MANAGED_POLICY_CHARS: usize = 6_144;

/// The policy document passes parliament (no finding at any severity) and fits IAM's size
/// limit. Needs AGENTWARD_PARLIAMENT (scripts/test installs it); under CI its absence fails.
fn lint(role: &str, document: &Value) {
    let text = document.to_string();
    assert!(
        text.len() <= MANAGED_POLICY_CHARS,
        "{role}: {} characters",
        text.len()
    );
    let Some(parliament) = tool("AGENTWARD_PARLIAMENT") else {
        return;
    };
    let out = std::process::Command::new(parliament)
        .args(["--json", "--minimum_severity", "INFO", "--string", &text])
        .output()
        .expect("parliament runs");
    let findings: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let real: Vec<&Value> = findings
        .iter()
        .filter(|f| !one_of_misread(f, document))
        .collect();
    assert!(
        real.is_empty() && (out.status.success() || !findings.is_empty()),
        "parliament on {role}'s policy {text}:\n{real:#?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// parliament reads each of an action's required resource types as needed at once; AWS
/// means one of them (bedrock:InvokeModel takes a foundation model *or* an inference
/// profile …). Its RESOURCE_MISMATCH is that misreading when every flagged action takes
/// several required types and every resource of every statement granting it fits one of
/// them, as the catalog's ARN formats say.
fn one_of_misread(finding: &Value, document: &Value) -> bool {
    let catalog = Catalog::aws().unwrap();
    if finding["issue"] != "RESOURCE_MISMATCH" {
        return false;
    }
    let texts = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let statements = document["Statement"].as_array().unwrap();
    finding["detail"].as_array().unwrap().iter().all(|d| {
        let name = d["action"].as_str().unwrap();
        let Some(action) = catalog.action(name) else {
            return false;
        };
        let several = action.resource_types().filter(|t| t.required).count() > 1;
        several
            && statements
                .iter()
                .filter(|s| texts(&s["Action"]).iter().any(|a| a == name))
                .all(|s| {
                    texts(&s["Resource"])
                        .iter()
                        .all(|r| !catalog.resource_types_matching(action, r).is_empty())
                })
    })
}

/// The lint is not vacuous: parliament refuses what a bad generator could write.
#[test]
fn parliament_refuses_an_unknown_action_and_a_needless_star() {
    let Some(parliament) = tool("AGENTWARD_PARLIAMENT") else {
        return;
    };
    for bad in [
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObjectt"],"Resource":["arn:aws:s3:::b/*"]}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["*"]}]}"#,
    ] {
        let out = std::process::Command::new(&parliament)
            .args(["--json", "--string", bad])
            .output()
            .unwrap();
        assert!(!out.status.success() && !out.stdout.is_empty(), "{bad}");
    }
}

/// `recommend --format json` of a fresh quickstart store, by agent key.
fn recommendations(store: &std::path::Path) -> Vec<Value> {
    let out = run(&[
        "--store",
        store.to_str().unwrap(),
        "recommend",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

fn role<'a>(agent: &'a Value, arn: &str) -> &'a Value {
    agent["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == arn)
        .unwrap_or_else(|| panic!("no recommendation for {arn}"))
}

fn agent<'a>(all: &'a [Value], id: &str) -> &'a Value {
    all.iter()
        .find(|a| a["agent"]["id"] == id)
        .unwrap_or_else(|| panic!("no recommendation for agent {id}"))
}

#[test]
fn the_quickstart_gets_least_privilege_replayed_over_its_47_days() {
    let store = tempfile::tempdir().unwrap();
    let config = repo_root().join("examples/support-agent/agentward.toml");
    run_on(&config, store.path(), &["scan"]);
    let all = recommendations(store.path());
    let support = agent(&all, "K7QX2M4TZP");
    assert_eq!(support["observed_days"], 47);

    let tools = role(support, TOOLS);
    assert_eq!(
        tools["document"]["Statement"],
        serde_json::json!([{
            "Sid": "s3PutObject", "Effect": "Allow", "Action": ["s3:PutObject"],
            "Resource": ["arn:aws:s3:::acme-support-exports/weekly/*"]
        }])
    );
    let current = tools["current"].to_string();
    assert!(
        current.contains("AmazonS3FullAccess") && current.contains("on *"),
        "{current}"
    );
    // Its exports first appeared in an episode nobody reviewed: granted, and said.
    let tools_notes = tools["notes"].to_string();
    assert!(
        tools_notes.contains("2026-10-05") && tools_notes.contains("review it"),
        "{tools_notes}"
    );
    assert_eq!(tools["withheld"], serde_json::json!([]));
    let statement = &tools["proposed"]["statements"][0];
    assert_eq!(statement["trace"]["events"], 2_640);
    assert_eq!(statement["confidence"]["level"], "recurring");
    // What goes: the S3 full access and the `*` grants, each said proven or unverified.
    let removed = tools["removed"].as_array().unwrap();
    assert!(removed.len() >= 3, "{removed:#?}");
    assert!(removed.iter().all(|i| {
        let p = i["proof"].as_str().unwrap_or_default();
        p.starts_with("proven") || p.starts_with("unverified")
    }));

    let bedrock = role(support, BEDROCK);
    let resources = &bedrock["document"]["Statement"][0]["Resource"];
    assert_eq!(resources.as_array().unwrap().len(), 2, "{resources}");
    assert_eq!(
        bedrock["document"]["Statement"][0]["Condition"],
        serde_json::json!({"StringEquals": {"aws:RequestedRegion": ["us-east-1"]}}),
        "every call was made in us-east-1"
    );
    assert_eq!(
        bedrock["document"]["Statement"][0]["Action"],
        serde_json::json!(["bedrock:InvokeModel"])
    );
    // The agent's configuration associates a knowledge base its role is not granted and was
    // never seen retrieving from: said, not added.
    let notes = bedrock["notes"].to_string();
    assert!(
        notes.contains("QWERTY1234") && notes.contains("not granted"),
        "{notes}"
    );

    let research = agent(&all, "RSRCH4N7QA");
    let research_role = &research["roles"][0];
    let mut granted: Vec<String> = research_role["document"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["Action"][0].as_str().unwrap(),
                s["Resource"][0].as_str().unwrap()
            )
        })
        .collect();
    granted.sort();
    assert_eq!(
        granted,
        [
            "bedrock:InvokeModel arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
            "bedrock:Retrieve arn:aws:bedrock:us-east-1:111122223333:knowledge-base/DOCSKB0001",
        ],
        "the research assistant keeps exactly what it used"
    );

    for (a, arn, id) in [
        (support, BEDROCK, "K7QX2M4TZP"),
        (
            research,
            research_role["role"].as_str().unwrap(),
            "RSRCH4N7QA",
        ),
    ] {
        let trust = &role(a, arn)["trust"];
        assert_eq!(trust["status"], "pinned", "{trust}");
        assert_eq!(
            trust["document"]["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"],
            format!("arn:aws:bedrock:us-east-1:111122223333:agent/{id}")
        );
    }
    // Blast radius 0: every call each role made in the window is allowed, and every one
    // was replayed (as many as the statements' traces count).
    for a in &all {
        for r in a["roles"].as_array().unwrap() {
            let b = &r["blast_radius"];
            assert_eq!(b["denied_events"], 0, "{}: {:#}", r["role"], b["denials"]);
            let traced: u64 = r["proposed"]["statements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["trace"]["events"].as_u64().unwrap())
                .sum();
            assert!(b["events"].as_u64().unwrap() > 0);
            assert!(
                b["events"].as_u64().unwrap() <= traced,
                "{}: replayed {} traced {traced}",
                r["role"],
                b["events"]
            );
            lint(r["role"].as_str().unwrap(), &r["document"]);
        }
    }
    assert_eq!(role(support, TOOLS)["blast_radius"]["events"], 2_640);
}

/// The tools role's PutObject calls as stored, for a replay of our own.
fn stored_puts(store: &std::path::Path) -> Vec<(String, Vec<Resource>, i64)> {
    let mut out = Vec::new();
    for entry in walk(&store.join("events")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for line in text.lines() {
            let e: Value = serde_json::from_str(line).unwrap();
            if e["actor"]["session"]["issuer"] != TOOLS || e["api"]["operation"] != "PutObject" {
                continue;
            }
            let resources = e["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| Resource {
                    arn: r["uid"].as_str().unwrap().into(),
                    kind: r["type"].as_str().map(str::to_string),
                })
                .collect();
            let proof = e["metadata"]["log_name"].as_str().unwrap().to_string();
            out.push((proof, resources, e["time"].as_i64().unwrap()));
        }
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_too_tight_policy_replayed_lists_the_calls_it_would_deny() {
    let store = tempfile::tempdir().unwrap();
    let config = repo_root().join("examples/support-agent/agentward.toml");
    run_on(&config, store.path(), &["scan"]);
    let puts = stored_puts(store.path());
    assert_eq!(puts.len(), 2_640);
    let calls = puts.iter().map(|(proof, resources, time)| Call {
        call: "s3:PutObject",
        resources,
        region: Some("us-east-1"),
        time: Timestamp(*time),
        proof,
        count: 1,
        refused: false,
    });
    // Only one week's exports: every other week is a denial.
    let tight = Policy::parse(
        "tight",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::acme-support-exports/weekly/2026-W41/*"
        }]}),
    )
    .unwrap();
    let r = replay(&[tight], calls, Catalog::aws().unwrap());
    let allowed = r.allowed_by.get("tight#0").map_or(0, |e| e.events);
    assert!(
        allowed > 0 && r.denied_events > 0,
        "{allowed} allowed, {} denied",
        r.denied_events
    );
    assert_eq!(allowed + r.denied_events, 2_640);
    assert!(
        r.denials
            .iter()
            .all(|d| d.action == "s3:PutObject" && !d.resource.contains("2026-W41"))
    );
    assert_eq!(
        r.denials.iter().map(|d| d.evidence.events).sum::<u64>(),
        r.denied_events
    );
    assert!(r.denials.iter().all(|d| !d.evidence.records.is_empty()));
}

#[test]
fn artifacts_are_written_parse_and_match_the_recommendation() {
    let store = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let config = repo_root().join("examples/support-agent/agentward.toml");
    run_on(&config, store.path(), &["scan"]);
    artifacts(store.path(), out_dir.path());
    let dir = out_dir
        .path()
        .join("aws.111122223333.us-east-1.K7QX2M4TZP/aws");
    let policy: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("support-agent-tools.policy.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        policy["Statement"][0]["Action"],
        serde_json::json!(["s3:PutObject"])
    );
    let trust: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.join("AmazonBedrockExecutionRoleForAgents_support.trust.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(trust["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"].is_string());
    let tf = dir.join("support-agent-tools.tf");
    terraform_check(&tf, &policy);
    checkov(&dir, true);
    // checkov reads the policy in the heredoc: a `*` resource for a write fails it.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(
        bad.path().join("wide.tf"),
        std::fs::read_to_string(&tf)
            .unwrap()
            .replace("arn:aws:s3:::acme-support-exports/weekly/*", "*"),
    )
    .unwrap();
    checkov(bad.path(), false);

    // A file an earlier run wrote and this one does not (a role gone since) is removed;
    // the manifest lists exactly what is there.
    let manifest = out_dir.path().join("agentward-artifacts.json");
    let mut listed: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert!(
        listed.contains_key("aws.111122223333.us-east-1.K7QX2M4TZP/aws/support-agent-tools.tf")
    );
    let gone = out_dir
        .path()
        .join("aws.111122223333.us-east-1.K7QX2M4TZP/aws/old-role.policy.json");
    std::fs::write(&gone, "{}").unwrap();
    listed.insert(
        "aws.111122223333.us-east-1.K7QX2M4TZP/aws/old-role.policy.json".into(),
        "x".into(),
    );
    std::fs::write(&manifest, Value::Object(listed).to_string()).unwrap();
    artifacts(store.path(), out_dir.path());
    assert!(!gone.exists());
    assert!(tf.exists());
    // One agent's run tidies that agent's folder only.
    let out = run(&[
        "--store",
        store.path().to_str().unwrap(),
        "artifacts",
        "--agent",
        "research-assistant",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(tf.exists());
    let listed = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        listed.contains("support-agent-tools.tf") && listed.contains("RSRCH4N7QA"),
        "{listed}"
    );
    // What was written is in the audit trail, by digest.
    let audit = run(&["--store", store.path().to_str().unwrap(), "audit", "verify"]);
    assert!(audit.status.success(), "{}", stderr(&audit));
}

/// The .tf parses as HCL (PyPI python-hcl2), declares the managed policy and its
/// attachment, and carries the policy document unchanged.
fn terraform_check(tf: &std::path::Path, policy: &Value) {
    let Some(python) = tool("AGENTWARD_HCL2_PYTHON") else {
        return;
    };
    let script = r#"
import hcl2, json, sys
doc = hcl2.load(open(sys.argv[1]))
unq = lambda s: s[1:-1] if s.startswith('"') and s.endswith('"') else s
kinds, policy = [], None
for block in doc["resource"]:
    for kind, named in block.items():
        kinds.append(unq(kind))
        for _, body in named.items():
            if "policy" in body:
                text = unq(body["policy"])
                head, _, rest = text.partition("\n")
                assert head == "<<-POLICY", head
                policy = json.loads(rest.rsplit("\n", 1)[0])
print(json.dumps({"kinds": kinds, "policy": policy}))
"#;
    let parsed: Value = serde_json::from_slice(&run_python(&python, script, tf)).unwrap();
    assert_eq!(
        parsed["kinds"],
        serde_json::json!(["aws_iam_policy", "aws_iam_role_policy_attachment"])
    );
    assert_eq!(&parsed["policy"], policy);
}

/// checkov (PyPI) over a directory of .tf files: every IAM check passes (`clean`), or at
/// least one fails.
fn checkov(dir: &std::path::Path, clean: bool) {
    let Some(checkov) = tool("AGENTWARD_CHECKOV") else {
        return;
    };
    let out = std::process::Command::new(checkov)
        .args([
            "-d",
            dir.to_str().unwrap(),
            "--framework",
            "terraform",
            "--compact",
            "-o",
            "json",
            "--skip-download",
        ])
        .output()
        .expect("checkov runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov's report: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let summary = &report["summary"];
    assert_eq!(summary["parsing_errors"], 0, "{summary}");
    let (passed, failed) = (
        summary["passed"].as_u64().unwrap(),
        summary["failed"].as_u64().unwrap(),
    );
    if clean {
        assert!(
            passed > 0 && failed == 0,
            "{:#}",
            report["results"]["failed_checks"]
        );
    } else {
        assert!(
            failed > 0,
            "checkov passed a policy granting s3:PutObject on *: {summary}"
        );
    }
}

/// The self-hosted example: its kernel egress allowlist is what it connected to, the
/// injected ticket's exfiltration (a risky drift episode) withheld, each line traced.
#[test]
fn the_selfhosted_agent_gets_an_egress_allowlist_without_its_exfiltration() {
    let (store, out_dir, all) = scanned("selfhosted-agent");
    let bot = all
        .iter()
        .find(|a| a["agent"]["id"] == "deployment/support-bot")
        .unwrap();
    let egress = &bot["egress"];
    assert_eq!(egress["replay"]["denied"], 0, "{:#}", egress["replay"]);
    let withheld: Vec<&str> = egress["allowlist"]["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["behavior"].as_str().unwrap())
        .collect();
    assert!(
        withheld.contains(&"network:connect_tcp on 127.0.0.1:18443"),
        "{withheld:?}"
    );
    artifacts(store.path(), out_dir.path());
    let text = std::fs::read_to_string(
        out_dir
            .path()
            .join("selfhosted.prod-eu-1.agents.deployment_support-bot/egress.allow"),
    )
    .unwrap();
    let rules: Vec<node_probe::AllowRule> = text
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.parse().unwrap())
        .collect();
    let expected: Vec<node_probe::AllowRule> = ["127.0.0.1:53", "127.0.0.1:18080"]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
    assert_eq!(rules, expected, "{text}");
    assert!(
        text.contains("model-gateway.agents.svc.cluster.local"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with("127.0.0.1:18443")));
}

/// The Markdown report says the blast radius, the trust pin and what goes, and `--agent`
/// narrows it to one agent; an agent that does not exist is an error.
#[test]
fn the_markdown_recommendation_reads_as_a_report() {
    let store = tempfile::tempdir().unwrap();
    let config = repo_root().join("examples/support-agent/agentward.toml");
    run_on(&config, store.path(), &["scan"]);
    let s = store.path().to_str().unwrap();
    let out = run(&[
        "--store",
        s,
        "recommend",
        "--agent",
        "customer-support-agent",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    for line in [
        "## customer-support-agent (`aws.111122223333.us-east-1.K7QX2M4TZP`)",
        "- **Blast radius:** 0 of 2,640 observed calls would be denied",
        "| s3PutObject | s3:PutObject | arn:aws:s3:::acme-support-exports/weekly/* | 2,640 |",
        "pinned to the agent",
        "#### Removed (unused excess)",
        "AmazonS3FullAccess",
    ] {
        assert!(md.contains(line), "missing {line:?} in:\n{md}");
    }
    assert!(
        !md.contains("research-assistant"),
        "--agent names one agent"
    );
    let out = run(&["--store", s, "recommend", "--agent", "no-such-agent"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no-such-agent"), "{}", stderr(&out));
}

/// `artifacts --out OUT` of a store; it must succeed.
fn artifacts(store: &std::path::Path, out: &std::path::Path) {
    let out = run(&[
        "--store",
        store.to_str().unwrap(),
        "artifacts",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Agents whose identities are not AWS roles (Vertex AI, Foundry) get no AWS policy: each
/// identity is said, and no policy file is written for it.
#[test]
fn identities_that_are_not_aws_roles_get_no_aws_policy() {
    let (store, out_dir, all) = scanned("managed-agents");
    assert!(!all.is_empty());
    for a in &all {
        assert_eq!(a["roles"], serde_json::json!([]), "{}", a["agent"]);
    }
    let notes = all
        .iter()
        .flat_map(|a| a["notes"].as_array().unwrap())
        .map(|n| n.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        notes.contains("for azure identities are not built yet"),
        "{notes}"
    );
    artifacts(store.path(), out_dir.path());
    let written: Vec<std::path::PathBuf> = walk(out_dir.path());
    assert!(
        !written
            .iter()
            .any(|p| p.to_string_lossy().contains("/aws/")),
        "{written:?}"
    );
}

/// A Vertex AI agent's identity gets a custom role of exactly the permissions Cloud Audit
/// Logs show granted for its calls (a refused one, a deployer's change, not), as Terraform
/// that parses and passes checkov.
#[test]
fn a_gcp_agent_gets_a_custom_role_of_its_granted_permissions() {
    let (store, out_dir, all) = scanned("managed-agents");
    let refund = agent(&all, "8867342190013235200");
    let roles = refund["gcp_roles"].as_array().unwrap();
    assert_eq!(roles.len(), 1, "{roles:#?}");
    assert_eq!(
        roles[0]["identity"],
        "refund-agent@acme-support-prod.iam.gserviceaccount.com"
    );
    let perms: Vec<&str> = roles[0]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["permission"].as_str().unwrap())
        .collect();
    assert_eq!(
        perms,
        ["aiplatform.endpoints.predict", "bigquery.jobs.create"]
    );
    assert!(
        roles[0]["permissions"][0]["evidence"]["records"]
            .as_array()
            .unwrap()
            .len()
            == 1
    );
    let everything = serde_json::to_string(&all).unwrap();
    assert!(
        !everything.contains("aiplatform.reasoningEngines.delete"),
        "refused: never in a role"
    );
    assert!(
        !everything.contains("aiplatform.reasoningEngines.update"),
        "a person's change to the agent: not its own call"
    );
    artifacts(store.path(), out_dir.path());
    let dir = out_dir
        .path()
        .join("gcp.acme-support-prod.us-central1.8867342190013235200/gcp");
    let tf = std::fs::read_to_string(dir.join("agentward_refund_agent.tf")).unwrap();
    assert!(tf.contains("\"bigquery.jobs.create\", #"), "{tf}");
    hcl_kinds(
        &dir.join("agentward_refund_agent.tf"),
        &[
            "google_project_iam_custom_role",
            "google_project_iam_member",
        ],
    );
    checkov(&dir, true);
}

/// The resource kinds a .tf declares, parsed by python-hcl2.
fn hcl_kinds(tf: &std::path::Path, expected: &[&str]) {
    let Some(python) = tool("AGENTWARD_HCL2_PYTHON") else {
        return;
    };
    let script = "import hcl2, json, sys\nd = hcl2.load(open(sys.argv[1]))\nprint(json.dumps([k.strip('\"') for b in d['resource'] for k in b]))";
    let kinds: Vec<String> = serde_json::from_slice(&run_python(&python, script, tf)).unwrap();
    assert_eq!(kinds, expected);
}

/// A fresh store with the bundled example scanned into it, a directory for artifacts, and
/// its recommendations.
fn scanned(example: &str) -> (tempfile::TempDir, tempfile::TempDir, Vec<Value>) {
    let store = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let config = repo_root().join(format!("examples/{example}/agentward.toml"));
    run_on(&config, store.path(), &["scan"]);
    let all = recommendations(store.path());
    (store, out_dir, all)
}

/// With the Deployment's pod selector, the self-hosted agent's egress becomes a
/// NetworkPolicy that Kubernetes' schema accepts (PyPI kubernetes-validate, strict) and a
/// CiliumNetworkPolicy naming the gateway it looked up; the exfiltration is in neither.
#[test]
fn the_selfhosted_agent_gets_network_policies_with_its_selector() {
    let (store, out_dir, _) = scanned("selfhosted-agent");
    let out = run(&[
        "--store",
        store.path().to_str().unwrap(),
        "artifacts",
        "--out",
        out_dir.path().to_str().unwrap(),
        "--selector",
        "support-bot=app=support-bot,tier=agents",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = out_dir
        .path()
        .join("selfhosted.prod-eu-1.agents.deployment_support-bot/k8s");
    let np = std::fs::read_to_string(dir.join("networkpolicy.yaml")).unwrap();
    let cilium = std::fs::read_to_string(dir.join("cilium-networkpolicy.yaml")).unwrap();
    assert!(
        np.contains("cidr: 127.0.0.1/32") && np.contains("port: 18080"),
        "{np}"
    );
    assert!(
        np.contains("app: support-bot") && np.contains("tier: agents"),
        "{np}"
    );
    assert!(!np.contains("port: 18443"), "{np}");
    assert!(
        cilium.contains("matchName: model-gateway.agents.svc.cluster.local"),
        "{cilium}"
    );
    assert!(!cilium.contains("paste.exfil.example"), "{cilium}");
    kubernetes_validate(&dir.join("networkpolicy.yaml"), true);
    // The validator is strict: a misspelt field fails it.
    let bad = out_dir.path().join("bad.yaml");
    std::fs::write(&bad, np.replace("ipBlock", "ipBlok")).unwrap();
    kubernetes_validate(&bad, false);
    // A selector for an agent that is not there is an error.
    let out = run(&[
        "--store",
        store.path().to_str().unwrap(),
        "artifacts",
        "--out",
        out_dir.path().to_str().unwrap(),
        "--selector",
        "nobody=app=x",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nobody"), "{}", stderr(&out));
}

/// The seed's question 3: two agents in one cluster, recorded by the real probe, under two
/// different generated syscall envelopes and NetworkPolicies, each traced to its own
/// recording: what only one of them does is in its envelope alone.
#[test]
fn two_agents_in_one_cluster_get_two_envelopes_each_traced_to_its_own_recording() {
    let (store, out_dir, all) = scanned("selfhosted-agent");
    let out = run(&[
        "--store",
        store.path().to_str().unwrap(),
        "artifacts",
        "--out",
        out_dir.path().to_str().unwrap(),
        "--selector",
        "support-bot=app=support-bot",
        "--selector",
        "kb-indexer=app=kb-indexer",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = |deployment: &str| {
        out_dir.path().join(format!(
            "selfhosted.prod-eu-1.agents.deployment_{deployment}"
        ))
    };
    // The syscalls each was seen entering, from its own profile's rule comments.
    let seen = |deployment: &str| -> std::collections::BTreeSet<String> {
        let profile: Value =
            serde_json::from_slice(&std::fs::read(dir(deployment).join("seccomp.json")).unwrap())
                .unwrap();
        assert_eq!(profile["defaultAction"], "SCMP_ACT_ERRNO");
        profile["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["comment"].as_str().unwrap().starts_with("seen:"))
            .map(|r| r["names"][0].as_str().unwrap().to_string())
            .collect()
    };
    let (bot, indexer) = (seen("support-bot"), seen("kb-indexer"));
    assert_ne!(bot, indexer);
    // The bot starts its MCP servers as child processes; the indexer starts none, and it
    // alone syncs and renames its index into place.
    let spawns = |s: &std::collections::BTreeSet<String>| {
        ["clone", "clone3", "vfork", "fork"]
            .iter()
            .any(|c| s.contains(*c))
    };
    assert!(spawns(&bot) && bot.contains("wait4"), "{bot:?}");
    assert!(!spawns(&indexer), "{indexer:?}");
    assert!(
        indexer.contains("fsync") && indexer.contains("rename"),
        "{indexer:?}"
    );
    for (deployment, port) in [("support-bot", "18080"), ("kb-indexer", "16333")] {
        let agent = all
            .iter()
            .find(|a| a["agent"]["id"] == format!("deployment/{deployment}"))
            .unwrap();
        let seccomp = &agent["seccomp"];
        assert_eq!(seccomp["replay"]["denied"], 0, "{deployment}: {seccomp:#}");
        // Every seen entry's trace names spool files of this example, under its own agent.
        for entry in seccomp["envelope"]["entries"].as_array().unwrap() {
            if entry["origin"] == "seen" {
                let records = entry["evidence"]["records"].as_array().unwrap();
                assert!(!records.is_empty(), "{entry:#}");
                assert!(
                    records
                        .iter()
                        .all(|r| r.as_str().unwrap().contains("node-eu-1a")),
                    "{entry:#}"
                );
            }
        }
        let np = dir(deployment).join("k8s/networkpolicy.yaml");
        let text = std::fs::read_to_string(&np).unwrap();
        assert!(text.contains(&format!("app: {deployment}")), "{text}");
        assert!(text.contains(&format!("port: {port}")), "{text}");
        kubernetes_validate(&np, true);
    }
    let bot_np =
        std::fs::read_to_string(dir("support-bot").join("k8s/networkpolicy.yaml")).unwrap();
    assert!(!bot_np.contains("port: 16333"), "{bot_np}");
}

fn kubernetes_validate(file: &std::path::Path, valid: bool) {
    let Some(validator) = tool("AGENTWARD_KUBERNETES_VALIDATE") else {
        return;
    };
    let out = std::process::Command::new(validator)
        .args(["--strict", file.to_str().unwrap()])
        .output()
        .expect("kubernetes-validate runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.success(), valid, "{said}");
    if valid {
        assert!(said.contains("passed"), "{said}");
    }
}

/// The real tool an environment variable names (scripts/test installs each and sets it);
/// without it the check is said SKIPPED, and under CI that is a failure.
fn tool(var: &str) -> Option<std::ffi::OsString> {
    let found = std::env::var_os(var);
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set {var} (scripts/test does): the check it runs would be skipped"
        );
        eprintln!("SKIPPED: {var} is not set (scripts/test sets it)");
    }
    found
}

/// `python -c SCRIPT FILE`'s output; it must succeed.
fn run_python(python: &std::ffi::OsStr, script: &str, file: &std::path::Path) -> Vec<u8> {
    let out = std::process::Command::new(python)
        .args(["-c", script, file.to_str().unwrap()])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
