use super::*;
use crate::location::{LocationSpec, open};
use crate::records::*;
use normalizer::Layer;
use std::io::Write;

fn record(i: usize, event_name: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE:export-tool","arn":"arn:aws:sts::111122223333:assumed-role/export-role/export-tool","accountId":"111122223333","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::111122223333:role/export-role","userName":"export-role"}}}}}},"eventTime":"2026-10-06T14:0{}:00Z","eventSource":"s3.amazonaws.com","eventName":"{event_name}","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.1","requestParameters":{{"bucketName":"exports","key":"records/{i}.json"}},"eventID":"ev-{i}","readOnly":false,"resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::exports/records/{i}.json"}}],"eventCategory":"Data","recipientAccountId":"111122223333"}}"#,
        i % 10
    )
}

fn file_of(records: &[String]) -> Vec<u8> {
    format!("{{\"Records\":[{}]}}", records.join(",")).into_bytes()
}

fn run(bytes: &[u8], max: usize) -> (FileCounts, Vec<Output>) {
    let mut mapper = Mapper::new("trail".into(), Attribution::default());
    let mut out = Vec::new();
    let counts = read_log(bytes, "f.json", &mut mapper, max, &mut |o| out.push(o))
        .expect("in-memory reads cannot fail");
    (counts, out)
}

fn quarantined(out: &[Output]) -> Vec<&Quarantined> {
    out.iter()
        .filter_map(|o| match o {
            Output::Quarantined(q) => Some(q),
            _ => None,
        })
        .collect()
}

#[test]
fn every_record_of_a_well_formed_file_becomes_an_event() {
    let recs: Vec<String> = (0..50).map(|i| record(i, "PutObject")).collect();
    let (counts, out) = run(&file_of(&recs), DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(
        counts,
        FileCounts {
            records: 50,
            events: 50,
            quarantined: 0
        }
    );
    let Output::Mapped(m) = &out[7] else {
        panic!("expected an event")
    };
    assert_eq!(m.event.uid, "ev-7");
    assert_eq!(m.event.action(), "s3:PutObject");
    assert_eq!(m.event.layer, Layer::IdentityApi);
    assert_eq!(
        m.event.targets[0].uid,
        "arn:aws:s3:::exports/records/7.json"
    );
    assert_eq!(
        m.event.principal.issuer.as_deref(),
        Some("arn:aws:iam::111122223333:role/export-role")
    );
}

#[test]
fn gzip_is_detected_from_content_and_read_in_small_reads() {
    let recs: Vec<String> = (0..2000).map(|i| record(i, "PutObject")).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&file_of(&recs)).unwrap();
    let bytes = gz.finish().unwrap();
    let (counts, _) = run(&bytes, DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(counts.events, 2000);
}

#[test]
fn malformed_non_utf8_and_huge_records_are_quarantined_and_their_neighbours_kept() {
    let mut recs: Vec<String> = (0..5).map(|i| record(i, "PutObject")).collect();
    recs[1] = r#"{"eventTime":"2026-10-06T14:00:00Z","eventSource":"s3.amazonaws.com"}"#.into(); // no eventName
    recs[3] = format!(r#"{{"pad":"{}"}}"#, "x".repeat(5000));
    recs.insert(2, "42".into());
    let mut bytes = file_of(&recs);
    // Invalid UTF-8 inside the last record's string.
    let pos = bytes.windows(4).rposition(|w| w == b"ev-4").unwrap();
    bytes[pos + 1] = 0xff;
    let (counts, out) = run(&bytes, 4096);
    assert_eq!(
        counts,
        FileCounts {
            records: 6,
            events: 2,
            quarantined: 4
        }
    );
    let q = quarantined(&out);
    assert!(q[0].reason.contains("eventName"), "{}", q[0].reason);
    assert_eq!(q[0].index, Some(1));
    assert!(q[1].reason.contains("not a JSON object"));
    assert!(
        q[2].reason.contains("exceeds the 4096-byte limit"),
        "{}",
        q[2].reason
    );
    assert_eq!(q[2].size, 5010);
    assert!(
        q[3].reason.to_lowercase().contains("utf-8") || q[3].reason.contains("unicode"),
        "{}",
        q[3].reason
    );
}

#[test]
fn a_truncated_file_keeps_the_complete_records_and_quarantines_the_rest() {
    let recs: Vec<String> = (0..10).map(|i| record(i, "PutObject")).collect();
    let bytes = file_of(&recs);
    let cut = &bytes[..bytes.len() - 300];
    let (counts, out) = run(cut, DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(counts.events, 9);
    let q = quarantined(&out);
    assert_eq!(q.len(), 1);
    assert!(q[0].reason.contains("truncated"), "{}", q[0].reason);
    assert_eq!(q[0].index, Some(9));
}

#[test]
fn a_file_that_is_not_a_trail_log_is_reported_not_skipped() {
    for (bytes, want) in [
        (&b""[..], "empty"),
        (&b"[1,2]"[..], "not a JSON object"),
        (&br#"{"digestStartTime":"x"}"#[..], "no \"Records\""),
        (&br#"{"Records":[{"a":1}] garbage"#[..], "expected"),
    ] {
        let (_, out) = run(bytes, DEFAULT_MAX_RECORD_BYTES);
        let q = quarantined(&out);
        let last = q.last().unwrap_or_else(|| {
            panic!("nothing quarantined for {}", String::from_utf8_lossy(bytes))
        });
        assert!(
            last.reason.contains(want),
            "{:?} lacks {want:?}",
            last.reason
        );
        assert_eq!(
            last.index, None,
            "damage to the file is not pinned on one record"
        );
    }
    let (counts, out) = run(br#"{"Records":[]}"#, DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(counts, FileCounts::default());
    assert!(out.is_empty());
}

#[tokio::test]
async fn listing_skips_digests_and_other_files_by_name_and_orders_by_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("AWSLogs/111122223333");
    let day = base.join("CloudTrail/us-east-1/2026/10/06");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(base.join("CloudTrail-Digest/us-east-1/2026/10/06")).unwrap();
    std::fs::write(
        day.join("111122223333_CloudTrail_us-east-1_20261006T1410Z_b.json.gz"),
        b"x",
    )
    .unwrap();
    std::fs::write(
        day.join("111122223333_CloudTrail_us-east-1_20261006T1405Z_z.json"),
        b"x",
    )
    .unwrap();
    std::fs::write(day.join("notes.txt"), b"x").unwrap();
    std::fs::write(
        base.join("CloudTrail-Digest/us-east-1/2026/10/06/d.json.gz"),
        b"x",
    )
    .unwrap();
    let source = open(
        &LocationSpec {
            url: dir.path().display().to_string(),
            ..LocationSpec::default()
        },
        dir.path(),
        false,
    )
    .unwrap();
    let listing = list(&source).await.unwrap();
    let names: Vec<&str> = listing
        .files
        .iter()
        .map(|f| f.key.rsplit('_').next().unwrap())
        .collect();
    assert_eq!(names, ["z.json", "b.json.gz"]);
    assert_eq!(listing.skipped.len(), 2);
    assert!(listing.skipped.iter().any(|s| s.reason.contains("digest")));
    assert_eq!(
        file_day(&listing.files[0].key).unwrap().0.utc_date(),
        "2026-10-06"
    );
}

#[test]
fn a_failing_transport_is_an_error_not_a_quarantine() {
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("connection reset by store"));
            }
            self.0 -= 1;
            let bytes = br#"{"Records":["#;
            out[..bytes.len()].copy_from_slice(bytes);
            Ok(bytes.len())
        }
    }
    let mut mapper = Mapper::new("trail".into(), Attribution::default());
    let err = read_log(Failing(1), "f.json", &mut mapper, 4096, &mut |_| {
        panic!("nothing to emit")
    })
    .unwrap_err();
    assert!(err.reason.contains("connection reset"));
}

fn ct(
    name: &str,
    source: &str,
    identity: &str,
    params: &str,
    response: &str,
    extra: &str,
) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{identity},"eventTime":"2026-10-06T10:00:00Z","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","requestParameters":{params},"responseElements":{response},"eventID":"{name}-{}","recipientAccountId":"111122223333"{extra}}}"#,
        params.len()
    )
}

const ADMIN: &str =
    r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/admin","accountId":"111122223333"}"#;

fn role(role: &str, session: &str) -> String {
    format!(
        r#"{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/{role}/{session}","accountId":"111122223333","sessionContext":{{"sessionIssuer":{{"arn":"arn:aws:iam::111122223333:role/{role}"}}}}}}"#
    )
}

fn map_all(mapper: &mut Mapper, records: &[String]) -> Vec<Mapped> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            mapper
                .map("f.json", i as u64, r.as_bytes())
                .unwrap_or_else(|e| panic!("{e}: {r}"))
        })
        .collect()
}

#[test]
fn the_control_plane_teaches_which_calls_are_the_agents() {
    let mut mapper = Mapper::new("trail".into(), Attribution::default());
    let key = |m: &Mapped| m.event.agent.as_ref().map(|a| a.id.clone());
    let setup = map_all(
        &mut mapper,
        &[
            ct(
                "CreateAgent",
                "bedrock.amazonaws.com",
                ADMIN,
                r#"{"agentName":"support","foundationModel":"m1","agentResourceRoleArn":"arn:aws:iam::111122223333:role/agent-role"}"#,
                r#"{"agent":{"agentId":"AG1","agentName":"support","foundationModel":"m1","agentResourceRoleArn":"arn:aws:iam::111122223333:role/agent-role"}}"#,
                "",
            ),
            ct(
                "CreateAgentActionGroup",
                "bedrock.amazonaws.com",
                ADMIN,
                r#"{"agentId":"AG1","actionGroupName":"export","actionGroupExecutor":{"lambda":"arn:aws:lambda:us-east-1:111122223333:function:export-fn"}}"#,
                "null",
                "",
            ),
            ct(
                "AssociateAgentKnowledgeBase",
                "bedrock.amazonaws.com",
                ADMIN,
                r#"{"agentId":"AG1","knowledgeBaseId":"KB1"}"#,
                "null",
                "",
            ),
        ],
    );
    assert!(
        setup
            .iter()
            .all(|m| m.event.layer == Layer::Control && key(m).as_deref() == Some("AG1"))
    );
    let facts: Vec<String> = setup
        .iter()
        .flat_map(|m| m.observations.iter().map(|o| format!("{:?}", o.fact)))
        .collect();
    assert!(
        facts.iter().any(|f| f.contains("DeclaredModel(\"m1\")")),
        "{facts:?}"
    );
    assert!(facts.iter().any(|f| f.contains("export-fn")), "{facts:?}");
    let deleted = map_all(
        &mut mapper,
        &[ct(
            "DeleteAgent",
            "bedrock.amazonaws.com",
            ADMIN,
            r#"{"agentId":"AG1","skipResourceInUseCheck":false}"#,
            r#"{"agentId":"AG1","agentStatus":"DELETING"}"#,
            "",
        )],
    );
    assert_eq!(
        deleted[0]
            .observations
            .iter()
            .map(|o| (&o.agent.id, &o.fact))
            .collect::<Vec<_>>(),
        [(
            &"AG1".to_string(),
            &normalizer::inventory::Fact::AgentDeleted("DeleteAgent".into())
        )]
    );

    let activity = map_all(
        &mut mapper,
        &[
            ct(
                "Invoke",
                "lambda.amazonaws.com",
                r#"{"type":"AWSService","invokedBy":"bedrock.amazonaws.com"}"#,
                r#"{"functionName":"arn:aws:lambda:us-east-1:111122223333:function:export-fn"}"#,
                "null",
                "",
            ),
            ct(
                "PutObject",
                "s3.amazonaws.com",
                &role("tools-role", "export-fn"),
                r#"{"bucketName":"b","key":"k"}"#,
                "null",
                "",
            ),
            ct(
                "InvokeModel",
                "bedrock.amazonaws.com",
                &role("agent-role", "s1"),
                r#"{"modelId":"m2"}"#,
                "null",
                "",
            ),
            ct(
                "Retrieve",
                "bedrock.amazonaws.com",
                &role("app", "x"),
                r#"{"knowledgeBaseId":"KB1"}"#,
                "null",
                "",
            ),
            ct(
                "GetObject",
                "s3.amazonaws.com",
                &role("someone-else", "y"),
                r#"{"bucketName":"b","key":"k"}"#,
                "null",
                "",
            ),
            ct(
                "DescribeWidgets",
                "widgets.example.com",
                &role("someone-else", "y"),
                "null",
                "null",
                "",
            ),
        ],
    );
    assert_eq!(activity[0].event.layer, Layer::ToolInvocation);
    assert_eq!(key(&activity[0]).as_deref(), Some("AG1"));
    assert_eq!(
        key(&activity[1]).as_deref(),
        Some("AG1"),
        "the tool Lambda's own calls are the agent's"
    );
    assert_eq!(activity[1].event.targets[0].uid, "arn:aws:s3:::b/k");
    assert_eq!(
        key(&activity[2]).as_deref(),
        Some("AG1"),
        "the agent role's model call"
    );
    assert_eq!(activity[2].event.model.as_deref(), Some("m2"));
    assert!(
        matches!(&activity[2].observations[0].fact, normalizer::inventory::Fact::ModelInvoked(m) if m == "m2")
    );
    assert_eq!(
        key(&activity[3]).as_deref(),
        Some("AG1"),
        "retrieval from the agent's knowledge base"
    );
    assert_eq!(
        activity[3].event.targets[0].kind.as_deref(),
        Some("AWS::Bedrock::KnowledgeBase")
    );
    assert_eq!(key(&activity[4]), None);
    assert_eq!(
        activity[5].event.action(),
        "widgets:DescribeWidgets",
        "unknown services still become events"
    );

    // Once a second agent shares the role, the role alone no longer says which agent acted.
    map_all(
        &mut mapper,
        &[ct(
            "UpdateAgent",
            "bedrock.amazonaws.com",
            ADMIN,
            r#"{"agentId":"AG2","agentName":"other","agentResourceRoleArn":"arn:aws:iam::111122223333:role/agent-role"}"#,
            "null",
            "",
        )],
    );
    let shared = map_all(
        &mut mapper,
        &[ct(
            "InvokeModel",
            "bedrock.amazonaws.com",
            &role("agent-role", "s2"),
            r#"{"modelId":"m2"}"#,
            "null",
            "",
        )],
    );
    assert_eq!(key(&shared[0]), None);
}
