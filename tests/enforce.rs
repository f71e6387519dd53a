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
}
