use super::*;
use serde_json::json;

fn decide(document: Value, action: &str, resource: &str, context: &[(&str, &[&str])]) -> Decision {
    let policy = Policy::parse("p", &document).unwrap();
    let context: Context = context
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect();
    evaluate(
        &[policy],
        &Request {
            action,
            resource,
            context: &context,
        },
    )
}

fn doc(statements: Value) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[test]
fn a_deny_wins_over_an_allow_and_names_its_statement() {
    let d = doc(json!([
        { "Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*" },
        { "Sid": "NoDaily", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/daily/*" },
    ]));
    assert_eq!(
        decide(d.clone(), "s3:PutObject", "arn:aws:s3:::b/daily/x", &[]),
        Decision::ExplicitlyDenied {
            by: "p#NoDaily".into()
        }
    );
    assert_eq!(
        decide(d, "s3:PutObject", "arn:aws:s3:::b/weekly/x", &[]),
        Decision::Allowed { by: "p#All".into() }
    );
}

#[test]
fn wildcards_stay_within_an_arn_part_and_the_resource_type() {
    let d = doc(json!({ "Effect": "Allow", "Action": "lambda:Invoke*",
        "Resource": "arn:aws:lambda:*:111122223333:function:support-*" }));
    let f = "arn:aws:lambda:us-east-1:111122223333:function:support-tools";
    assert!(decide(d.clone(), "lambda:InvokeFunction", f, &[]).allowed());
    assert!(decide(d.clone(), "LAMBDA:invokefunction", f, &[]).allowed());
    assert!(!decide(d.clone(), "lambda:GetFunction", f, &[]).allowed());
    // `*` in the region part does not reach into the account.
    let other = "arn:aws:lambda:us-east-1:444455556666:function:support-tools";
    assert!(!decide(d, "lambda:InvokeFunction", other, &[]).allowed());
    // The resource part is case-sensitive.
    let d = doc(
        json!({ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/Reports/*" }),
    );
    assert!(!decide(d, "s3:GetObject", "arn:aws:s3:::b/reports/x", &[]).allowed());
}

#[test]
fn conditions_missing_keys_and_set_qualifiers() {
    let d = doc(
        json!({ "Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "Condition": { "StringEquals": { "aws:RequestedRegion": ["us-east-1", "eu-west-1"] } } }),
    );
    let r = "arn:aws:s3:::b/k";
    assert!(
        decide(
            d.clone(),
            "s3:GetObject",
            r,
            &[("aws:RequestedRegion", &["eu-west-1"])]
        )
        .allowed()
    );
    assert!(
        !decide(
            d.clone(),
            "s3:GetObject",
            r,
            &[("aws:RequestedRegion", &["ap-south-1"])]
        )
        .allowed()
    );
    assert!(
        !decide(d, "s3:GetObject", r, &[]).allowed(),
        "a missing key does not match"
    );

    let not = doc(
        json!({ "Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "Condition": { "StringNotEquals": { "aws:PrincipalTag/team": "research" } } }),
    );
    assert!(
        decide(not, "s3:GetObject", r, &[]).allowed(),
        "a negated operator holds on a missing key"
    );

    let all = doc(
        json!({ "Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "Condition": { "ForAllValues:StringEquals": { "aws:CalledVia": ["athena.amazonaws.com"] } } }),
    );
    assert!(
        decide(all.clone(), "s3:GetObject", r, &[]).allowed(),
        "ForAllValues holds vacuously"
    );
    assert!(
        !decide(
            all,
            "s3:GetObject",
            r,
            &[(
                "aws:CalledVia",
                &["athena.amazonaws.com", "x.amazonaws.com"]
            )]
        )
        .allowed()
    );

    let null = doc(json!({ "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": { "Null": { "aws:SourceArn": "true" } } }));
    assert!(matches!(
        decide(null, "s3:GetObject", r, &[]),
        Decision::ExplicitlyDenied { .. }
    ));
}

#[test]
fn what_it_cannot_evaluate_is_refused() {
    let vars = doc(
        json!({ "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*" }),
    );
    assert!(matches!(
        Policy::parse("p", &vars),
        Err(EnforcerError::Unsupported(_))
    ));
    let ip = doc(
        json!({ "Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "Condition": { "IpAddress": { "aws:SourceIp": "10.0.0.0/8" } } }),
    );
    assert!(matches!(
        Policy::parse("p", &ip),
        Err(EnforcerError::Unsupported(_))
    ));
    let both = doc(
        json!({ "Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*" }),
    );
    assert!(matches!(
        Policy::parse("p", &both),
        Err(EnforcerError::Document { .. })
    ));
}
