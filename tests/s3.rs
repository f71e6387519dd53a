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

/// A probe's spool shipped to S3 (`probe run --ship-to s3://…` runs this pass each flush):
/// finished files move, files being written and the status stay; a destination that
/// refuses leaves every file in place; a scan reads the shipped spool from the bucket.
#[test]
fn a_probe_spool_is_shipped_to_s3_whole_and_scanned_from_there() {
    let Some(moto) = moto() else { return };
    let resp = http(moto.port, "PUT", "/agent-spool", b"");
    assert!(resp.contains(" 200 "), "{resp}");
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let example = repo_root().join("examples/selfhosted-agent/spool");
    let mut days = 0;
    let mut files = 0;
    for day in ["2026-11-01", "2026-11-02"] {
        std::fs::create_dir_all(spool.join(day)).unwrap();
        for f in std::fs::read_dir(example.join(day)).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, spool.join(day).join(f.file_name().unwrap())).unwrap();
            files += 1;
        }
        days += 1;
    }
    std::fs::write(
        spool.join("2026-11-02/.node-eu-1a-1-000009.jsonl.gz.tmp"),
        b"half",
    )
    .unwrap();
    std::fs::create_dir_all(spool.join("status")).unwrap();
    std::fs::write(spool.join("status/node-eu-1a.json"), b"{}").unwrap();

    connectors::rest::use_ring_for_tls();
    let opened = |port: u16| connectors::location::Opened {
        store: std::sync::Arc::new(
            object_store::aws::AmazonS3Builder::new()
                .with_bucket_name("agent-spool")
                .with_endpoint(format!("http://127.0.0.1:{port}"))
                .with_allow_http(true)
                .with_region("us-east-1")
                .with_access_key_id("testing")
                .with_secret_access_key("testing")
                .with_virtual_hosted_style_request(false)
                .with_retry(object_store::RetryConfig {
                    max_retries: 0,
                    ..object_store::RetryConfig::default()
                })
                .build()
                .unwrap(),
        ),
        prefix: object_store::path::Path::from("node-eu-1a"),
        display: "s3://agent-spool/node-eu-1a".into(),
    };
    // Nothing listens on port 9: the pass fails and every file stays.
    let refused = block_on(connectors::probe::ship_spool(&spool, &opened(9)));
    assert!(refused.is_err());
    let left = |d: &str| std::fs::read_dir(spool.join(d)).unwrap().count();
    assert_eq!(left("2026-11-01") + left("2026-11-02"), files + 1);

    let shipped = block_on(connectors::probe::ship_spool(&spool, &opened(moto.port))).unwrap();
    assert_eq!(shipped.files, files);
    assert_eq!(
        (left("2026-11-01"), left("2026-11-02")),
        (0, 1),
        "the file being written stays"
    );
    assert!(spool.join("status/node-eu-1a.json").exists());
    assert_eq!(days, 2);

    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let config = dir.path().join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = {:?}\n\n[[source]]\nname = \"node-eu-1a\"\nkind = \"probe-spool\"\nurl = \"s3://agent-spool/node-eu-1a\"\nendpoint = \"{endpoint}\"\nregion = \"us-east-1\"\nallow_http = true\n",
            dir.path().join("store").display().to_string()
        ),
    )
    .unwrap();
    let out = scan_with_credentials(&config);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["sources"][0]["files"], files as u64,
        "{}",
        summary["sources"][0]
    );
    assert_eq!(summary["sources"][0]["quarantined"], 0);
    assert!(summary["sources"][0]["events"].as_u64().unwrap() > 0);
}
