//! What one scan did and found, source by source and agent by agent.

use super::count_of;
use super::coverage::coverage_lines;
use crate::pipeline::{AgentSummary, ScanSummary};
use connectors::source::{ApiSummary, AzureSummary, GcpSummary, SourceSummary};
use normalizer::Layer;
use normalizer::thousands;
use std::fmt::Write;

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
    if let Some(c) = &a.class {
        let _ = writeln!(
            out,
            "    class: {} ({})",
            c.class.label(),
            c.reasons.join("; ")
        );
    }
    if let Some(t) = &a.track {
        let _ = writeln!(
            out,
            "    track: {}, observed {} days",
            match &t.reference {
                Some(r) => format!("pre-enforced against the staging baseline in {}", r.store),
                None => "observe-in-production".to_string(),
            },
            t.observed_days
        );
    }
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
        match src.api.as_ref() {
            Some(api) => match (&api.gcp, &api.azure) {
                (Some(gcp), _) => gcp_source_lines(&mut out, src, api, gcp),
                (None, Some(azure)) => azure_source_lines(&mut out, src, api, azure),
                (None, None) => aws_source_lines(&mut out, src, api),
            },
            None => log_source_lines(&mut out, src),
        }
        for f in &src.failures {
            let _ = writeln!(out, "    FAILED: {f}");
        }
        for u in src.api.iter().flat_map(|api| &api.unresolved) {
            let _ = writeln!(out, "    unresolved: {u}");
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
    let _ = writeln!(
        out,
        "drift to review: {} (agentward drift)",
        s.drift_findings
    );
    let _ = writeln!(
        out,
        "declared vs observed: {} items (agentward reconcile)",
        s.reconciliation_findings
    );
    if s.configuration_findings > 0 {
        let _ = writeln!(
            out,
            "what runs left open to attack (prompt injection, unbounded identity): {} (agentward findings)",
            s.configuration_findings
        );
    }
    if s.missing_baseline_parts > 0 {
        let _ = writeln!(
            out,
            "baselines incomplete: {} scanned log files left no baseline part (agentward baseline show)",
            s.missing_baseline_parts
        );
    }
    out
}

/// An API source's line for Google Cloud: what it read, its notes and the log entries it
/// pulled.
fn gcp_source_lines(out: &mut String, src: &SourceSummary, api: &ApiSummary, gcp: &GcpSummary) {
    let _ = writeln!(
        out,
        "  {} ({}): {} API calls; {} and {} in {} × {}; IAM policies of {}/{} projects read; {} facts ({} new); credential: {}",
        src.name,
        src.location,
        thousands(api.calls),
        count_of(gcp.reasoning_engines, "reasoning engine"),
        count_of(gcp.conversational_agents, "Conversational Agent"),
        count_of(gcp.projects, "project"),
        count_of(gcp.locations, "location"),
        gcp.policies_read,
        gcp.projects,
        api.facts,
        api.changes,
        gcp.credential
    );
    for n in &gcp.notes {
        let _ = writeln!(out, "    note: {n}");
    }
    if let Some(n) = gcp.log_entries {
        let _ = writeln!(
            out,
            "    {} audit-log {} read from the Logging API into the store (scanned as {})",
            thousands(n),
            if n == 1 { "entry" } else { "entries" },
            crate::config::pulled_source_name(&src.name)
        );
    }
}

/// An API source's lines for Azure: what it read and the run steps and Activity Log
/// entries it pulled.
fn azure_source_lines(
    out: &mut String,
    src: &SourceSummary,
    api: &ApiSummary,
    azure: &AzureSummary,
) {
    let _ = writeln!(
        out,
        "  {} ({}): {} API calls; {} in {} of {}, {}; {} facts ({} new); credential: {}",
        src.name,
        src.location,
        thousands(api.calls),
        count_of(azure.agents, "Foundry agent"),
        count_of(azure.projects, "project"),
        count_of(azure.accounts, "AIServices account"),
        count_of(azure.subscriptions, "subscription"),
        api.facts,
        api.changes,
        azure.credential
    );
    if let (Some(calls), Some(entries)) = (azure.tool_calls, azure.activity_entries) {
        let _ = writeln!(
            out,
            "    {} from run steps and {} Activity Log {} read into the store (scanned as {})",
            count_of(calls as usize, "tool call"),
            thousands(entries),
            if entries == 1 { "entry" } else { "entries" },
            crate::config::pulled_source_name(&src.name)
        );
    }
}

/// An AWS API source's line: agents, AgentCore resources, roles, policies and trails read.
fn aws_source_lines(out: &mut String, src: &SourceSummary, api: &ApiSummary) {
    let _ = writeln!(
        out,
        "  {} ({}): {} API calls; {} ({} versions read in full){}, {} read, {}, {} facts ({} new); {} described",
        src.name,
        src.location,
        thousands(api.calls),
        count_of(api.agents, "Bedrock agent"),
        api.agent_versions_read,
        if api.agentcore_runtimes + api.agentcore_gateways + api.agentcore_memories > 0 {
            format!(
                ", {}, {} and {}",
                count_of(api.agentcore_runtimes, "AgentCore runtime"),
                count_of(api.agentcore_gateways, "AgentCore gateway"),
                count_of(api.agentcore_memories, "AgentCore memory")
            )
        } else {
            String::new()
        },
        count_of(api.roles_read, "role"),
        count_of(api.policies_read, "managed policy document"),
        api.facts,
        api.changes,
        count_of(api.trails, "trail")
    );
}

/// A log source's lines: files, records and events, and the objects it skipped.
fn log_source_lines(out: &mut String, src: &SourceSummary) {
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
}
