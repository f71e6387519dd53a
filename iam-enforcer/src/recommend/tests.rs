use super::*;
use serde_json::json;

fn inventory() -> AgentInventory {
    let record = json!({"kind": "provider_api", "record": {"source": "api", "object": "bedrock-agent:GetAgent A1", "index": 0}});
    serde_json::from_value(json!({
        "agent": {"provider": "aws", "scope": "111122223333", "location": "us-east-1", "id": "A1"},
        "first_seen": 0, "last_changed": 0,
        "declared_model": {"value": "amazon.nova-lite-v1:0", "since": 5, "provenance": record},
        "models_invoked": [], "tools": [], "versions": [], "aliases": [],
        "knowledge_bases": [
            {"value": "KB1", "since": 5, "provenance": record},
            {"value": "KB2", "since": 5, "provenance": record},
        ],
    }))
    .unwrap()
}

fn grants(document: serde_json::Value) -> Result<Current, EnforcerError> {
    Ok(Current {
        policies: vec![Policy::parse("now", &document).unwrap()],
        boundary: None,
    })
}

#[test]
fn what_the_configuration_implies_is_inferred_only_where_granted_now() {
    let inv = inventory();
    let mut policy = IdentityPolicy {
        role: "r".into(),
        statements: Vec::new(),
        unknown: Vec::new(),
    };
    let now = grants(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"},
        {"Effect": "Allow", "Action": "bedrock:Retrieve", "Resource": "arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KB1"},
    ]}));
    let notes = infer(&mut policy, &inv, &inv.agent, &now);
    let added: Vec<(&str, &str)> = policy
        .statements
        .iter()
        .map(|s| (s.actions[0].as_str(), s.resources[0].as_str()))
        .collect();
    assert_eq!(
        added,
        [
            (
                "bedrock:InvokeModel",
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"
            ),
            (
                "bedrock:Retrieve",
                "arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KB1"
            ),
        ]
    );
    assert!(
        policy
            .statements
            .iter()
            .all(|s| matches!(&s.basis, Basis::Inferred { fact } if fact.contains("GetAgent A1")))
    );
    // KB2 is associated but not granted: said, not added.
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("KB2") && notes[0].contains("not granted"));

    // Grants that cannot be read: nothing added, each said unverified.
    let mut empty = IdentityPolicy {
        role: "r".into(),
        statements: Vec::new(),
        unknown: Vec::new(),
    };
    let notes = infer(
        &mut empty,
        &inv,
        &inv.agent,
        &Err(EnforcerError::Unusable {
            subject: "inline policy p".into(),
            reason: "it could not be read".into(),
        }),
    );
    assert!(empty.statements.is_empty());
    assert_eq!(notes.len(), 3);
    assert!(notes.iter().all(|n| n.contains("unverified")));
}

fn episode(class: &str, accepted: bool, behavior: serde_json::Value) -> Episode {
    serde_json::from_value(json!({
        "uid": format!("agentward:drift:x:{class}"),
        "agent": {"provider": "aws", "scope": "1", "location": "us-east-1", "id": "A1"},
        "window_start": 0, "window_end": 1, "first": 0,
        "departures": [{"kind": "new_behavior", "behavior": behavior, "first": 0, "count": 3}],
        "continuity": {"continuity": "burst", "windows_after": 4},
        "bounds": {"bounds": "within"},
        "class": if class == "unclassified" { json!({"class": class, "reason": "r"}) } else { json!({"class": class}) },
        "explanation": "", "accepted": accepted,
    }))
    .unwrap()
}

#[test]
fn the_new_behavior_of_an_open_drift_episode_is_withheld() {
    let exfil = json!({"kind": "action_as", "role": "r", "action": "s3:PutObject", "resource": "arn:aws:s3:::paste-bin/*"});
    let model = json!({"kind": "action_on", "action": "bedrock:InvokeModel", "resource": "m"});
    let episodes = [
        episode("risky_drift", false, exfil.clone()),
        episode("evolution", false, model),
        episode(
            "risky_drift",
            true,
            json!({"kind": "action", "action": "s3:DeleteObject"}),
        ),
    ];
    let open = open_departures(&episodes);
    assert_eq!(
        open.len(),
        1,
        "evolutions and accepted episodes are part of the envelope"
    );
    let hit = withholding(&open, "s3:PutObject", "arn:aws:s3:::paste-bin/*").unwrap();
    assert_eq!(hit.uid, "agentward:drift:x:risky_drift");
    assert!(withholding(&open, "s3:PutObject", "arn:aws:s3:::exports/*").is_none());
    assert!(withholding(&open, "bedrock:InvokeModel", "m").is_none());
    assert!(withholding(&open, "s3:DeleteObject", "x").is_none());
    // A call is matched on the resource the baseline keys it by.
    let resources = [
        crate::replay::Resource {
            arn: "arn:aws:s3:::paste-bin".into(),
            kind: None,
        },
        crate::replay::Resource {
            arn: "arn:aws:s3:::paste-bin/2026-11-11/dump.json".into(),
            kind: None,
        },
    ];
    let call = Call {
        call: "s3:PutObject",
        resources: &resources,
        region: None,
        time: Timestamp(0),
        proof: "",
        count: 1,
        refused: false,
    };
    assert_eq!(
        authorized_resource(&call),
        "arn:aws:s3:::paste-bin/*/dump.json"
    );
    // A behavior AWS refused every call of is told from one it refused once.
    let refused = Call {
        refused: true,
        ..call
    };
    let other = [crate::replay::Resource {
        arn: "arn:aws:s3:::b/k".into(),
        kind: None,
    }];
    let fine = Call {
        resources: &other,
        ..call
    };
    let once = Call {
        resources: &other,
        refused: true,
        ..call
    };
    let tally = refused_behaviors(&[refused, refused, fine, once]);
    assert_eq!(
        tally.into_iter().collect::<Vec<_>>(),
        [(
            "s3:PutObject on arn:aws:s3:::paste-bin/*/dump.json".to_string(),
            2
        )]
    );
}

#[test]
fn statements_are_pinned_to_the_regions_all_their_calls_were_made_in() {
    let seen = normalizer::baseline::Seen {
        first: Timestamp(1),
        last: Timestamp(2),
        count: 3,
        windows: Default::default(),
    };
    let model = "arn:aws:bedrock:us-east-1::foundation-model/m";
    let table = "arn:aws:dynamodb:us-east-1:1:table/t";
    let bucket = "arn:aws:s3:::b/k";
    let observed = [
        crate::aws_policy::Observed {
            call: "bedrock:InvokeModel",
            resource: model,
            seen: &seen,
        },
        crate::aws_policy::Observed {
            call: "dynamodb:GetItem",
            resource: table,
            seen: &seen,
        },
        crate::aws_policy::Observed {
            call: "s3:GetObject",
            resource: bucket,
            seen: &seen,
        },
    ];
    let mut policy = identity_policy("r", observed, &Default::default(), Catalog::aws().unwrap());
    let r = |arn: &str| {
        vec![crate::replay::Resource {
            arn: arn.into(),
            kind: None,
        }]
    };
    let (m, t, b) = (r(model), r(table), r(bucket));
    let call = |name, resources, region| Call {
        call: name,
        resources,
        region,
        time: Timestamp(1),
        proof: "",
        count: 1,
        refused: false,
    };
    let calls = [
        call("bedrock:InvokeModel", &m, Some("us-east-1")),
        call("bedrock:InvokeModel", &m, Some("us-west-2")),
        call("dynamodb:GetItem", &t, Some("us-east-1")),
        call("dynamodb:GetItem", &t, None),
        call("s3:GetObject", &b, Some("us-east-1")),
    ];
    pin_regions(&mut policy, &calls);
    let condition = |action: &str| {
        let s = policy
            .statements
            .iter()
            .find(|s| s.actions == [action])
            .unwrap();
        s.conditions
            .get("StringEquals")
            .and_then(|c| c.get("aws:RequestedRegion"))
            .cloned()
    };
    assert_eq!(
        condition("bedrock:InvokeModel"),
        Some(vec!["us-east-1".to_string(), "us-west-2".to_string()])
    );
    assert_eq!(
        condition("dynamodb:GetItem"),
        None,
        "a call without a region: not pinned"
    );
    assert_eq!(
        condition("s3:GetObject"),
        None,
        "S3 logs the bucket's region: not pinned"
    );
    // The condition is in the document, and a call from elsewhere is denied by it.
    let doc = Policy::parse("p", &policy.document()).unwrap();
    let eu = call("bedrock:InvokeModel", &m, Some("eu-west-1"));
    let radius = replay(&[doc], [calls[0], eu], Catalog::aws().unwrap());
    assert_eq!(radius.denied_events, 1);
}

#[test]
fn an_observed_statement_already_covering_it_needs_no_inference() {
    let inv = inventory();
    let seen = normalizer::baseline::Seen {
        first: Timestamp(1),
        last: Timestamp(2),
        count: 3,
        windows: Default::default(),
    };
    let observed = [crate::aws_policy::Observed {
        call: "bedrock:InvokeModel",
        resource: "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
        seen: &seen,
    }];
    let mut policy = identity_policy("r", observed, &Default::default(), Catalog::aws().unwrap());
    let now = grants(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"},
    ]}));
    infer(&mut policy, &inv, &inv.agent, &now);
    let inferred: Vec<&str> = policy
        .statements
        .iter()
        .filter(|s| s.basis != Basis::Observed)
        .map(|s| s.resources[0].as_str())
        .collect();
    assert_eq!(
        inferred,
        [
            "arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KB1",
            "arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KB2",
        ]
    );
    assert_eq!(
        model_arn("us.anthropic.claude-3-5-haiku-20241022-v1:0", &inv.agent),
        "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
    );
}
