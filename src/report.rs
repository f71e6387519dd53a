//! What a person reads: the scan summary, inventory, events and coverage as text tables.

use crate::scan::{AgentSummary, ScanSummary};
use normalizer::inventory::InventorySnapshot;
use normalizer::{Coverage, Layer};
use std::fmt::Write;

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn coverage_lines(out: &mut String, coverage: &[Coverage], indent: &str) {
    for c in coverage {
        let _ = writeln!(
            out,
            "{indent}{:<16} {:<21} {}",
            c.layer.as_str(),
            c.status.label(),
            c.status.explanation()
        );
    }
}

fn agent_block(out: &mut String, a: &AgentSummary) {
    let name = a.name.as_deref().unwrap_or("(name not seen)");
    let _ = writeln!(out, "  {}  \"{name}\"", a.agent.key());
    let layers: Vec<String> = Layer::ALL
        .iter()
        .filter_map(|l| {
            a.events_by_layer
                .get(l)
                .map(|n| format!("{} {}", l.as_str(), thousands(*n)))
        })
        .collect();
    let _ = writeln!(
        out,
        "    events by layer: {}",
        if layers.is_empty() {
            "none".into()
        } else {
            layers.join(", ")
        }
    );
    let _ = writeln!(out, "    coverage:");
    coverage_lines(out, &a.coverage, "      ");
}

pub fn scan_summary(s: &ScanSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "agentward scan {} ({} → {})",
        if s.complete { "complete" } else { "PARTIAL" },
        s.started,
        s.finished
    );
    let _ = writeln!(out, "sources:");
    for src in &s.sources {
        let _ = writeln!(
            out,
            "  {} ({}): {} log files ({} new, {} already scanned), {} records, {} events, {} quarantined",
            src.name,
            src.location,
            src.files,
            src.files_scanned,
            src.files_already_scanned,
            thousands(src.records),
            thousands(src.events),
            thousands(src.quarantined)
        );
        for skipped in &src.skipped_objects {
            let _ = writeln!(out, "    skipped {}: {}", skipped.key, skipped.reason);
        }
        for f in &src.failures {
            let _ = writeln!(out, "    FAILED: {f}");
        }
    }
    if s.sources.iter().any(|x| x.quarantined > 0) {
        let _ = writeln!(
            out,
            "quarantined records are kept with their reasons under {}",
            s.quarantine_location
        );
    }
    let _ = writeln!(out, "agents in the store: {}", s.agents.len());
    for a in &s.agents {
        agent_block(&mut out, a);
    }
    let _ = writeln!(
        out,
        "events not attributed to an agent: {}",
        thousands(s.unattributed_events)
    );
    let _ = writeln!(out, "coverage gaps: {}", s.coverage_gaps);
    out
}

pub fn coverage_table(coverage: &[Coverage]) -> String {
    let mut out = String::new();
    let mut current: Option<String> = None;
    for c in coverage {
        let key = c.agent.key();
        if current.as_deref() != Some(key.as_str()) {
            let _ = writeln!(out, "{key}");
            current = Some(key);
        }
        coverage_lines(&mut out, std::slice::from_ref(c), "  ");
    }
    if coverage.is_empty() {
        out.push_str("no agents known yet: run `agentward scan` first\n");
    }
    out
}

pub fn inventory_table(snapshot: &InventorySnapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "inventory at {}: {} agents",
        snapshot.at,
        snapshot.agents.len()
    );
    for a in &snapshot.agents {
        let _ = writeln!(out, "{}", a.agent.key());
        let mut field = |label: &str,
                         value: String,
                         since: normalizer::Timestamp,
                         prov: &normalizer::Provenance| {
            let file = prov
                .record
                .object
                .rsplit('/')
                .next()
                .unwrap_or(&prov.record.object);
            let _ = writeln!(out, "  {label:<15} {value}");
            let _ = writeln!(
                out,
                "  {:<15}   since {since}, {} ({file} #{})",
                "",
                prov.kind.as_str(),
                prov.record.index
            );
        };
        if let Some(n) = &a.name {
            field("name", n.value.clone(), n.since, &n.provenance);
        }
        if let Some(m) = &a.declared_model {
            field("declared model", m.value.clone(), m.since, &m.provenance);
        }
        for m in &a.models_invoked {
            field("model invoked", m.value.clone(), m.since, &m.provenance);
        }
        if let Some(r) = &a.role {
            field("identity", r.value.clone(), r.since, &r.provenance);
        }
        for t in &a.tools {
            let exec = t.value.executor.as_deref().unwrap_or("-");
            field(
                "tool",
                format!("{} ({}, {exec})", t.value.name, t.value.kind),
                t.since,
                &t.provenance,
            );
        }
        for kb in &a.knowledge_bases {
            field("knowledge base", kb.value.clone(), kb.since, &kb.provenance);
        }
        if let Some(g) = &a.guardrail {
            field(
                "guardrail",
                format!(
                    "{} v{}",
                    g.value.id,
                    g.value.version.as_deref().unwrap_or("?")
                ),
                g.since,
                &g.provenance,
            );
        }
        for v in &a.versions {
            field("version", v.value.clone(), v.since, &v.provenance);
        }
        for al in &a.aliases {
            let routed = al
                .value
                .routed_version
                .as_deref()
                .map(|v| format!(" → version {v}"))
                .unwrap_or_default();
            field(
                "alias",
                format!("{}{routed}", al.value.id),
                al.since,
                &al.provenance,
            );
        }
    }
    out
}

/// One event (an OCSF record as stored) as a table row.
pub fn event_row(record: &serde_json::Value) -> String {
    let ours = &record["unmapped"]["agentward"];
    let time = normalizer::Timestamp(record["time"].as_i64().unwrap_or_default());
    let actor = record["actor"]["user"]["name"]
        .as_str()
        .or(record["actor"]["user"]["uid"].as_str())
        .unwrap_or("-");
    let target = record["resources"][0]["uid"].as_str().unwrap_or("-");
    format!(
        "{}  {:<15} {:<40} {:<7} {:<28} {}  {}",
        time,
        ours["layer"].as_str().unwrap_or("-"),
        ours["action"].as_str().unwrap_or("-"),
        record["status"].as_str().unwrap_or("-"),
        ours["agent_key"].as_str().unwrap_or("unattributed"),
        actor,
        target
    )
}

pub fn findings_table(findings: &[normalizer::Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{:<13} {}  {}",
            f.severity.caption(),
            f.agent.key(),
            f.title
        );
        let _ = writeln!(out, "              {}", f.detail);
    }
    let _ = writeln!(out, "{} findings", findings.len());
    out
}

/// One quarantined record: where it was, why, and how it began.
pub fn quarantine_row(row: &serde_json::Value) -> String {
    let place = match row["index"].as_u64() {
        Some(i) => format!("{} #{i}", row["object"].as_str().unwrap_or("?")),
        None => format!(
            "{} (the file itself)",
            row["object"].as_str().unwrap_or("?")
        ),
    };
    let excerpt: String = row["excerpt"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(80)
        .collect();
    format!(
        "{}: {place}: {} ({} bytes){}",
        row["source"].as_str().unwrap_or("?"),
        row["reason"].as_str().unwrap_or("?"),
        row["size"].as_u64().unwrap_or(0),
        if excerpt.is_empty() {
            String::new()
        } else {
            format!("\n    starts: {excerpt:?}")
        }
    )
}
