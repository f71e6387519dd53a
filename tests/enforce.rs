//! Least-privilege policies from the quickstart's real baseline: the support agent's roles
//! get exactly what the 47 days of logs show them doing, each statement traced.

mod common;
use common::*;
use iam_enforcer::aws_policy::{IdentityPolicy, Observed, identity_policy};
use iam_enforcer::catalog::Catalog;
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
    identity_policy(role, observed, Catalog::aws().unwrap())
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
        lint(policy);
    }
}

/// IAM's limit for a managed policy, counted without whitespace as IAM counts it.
const MANAGED_POLICY_CHARS: usize = 6_144;

/// The policy document passes parliament (no finding at any severity) and fits IAM's size
/// limit. Needs AGENTWARD_PARLIAMENT (scripts/test installs it); under CI its absence fails.
fn lint(policy: &IdentityPolicy) {
    let document = policy.document().to_string();
    assert!(
        document.len() <= MANAGED_POLICY_CHARS,
        "{}: {} characters",
        policy.role,
        document.len()
    );
    let Some(parliament) = std::env::var_os("AGENTWARD_PARLIAMENT") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set AGENTWARD_PARLIAMENT (scripts/test does): generated policies are not linted"
        );
        eprintln!(
            "SKIPPED the parliament lint: AGENTWARD_PARLIAMENT not set (scripts/test sets it)"
        );
        return;
    };
    let out = std::process::Command::new(parliament)
        .args([
            "--json",
            "--minimum_severity",
            "INFO",
            "--string",
            &document,
        ])
        .output()
        .expect("parliament runs");
    let findings: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let real: Vec<&Value> = findings
        .iter()
        .filter(|f| !one_of_misread(f, policy))
        .collect();
    assert!(
        real.is_empty() && (out.status.success() || !findings.is_empty()),
        "parliament on {}'s policy {document}:\n{real:#?}\n{}",
        policy.role,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// parliament reads each of an action's required resource types as needed at once; AWS
/// means one of them (bedrock:InvokeModel takes a foundation model *or* an inference
/// profile …). Its RESOURCE_MISMATCH is that misreading when every flagged action takes
/// several required types and every resource of every statement granting it fits one of
/// them, as the catalog's ARN formats say.
fn one_of_misread(finding: &Value, policy: &IdentityPolicy) -> bool {
    let catalog = Catalog::aws().unwrap();
    if finding["issue"] != "RESOURCE_MISMATCH" {
        return false;
    }
    finding["detail"].as_array().unwrap().iter().all(|d| {
        let name = d["action"].as_str().unwrap();
        let Some(action) = catalog.action(name) else {
            return false;
        };
        let several = action.resource_types().filter(|t| t.required).count() > 1;
        several
            && policy
                .statements
                .iter()
                .filter(|s| s.actions.iter().any(|a| a == name))
                .all(|s| {
                    s.resources
                        .iter()
                        .all(|r| !catalog.resource_types_matching(action, r).is_empty())
                })
    })
}

/// The lint is not vacuous: parliament refuses what a bad generator could write.
#[test]
fn parliament_refuses_an_unknown_action_and_a_needless_star() {
    let Some(parliament) = std::env::var_os("AGENTWARD_PARLIAMENT") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set AGENTWARD_PARLIAMENT"
        );
        eprintln!("SKIPPED: AGENTWARD_PARLIAMENT not set");
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
