//! CloudTrail logs read from, and state written to, S3 through an endpoint override,
//! against a real S3 implementation (moto_server) on 127.0.0.1.

mod common;
use common::*;

fn moto() -> Option<Moto> {
    moto_server(&[])
}

fn upload_dir(port: u16, bucket: &str, root: &std::path::Path, dir: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += upload_dir(port, bucket, root, &p);
        } else {
            let key = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let resp = http(
                port,
                "PUT",
                &format!("/{bucket}/{key}"),
                &std::fs::read(&p).unwrap(),
            );
            assert!(
                resp.starts_with("HTTP/1.1 200") || resp.starts_with("HTTP/1.0 200"),
                "{resp}"
            );
            n += 1;
        }
    }
    n
}

#[test]
fn a_trail_bucket_scans_into_an_s3_store_idempotently() {
    let Some(moto) = moto() else { return };
    for bucket in ["acme-trail", "agentward-state"] {
        let resp = http(moto.port, "PUT", &format!("/{bucket}"), b"");
        assert!(resp.contains(" 200 "), "{resp}");
    }
    let quickstart = repo_root().join("examples/support-agent/cloudtrail");
    let uploaded = upload_dir(moto.port, "acme-trail", &quickstart, &quickstart);
    assert_eq!(
        uploaded as u64,
        QUICKSTART_FILES + 1,
        "the log files and one digest"
    );

    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let config = dir.path().join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"s3://agentward-state/prod\"\nendpoint = \"{endpoint}\"\nregion = \"us-east-1\"\nallow_http = true\n\n\
             [[source]]\nname = \"trail\"\nkind = \"cloudtrail\"\nurl = \"s3://acme-trail/AWSLogs/\"\nendpoint = \"{endpoint}\"\nregion = \"us-east-1\"\nallow_http = true\n"
        ),
    )
    .unwrap();
    let scan = |args: &[&str]| {
        bin()
            .args(["--config", config.to_str().unwrap()])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap()
    };
    let first = scan(&["scan", "--format", "json"]);
    assert!(
        first.status.success(),
        "{}\n{}",
        stdout(&first),
        stderr(&first)
    );
    let summary: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(summary["sources"][0]["events"], QUICKSTART_RECORDS);
    assert_eq!(
        summary["sources"][0]["skipped_objects"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(summary["agents"][0]["name"], "customer-support-agent");

    let second = scan(&["scan", "--format", "json"]);
    let summary: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(
        summary["sources"][0]["files_already_scanned"],
        QUICKSTART_FILES
    );
    assert_eq!(summary["sources"][0]["records"], 0);

    let events = scan(&["events", "--format", "ocsf"]);
    assert!(events.status.success(), "{}", stderr(&events));
    let lines: Vec<&str> = std::str::from_utf8(&events.stdout)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(
        lines.len() as u64,
        QUICKSTART_RECORDS,
        "each event stored exactly once in the S3 store"
    );
    let verify = scan(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    assert!(
        stdout(&verify).contains("2 rows") || stdout(&verify).contains("rows"),
        "{}",
        stdout(&verify)
    );
}
