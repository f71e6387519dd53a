//! The runtime inventory as of a moment, every field with the record that proves it, and
//! what changed since.

use normalizer::inventory::{AgentInventory, InventorySnapshot};
use std::fmt::Write;

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
        what_it_is(&mut out, a);
        what_it_runs(&mut out, a);
        what_it_may_use(&mut out, a);
        how_it_runs(&mut out, a);
    }
    out
}

/// What the agent is: its name, platform, gateway or memory, models and identity.
fn what_it_is(out: &mut String, a: &AgentInventory) {
    if let Some(d) = &a.deleted {
        sourced_text(out, "DELETED", d);
    }
    if let Some(n) = &a.name {
        sourced_text(out, "name", n);
    }
    if let Some(p) = &a.platform {
        sourced_text(out, "platform", p);
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
        sourced_line(out, "gateway", line, g.since, &g.provenance);
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
        sourced_line(out, "memory", line, m.since, &m.provenance);
    }
    if let Some(m) = &a.declared_model {
        sourced_text(out, "declared model", m);
    }
    for m in &a.models_invoked {
        sourced_text(out, "model invoked", m);
    }
    if let Some(r) = &a.role {
        sourced_text(out, "identity", r);
    }
    if let Some(g) = &a.identity_grants {
        let mut lines: Vec<String> = g.value.iter().map(grant_line).collect();
        if lines.is_empty() {
            lines.push("no role assignments".into());
        }
        sourced_line(
            out,
            "identity roles",
            lines.remove(0),
            g.since,
            &g.provenance,
        );
        for line in lines {
            let _ = writeln!(out, "  {:<15}   {line}", "");
        }
    }
}

/// What its processes show: packages, MCP servers, model files, endpoints.
fn what_it_runs(out: &mut String, a: &AgentInventory) {
    for p in &a.packages {
        let package = &p.value;
        sourced_line(
            out,
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
            out,
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
        sourced_text(out, "model weights", f);
    }
    for e in &a.endpoints {
        sourced_line(out, "endpoint", e.value.to_string(), e.since, &e.provenance);
    }
}

/// Its tools, knowledge bases, guardrail, versions, aliases and their configuration.
fn what_it_may_use(out: &mut String, a: &AgentInventory) {
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
            out,
            "tool",
            format!("{} ({}, {exec}){ops}", t.value.name, t.value.kind),
            t.since,
            &t.provenance,
        );
    }
    for kb in &a.knowledge_bases {
        sourced_text(out, "knowledge base", kb);
    }
    if let Some(g) = &a.guardrail {
        sourced_line(
            out,
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
        sourced_text(out, "version", v);
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
            out,
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
        sourced_line(out, &label, lines.remove(0), c.since, &c.provenance);
        for line in lines {
            let _ = writeln!(out, "  {:<15}   {line}", "");
        }
    }
}

/// Its engine and runtimes, and where the draft parts from what runs.
fn how_it_runs(out: &mut String, a: &AgentInventory) {
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
        sourced_line(out, "engine", lines.remove(0), e.since, &e.provenance);
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
        sourced_line(out, &label, lines.remove(0), c.since, &c.provenance);
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

/// A fact that is text, with where it comes from.
fn sourced_text(out: &mut String, label: &str, fact: &normalizer::inventory::Sourced<String>) {
    sourced_line(out, label, fact.value.clone(), fact.since, &fact.provenance);
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
