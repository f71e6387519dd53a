//! The scan end to end, through the real binary: the quickstart, rescans, crashes,
//! concurrent scanners, damaged input and partial sources.

mod common;
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn quickstart_config() -> std::path::PathBuf {
    repo_root().join("examples/support-agent/agentward.toml")
}

#[test]
fn quickstart_scan_names_the_support_agent_its_layers_and_what_cannot_be_seen() {
    let store = tempfile::tempdir().unwrap();
    let out = run(&[
        "--config",
        quickstart_config().to_str().unwrap(),
        "--store",
        store.path().to_str().unwrap(),
        "scan",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("aws.111122223333.us-east-1.K7QX2M4TZP  \"customer-support-agent\""),
        "{text}"
    );
    assert!(
        text.contains("4,653 records, 4,653 events, 0 quarantined"),
        "{text}"
    );
    assert!(
        text.contains("CloudTrail digest file"),
        "digest must be reported as skipped:\n{text}"
    );
    for (layer, status) in [
        ("kernel", "unavailable"),
        ("network", "unavailable"),
        (
            "prompt",
            "observed              via Bedrock model invocation logs",
        ),
        ("tool_invocation", "observed"),
        ("identity_api", "observed"),
        ("control", "observed"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(layer) && l.contains(status)),
            "{layer} should be {status}:\n{text}"
        );
    }
    // The 2,400 records of the breach are there, attributed to the agent.
    let events = run(&[
        "--store",
        store.path().to_str().unwrap(),
        "events",
        "--since",
        "2026-11-12T14:00:00Z",
        "--until",
        "2026-11-12T15:00:00Z",
        "--agent",
        "aws.111122223333.us-east-1.K7QX2M4TZP",
    ]);
    let puts = stdout(&events)
        .lines()
        .filter(|l| l.contains("s3:PutObject"))
        .count();
    assert_eq!(puts, 2400);

    let findings = stdout(&run(&[
        "--store",
        store.path().to_str().unwrap(),
        "findings",
    ]));
    assert!(findings.ends_with("16 findings\n"), "{findings}");
    // The recorded APIs: what prod runs, with its guardrail's contents, and the findings
    // on it.
    assert!(
        text.contains("recording/support-account-api): 71 API calls; 2 Bedrock agents (4 versions read in full)"),
        "{text}"
    );
    assert!(
        text.contains(
            "tool_invocation  not applicable        support-account-api: the agent has no tools"
        ),
        "the API shows the research agent has no tools, so no tool layer is missing:\n{text}"
    );
    for expected in [
        "v2 (routed by prod): guardrail gr-support-pii v1 does not filter prompt attacks",
        "v1 (routed by prod) runs with no guardrail",
    ] {
        assert!(findings.contains(expected), "{expected:?} in {findings}");
    }
    let inventory = stdout(&run(&[
        "--store",
        store.path().to_str().unwrap(),
        "inventory",
    ]));
    for expected in [
        "live v2         routed by prod",
        "draft differs from what prod runs (v2):",
        "tools: +order-status.issueRefund",
        "source resolved-tickets (S3): arn:aws:s3:::acme-support-kb/tickets/resolved/",
        "no prompt-attack filter on input",
    ] {
        assert!(inventory.contains(expected), "{expected:?} in {inventory}");
    }
    assert!(findings.contains("risky drift on 2026-11-12"), "{findings}");
    assert!(
        !findings.contains("prompt layer"),
        "the invocation logs close the prompt gap: {findings}"
    );

    // The model in force before and after the week-five update.
    let before = stdout(&run(&[
        "--store",
        store.path().to_str().unwrap(),
        "inventory",
        "--at",
        "2026-10-20",
    ]));
    let after = stdout(&run(&[
        "--store",
        store.path().to_str().unwrap(),
        "inventory",
        "--at",
        "2026-11-01",
    ]));
    let declared = |t: &str| {
        t.lines()
            .find(|l| l.contains("declared model"))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        declared(&before).contains("anthropic.claude-3-haiku-20240307-v1:0"),
        "{before}"
    );
    assert!(
        declared(&after).contains("anthropic.claude-3-5-haiku-20241022-v1:0"),
        "{after}"
    );
    assert!(
        after.contains("prod (PRDALIAS01) → version 2")
            && before.contains("prod (PRDALIAS01) → version 1")
    );
}

#[test]
fn rescanning_the_same_logs_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    let records = write_trail(&trail, 6, 500, 0);
    let store = dir.path().join("store");
    let config = write_config(dir.path(), &store, &[("t", &trail)]);
    let first = run(&[
        "--config",
        config.to_str().unwrap(),
        "scan",
        "--format",
        "json",
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let uids = stored_event_uids(&store);
    assert_eq!(uids.len() as u64, records);

    let second = run(&[
        "--config",
        config.to_str().unwrap(),
        "scan",
        "--format",
        "json",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(summary["sources"][0]["files_already_scanned"], 6);
    assert_eq!(summary["sources"][0]["records"], 0);
    assert_eq!(stored_event_uids(&store), uids);

    // A new log file arriving later is picked up, and only it.
    write_trail(&trail, 1, 10, 1_000_000);
    let third = run(&[
        "--config",
        config.to_str().unwrap(),
        "scan",
        "--format",
        "json",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&third.stdout).unwrap();
    assert_eq!(summary["sources"][0]["records"], 10);
    let after = stored_event_uids(&store);
    assert_eq!(after.len() as u64, records + 10);
    assert_no_duplicates(&after);
}

#[test]
fn a_scan_killed_mid_file_resumes_without_losing_or_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    let records = write_trail(&trail, 4, 60_000, 0);
    let store = dir.path().join("store");
    let config = write_config(dir.path(), &store, &[("t", &trail)]);

    let mut child = bin()
        .args(["--config", config.to_str().unwrap(), "scan"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it while the first file's events are being written.
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = store.join("events");
    while Instant::now() < deadline
        && !std::fs::read_dir(&events)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the scan finished before it could be interrupted; the test proves nothing"
    );
    let partial = stored_event_uids(&store);
    assert!(
        (partial.len() as u64) < records,
        "the interrupted scan must not have written everything"
    );

    let resumed = run(&["--config", config.to_str().unwrap(), "scan"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let uids = stored_event_uids(&store);
    assert_no_duplicates(&uids);
    assert_eq!(uids.len() as u64, records);
}

#[test]
fn concurrent_scanners_on_one_store_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let quickstart = repo_root().join("examples/support-agent/cloudtrail");
    let trail = dir.path().join("other-trail");
    let other = write_trail(&trail, 40, 200, 5_000_000);
    let store = dir.path().join("store");
    let a = write_config(dir.path(), &store, &[("quickstart", &quickstart)]);
    let b = write_config(dir.path(), &store, &[("other", &trail)]);
    let both = write_config(
        dir.path(),
        &store,
        &[("quickstart", &quickstart), ("other", &trail)],
    );

    // Four scanners at once: two per source, all sharing inventory, cursors and audit.
    let children: Vec<_> = [&a, &b, &a, &b]
        .iter()
        .map(|c| {
            bin()
                .args(["--config", c.to_str().unwrap(), "scan"])
                .output_async()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let uids = stored_event_uids(&store);
    assert_no_duplicates(&uids);
    assert_eq!(uids.len() as u64, QUICKSTART_RECORDS + other);

    let again = run(&[
        "--config",
        both.to_str().unwrap(),
        "scan",
        "--format",
        "json",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        summary["sources"][0]["files_already_scanned"], QUICKSTART_FILES,
        "a cursor update was lost"
    );
    assert_eq!(
        summary["sources"][1]["files_already_scanned"], 40,
        "a cursor update was lost"
    );
    let inventory = stdout(&run(&["--store", store.to_str().unwrap(), "inventory"]));
    assert!(
        inventory.contains("customer-support-agent"),
        "inventory update lost:\n{inventory}"
    );
    // Scanners that raced on the baselines neither lost nor double-counted a file.
    assert_quickstart_baseline(&baseline_counts(&store));
    let verify = run(&["--store", store.to_str().unwrap(), "audit", "verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    assert!(stdout(&verify).contains("intact"));
}

trait SpawnOutput {
    fn output_async(&mut self) -> std::process::Child;
}

impl SpawnOutput for std::process::Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

#[test]
fn damaged_records_are_quarantined_with_reasons_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    let good = write_trail(&trail, 2, 100, 0);
    let day = trail.join(format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/10/06"));
    // A file with one bad record of each kind between good ones.
    let mut body = b"{\"Records\":[".to_vec();
    body.extend(put_object_record(900_001, 1).as_bytes());
    body.extend(b",{\"eventTime\":\"2026-10-06T14:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"Get\xff\xfeObject\"}");
    body.extend(format!(",{{\"huge\":\"{}\"}}", "A".repeat(2 * 1024 * 1024)).as_bytes());
    body.extend(b",{\"eventSource\":\"s3.amazonaws.com\"}");
    body.extend(b",");
    body.extend(put_object_record(900_002, 1).as_bytes());
    body.extend(b"]}");
    std::fs::write(
        day.join(format!(
            "{ACCOUNT}_CloudTrail_us-east-1_20261006T2300Z_damaged.json"
        )),
        &body,
    )
    .unwrap();
    // A file cut off in the middle of its third record.
    let mut cut = b"{\"Records\":[".to_vec();
    cut.extend(put_object_record(900_003, 2).as_bytes());
    cut.push(b',');
    cut.extend(put_object_record(900_004, 2).as_bytes());
    cut.push(b',');
    cut.extend(&put_object_record(900_005, 2).as_bytes()[..200]);
    std::fs::write(
        day.join(format!(
            "{ACCOUNT}_CloudTrail_us-east-1_20261006T2305Z_truncated.json"
        )),
        &cut,
    )
    .unwrap();
    // Gzip that is corrupt after its header.
    std::fs::write(
        day.join(format!(
            "{ACCOUNT}_CloudTrail_us-east-1_20261006T2310Z_badgz.json.gz"
        )),
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef],
    )
    .unwrap();

    let store = dir.path().join("store");
    let config = write_config(dir.path(), &store, &[("t", &trail)]);
    let out = run(&[
        "--config",
        config.to_str().unwrap(),
        "scan",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "damaged records are not a failed scan: {}",
        stderr(&out)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["sources"][0]["events"], good + 4);
    assert_eq!(summary["sources"][0]["quarantined"], 3 + 1 + 1);

    let mut reasons = Vec::new();
    for entry in std::fs::read_dir(store.join("quarantine/t")).unwrap() {
        for line in std::fs::read_to_string(entry.unwrap().path())
            .unwrap()
            .lines()
        {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            reasons.push(row["reason"].as_str().unwrap().to_string());
            assert_eq!(row["source"], "t");
        }
    }
    reasons.sort();
    let all = reasons.join("\n");
    assert_eq!(reasons.len(), 5, "{all}");
    assert!(all.contains("exceeds the 1048576-byte limit"), "{all}");
    assert!(all.contains("truncated"), "{all}");
    assert!(all.contains("missing field `eventTime`"), "{all}");
    assert!(
        all.to_lowercase().contains("utf-8") || all.contains("unicode"),
        "{all}"
    );
    assert!(
        all.contains("gzip") || all.contains("invalid") || all.contains("corrupt"),
        "{all}"
    );

    // The same, as a person reads it.
    let listed = stdout(&run(&["--store", store.to_str().unwrap(), "quarantine"]));
    assert!(listed.ends_with("5 quarantined\n"), "{listed}");
    assert!(listed.contains("_damaged.json #2: record of"), "{listed}");
    assert!(
        listed.contains("_badgz.json.gz (the file itself)"),
        "{listed}"
    );
}

#[test]
fn lost_records_degrade_the_agents_coverage_for_that_window() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    copy_dir(
        &repo_root().join("examples/support-agent/cloudtrail"),
        &trail,
    );
    let day = trail.join(format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/12"));
    std::fs::write(
        day.join(format!(
            "{ACCOUNT}_CloudTrail_us-east-1_20261112T2359Z_cut.json"
        )),
        b"{\"Records\":[{\"eventVersion\":\"1.09\"",
    )
    .unwrap();
    let store = dir.path().join("store");
    let config = write_config(dir.path(), &store, &[("t", &trail)]);
    let out = run(&["--config", config.to_str().unwrap(), "scan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let coverage: serde_json::Value = serde_json::from_slice(
        &run(&[
            "--store",
            store.to_str().unwrap(),
            "coverage",
            "--format",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    let identity = coverage
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["layer"] == "identity_api")
        .unwrap();
    assert_eq!(identity["status"], "degraded", "{identity}");
    assert_eq!(identity["lost"], 1);
    assert_eq!(
        normalizer::Timestamp(identity["from"].as_i64().unwrap()).utc_date(),
        "2026-11-12"
    );
    let kernel = coverage
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["layer"] == "kernel")
        .unwrap();
    assert_eq!(
        kernel["status"], "unavailable",
        "a layer that was never visible stays unavailable, not degraded"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn a_failing_source_is_named_and_the_scan_is_partial() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    write_trail(&trail, 1, 10, 0);
    let store = dir.path().join("store");
    let config = write_config(
        dir.path(),
        &store,
        &[("good", &trail), ("missing", &dir.path().join("nope"))],
    );
    let out = run(&["--config", config.to_str().unwrap(), "scan"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("PARTIAL"));
    assert!(text.contains("FAILED") && text.contains("nope"), "{text}");
    assert_eq!(
        stored_event_uids(&store).len(),
        10,
        "the good source is scanned anyway"
    );
}

#[test]
fn config_mistakes_point_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agentward.toml");
    std::fs::write(
        &config,
        "[store]\nurl = \"s\"\n\n[[source]]\nname = \"t\"\nkind = \"cloudtrial\"\nurl = \"x\"\n",
    )
    .unwrap();
    let out = run(&["--config", config.to_str().unwrap(), "scan"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unknown source kind \"cloudtrial\""), "{err}");
    assert!(
        err.contains("6 │") || err.contains(":6:"),
        "the error should show line 6:\n{err}"
    );
    let missing = run(&[
        "--config",
        dir.path().join("none.toml").to_str().unwrap(),
        "scan",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("cannot read config file"));
}

#[test]
fn audit_verify_catches_a_flipped_byte_a_deleted_row_and_a_reordered_pair() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    write_trail(&trail, 1, 5, 0);
    let store = dir.path().join("store");
    let config = write_config(dir.path(), &store, &[("t", &trail)]);
    for _ in 0..4 {
        assert!(
            run(&["--config", config.to_str().unwrap(), "scan"])
                .status
                .success()
        );
    }
    let verify = |s: &Path| run(&["--store", s.to_str().unwrap(), "audit", "verify"]);
    let ok = verify(&store);
    assert!(ok.status.success(), "{}", stdout(&ok));
    let head = stdout(&ok)
        .split("head ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();

    let segments: Vec<std::path::PathBuf> = {
        let mut v: Vec<_> = std::fs::read_dir(store.join("audit/segments"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let tamper = |f: &dyn Fn(&mut Vec<Vec<u8>>)| {
        let copy = tempfile::tempdir().unwrap();
        let seg_dir = copy.path().join("audit/segments");
        std::fs::create_dir_all(&seg_dir).unwrap();
        let mut all: Vec<Vec<u8>> = Vec::new();
        for s in &segments {
            all.extend(
                std::fs::read(s)
                    .unwrap()
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(<[u8]>::to_vec),
            );
        }
        f(&mut all);
        let mut joined = all.join(&b'\n');
        joined.push(b'\n');
        std::fs::write(seg_dir.join("00000000000000000000.jsonl"), joined).unwrap();
        copy
    };
    let flipped = tamper(&|rows| {
        let pos = rows[1].windows(6).position(|w| w == b"\"scan ").unwrap() + 3;
        rows[1][pos] ^= 0x01;
    });
    let deleted = tamper(&|rows| {
        rows.remove(2);
    });
    let reordered = tamper(&|rows| rows.swap(1, 2));
    for (what, copy) in [
        ("flipped byte", &flipped),
        ("deleted row", &deleted),
        ("reordered pair", &reordered),
    ] {
        let out = verify(copy.path());
        assert_eq!(
            out.status.code(),
            Some(1),
            "{what} not detected:\n{}",
            stdout(&out)
        );
        assert!(stdout(&out).contains("BROKEN"), "{what}");
    }
    let untouched = tamper(&|_| {});
    assert!(
        verify(untouched.path()).status.success(),
        "re-packing rows must not break the chain"
    );
    let cut = tamper(&|rows| {
        rows.pop();
    });
    assert!(
        verify(cut.path()).status.success(),
        "without an anchor a cut tail looks intact"
    );
    let anchored = run(&[
        "--store",
        cut.path().to_str().unwrap(),
        "audit",
        "verify",
        "--expect-head",
        &head,
    ]);
    assert_eq!(
        anchored.status.code(),
        Some(1),
        "a cut tail must fail against the recorded head"
    );
}
