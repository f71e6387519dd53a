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

/// The example account's support roles, as IAM holds them (the research role is left out).
fn seed(endpoint: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use aws_smithy_http_client::{
            Builder,
            tls::{self, rustls_provider::CryptoMode},
        };
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(
                Builder::new()
                    .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                    .build_https(),
            )
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .endpoint_url(endpoint)
            .load()
            .await;
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
    });
}

#[test]
fn iam_read_through_the_sdk_resolves_aws_managed_policies_and_names_what_failed() {
    let Some(moto) = moto_server(&[
        ("MOTO_IAM_LOAD_MANAGED_POLICIES", "true"),
        ("MOTO_ACCOUNT_ID", ACCOUNT),
    ]) else {
        return;
    };
    seed(&moto.endpoint());
    let dir = tempfile::tempdir().unwrap();
    let example = repo_root().join("examples/support-agent");
    let config = dir.path().join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"store\"\n\n\
             [[source]]\nname = \"trail\"\nkind = \"cloudtrail\"\nurl = {:?}\n\n\
             [[source]]\nname = \"iam\"\nkind = \"aws-api\"\nendpoint = {:?}\nregion = \"us-east-1\"\nmax_attempts = 1\n",
            example.join("cloudtrail").display().to_string(),
            moto.endpoint()
        ),
    )
    .unwrap();
    let scan = bin()
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
        .unwrap();
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
    let again = bin()
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
        .unwrap();
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
