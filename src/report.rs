//! What a person reads: the scan summary, inventory, events and coverage as text tables.

use crate::pipeline::{AgentSummary, ScanSummary};
use normalizer::inventory::InventorySnapshot;
use normalizer::{Coverage, Layer};
use std::fmt::Write;

use normalizer::thousands;

/// `1 agent`, `2 agents`.
fn count_of(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
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
        if let Some(api) = &src.api
            && let Some(gcp) = &api.gcp
        {
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
            for f in &src.failures {
                let _ = writeln!(out, "    FAILED: {f}");
            }
            for u in &api.unresolved {
                let _ = writeln!(out, "    unresolved: {u}");
            }
            continue;
        }
        if let Some(api) = &src.api
            && let Some(azure) = &api.azure
        {
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
            for f in &src.failures {
                let _ = writeln!(out, "    FAILED: {f}");
            }
            continue;
        }
        if let Some(api) = &src.api {
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
            for f in &src.failures {
                let _ = writeln!(out, "    FAILED: {f}");
            }
            for u in &api.unresolved {
                let _ = writeln!(out, "    unresolved: {u}");
            }
            continue;
        }
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
        if let Some(d) = &a.deleted {
            sourced_line(&mut out, "DELETED", d.value.clone(), d.since, &d.provenance);
        }
        if let Some(n) = &a.name {
            sourced_line(&mut out, "name", n.value.clone(), n.since, &n.provenance);
        }
        if let Some(p) = &a.platform {
            sourced_line(
                &mut out,
                "platform",
                p.value.clone(),
                p.since,
                &p.provenance,
            );
        }
        if let Some(g) = &a.gateway {
            let gateway = &g.value;
            let line = [
                gateway.status.as_deref(),
                gateway.protocol.as_deref(),
                gateway
                    .authorizer
                    .as_deref()
                    .map(|a| format!("authorizer {a}"))
                    .as_deref(),
                gateway.url.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            sourced_line(&mut out, "gateway", line, g.since, &g.provenance);
        }
        if let Some(m) = &a.memory {
            let memory = &m.value;
            let mut line = format!(
                "{} · events kept {} days",
                memory.status.as_deref().unwrap_or("status unknown"),
                memory.event_expiry_days
            );
            if !memory.strategies.is_empty() {
                line.push_str(&format!(" · long-term: {}", memory.strategies.join(", ")));
            }
            line.push_str(&format!(
                " · key {}",
                memory.encryption_key.as_deref().unwrap_or("AWS-owned")
            ));
            sourced_line(&mut out, "memory", line, m.since, &m.provenance);
        }
        if let Some(m) = &a.declared_model {
            sourced_line(
                &mut out,
                "declared model",
                m.value.clone(),
                m.since,
                &m.provenance,
            );
        }
        for m in &a.models_invoked {
            sourced_line(
                &mut out,
                "model invoked",
                m.value.clone(),
                m.since,
                &m.provenance,
            );
        }
        if let Some(r) = &a.role {
            sourced_line(
                &mut out,
                "identity",
                r.value.clone(),
                r.since,
                &r.provenance,
            );
        }
        if let Some(g) = &a.identity_grants {
            let mut lines: Vec<String> = g.value.iter().map(grant_line).collect();
            if lines.is_empty() {
                lines.push("no role assignments".into());
            }
            sourced_line(
                &mut out,
                "identity roles",
                lines.remove(0),
                g.since,
                &g.provenance,
            );
            for line in lines {
                let _ = writeln!(out, "  {:<15}   {line}", "");
            }
        }
        for p in &a.packages {
            let package = &p.value;
            sourced_line(
                &mut out,
                "package",
                format!(
                    "{} {} ({}, {}; loaded from {})",
                    package.name,
                    package.version.as_deref().unwrap_or("(version unread)"),
                    package.role,
                    package.ecosystem,
                    package.path
                ),
                p.since,
                &p.provenance,
            );
        }
        for m in &a.mcp_servers {
            sourced_line(
                &mut out,
                "MCP server",
                format!(
                    "{} (stdio, via {}): {}",
                    m.value.name, m.value.launcher, m.value.command
                ),
                m.since,
                &m.provenance,
            );
        }
        for f in &a.model_files {
            sourced_line(
                &mut out,
                "model weights",
                f.value.clone(),
                f.since,
                &f.provenance,
            );
        }
        for e in &a.endpoints {
            sourced_line(
                &mut out,
                "endpoint",
                e.value.to_string(),
                e.since,
                &e.provenance,
            );
        }
        for t in &a.tools {
            let exec = t.value.executor.as_deref().unwrap_or("-");
            // A gateway's tools have no version that lists their operations elsewhere.
            let ops = if t.value.kind == "gateway_target" && !t.value.operations.is_empty() {
                let names: Vec<&str> = t.value.operations.iter().map(|o| o.name.as_str()).collect();
                format!(": {}", names.join("; "))
            } else {
                String::new()
            };
            sourced_line(
                &mut out,
                "tool",
                format!("{} ({}, {exec}){ops}", t.value.name, t.value.kind),
                t.since,
                &t.provenance,
            );
        }
        for kb in &a.knowledge_bases {
            sourced_line(
                &mut out,
                "knowledge base",
                kb.value.clone(),
                kb.since,
                &kb.provenance,
            );
        }
        if let Some(g) = &a.guardrail {
            sourced_line(
                &mut out,
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
            sourced_line(&mut out, "version", v.value.clone(), v.since, &v.provenance);
        }
        for al in &a.aliases {
            let routed = al
                .value
                .routed_version
                .as_deref()
                .map(|v| format!(" → version {v}"))
                .unwrap_or_default();
            let name = al
                .value
                .name
                .as_deref()
                .map(|n| format!("{n} "))
                .unwrap_or_default();
            sourced_line(
                &mut out,
                "alias",
                format!("{name}({}){routed}", al.value.id),
                al.since,
                &al.provenance,
            );
        }
        for c in &a.configs {
            let routed_by: Vec<String> = a
                .aliases
                .iter()
                .filter(|al| al.value.routed_version.as_deref() == Some(&c.value.version))
                .map(|al| al.value.name.clone().unwrap_or_else(|| al.value.id.clone()))
                .collect();
            let label = if c.value.version == "DRAFT" {
                "draft".to_string()
            } else if routed_by.is_empty() {
                format!("version {}", c.value.version)
            } else {
                format!("live v{}", c.value.version)
            };
            let mut lines = version_config_lines(a, &c.value);
            if !routed_by.is_empty() {
                lines.insert(0, format!("routed by {}", routed_by.join(", ")));
            }
            sourced_line(&mut out, &label, lines.remove(0), c.since, &c.provenance);
            for line in lines {
                let _ = writeln!(out, "  {:<15}   {line}", "");
            }
        }
        if let Some(e) = &a.engine {
            let engine = &e.value;
            let mut lines = vec![format!(
                "framework {} · {} · python {}",
                engine.framework.as_deref().unwrap_or("unnamed"),
                engine.artifact.as_deref().unwrap_or("artifact unknown"),
                engine.python_version.as_deref().unwrap_or("default")
            )];
            lines.push(format!(
                "runs as {}{}",
                engine.service_account,
                if engine.service_account_defaulted {
                    " (the project's Reasoning Engine service agent: spec.serviceAccount is unset)"
                } else {
                    ""
                }
            ));
            if !engine.project_roles.is_empty() {
                lines.push(format!(
                    "project roles of that identity: {}",
                    engine.project_roles.join(", ")
                ));
            }
            if !engine.inherited_roles.is_empty() {
                lines.push(format!(
                    "inherited roles of that identity: {}",
                    engine.inherited_roles.join(", ")
                ));
            }
            lines.extend(
                engine
                    .recommendations
                    .iter()
                    .map(|r| format!("Google IAM Recommender: {r}")),
            );
            if let Some(memory) = &engine.memory {
                lines.push(memory.clone());
            }
            lines.push(match &engine.psc_network_attachment {
                Some(n) => format!("egress through your VPC: PSC interface {n}"),
                None => "egress from Google's network (no PSC interface)".into(),
            });
            if !engine.class_methods.is_empty() {
                lines.push(format!(
                    "methods callers invoke: {}",
                    engine.class_methods.join(", ")
                ));
            }
            if !engine.requirements.is_empty() {
                lines.push(format!("requirements: {}", engine.requirements.join(", ")));
            }
            if !engine.environment.is_empty() {
                lines.push(format!(
                    "environment variables (values not kept): {}",
                    engine.environment.join(", ")
                ));
            }
            if !engine.switches.is_empty() {
                lines.push(format!(
                    "telemetry switches: {}",
                    engine.switches.join(", ")
                ));
            }
            if !engine.secret_environment.is_empty() {
                lines.push(format!(
                    "secret variables: {}",
                    engine.secret_environment.join(", ")
                ));
            }
            lines.extend(engine.unresolved.iter().map(|u| format!("unresolved {u}")));
            sourced_line(&mut out, "engine", lines.remove(0), e.since, &e.provenance);
            for line in lines {
                let _ = writeln!(out, "  {:<15}   {line}", "");
            }
        }
        for c in &a.runtime_configs {
            let endpoints: Vec<String> = a
                .aliases
                .iter()
                .filter(|al| al.value.routed_version.as_deref() == Some(&c.value.version))
                .map(|al| al.value.name.clone().unwrap_or_else(|| al.value.id.clone()))
                .collect();
            let label = if endpoints.is_empty() {
                format!("version {}", c.value.version)
            } else {
                format!("live v{}", c.value.version)
            };
            let mut lines = Vec::new();
            if !endpoints.is_empty() {
                lines.push(format!("run by endpoint {}", endpoints.join(", ")));
            }
            lines.push(format!(
                "{} · protocol {} · network {} · authorizer {}",
                c.value.status.as_deref().unwrap_or("status unknown"),
                c.value.protocol.as_deref().unwrap_or("unknown"),
                c.value.network.as_deref().unwrap_or("unknown"),
                c.value.authorizer.as_deref().unwrap_or("unknown")
            ));
            lines.extend(c.value.artifact.as_ref().map(|x| format!("artifact {x}")));
            lines.extend(c.value.role.as_ref().map(|r| format!("role {r}")));
            if !c.value.environment.is_empty() {
                lines.push(format!(
                    "environment variables (values not kept): {}",
                    c.value.environment.join(", ")
                ));
            }
            sourced_line(&mut out, &label, lines.remove(0), c.since, &c.provenance);
            for line in lines {
                let _ = writeln!(out, "  {:<15}   {line}", "");
            }
        }
        // What runs is the routed version, not the draft someone is editing: say where
        // they part.
        if let Some(draft) = a.config("DRAFT") {
            let mut by_version: std::collections::BTreeMap<&str, Vec<&str>> =
                std::collections::BTreeMap::new();
            for (alias, live) in a.live() {
                if let (Some(_), Some(version)) = (live, alias.routed_version.as_deref())
                    && version != "DRAFT"
                {
                    by_version
                        .entry(version)
                        .or_default()
                        .push(alias.name.as_deref().unwrap_or(&alias.id));
                }
            }
            for (version, aliases) in by_version {
                let Some(live) = a.config(version) else {
                    continue;
                };
                let diff = draft.value.differences(&live.value);
                let names = aliases.join(", ");
                if diff.is_empty() {
                    let _ = writeln!(
                        out,
                        "  {:<15} draft = what {names} runs (v{version})",
                        "draft vs live"
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "  {:<15} draft differs from what {names} runs (v{version}):",
                        "draft vs live"
                    );
                    for d in diff {
                        let _ = writeln!(out, "  {:<15}   {d}", "");
                    }
                }
            }
        }
    }
    out
}

/// `label value`, then when and from which record it took effect.
/// `ROLE on SCOPE` with what it allows: the role's name says little when it is custom, and
/// a `*` is what an auditor looks for.
fn grant_line(grant: &normalizer::inventory::RoleGrant) -> String {
    // `/subscriptions/S/resourceGroups/G/providers/P/TYPE/NAME` → `TYPE/NAME (resource group G)`.
    let scope = match grant.scope.split_once("/providers/") {
        Some((container, resource)) => {
            let group = container.rsplit('/').next().unwrap_or(container);
            let short = resource.split_once('/').map_or(resource, |(_, r)| r);
            format!("{short} (resource group {group})")
        }
        None if grant.scope.contains("/resourceGroups/") => format!(
            "resource group {}",
            grant.scope.rsplit('/').next().unwrap_or(&grant.scope)
        ),
        None => grant.scope.clone(),
    };
    let mut allows = Vec::new();
    let listed = |label: &str, list: &[String]| {
        (!list.is_empty()).then(|| format!("{label} {}", list.join(", ")))
    };
    allows.extend(listed("actions", &grant.actions));
    allows.extend(listed("except", &grant.not_actions));
    allows.extend(listed("data actions", &grant.data_actions));
    allows.extend(listed("except data", &grant.not_data_actions));
    if grant.condition.is_some() {
        allows.push("under a condition".into());
    }
    let held = grant
        .holder
        .as_ref()
        .map(|h| format!(" (held by {h})"))
        .unwrap_or_default();
    format!("{} on {scope}{held}: {}", grant.role, allows.join("; "))
}

fn sourced_line(
    out: &mut String,
    label: &str,
    value: String,
    since: normalizer::Timestamp,
    prov: &normalizer::Provenance,
) {
    // A log object is named by its file; an API call (`service:Operation args`) whole.
    let file = if prov.record.object.contains(' ') {
        &prov.record.object
    } else {
        prov.record
            .object
            .rsplit('/')
            .next()
            .unwrap_or(&prov.record.object)
    };
    let _ = writeln!(out, "  {label:<15} {value}");
    let _ = writeln!(
        out,
        "  {:<15}   since {since}, {} ({file} #{})",
        "",
        prov.kind.as_str(),
        prov.record.index
    );
}

/// A version's configuration, one aspect per line; digests stand for texts never kept.
fn version_config_lines(
    agent: &normalizer::inventory::AgentInventory,
    c: &normalizer::inventory::VersionConfig,
) -> Vec<String> {
    let mut lines = vec![format!(
        "{} · model {} · role {}",
        c.status.as_deref().unwrap_or("status unknown"),
        c.model.as_deref().unwrap_or("none"),
        c.role.as_deref().unwrap_or("none")
    )];
    for t in &c.tools {
        let exec = t.executor.as_deref().unwrap_or("-");
        let state = t
            .state
            .as_deref()
            .filter(|s| *s != "ENABLED")
            .map(|s| format!(", {s}"))
            .unwrap_or_default();
        let ops: Vec<String> = t
            .operations
            .iter()
            .map(|o| match &o.detail {
                Some(d) if d != &o.name => format!("{} [{d}]", o.name),
                _ => o.name.clone(),
            })
            .collect();
        let ops = if ops.is_empty() {
            String::new()
        } else {
            format!(": {}", ops.join("; "))
        };
        let kind = match &t.signature {
            Some(sig) => format!("{} {sig}", t.kind),
            None => t.kind.clone(),
        };
        lines.push(format!("tool {} ({kind}, {exec}{state}){ops}", t.name));
    }
    for id in &c.knowledge_bases {
        let Some(kb) = agent
            .knowledge_base_configs
            .iter()
            .map(|k| &k.value)
            .find(|k| &k.id == id)
        else {
            lines.push(format!("knowledge base {id}"));
            continue;
        };
        let mut parts = vec![
            format!("knowledge base {id} {}", kb.name.as_deref().unwrap_or(""))
                .trim_end()
                .to_string(),
        ];
        parts.extend(kb.kind.clone());
        parts.extend(kb.storage.clone());
        if let Some(role) = &kb.role {
            parts.push(format!("role {role}"));
        }
        lines.push(parts.join(" · "));
        for d in &kb.data_sources {
            lines.push(format!(
                "  source {} ({}): {}",
                d.name,
                d.kind.as_deref().unwrap_or("?"),
                if d.locations.is_empty() {
                    "location not given".to_string()
                } else {
                    d.locations.join(", ")
                }
            ));
        }
    }
    if let Some(g) = &c.guardrail {
        let config = agent.guardrail_config(g);
        if agent.agent.provider == normalizer::Provider::Azure {
            // RAI policies are named, not versioned.
            lines.push(format!("guardrail: RAI policy {}", g.id));
        } else {
            lines.push(format!(
                "guardrail {} v{}{}",
                g.id,
                g.version.as_deref().unwrap_or("?"),
                config
                    .and_then(|g| g.name.as_deref())
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ));
        }
        for line in config.map(|g| g.summary()).unwrap_or_default() {
            lines.push(format!("  {line}"));
        }
    } else {
        lines.push("no guardrail".to_string());
    }
    for p in &c.prompt_overrides {
        let mut what = Vec::new();
        if p.template_sha256.is_some() {
            what.push("template replaced".to_string());
        }
        if let Some(m) = &p.model {
            what.push(format!("model {m}"));
        }
        if let Some(parser) = &p.parser {
            what.push(format!("parser {parser}"));
        }
        if p.state.as_deref() == Some("DISABLED") {
            what.push("step DISABLED".to_string());
        }
        lines.push(format!("prompt {}: {}", p.prompt_type, what.join(", ")));
    }
    if let Some(m) = &c.memory {
        lines.push(format!("memory {m}"));
    }
    if let Some(collab) = c.collaboration.as_deref().filter(|c| *c != "DISABLED") {
        let names: Vec<&str> = c.collaborators.iter().map(|x| x.name.as_str()).collect();
        lines.push(format!("{collab} of {}", names.join(", ")));
    }
    if let Some(h) = &c.instruction_sha256 {
        lines.push(format!("instructions sha256:{}", &h[..12.min(h.len())]));
    }
    lines
}

/// One event (an OCSF record as stored) as a table row.
pub fn event_row(record: &serde_json::Value) -> String {
    let ours = &record["unmapped"]["agentward"];
    let time = normalizer::Timestamp(record["time"].as_i64().unwrap_or_default());
    let actor = record["actor"]["user"]["name"]
        .as_str()
        .or(record["actor"]["user"]["uid"].as_str())
        .unwrap_or("-");
    // API calls name their resources; the probe's process, file and network records keep
    // their target with agentward's own fields.
    let target = record["resources"][0]["uid"]
        .as_str()
        .or(ours["target"].as_str())
        .unwrap_or("-");
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
    let mut sorted: Vec<&normalizer::Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in sorted {
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

/// A terminal sparkline of the convergence series: one cell per window, `·` for a window
/// without events.
fn sparkline(series: &[normalizer::baseline::WindowRate]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = series.iter().map(|w| w.rate).fold(0.0_f64, f64::max);
    series
        .iter()
        .map(|w| {
            if w.events == 0 {
                '·'
            } else if max <= 0.0 || w.rate <= 0.0 {
                BARS[0]
            } else {
                BARS[(((w.rate / max) * 7.0).round() as usize).min(7)]
            }
        })
        .collect()
}

fn state_text(state: &normalizer::baseline::BaselineState) -> String {
    use normalizer::baseline::BaselineState::*;
    match state {
        Learning { windows } => format!("learning ({windows} windows observed)"),
        Converged { since } => format!("converged since {}", since.utc_date()),
        NotConverging { windows } => {
            format!("not converging: still doing new things after {windows} windows")
        }
        TooLarge { cap, unrecorded } => format!(
            "too large: more than {cap} distinct behaviors; {} events not kept in the envelope",
            thousands(*unrecorded)
        ),
    }
}

fn observed_span(b: &normalizer::baseline::Baseline) -> String {
    match (b.first_event(), b.last_event()) {
        (Some(first), Some(last)) => format!(
            "{} → {} ({} days)",
            first.utc_date(),
            last.utc_date(),
            (last.millis() - first.millis()) / normalizer::Timestamp::MS_PER_DAY + 1
        ),
        _ => "no events".into(),
    }
}

fn track_text(analysis: &crate::behavior::Analysis, key: &str) -> String {
    use crate::config::Track;
    match analysis.tracks.get(key) {
        Some(t) => match (&t.track, &t.reference) {
            (Track::PreEnforced { .. }, Some(r)) => format!(
                "pre-enforced for {} days: judged from day one against the staging baseline of {} in {} ({} behaviors)",
                t.observed_days,
                r.agent.key(),
                r.store,
                r.baseline.distinct_behaviors()
            ),
            _ => format!("observe-in-production for {} days", t.observed_days),
        },
        None => "observe-in-production".into(),
    }
}

fn class_text(analysis: &crate::behavior::Analysis, key: &str) -> String {
    match analysis.classes.get(key) {
        Some(c) => format!("{} ({})", c.class.label(), c.reasons.join("; ")),
        None => "unknown".into(),
    }
}

pub fn baseline_list(
    baselines: &[&normalizer::baseline::Baseline],
    analysis: &crate::behavior::Analysis,
) -> String {
    let mut out = String::new();
    for b in baselines {
        let key = b.agent.key();
        let _ = writeln!(
            out,
            "{key}  \"{}\"\n    {}; {} distinct behaviors; observed {}\n    class: {}\n    track: {}",
            analysis
                .names
                .get(&key)
                .map(String::as_str)
                .unwrap_or("(name not seen)"),
            state_text(&b.state()),
            b.distinct_behaviors(),
            observed_span(b),
            analysis
                .classes
                .get(&key)
                .map_or("unknown", |c| c.class.label()),
            track_text(analysis, &key)
        );
    }
    out
}

pub fn baseline_detail(
    b: &normalizer::baseline::Baseline,
    analysis: &crate::behavior::Analysis,
) -> String {
    use normalizer::baseline::Behavior;
    let mut out = String::new();
    let key = b.agent.key();
    let _ = writeln!(
        out,
        "{key}  \"{}\"",
        analysis
            .names
            .get(&key)
            .map(String::as_str)
            .unwrap_or("(name not seen)")
    );
    let _ = writeln!(out, "  state:    {}", state_text(&b.state()));
    let _ = writeln!(out, "  observed: {}", observed_span(b));
    let _ = writeln!(out, "  class:    {}", class_text(analysis, &key));
    if let Some(c) = analysis.classes.get(&key) {
        let envelopes = analysis.class_envelopes();
        if let Some(env) = envelopes.get(&c.class) {
            let unusual = env.unusual_for(b);
            let _ = writeln!(
                out,
                "            {} in this class{}",
                count_of(env.members.len(), "agent"),
                match (env.members.len(), unusual.is_empty()) {
                    (1, _) => String::from(" (nothing to compare with)"),
                    (_, true) => String::from("; nothing it does is unusual for the class"),
                    (_, false) => format!("; only this one does: {}", unusual.join(", ")),
                }
            );
        }
    }
    let _ = writeln!(out, "  track:    {}", track_text(analysis, &key));
    let series = b.convergence();
    let _ = writeln!(
        out,
        "  convergence (share of each window's events doing something new; · = no events):"
    );
    let _ = writeln!(out, "    {}", sparkline(&series));
    if let (Some(first), Some(last)) = (series.first(), series.last()) {
        let _ = writeln!(
            out,
            "    {} rate {:.3} … {} rate {:.3}",
            first.window_start.utc_date(),
            first.rate,
            last.window_start.utc_date(),
            last.rate
        );
    }
    let deploys = b.deploys();
    let _ = writeln!(out, "  deploys: {}", deploys.len());
    for d in deploys.iter().rev().take(5) {
        let _ = writeln!(
            out,
            "    {}  {:<22} {}",
            d.time,
            d.operation,
            d.actor.as_deref().unwrap_or("-")
        );
    }
    let mut entries: Vec<_> = b.behaviors().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let _ = writeln!(
        out,
        "  envelope: actions and models (volume per active window: median, and the bound above which it is a departure)"
    );
    let _ = writeln!(
        out,
        "    {:<58} {:>8} {:>7} {:>7} {:>8}  {:<10} {:<10}",
        "behavior", "events", "windows", "median", "bound", "first", "last"
    );
    for (behavior, seen) in entries.iter().filter(|(b, _)| b.keeps_all_windows()) {
        let counts: Vec<u64> = seen.windows.values().copied().collect();
        let (median, bound) =
            normalizer::drift::envelope(&counts, normalizer::drift::DriftConfig::default().k)
                .unwrap_or((0.0, 0.0));
        let _ = writeln!(
            out,
            "    {:<58} {:>8} {:>7} {:>7.0} {:>8.1}  {:<10} {:<10}",
            behavior.describe(),
            thousands(seen.count),
            counts.len(),
            median,
            bound,
            seen.first.utc_date(),
            seen.last.utc_date()
        );
    }
    let _ = writeln!(
        out,
        "  envelope: actions on resources (volatile path segments shown as *)"
    );
    for (behavior, seen) in entries.iter() {
        if let Behavior::ActionOn { action, resource } = behavior {
            let _ = writeln!(
                out,
                "    {:<22} {:<60} {:>8}  {} → {}",
                action,
                resource,
                thousands(seen.count),
                seen.first.utc_date(),
                seen.last.utc_date()
            );
        }
    }
    let _ = writeln!(
        out,
        "  calls per role (what reconciliation holds against the role's grants)"
    );
    for (behavior, seen) in entries.iter() {
        if let Behavior::ActionAs {
            role,
            action,
            resource,
        } = behavior
        {
            let _ = writeln!(
                out,
                "    {:<22} {:<50} as {:<40} {:>8}",
                action,
                resource,
                role,
                thousands(seen.count)
            );
        }
    }
    out
}

fn continuity_text(c: &normalizer::drift::Continuity) -> String {
    use normalizer::drift::Continuity::*;
    match c {
        Continuous { windows_after } => {
            format!(
                "continuous (kept recurring over {} since)",
                count_of(*windows_after, "active window")
            )
        }
        Burst { windows_after } => {
            format!(
                "burst (did not persist over {} since)",
                count_of(*windows_after, "active window")
            )
        }
        TooRecent { windows_after } => {
            format!(
                "too recent to tell ({} since)",
                count_of(*windows_after, "active window")
            )
        }
    }
}

fn bounds_text(b: &normalizer::drift::Bounds) -> String {
    use normalizer::drift::Bounds::*;
    match b {
        Within => "within the volume envelope".into(),
        Outside {
            behavior,
            count,
            bound,
        } => format!(
            "OUTSIDE: {} {} in one window, bound {bound:.0} ({:.1}x)",
            behavior.describe(),
            thousands(*count),
            *count as f64 / bound
        ),
        Unknown => "unknown (not enough history to bound the volume)".into(),
    }
}

pub fn drift_table(
    episodes: &[normalizer::drift::Episode],
    names: &std::collections::BTreeMap<String, String>,
    samples: &std::collections::BTreeMap<String, Vec<serde_json::Value>>,
    days: u32,
    all: bool,
) -> String {
    use normalizer::drift::DriftClass;
    let mut out = String::new();
    let evolutions = episodes
        .iter()
        .filter(|e| e.class == DriftClass::Evolution)
        .count();
    let accepted = episodes.iter().filter(|e| e.accepted).count();
    let open = |class: fn(&DriftClass) -> bool| {
        episodes
            .iter()
            .filter(|e| !e.accepted && class(&e.class))
            .count()
    };
    let _ = writeln!(
        out,
        "{} drift episodes over {days} days: {} evolution (absorbed into the baseline), {} risky drift, {} unclassified, {accepted} accepted after review",
        episodes.len(),
        evolutions,
        open(|c| *c == DriftClass::RiskyDrift),
        open(|c| matches!(c, DriftClass::Unclassified { .. })),
    );
    for e in episodes
        .iter()
        .filter(|e| all || (e.class != DriftClass::Evolution && !e.accepted))
    {
        let key = e.agent.key();
        let _ = writeln!(
            out,
            "\n{}  {}  {key} \"{}\"",
            e.class.label().to_uppercase(),
            e.window_start.utc_date(),
            names
                .get(&key)
                .map(String::as_str)
                .unwrap_or("(name not seen)")
        );
        let _ = writeln!(out, "  uid:        {}", e.uid);
        if e.accepted {
            let _ = writeln!(
                out,
                "  ACCEPTED after review (see `agentward audit verify` and the audit trail)"
            );
        }
        let _ = writeln!(out, "  why:        {}", e.explanation);
        let _ = writeln!(
            out,
            "  deploy:     {}",
            match &e.deploy {
                Some(d) => format!(
                    "{} at {} by {}",
                    d.operation,
                    d.time,
                    d.actor.as_deref().unwrap_or("-")
                ),
                None => "none within the lookback before it".into(),
            }
        );
        let _ = writeln!(out, "  continuity: {}", continuity_text(&e.continuity));
        let _ = writeln!(out, "  bounds:     {}", bounds_text(&e.bounds));
        let _ = writeln!(out, "  departures:");
        for d in &e.departures {
            let _ = writeln!(out, "    {}", d.describe());
        }
        if let Some(rows) = samples.get(&e.uid) {
            let _ = writeln!(out, "  first events:");
            for r in rows {
                let _ = writeln!(out, "    {}", event_row(r));
            }
        }
        let _ = writeln!(
            out,
            "  all events: agentward events --agent {key} --since {} --until {}",
            e.first, e.window_end
        );
    }
    if !all && evolutions + accepted > 0 {
        let _ = writeln!(
            out,
            "\n(--all lists the evolutions and accepted episodes too)"
        );
    }
    out
}

pub fn reconcile_table(
    results: &[normalizer::reconcile::Reconciliation],
    names: &std::collections::BTreeMap<String, String>,
) -> String {
    use normalizer::reconcile::Axis;
    let mut out = String::new();
    for r in results {
        let key = r.agent.key();
        let _ = writeln!(
            out,
            "{key}  \"{}\"",
            names
                .get(&key)
                .map(String::as_str)
                .unwrap_or("(name not seen)")
        );
        let _ = writeln!(
            out,
            "  observed {} days ({} → {}); roles: {}",
            r.observed_days,
            r.observed_from.map(|t| t.utc_date()).unwrap_or_default(),
            r.observed_until.map(|t| t.utc_date()).unwrap_or_default(),
            if r.roles.is_empty() {
                "none seen".to_string()
            } else {
                r.roles.join(", ")
            }
        );
        if let Some(why) = &r.unused_not_judged {
            let _ = writeln!(out, "  unused excess not judged: {why}");
        }
        for axis in [Axis::UnusedExcess, Axis::InheritedOverreach] {
            let items: Vec<_> = r.items.iter().filter(|i| i.axis == axis).collect();
            let _ = writeln!(out, "  {} ({}):", axis.label().to_uppercase(), items.len());
            for i in items {
                let _ = writeln!(out, "    - {}", i.title);
                let _ = writeln!(out, "      {}", i.subject);
                for e in &i.evidence {
                    let _ = writeln!(out, "      · {e}");
                }
                if let Some(p) = &i.proof {
                    let _ = writeln!(out, "      {p}");
                }
            }
        }
        if !r.notes.is_empty() {
            let _ = writeln!(out, "  not judged:");
            for n in &r.notes {
                let _ = writeln!(out, "    - {n}");
            }
        }
    }
    out
}

pub fn envelopes_table(
    a: &normalizer::baseline::Baseline,
    b: &normalizer::baseline::Baseline,
    rows: &[crate::behavior::EnvelopeRow],
    analysis: &crate::behavior::Analysis,
) -> String {
    let mut out = String::new();
    let name = |x: &normalizer::baseline::Baseline| {
        let key = x.agent.key();
        format!(
            "{key} \"{}\" ({}, {})",
            analysis
                .names
                .get(&key)
                .map(String::as_str)
                .unwrap_or("(name not seen)"),
            analysis
                .classes
                .get(&key)
                .map_or("unknown class", |c| c.class.label()),
            state_text(&x.state())
        )
    };
    let _ = writeln!(out, "A: {}", name(a));
    let _ = writeln!(out, "B: {}", name(b));
    let _ = writeln!(
        out,
        "{:<70} {:>9} {:>8}   {:>9} {:>8}   who",
        "behavior", "A events", "A med/w", "B events", "B med/w"
    );
    let cell = |s: &Option<crate::behavior::EnvelopeSide>| match s {
        Some(s) => (thousands(s.count), format!("{:.0}", s.median_per_window)),
        None => ("-".to_string(), "-".to_string()),
    };
    let (mut only_a, mut only_b) = (0, 0);
    for r in rows {
        let (ac, am) = cell(&r.a);
        let (bc, bm) = cell(&r.b);
        let who = match (&r.a, &r.b) {
            (Some(_), None) => {
                only_a += 1;
                "only A"
            }
            (None, Some(_)) => {
                only_b += 1;
                "only B"
            }
            _ => "both",
        };
        let _ = writeln!(
            out,
            "{:<70} {:>9} {:>8}   {:>9} {:>8}   {who}",
            r.behavior.describe(),
            ac,
            am,
            bc,
            bm
        );
    }
    let _ = writeln!(
        out,
        "{} behaviors: {} both, {only_a} only A, {only_b} only B",
        rows.len(),
        rows.len() - only_a - only_b
    );
    out
}

/// What changed in the inventory after `at`: the newest changes, each with its proof. A
/// fact restated with the value it already had (UpdateAgent repeats the whole
/// configuration) is not a change.
pub fn changes_since(
    at: normalizer::Timestamp,
    history: &normalizer::inventory::InventoryHistory,
) -> String {
    const SHOWN: usize = 20;
    let mut current: std::collections::BTreeMap<(String, String, String), serde_json::Value> =
        std::collections::BTreeMap::new();
    let mut later = Vec::new();
    for o in &history.observations {
        let fact = serde_json::to_value(&o.fact).unwrap_or_default();
        let kind = fact["fact"].as_str().unwrap_or("?").to_string();
        // Facts that hold several values at once are keyed by what names the value.
        let identity = match &fact["value"] {
            serde_json::Value::Object(m) => m
                .get("id")
                .or_else(|| m.get("name"))
                .map(|v| v.to_string())
                .unwrap_or_default(),
            v if kind.starts_with("tool")
                || kind.starts_with("knowledge_base")
                || kind == "version"
                || kind.ends_with("invoked") =>
            {
                v.to_string()
            }
            _ => String::new(),
        };
        let previous = current.insert((o.agent.key(), kind, identity), fact["value"].clone());
        if o.time > at && previous.as_ref() != Some(&fact["value"]) {
            later.push((o, fact));
        }
    }
    let mut out = String::new();
    if later.is_empty() {
        let _ = writeln!(out, "no changes recorded after {at}");
        return out;
    }
    let _ = writeln!(out, "changed since {at}: {} changes", later.len());
    let skip = later.len().saturating_sub(SHOWN);
    if skip > 0 {
        let _ = writeln!(out, "  ({skip} older ones not shown)");
    }
    for (o, fact) in &later[skip..] {
        let value = match &fact["value"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        let _ = writeln!(
            out,
            "  {}  {}  {} {}  ({} #{})",
            o.time,
            o.agent.key(),
            fact["fact"].as_str().unwrap_or("?"),
            value,
            o.provenance
                .record
                .object
                .rsplit('/')
                .next()
                .unwrap_or_default(),
            o.provenance.record.index
        );
    }
    out
}
