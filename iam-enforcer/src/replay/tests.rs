use super::*;
use serde_json::json;

const OBJECT: &str = "arn:aws:s3:::acme-support-exports/weekly/2026-W41/part-00000.json";
const BUCKET: &str = "arn:aws:s3:::acme-support-exports";

fn policy(resource: &str) -> Policy {
    Policy::parse(
        "proposed",
        &json!({ "Version": "2012-10-17", "Statement": [
            { "Sid": "Put", "Effect": "Allow", "Action": "s3:PutObject", "Resource": resource }
        ]}),
    )
    .unwrap()
}

fn named(arn: &str, kind: &str) -> Resource {
    Resource {
        arn: arn.into(),
        kind: Some(kind.into()),
    }
}

fn calls(resources: &[Resource]) -> Vec<Call<'_>> {
    (0..5)
        .map(|i| Call {
            call: if i == 4 {
                "s3:ListObjects"
            } else {
                "s3:PutObject"
            },
            resources,
            region: Some("us-east-1"),
            time: Timestamp(1_000 + i),
            proof: if i < 2 {
                "log-a.json.gz"
            } else {
                "log-b.json.gz"
            },
            count: 1,
            refused: false,
        })
        .collect()
}

#[test]
fn each_action_is_judged_on_the_resource_it_applies_to() {
    let catalog = Catalog::aws().unwrap();
    let resources = vec![
        named(OBJECT, "AWS::S3::Object"),
        named(BUCKET, "AWS::S3::Bucket"),
    ];
    let r = replay(
        &[policy("arn:aws:s3:::acme-support-exports/weekly/*")],
        calls(&resources),
        catalog,
    );
    assert_eq!((r.events, r.requests), (5, 5));
    // PutObject on the object is allowed; ListObjects needs s3:ListBucket on the bucket.
    assert_eq!(r.denied_events, 1);
    assert_eq!(r.denials.len(), 1);
    let d = &r.denials[0];
    assert_eq!(
        (d.action.as_str(), d.resource.as_str()),
        ("s3:ListBucket", BUCKET)
    );
    assert_eq!(d.decision, Decision::ImplicitlyDenied);
    let put = &r.allowed_by["proposed#Put"];
    assert_eq!(put.events, 4);
    assert_eq!(put.records.len(), 2, "{:?}", put.records);
    assert_eq!((put.first, put.last), (Timestamp(1_000), Timestamp(1_003)));
}

#[test]
fn a_too_tight_policy_lists_every_call_it_would_deny() {
    let catalog = Catalog::aws().unwrap();
    let resources = vec![
        named(OBJECT, "AWS::S3::Object"),
        named(BUCKET, "AWS::S3::Bucket"),
    ];
    let r = replay(
        &[policy("arn:aws:s3:::acme-support-exports/daily/*")],
        calls(&resources),
        catalog,
    );
    assert_eq!(r.denied_events, 5);
    let put = r
        .denials
        .iter()
        .find(|d| d.action == "s3:PutObject")
        .unwrap();
    assert_eq!(put.resource, OBJECT);
    assert_eq!(put.evidence.events, 4);
    assert!(r.allowed_by.is_empty());
}

#[test]
fn a_call_without_a_catalog_action_is_said_not_evaluated() {
    let catalog = Catalog::aws().unwrap();
    let resources = vec![named(BUCKET, "AWS::S3::Bucket")];
    let call = Call {
        call: "s3:NoSuchOperation",
        resources: &resources,
        region: None,
        time: Timestamp(5),
        proof: "log",
        count: 3,
        refused: false,
    };
    let r = replay(&[policy("*")], [call, call], catalog);
    assert_eq!((r.events, r.requests, r.not_evaluated_events), (6, 0, 6));
    assert_eq!(r.not_evaluated.len(), 1);
    assert_eq!(r.denied_events, 0);
}

#[test]
fn access_denied_codes_are_told_from_other_failures() {
    for code in [
        "AccessDenied",
        "AccessDeniedException",
        "Client.UnauthorizedOperation",
        "UnauthorizedOperation",
    ] {
        assert!(is_access_denied(code), "{code}");
    }
    for code in [
        "NoSuchKey",
        "ThrottlingException",
        "ValidationException",
        "ResourceNotFoundException",
    ] {
        assert!(!is_access_denied(code), "{code}");
    }
}
