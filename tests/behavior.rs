//! Baselines and drift end to end on the quickstart account: the seed's story (a model
//! update that is evolution, a breach that is risky drift), and baselines that stay exact
//! across rescans, old stores and damaged parts.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn scan_quickstart(store: &Path) -> std::process::Output {
    let config = repo_root().join("examples/support-agent/agentward.toml");
    run_on(&config, store, &["scan", "--format", "json"])
}

fn on_store(store: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--store", store.to_str().unwrap()];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn the_model_update_is_evolution_and_the_export_burst_is_risky_drift() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    scan_quickstart(&store);

    let out = on_store(&store, &["drift", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let episodes: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(episodes.len(), 2, "{episodes:#?}");

    let update = &episodes[0];
    assert_eq!(
        update["uid"],
        format!("agentward:drift:{SUPPORT_AGENT}:2026-10-27")
    );
    assert_eq!(update["class"]["class"], "evolution", "{update:#}");
    assert_eq!(update["deploy"]["operation"], "UpdateAgentAlias");
    assert_eq!(update["continuity"]["continuity"], "continuous");
    assert_eq!(update["bounds"]["bounds"], "within");
    assert!(
        update["departures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "new_behavior"
                && d["behavior"]["model"] == "anthropic.claude-3-5-haiku-20241022-v1:0"),
        "{update:#}"
    );

    // The bucket, the role and the action were all allowed; the pattern was not.
    let breach = &episodes[1];
    assert_eq!(
        breach["uid"],
        format!("agentward:drift:{SUPPORT_AGENT}:2026-11-12")
    );
    assert_eq!(breach["class"]["class"], "risky_drift", "{breach:#}");
    assert_eq!(breach["deploy"], Value::Null);
    assert_eq!(breach["continuity"]["continuity"], "burst");
    assert_eq!(breach["bounds"]["bounds"], "outside");
    assert_eq!(breach["bounds"]["behavior"]["action"], "s3:PutObject");
    assert_eq!(breach["bounds"]["count"], 2400);
    assert!(breach["bounds"]["bound"].as_f64().unwrap() < 100.0);

    // The table shows the evidence: the first events of the burst and how to see all.
    let table = stdout(&on_store(
        &store,
        &["drift", "--agent", "customer-support-agent"],
    ));
    assert!(table.contains("RISKY DRIFT  2026-11-12"), "{table}");
    assert!(
        table.contains("acme-support-exports/weekly/2026-W46-adhoc/part-00000.json"),
        "{table}"
    );
    assert!(table.contains(&format!("agentward events --agent {SUPPORT_AGENT}")));
    assert!(
        !table.contains("EVOLUTION  2026-10-27"),
        "evolutions only with --all:\n{table}"
    );
    let all = stdout(&on_store(&store, &["drift", "--all"]));
    assert!(all.contains("EVOLUTION  2026-10-27"), "{all}");
    assert!(all.contains("claude-3-5-haiku"), "{all}");

    // A shorter period that ends before the breach sees only the update.
    let before = on_store(
        &store,
        &[
            "drift",
            "--until",
            "2026-11-01",
            "--days",
            "10",
            "--format",
            "json",
        ],
    );
    let before: Vec<Value> = serde_json::from_slice(&before.stdout).unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["class"]["class"], "evolution");

    // The risky drift is a finding (OCSF too) and both episodes are in the audit trail.
    let findings: Vec<Value> =
        serde_json::from_slice(&on_store(&store, &["findings", "--format", "json"]).stdout)
            .unwrap();
    let drift: Vec<&Value> = findings.iter().filter(|f| f["kind"] == "drift").collect();
    assert_eq!(drift.len(), 1, "{findings:#?}");
    assert_eq!(drift[0]["class"], "risky_drift");
    assert_eq!(drift[0]["severity"], "high");
    let trail = read_audit_rows(&store);
    let drift_rows: Vec<&Value> = trail.iter().filter(|r| r["kind"] == "drift").collect();
    assert_eq!(drift_rows.len(), 2, "{trail:#?}");
    assert!(on_store(&store, &["audit", "verify"]).status.success());

    // A second scan changes nothing and records nothing new about drift.
    scan_quickstart(&store);
    let again = read_audit_rows(&store);
    assert_eq!(again.iter().filter(|r| r["kind"] == "drift").count(), 2);
}

fn read_audit_rows(store: &Path) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(store.join("audit/segments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        for line in std::fs::read_to_string(p).unwrap().lines() {
            rows.push(serde_json::from_str(line).unwrap());
        }
    }
    rows
}

#[test]
fn baselines_count_every_file_once_across_rescans() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    scan_quickstart(&store);
    let first = baseline_counts(&store);
    assert_quickstart_baseline(&first);
    scan_quickstart(&store);
    assert_eq!(baseline_counts(&store), first);

    let text = stdout(&on_store(&store, &["baseline", "show", "K7QX2M4TZP"]));
    assert!(text.contains("converged since 2026-10-28"), "{text}");
    assert!(text.contains("convergence"), "{text}");
    assert!(text.contains("deploys: 12"), "{text}");
    let list = stdout(&on_store(&store, &["baseline", "show"]));
    assert!(list.contains("\"customer-support-agent\""), "{list}");
}

#[test]
fn a_store_from_before_baselines_is_rescanned_to_build_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    scan_quickstart(&store);
    // What an older agentward left: cursors without the flag, no parts, no rollup.
    std::fs::remove_dir_all(store.join("baselines")).unwrap();
    std::fs::remove_dir_all(store.join("snapshots/baselines")).unwrap();
    std::fs::remove_dir_all(store.join("snapshots/identity")).unwrap();
    for source in std::fs::read_dir(store.join("cursors")).unwrap() {
        for entry in std::fs::read_dir(source.unwrap().path()).unwrap() {
            let path = entry.unwrap().path();
            let mut cursor: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            cursor.as_object_mut().unwrap().remove("format");
            std::fs::write(&path, serde_json::to_vec(&cursor).unwrap()).unwrap();
        }
    }
    let events_before = stored_event_uids(&store);

    let rescan: Value = serde_json::from_slice(&scan_quickstart(&store).stdout).unwrap();
    assert_eq!(
        rescan["sources"][0]["files_scanned"], QUICKSTART_FILES,
        "{rescan:#}"
    );
    assert_quickstart_baseline(&baseline_counts(&store));
    assert_eq!(
        stored_event_uids(&store),
        events_before,
        "rescanning duplicated events"
    );
}

#[test]
fn a_missing_baseline_part_is_reported_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    scan_quickstart(&store);
    std::fs::remove_dir_all(store.join("snapshots/baselines")).unwrap();
    let parts = store.join("baselines/parts/support-account-trail");
    let victim = std::fs::read_dir(&parts)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(victim).unwrap();
    let text = stdout(&on_store(&store, &["baseline", "show", SUPPORT_AGENT]));
    assert!(
        text.contains("incomplete: 1 scanned log files have no baseline part"),
        "{text}"
    );
}

#[test]
fn unknown_agents_and_bad_periods_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    scan_quickstart(&store);
    let out = on_store(&store, &["baseline", "show", "no-such-agent"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no baseline for agent \"no-such-agent\""),
        "{err}"
    );
    assert!(
        err.contains("customer-support-agent"),
        "known agents are listed: {err}"
    );
    let out = on_store(&store, &["drift", "--days", "0"]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    let out = on_store(&store, &["drift", "--until", "last tuesday"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("expected RFC 3339"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reconciliation_shows_unused_grants_and_overreach_through_a_managed_policy() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    scan_quickstart(&store);
    let out = on_store(
        &store,
        &["reconcile", "--agent", "K7QX2M4TZP", "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["observed_days"], 47);
    assert_eq!(
        r["roles"],
        serde_json::json!([
            "arn:aws:iam::111122223333:role/AmazonBedrockExecutionRoleForAgents_support",
            "arn:aws:iam::111122223333:role/support-agent-tools"
        ]),
        "callers of the agent (frontend, scheduler) are not its roles"
    );
    let items = r["items"].as_array().unwrap();
    let find = |axis: &str, start: &str| {
        items
            .iter()
            .find(|i| i["axis"] == axis && i["title"].as_str().unwrap().starts_with(start))
            .unwrap_or_else(|| panic!("no {axis} item starting {start:?}: {items:#?}"))
    };
    let get = find(
        "unused_excess",
        "s3:GetObject on * granted, never exercised in 47 days",
    );
    assert_eq!(
        get["subject"],
        "arn:aws:iam::111122223333:role/support-agent-tools"
    );
    assert!(
        get["evidence"][0]
            .as_str()
            .unwrap()
            .contains("inline policy support-tools-data")
    );
    let managed = find(
        "inherited_overreach",
        "AWS-managed policy AmazonS3FullAccess attached",
    );
    assert!(
        managed["evidence"][0]
            .as_str()
            .unwrap()
            .starts_with("attached 2026-09-28")
    );
    let put = find("inherited_overreach", "s3:PutObject (2,640 calls)");
    let evidence = put["evidence"].to_string();
    assert!(
        evidence.contains("arn:aws:iam::aws:policy/AmazonS3FullAccess: Allow s3:*"),
        "{evidence}"
    );
    assert!(evidence.contains("wildcard resource *"), "{evidence}");

    // With a longer required window the agent is too young to judge unused grants.
    let young = on_store(
        &store,
        &["reconcile", "--min-days", "60", "--format", "json"],
    );
    let young: Vec<Value> = serde_json::from_slice(&young.stdout).unwrap();
    assert!(
        young[0]["unused_not_judged"]
            .as_str()
            .unwrap()
            .contains("observed for 47 days")
    );
    assert!(
        young[0]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["axis"] == "inherited_overreach")
    );
    let table = stdout(&on_store(&store, &["reconcile"]));
    // AmazonS3FullAccess read from the API: s3:* and s3-object-lambda:* are judged too.
    assert!(table.contains("UNUSED EXCESS (4):"), "{table}");
    assert!(table.contains("INHERITED OVERREACH (4):"), "{table}");
    // The support role trusts Bedrock for any agent anywhere; the research role pins the
    // account only.
    assert!(
        table.contains("the agent's role can be assumed by Bedrock on behalf of any Bedrock agent in any account")
            && table.contains("on behalf of any Bedrock agent of account 111122223333 (pinned by aws:SourceAccount only)"),
        "{table}"
    );
}

#[test]
fn classes_envelopes_and_inventory_changes_explain_the_two_agents() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    scan_quickstart(&store);
    let out = on_store(&store, &["baseline", "show", "--format", "json"]);
    let docs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let class_of = |name: &str| {
        docs.iter()
            .find(|d| d["name"] == name)
            .map(|d| d["class"].clone())
            .unwrap()
    };
    let support = class_of("customer-support-agent");
    assert_eq!(support["class"], "write_tools");
    assert_eq!(
        support["reasons"][0],
        "writes as its own roles: s3:PutObject"
    );
    let research = class_of("research-assistant");
    assert_eq!(research["class"], "read_only_retrieval");
    assert!(
        docs.iter()
            .all(|d| d["track"]["track"] == "observe-in-production")
    );

    let out = on_store(
        &store,
        &[
            "envelopes",
            "customer-support-agent",
            "research-assistant",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let cmp: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |action: &str| {
        cmp["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["behavior"]["action"] == action)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("s3:PutObject")["a"]["count"], 2640);
    assert_eq!(row("s3:PutObject")["b"], Value::Null);
    assert_eq!(row("bedrock:Retrieve")["a"], Value::Null);
    assert_eq!(row("bedrock:InvokeAgent")["b"]["count"], 186);
    let table = stdout(&on_store(
        &store,
        &["envelopes", "K7QX2M4TZP", "RSRCH4N7QA"],
    ));
    assert!(
        table.contains("11 behaviors: 2 both, 6 only A, 3 only B"),
        "{table}"
    );

    // The inventory as it was before the model update, and exactly what changed since.
    let text = stdout(&on_store(&store, &["inventory", "--at", "2026-10-20"]));
    let changes = text
        .split("changed since")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        changes.starts_with(" 2026-10-20T00:00:00Z: 7 changes"),
        "{changes}"
    );
    // From the API: version 2's whole configuration, and the draft edit of 2026-11-13
    // that added a refund operation prod does not run.
    assert!(
        changes.contains(r#"version_config {"collaboration":"DISABLED""#)
            && changes.contains(r#""version":"2"}"#),
        "{changes}"
    );
    assert!(
        changes.contains("2026-11-13T16:20:00Z") && changes.contains("issueRefund"),
        "{changes}"
    );
    assert!(changes.contains("declared_model anthropic.claude-3-5-haiku-20241022-v1:0"));
    assert!(
        changes.contains(r#"alias {"id":"PRDALIAS01","name":"prod","routed_version":"2"}"#),
        "{changes}"
    );
    assert!(
        !changes.contains(" name customer-support-agent"),
        "a restated name is no change"
    );
}

#[test]
fn a_pre_enforced_agent_is_judged_against_its_staging_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("staging");
    scan_quickstart(&staging);
    let trail = repo_root().join("examples/support-agent/cloudtrail");
    let write = |extra: &str| {
        let config = dir.path().join("agentward.toml");
        std::fs::write(
            &config,
            format!(
                "[store]\nurl = \"prod\"\n\n[[source]]\nname = \"trail\"\nkind = \"cloudtrail\"\nurl = {:?}\n{extra}",
                trail.display().to_string()
            ),
        )
        .unwrap();
        config
    };
    let config = write(
        "\n[[agent]]\nmatch = \"customer-support-agent\"\ntrack = \"pre-enforced\"\nstaging_store = \"staging\"\n",
    );
    let scan = run(&["--config", config.to_str().unwrap(), "scan"]);
    assert!(scan.status.success(), "{}", stderr(&scan));
    let out = run(&[
        "--config",
        config.to_str().unwrap(),
        "drift",
        "--format",
        "json",
    ]);
    let episodes: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    // The staged agent already used the new model: the update is no departure; the burst
    // still breaks the volume envelope.
    let support: Vec<&Value> = episodes
        .iter()
        .filter(|e| e["agent"]["id"] == "K7QX2M4TZP")
        .collect();
    assert_eq!(support.len(), 1, "{episodes:#?}");
    assert_eq!(support[0]["class"]["class"], "risky_drift");
    let shown = stdout(&run(&[
        "--config",
        config.to_str().unwrap(),
        "baseline",
        "show",
        "customer-support-agent",
    ]));
    assert!(
        shown.contains("track:    pre-enforced for 47 days: judged from day one against the staging baseline of aws.111122223333.us-east-1.K7QX2M4TZP"),
        "{shown}"
    );

    // A staging store that is not there, or does not know the agent, is an error.
    let missing = write(
        "\n[[agent]]\nmatch = \"customer-support-agent\"\ntrack = \"pre-enforced\"\nstaging_store = \"nowhere\"\n",
    );
    let out = run(&["--config", missing.to_str().unwrap(), "drift"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("pre-enforced agent \"customer-support-agent\": staging store"),
        "{}",
        stderr(&out)
    );
    let unknown = write(
        "\n[[agent]]\nmatch = \"customer-support-agent\"\ntrack = \"pre-enforced\"\nstaging_store = \"staging\"\nstaging_agent = \"payments-agent\"\n",
    );
    let out = run(&["--config", unknown.to_str().unwrap(), "drift"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no baseline for agent \"payments-agent\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn accepting_a_reviewed_episode_drops_its_finding_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    scan_quickstart(&store);
    let breach = format!("agentward:drift:{SUPPORT_AGENT}:2026-11-12");

    let out = on_store(&store, &["accept", &breach, "--reason", " "]);
    assert_eq!(out.status.code(), Some(1), "an empty reason is refused");
    let out = on_store(
        &store,
        &["accept", "agentward:drift:nope:2026-01-01", "--reason", "x"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&breach),
        "the error lists what can be accepted: {}",
        stderr(&out)
    );
    let evolution = format!("agentward:drift:{SUPPORT_AGENT}:2026-10-27");
    let out = on_store(&store, &["accept", &evolution, "--reason", "x"]);
    assert!(
        stderr(&out).contains("already part of the baseline"),
        "{}",
        stderr(&out)
    );

    let out = on_store(
        &store,
        &[
            "accept",
            &breach,
            "--reason",
            "ticket SEC-4411: legal hold export",
            "--by",
            "alice",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let again = on_store(
        &store,
        &["accept", &breach, "--reason", "again", "--by", "bob"],
    );
    assert!(
        stdout(&again).contains("already accepted by alice"),
        "{}",
        stdout(&again)
    );

    let table = stdout(&on_store(&store, &["drift"]));
    assert!(
        table.contains("0 risky drift, 0 unclassified, 1 accepted after review"),
        "{table}"
    );
    assert!(!table.contains("RISKY DRIFT  2026-11-12"), "{table}");

    scan_quickstart(&store);
    let findings: Vec<Value> =
        serde_json::from_slice(&on_store(&store, &["findings", "--format", "json"]).stdout)
            .unwrap();
    assert!(
        findings.iter().all(|f| f["kind"] != "drift"),
        "{findings:#?}"
    );
    let rows = read_audit_rows(&store);
    let accepted: Vec<&Value> = rows
        .iter()
        .filter(|r| r["kind"] == "drift-accepted")
        .collect();
    assert_eq!(accepted.len(), 1);
    assert!(
        accepted[0]["summary"]
            .as_str()
            .unwrap()
            .contains("accepted by alice: ticket SEC-4411")
    );
    assert!(on_store(&store, &["audit", "verify"]).status.success());
}

#[test]
fn invocation_logs_tie_the_injected_prompt_to_the_calls_and_keep_no_full_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    scan_quickstart(&store);
    let window = [
        "--agent",
        SUPPORT_AGENT,
        "--since",
        "2026-11-12T14:03:00Z",
        "--until",
        "2026-11-12T14:03:06Z",
        "--format",
        "ocsf",
    ];
    let events = |store: &Path| -> Vec<Value> {
        let mut args = vec!["events"];
        args.extend_from_slice(&window);
        stdout(&on_store(store, &args))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let all = events(&store);
    let ours = |r: &Value| r["unmapped"]["agentward"].clone();
    let prompts: Vec<&Value> = all
        .iter()
        .filter(|r| ours(r)["layer"] == "prompt")
        .collect();
    assert_eq!(prompts.len(), 2, "two model calls in the injected session");
    let first = ours(prompts[0]);
    let excerpt = first["prompt"]["input_excerpt"].as_str().unwrap();
    assert!(
        excerpt.contains("IMPORTANT SYSTEM NOTE FOR THE ASSISTANT"),
        "{excerpt}"
    );
    assert!(!excerpt.contains("4111"), "card number masked: {excerpt}");
    // The same request id is on the CloudTrail record of the call.
    let request = first["correlation"]["request_id"].as_str().unwrap();
    assert!(
        all.iter().any(|r| ours(r)["layer"] == "identity_api"
            && ours(r)["correlation"]["request_id"] == request),
        "no CloudTrail event with request id {request}"
    );

    // Nowhere in the store is the end of the ticket (past the excerpt).
    let secret_tail = "do not mention this note";
    let mut stack = vec![store.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(secret_tail),
                    "full prompt text stored in {}",
                    p.display()
                );
            }
        }
    }

    // With prompt_text = "full" the text is kept.
    let config_text =
        std::fs::read_to_string(repo_root().join("examples/support-agent/agentward.toml"))
            .unwrap()
            .replace("# prompt_text = \"redacted\"", "prompt_text = \"full\"");
    let example = repo_root().join("examples/support-agent");
    let config = dir.path().join("full.toml");
    std::fs::write(
        &config,
        config_text
            .replace(
                "url = \"../../.agentward/quickstart\"",
                "url = \"full-store\"",
            )
            .replace(
                "url = \"cloudtrail\"",
                &format!(
                    "url = {:?}",
                    example.join("cloudtrail").display().to_string()
                ),
            )
            .replace(
                "url = \"invocation-logs\"",
                &format!(
                    "url = {:?}",
                    example.join("invocation-logs").display().to_string()
                ),
            )
            .replace(
                "replay = \"recording/",
                &format!("replay = \"{}/recording/", example.display()),
            ),
    )
    .unwrap();
    let out = run(&["--config", config.to_str().unwrap(), "scan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let full = events(&dir.path().join("full-store"));
    let kept = full
        .iter()
        .find(|r| ours(r)["layer"] == "prompt")
        .map(|r| {
            ours(r)["prompt"]["input_text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap();
    assert!(kept.contains(secret_tail), "{kept}");
}
