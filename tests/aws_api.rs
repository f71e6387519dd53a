//! The AWS API source against a real IAM implementation (moto_server, seeded through the
//! real Rust SDK): the declared identity it reads — AWS-managed policy documents included —
//! sharpens reconciliation, and a role the API cannot read makes the scan partial, named.

mod common;
use common::*;
use serde_json::Value;

const TOOLS_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "dynamodb:GetItem"], "Resource": "*"}]}"#;
const AGENT_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["bedrock:InvokeModel"], "Resource": "*"}]}"#;

fn trust(service: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// The example account's support roles and action-group functions, as IAM and Lambda
/// hold them (the research role is left out), and its trail: logging, management events
/// only.
fn seed(moto: &Moto) {
    // moto checks that a trail's bucket exists.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
    use std::io::{Read, Write};
    write!(s, "PUT /acme-trail HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.contains(" 200 "), "{answer}");
    block_on(async {
        let config = sdk(&moto.endpoint()).await;
        let ct = aws_sdk_cloudtrail::Client::new(&config);
        ct.create_trail()
            .name("acme-trail")
            .s3_bucket_name("acme-trail")
            .is_multi_region_trail(true)
            .send()
            .await
            .unwrap();
        ct.start_logging().name("acme-trail").send().await.unwrap();
        let iam = aws_sdk_iam::Client::new(&config);
        for (name, path, service, policy, document) in [
            (
                "AmazonBedrockExecutionRoleForAgents_support",
                "/service-role/",
                "bedrock.amazonaws.com",
                "bedrock-invoke-models",
                AGENT_POLICY,
            ),
            (
                "support-agent-tools",
                "/",
                "lambda.amazonaws.com",
                "support-tools-data",
                TOOLS_POLICY,
            ),
        ] {
            iam.create_role()
                .role_name(name)
                .path(path)
                .assume_role_policy_document(trust(service))
                .send()
                .await
                .unwrap();
            iam.put_role_policy()
                .role_name(name)
                .policy_name(policy)
                .policy_document(document)
                .send()
                .await
                .unwrap();
        }
        iam.attach_role_policy()
            .role_name("support-agent-tools")
            .policy_arn("arn:aws:iam::aws:policy/AmazonS3FullAccess")
            .send()
            .await
            .unwrap();
        // The support agent's action-group functions, as the logs name them.
        let lambda = aws_sdk_lambda::Client::new(&config);
        for function in [
            "support-export-records",
            "support-order-status",
            "support-ticket-lookup",
        ] {
            create_function(&lambda, function, "support-agent-tools").await;
        }
    });
}

/// moto in the example's account, with AWS-managed policies loaded, seeded.
fn seeded_moto() -> Option<Moto> {
    let moto = moto_server(&[
        ("MOTO_IAM_LOAD_MANAGED_POLICIES", "true"),
        ("MOTO_ACCOUNT_ID", ACCOUNT),
    ])?;
    seed(&moto);
    Some(moto)
}

#[test]
fn iam_read_through_the_sdk_resolves_aws_managed_policies_and_names_what_failed() {
    let Some(moto) = seeded_moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = example_with_api(dir.path(), &moto, "iam");
    let scan = scan_with_credentials(&config);
    // The research agent's role does not exist in this IAM: partial, and said so.
    assert_eq!(scan.status.code(), Some(2), "{}", stderr(&scan));
    let summary: Value = serde_json::from_slice(&scan.stdout).unwrap();
    let iam = summary["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "iam")
        .unwrap();
    assert_eq!(iam["api"]["roles_read"], 2, "{iam:#}");
    assert_eq!(iam["api"]["policies_read"], 1, "{iam:#}");
    let failures = iam["failures"].to_string();
    assert!(
        failures.contains("iam:GetRole AmazonBedrockExecutionRoleForAgents_research"),
        "{failures}"
    );
    assert_eq!(iam["failures"].as_array().unwrap().len(), 1, "{failures}");
    // The AWS-managed document and the attachment were not in the logs; the rest was.
    assert!(iam["api"]["changes"].as_u64().unwrap() >= 1, "{iam:#}");

    // AmazonS3FullAccess's document, read from IAM, is now part of the judgement.
    let out = run(&[
        "--config",
        config.to_str().unwrap(),
        "reconcile",
        "--agent",
        "customer-support-agent",
        "--format",
        "json",
    ]);
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let items = results[0]["items"].as_array().unwrap();
    let find = |start: &str| {
        items
            .iter()
            .find(|i| i["title"].as_str().unwrap().starts_with(start))
            .unwrap_or_else(|| panic!("no item {start:?}: {items:#?}"))
    };
    let managed = find("AWS-managed policy AmazonS3FullAccess attached");
    assert!(
        managed["evidence"][1]
            .as_str()
            .unwrap()
            .contains("grants: Allow s3:*, s3-object-lambda:* on *"),
        "{managed:#}"
    );
    let put = find("s3:PutObject (2,640 calls)")["evidence"].to_string();
    assert!(
        put.contains("arn:aws:iam::aws:policy/AmazonS3FullAccess: Allow s3:*, s3-object-lambda:* on * (wildcard action s3:*)"),
        "{put}"
    );
    assert!(!put.contains("document is not read"), "{put}");
    let partial = find("s3:* granted, only s3:PutObject used in 47 days");
    // A second scan finds IAM as it was: nothing new is recorded.
    let again = scan_with_credentials(&config);
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    let iam_again = again["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "iam")
        .unwrap();
    assert_eq!(iam_again["api"]["changes"], 0, "{iam_again:#}");
    assert_eq!(
        partial["subject"],
        "arn:aws:iam::111122223333:role/support-agent-tools"
    );
}

/// A config scanning the example's CloudTrail logs and then the APIs of `moto`, under the
/// API source name `api_source`.
fn example_with_api(dir: &std::path::Path, moto: &Moto, api_source: &str) -> std::path::PathBuf {
    let example = repo_root().join("examples/support-agent");
    let config = dir.join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"store\"\n\n\
             [[source]]\nname = \"trail\"\nkind = \"cloudtrail\"\nurl = {:?}\n\n\
             [[source]]\nname = {api_source:?}\nkind = \"aws-api\"\nendpoint = {:?}\nregion = \"us-east-1\"\nmax_attempts = 1\n",
            example.join("cloudtrail").display().to_string(),
            moto.endpoint()
        ),
    )
    .unwrap();
    config
}

#[test]
fn trail_configuration_read_through_the_api_names_the_trail_to_fix() {
    let Some(moto) = seeded_moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = example_with_api(dir.path(), &moto, "api");
    let scan = || {
        let out = scan_with_credentials(&config);
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        summary["sources"][1]["api"]["trails"].clone()
    };
    assert_eq!(scan(), 1);
    // The research agent's tools leave no events: the trail is why, and it is named.
    let tools = coverage_of(&config, "RSRCH4N7QA", "tool_invocation");
    assert_eq!(tools["status"], "available_if_enabled", "{tools:#}");
    assert!(
        tools["setting"]
            .as_str()
            .unwrap()
            .starts_with("api: no logging trail selects Lambda data events"),
        "{tools:#}"
    );
    assert!(
        tools["how_to_enable"]
            .as_str()
            .unwrap()
            .contains("--trail-name acme-trail")
    );
    // What events showed is not overridden by configuration.
    let support = coverage_of(&config, "K7QX2M4TZP", "tool_invocation");
    assert_eq!(support["status"], "observed", "{support:#}");
    // But what the trail does not record of an observed layer is named, with the fix:
    // InvokeAgent through prod and Retrieve from the knowledge base are data events it
    // does not select.
    let identity = coverage_of(&config, "K7QX2M4TZP", "identity_api");
    assert_eq!(identity["status"], "observed", "{identity:#}");
    let via = identity["via"].as_str().unwrap();
    assert!(
        via.contains("not recorded: api: who invoked the agent (InvokeAgent) through its aliases prod (PRDALIAS01); what it retrieved (Retrieve) from its knowledge bases QWERTY1234")
            && via.contains("arn:aws:bedrock:us-east-1:111122223333:agent-alias/K7QX2M4TZP/PRDALIAS01")
            && via.contains("AWS::Bedrock::KnowledgeBase"),
        "{identity:#}"
    );
    // Invocation logging is off in the region: that is why no prompt is seen.
    let prompt = coverage_of(&config, "K7QX2M4TZP", "prompt");
    assert_eq!(
        prompt["setting"],
        "api: model invocation logging is off in us-east-1: no prompt is recorded",
        "{prompt:#}"
    );

    // Once the trail selects Lambda data events, the trail is no longer the reason.
    block_on(async {
        aws_sdk_cloudtrail::Client::new(&sdk(&moto.endpoint()).await)
            .put_event_selectors()
            .trail_name("acme-trail")
            .advanced_event_selectors(
                aws_sdk_cloudtrail::types::AdvancedEventSelector::builder()
                    .name("agent tools")
                    .field_selectors(
                        aws_sdk_cloudtrail::types::AdvancedFieldSelector::builder()
                            .field("eventCategory")
                            .equals("Data")
                            .build()
                            .unwrap(),
                    )
                    .field_selectors(
                        aws_sdk_cloudtrail::types::AdvancedFieldSelector::builder()
                            .field("resources.type")
                            .equals("AWS::Lambda::Function")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    });
    // Logging on, to S3, with text: the gap left is that agentward does not read them.
    block_on(async {
        let us = sdk(&moto.endpoint()).await;
        invocation_logging_to_s3(&us, "acme-invocations", Some("bedrock")).await;
    });
    scan();
    let prompt = coverage_of(&config, "K7QX2M4TZP", "prompt");
    assert_eq!(
        prompt["setting"],
        "api: prompts are delivered to s3://acme-invocations/bedrock, but no bedrock-invocation-logs source reads them",
        "{prompt:#}"
    );
    assert!(
        prompt["how_to_enable"]
            .as_str()
            .unwrap()
            .contains("kind = \"bedrock-invocation-logs\"")
    );
    let tools = coverage_of(&config, "RSRCH4N7QA", "tool_invocation");
    assert!(
        !tools["setting"].as_str().unwrap().starts_with("api:"),
        "{tools:#}"
    );
}
