use super::*;

fn seen(count: u64, first: i64, last: i64) -> Seen {
    Seen {
        first: Timestamp(first),
        last: Timestamp(last),
        count,
        windows: Default::default(),
    }
}

fn catalog() -> &'static Catalog {
    Catalog::aws().unwrap()
}

const EXPORTS: &str = "arn:aws:s3:::acme-support-exports/weekly/*";

#[test]
fn a_write_to_one_prefix_becomes_one_statement_traced_to_its_calls() {
    let puts = seen(2640, 1_000, 9_000);
    let policy = identity_policy(
        "111122223333/support-agent-tools",
        [Observed {
            call: "s3:PutObject",
            resource: EXPORTS,
            seen: &puts,
        }],
        &BTreeMap::new(),
        catalog(),
    );
    assert!(policy.unknown.is_empty());
    assert_eq!(policy.statements.len(), 1);
    let s = &policy.statements[0];
    assert_eq!(s.actions, ["s3:PutObject"]);
    assert_eq!(s.resources, [EXPORTS]);
    assert!(!s.resource_unnamed);
    assert_eq!(
        s.trace,
        Trace {
            behaviors: vec![format!("s3:PutObject on {EXPORTS}")],
            events: 2640,
            first: Timestamp(1_000),
            last: Timestamp(9_000),
            windows: BTreeSet::new(),
        }
    );
    assert_eq!(
        policy.document(),
        serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "s3PutObject", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [EXPORTS]
        }]})
    );
}

#[test]
fn a_call_needing_two_actions_grants_both_and_counts_its_events_once() {
    let copies = seen(7, 5, 50);
    let policy = identity_policy(
        "r",
        [Observed {
            call: "s3:CopyObject",
            resource: EXPORTS,
            seen: &copies,
        }],
        &BTreeMap::new(),
        catalog(),
    );
    assert_eq!(policy.statements.len(), 1);
    let s = &policy.statements[0];
    assert_eq!(s.actions, ["s3:GetObject", "s3:PutObject"]);
    assert_eq!(s.trace.events, 7);
    assert_eq!(s.sid, "s3GetObjectAnd1More");
}

#[test]
fn calls_are_granted_by_their_catalog_action_and_an_unknown_one_only_said() {
    let invokes = seen(357, 10, 20);
    let versions = seen(3, 1, 2);
    let lists = seen(4, 3, 30);
    let function = "arn:aws:lambda:us-east-1:111122223333:function:ticket-lookup";
    let observed = [
        Observed {
            call: "lambda:Invoke",
            resource: function,
            seen: &invokes,
        },
        Observed {
            call: "bedrock:CreateAgentVersion",
            resource: "*",
            seen: &versions,
        },
        Observed {
            call: "s3:ListObjects",
            resource: "*",
            seen: &lists,
        },
    ];
    let policy = identity_policy("r", observed, &BTreeMap::new(), catalog());
    assert_eq!(policy.unknown.len(), 1, "{:?}", policy.unknown);
    assert!(policy.unknown[0].to_string().contains("CreateAgentVersion"));
    let actions: Vec<&str> = policy
        .statements
        .iter()
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .collect();
    assert_eq!(actions, ["s3:ListBucket", "lambda:InvokeFunction"]);
    for a in &actions {
        assert!(
            catalog().action(a).is_some(),
            "{a} emitted but not in the catalog"
        );
    }
    let unnamed = &policy.statements[0];
    assert!(unnamed.resource_unnamed);
    assert_eq!(unnamed.resources, ["*"]);
    assert_eq!(policy.statements[1].resources, [function]);
    assert!(policy.statements.iter().all(|s| {
        !s.trace
            .behaviors
            .iter()
            .any(|b| b.contains("CreateAgentVersion"))
    }));
}

#[test]
fn actions_on_the_same_resources_share_a_statement_and_others_do_not() {
    let a = seen(1, 1, 1);
    let b = seen(2, 2, 2);
    let c = seen(3, 3, 3);
    let bucket = "arn:aws:s3:::acme-support-exports";
    let policy = identity_policy(
        "r",
        [
            Observed {
                call: "s3:GetObject",
                resource: EXPORTS,
                seen: &a,
            },
            Observed {
                call: "s3:PutObject",
                resource: EXPORTS,
                seen: &b,
            },
            Observed {
                call: "s3:ListObjectsV2",
                resource: bucket,
                seen: &c,
            },
        ],
        &BTreeMap::new(),
        catalog(),
    );
    let shapes: Vec<(Vec<String>, Vec<String>, u64)> = policy
        .statements
        .iter()
        .map(|s| (s.actions.clone(), s.resources.clone(), s.trace.events))
        .collect();
    assert_eq!(
        shapes,
        [
            (vec!["s3:ListBucket".into()], vec![bucket.into()], 3),
            (
                vec!["s3:GetObject".into(), "s3:PutObject".into()],
                vec![EXPORTS.into()],
                3
            ),
        ]
    );
}

#[test]
fn only_the_roles_own_actions_are_read_from_a_baseline() {
    let s = seen(1, 1, 1);
    let mine = Behavior::ActionAs {
        role: "a/r".into(),
        action: "s3:PutObject".into(),
        resource: EXPORTS.into(),
    };
    let theirs = Behavior::ActionAs {
        role: "a/other".into(),
        action: "s3:GetObject".into(),
        resource: EXPORTS.into(),
    };
    let any = Behavior::ActionOn {
        action: "s3:DeleteObject".into(),
        resource: EXPORTS.into(),
    };
    let all = [(&mine, &s), (&theirs, &s), (&any, &s)];
    let calls: Vec<&str> = observed_as("a/r", all.into_iter())
        .map(|o| o.call)
        .collect();
    assert_eq!(calls, ["s3:PutObject"]);
}

#[test]
fn trailing_wildcard_segments_become_one_and_the_widening_is_said() {
    assert_eq!(
        fewest_wildcards("arn:aws:s3:::b/weekly/*/*"),
        "arn:aws:s3:::b/weekly/*"
    );
    assert_eq!(
        fewest_wildcards("arn:aws:s3:::b/weekly/*/*/*"),
        "arn:aws:s3:::b/weekly/*"
    );
    assert_eq!(
        fewest_wildcards("arn:aws:s3:::b/weekly/*"),
        "arn:aws:s3:::b/weekly/*"
    );
    assert_eq!(
        fewest_wildcards("arn:aws:s3:::b/*/x/*"),
        "arn:aws:s3:::b/*/x/*"
    );
    assert_eq!(fewest_wildcards("*"), "*");
    let puts = seen(2640, 1, 2);
    let policy = identity_policy(
        "r",
        [Observed {
            call: "s3:PutObject",
            resource: "arn:aws:s3:::acme-support-exports/weekly/*/*",
            seen: &puts,
        }],
        &BTreeMap::new(),
        catalog(),
    );
    let s = &policy.statements[0];
    assert_eq!(s.resources, [EXPORTS]);
    assert_eq!(
        s.widened,
        [
            "arn:aws:s3:::acme-support-exports/weekly/*/* → arn:aws:s3:::acme-support-exports/weekly/*"
        ]
    );
    assert_eq!(
        s.trace.behaviors,
        ["s3:PutObject on arn:aws:s3:::acme-support-exports/weekly/*/*"]
    );
}

#[test]
fn confidence_is_judged_against_the_windows_the_agent_was_seen_in() {
    let observation: BTreeMap<i64, u64> = (0..10).map(|w| (w, 5)).collect();
    let level = |seen: &[i64]| Confidence::of(&seen.iter().copied().collect(), &observation);
    assert_eq!(level(&(0..10).collect::<Vec<_>>()).level, Level::Steady);
    let weekly = level(&[0, 7]);
    assert_eq!(
        (weekly.level, weekly.windows_seen, weekly.windows_observed),
        (Level::Recurring, 2, 10)
    );
    assert_eq!(level(&[4]).level, Level::Review);
    // Windows the baseline no longer tracks for a behavior are not absences.
    let long: BTreeMap<i64, u64> = (0..TRACKED_WINDOWS + 30).map(|w| (w, 1)).collect();
    let all: BTreeSet<i64> = (0..TRACKED_WINDOWS).collect();
    assert_eq!(Confidence::of(&all, &long).level, Level::Steady);
}
