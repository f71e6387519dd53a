//! IAM recommendations as Markdown (`recommend`) and as the files `artifacts` writes: per
//! agent, each role's policy JSON, its Terraform, its pinned trust policy, the pinned
//! resource policies of its functions, and the whole recommendation with every trace.

use iam_enforcer::recommend::{AgentRecommendation, Pin, RoleRecommendation};
use iam_enforcer::terraform;
use normalizer::thousands;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

fn name_of<'a>(names: &'a BTreeMap<String, String>, key: &str) -> &'a str {
    names
        .get(key)
        .map(String::as_str)
        .unwrap_or("(name not seen)")
}

pub fn recommend_markdown(
    results: &[AgentRecommendation],
    names: &BTreeMap<String, String>,
) -> String {
    let mut out = String::from("# Least-privilege recommendations\n");
    for a in results {
        let key = a.agent.key();
        let _ = writeln!(out, "\n## {} (`{key}`)\n", name_of(names, &key));
        match a.observed_from.zip(a.observed_until) {
            Some((from, until)) => {
                let (from, until) = (from.utc_date(), until.utc_date());
                let _ = writeln!(out, "Observed {} days ({from} → {until}).", a.observed_days);
            }
            None => {
                let _ = writeln!(out, "No event of it was recorded.");
            }
        }
        if a.roles.is_empty() && a.gcp_roles.is_empty() && a.egress.is_none() && a.seccomp.is_none()
        {
            let _ = writeln!(
                out,
                "\nNo AWS role was seen acting for it or read from its configuration: no IAM policy to propose (any failed read is named under \"Not judged\" and in the scan's summary)."
            );
        }
        for r in &a.roles {
            role_markdown(&mut out, r);
        }
        if let Some(e) = &a.egress {
            egress_markdown(&mut out, e);
        }
        if let Some(s) = &a.seccomp {
            seccomp_markdown(&mut out, s);
        }
        for g in &a.gcp_roles {
            gcp_markdown(&mut out, g);
        }
        if !a.resource_policies.is_empty() {
            let _ = writeln!(out, "\n### Resource policies of its functions\n");
            for p in &a.resource_policies {
                let _ = writeln!(out, "- {}", pin_line(p));
            }
        }
        if !a.notes.is_empty() {
            let _ = writeln!(out, "\n### Not judged\n");
            for n in &a.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
    }
    out
}

fn egress_markdown(out: &mut String, e: &iam_enforcer::recommend::EgressRecommendation) {
    let _ = writeln!(
        out,
        "\n### Kernel egress allowlist (`probe run --egress enforce --allow-from FILE`)\n"
    );
    let _ = writeln!(
        out,
        "- **Replay:** {} of {} observed connections would be refused.",
        thousands(e.replay.denied),
        thousands(e.replay.connections)
    );
    for (endpoint, ev) in &e.replay.denials {
        let _ = writeln!(
            out,
            "  - would refuse {endpoint} ({} connections)",
            thousands(ev.events)
        );
    }
    for r in &e.allowlist.rules {
        let names: Vec<&str> = r.names.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "- allow `{}` ({}): {}, {} connections {} → {}, {} records",
            r.endpoint,
            r.protocols.iter().cloned().collect::<Vec<_>>().join("+"),
            if names.is_empty() {
                "no lookup seen".to_string()
            } else {
                names.join(", ")
            },
            thousands(r.evidence.events),
            r.evidence.first.utc_date(),
            r.evidence.last.utc_date(),
            thousands(r.evidence.records.len() as u64)
        );
    }
    for w in &e.allowlist.withheld {
        let _ = writeln!(
            out,
            "- **Withheld:** {} ({} connections): {} episode `{}`, not accepted — refused; `agentward accept {}` to allow it",
            w.behavior,
            thousands(w.events),
            w.class,
            w.episode,
            w.episode
        );
    }
    for u in &e.allowlist.unreadable {
        let _ = writeln!(out, "- not allowed: `{u}` is no address and port");
    }
}

fn seccomp_markdown(out: &mut String, s: &iam_enforcer::recommend::SeccompRecommendation) {
    use iam_enforcer::seccomp::Origin;
    let e = &s.envelope;
    let _ = writeln!(
        out,
        "\n### seccomp envelope (`seccomp.json`, default: EPERM)\n"
    );
    let _ = writeln!(
        out,
        "- **Recording:** {} report periods{}; class {}: {} syscalls seen, {} added by class.",
        thousands(e.periods),
        match e.first.zip(e.last) {
            Some((f, l)) => format!(" {} → {}", f.rfc3339(), l.rfc3339()),
            None => String::new(),
        },
        e.class.label(),
        e.seen(),
        e.entries.len() - e.seen()
    );
    let _ = writeln!(
        out,
        "- **Replay:** {} of {} recorded uses would be refused.",
        thousands(s.replay.denied),
        thousands(s.replay.uses)
    );
    for (name, ev) in &s.replay.denials {
        let _ = writeln!(
            out,
            "  - would refuse `{name}` ({} periods)",
            thousands(ev.events)
        );
    }
    for entry in &e.entries {
        let line = match &entry.origin {
            Origin::Seen {
                evidence,
                confidence,
            } => format!(
                "seen in {} periods {} → {}, {} ({} of {} windows)",
                thousands(evidence.events),
                evidence.first.utc_date(),
                evidence.last.utc_date(),
                confidence.level.label(),
                confidence.windows_seen,
                confidence.windows_observed
            ),
            Origin::AddedByClass { why, .. } => format!("added by class: {why}"),
        };
        let _ = writeln!(out, "- allow `{}`: {line}", entry.name);
    }
    for (name, ev) in &e.unnameable {
        let _ = writeln!(
            out,
            "- not allowed: `{name}` ({} periods) has no name in agentward's syscall table, and a profile lists names",
            thousands(ev.events)
        );
    }
}

fn gcp_markdown(out: &mut String, g: &iam_enforcer::gcp_role::CustomRole) {
    let _ = writeln!(
        out,
        "\n### GCP custom role `projects/{}/roles/{}` for `{}`\n",
        g.project,
        g.role_id,
        g.member()
    );
    for p in &g.permissions {
        let e = &p.evidence;
        let _ = writeln!(
            out,
            "- `{}`: {} calls {} → {}, {} log files (granted, as Cloud Audit Logs show)",
            p.permission,
            thousands(e.events),
            e.first.utc_date(),
            e.last.utc_date(),
            thousands(e.records.len() as u64)
        );
    }
}

fn pin_line(p: &Pin) -> String {
    match p {
        Pin::Pinned {
            subject, changes, ..
        } => format!("`{subject}`: pinned to the agent — {}", changes.join("; ")),
        Pin::AlreadyPinned { subject } => format!("`{subject}`: already pinned to this agent"),
        Pin::Unchanged { subject, reason } => format!("`{subject}`: left as it is — {reason}"),
    }
}

fn role_markdown(out: &mut String, r: &RoleRecommendation) {
    let b = &r.blast_radius;
    let _ = writeln!(out, "\n### Role `{}`\n", r.role);
    let _ = writeln!(
        out,
        "- **Blast radius:** {} of {} observed calls would be denied ({} requests evaluated{}).",
        thousands(b.denied_events),
        thousands(b.events),
        thousands(b.requests),
        if b.not_evaluated_events > 0 {
            format!(
                "; {} calls not evaluated: no catalog action authorizes them as named",
                thousands(b.not_evaluated_events)
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "- **Size:** {} of {} characters (managed policy limit){}.",
        thousands(r.size.characters as u64),
        thousands(r.size.managed_limit as u64),
        if r.size.fits { "" } else { " — does NOT fit" }
    );
    if let Some(problem) = &r.size.problem {
        let _ = writeln!(out, "  - {problem}");
    }
    let _ = writeln!(out, "- **Trust:** {}", pin_line(&r.trust));
    for d in &b.denials {
        let _ = writeln!(
            out,
            "  - would deny {} on `{}` ({} calls, {} → {}, {})",
            d.action,
            d.resource,
            thousands(d.evidence.events),
            d.evidence.first.utc_date(),
            d.evidence.last.utc_date(),
            match &d.decision {
                iam_enforcer::eval::Decision::ExplicitlyDenied { by } => format!("denied by {by}"),
                _ => "no statement allows it".to_string(),
            }
        );
    }
    for w in &r.withheld {
        let _ = writeln!(
            out,
            "- **Withheld:** {} ({} calls): {} episode `{}`, not accepted — the proposal denies it; `agentward accept {}` to grant it",
            w.behavior,
            thousands(w.events),
            w.class,
            w.episode,
            w.episode
        );
    }
    for (behavior, calls) in &r.refused {
        let _ = writeln!(
            out,
            "- **Refused by AWS, not added:** {behavior} ({} calls, every one denied access): attempted, and not granted now",
            thousands(*calls)
        );
    }
    let _ = writeln!(out, "\n#### Granted now\n");
    for line in &r.current {
        let _ = writeln!(out, "- {line}");
    }
    if r.proposed.statements.is_empty() {
        let _ = writeln!(
            out,
            "\n#### Proposed\n\nNo call was recorded as this role in the window: the proposal grants nothing, and no policy file is written (IAM refuses a policy without statements). What it is granted now is listed below as unused or not judged."
        );
    } else {
        proposed_markdown(out, r);
    }
    changes_markdown(out, r);
}

/// What goes and what is narrowed, each item with its evidence.
fn changes_markdown(out: &mut String, r: &RoleRecommendation) {
    let _ = writeln!(out, "\n#### Removed (unused excess)\n");
    if r.removed.is_empty() {
        let _ = writeln!(
            out,
            "- none judged unused (see \"Not judged\" for what could not be)"
        );
    }
    for i in &r.removed {
        let proof = i.proof.as_deref().unwrap_or("");
        let _ = writeln!(out, "- {} — {proof}", i.title);
    }
    let _ = writeln!(out, "\n#### Narrowed (inherited overreach)\n");
    if r.narrowed.is_empty() {
        let _ = writeln!(
            out,
            "- none found among the grants that could be read (any that could not are under \"Not judged\")"
        );
    }
    for i in &r.narrowed {
        let _ = writeln!(out, "- {}", i.title);
        for e in &i.evidence {
            let _ = writeln!(out, "  - {e}");
        }
    }
}

fn proposed_markdown(out: &mut String, r: &RoleRecommendation) {
    let _ = writeln!(out, "\n#### Proposed\n");
    let _ = writeln!(
        out,
        "| Sid | Actions | Resources | Calls | First → last | Confidence | Log files |\n|---|---|---|---|---|---|---|"
    );
    for s in &r.proposed.statements {
        let records = r
            .blast_radius
            .allowed_by
            .get(&format!("proposed#{}", s.sid))
            .map_or(0, |e| e.records.len());
        let c = &s.confidence;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} → {} | {} ({} of {} windows) | {} |",
            s.sid,
            s.actions.join(", "),
            s.resources.join(", "),
            thousands(s.trace.events),
            s.trace.first.utc_date(),
            s.trace.last.utc_date(),
            c.level.label(),
            c.windows_seen,
            c.windows_observed,
            thousands(records as u64),
        );
    }
    for s in &r.proposed.statements {
        if let iam_enforcer::aws_policy::Basis::Inferred { fact } = &s.basis {
            let _ = writeln!(
                out,
                "\n`{}` is inferred, no call of it recorded: {fact}",
                s.sid
            );
            continue;
        }
        let _ = writeln!(out, "\n`{}` is derived from:", s.sid);
        for b in &s.trace.behaviors {
            let _ = writeln!(out, "- {b}");
        }
        for w in &s.widened {
            let _ = writeln!(out, "- widened: {w}");
        }
        for (op, keys) in &s.conditions {
            for (key, values) in keys {
                let _ = writeln!(
                    out,
                    "- condition {op} {key} = {} (every call of it was made so)",
                    values.join(", ")
                );
            }
        }
        if s.resource_unnamed {
            let _ = writeln!(
                out,
                "- some calls named no resource: `*` stands for what was not seen"
            );
        }
    }
    for u in &r.proposed.unknown {
        let _ = writeln!(out, "\nNot granted: {u}");
    }
    for n in &r.notes {
        let _ = writeln!(out, "\n**Note:** {n}");
    }
}

/// The files `artifacts` writes, as (path under the output directory, contents).
pub fn artifact_files(
    results: &[AgentRecommendation],
    names: &BTreeMap<String, String>,
    selectors: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Vec<(PathBuf, String)>, serde_norway::Error> {
    let mut files = Vec::new();
    for a in results {
        let dir = PathBuf::from(a.agent.key());
        for r in &a.roles {
            files.extend(role_files(&dir, a, r, names));
        }
        for p in &a.resource_policies {
            if let Pin::Pinned {
                subject, document, ..
            } = p
            {
                let function = subject.rsplit(':').next().unwrap_or(subject);
                files.push((
                    dir.join(format!("aws/{function}.resource-policy.json")),
                    pretty(document),
                ));
            }
        }
        if let Some(e) = &a.egress {
            files.push((dir.join("egress.allow"), egress_file(a, e, names)));
            if let Some(selector) = selectors.get(&a.agent.key()) {
                files.extend(kubernetes_files(&dir, a, e, selector)?);
            }
        }
        if let Some(sc) = &a.seccomp {
            files.push((dir.join("seccomp.json"), pretty(&sc.envelope.profile())));
        }
        for g in &a.gcp_roles {
            let header = vec![
                format!("agentward: least privilege for {} ({})", g.identity, name_of(names, &a.agent.key())),
                "each permission is one Cloud Audit Logs showed granted for its calls; trace: recommendation.json".to_string(),
            ];
            files.push((
                dir.join(format!("gcp/{}.tf", g.role_id)),
                g.terraform(&header),
            ));
        }
        let whole = serde_json::to_value(a).unwrap_or_default();
        files.push((dir.join("recommendation.json"), pretty(&whole)));
    }
    Ok(files)
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// One role's files: its policy, its Terraform, and its pinned trust policy if pinned.
fn role_files(
    dir: &std::path::Path,
    a: &AgentRecommendation,
    r: &RoleRecommendation,
    names: &BTreeMap<String, String>,
) -> Vec<(PathBuf, String)> {
    let role = terraform::role_name(&r.role);
    let header = vec![
        format!("agentward: least privilege for {}", r.role),
        format!(
            "agent {} ({}), observed {} → {}",
            name_of(names, &a.agent.key()),
            a.agent.key(),
            a.observed_from.map(|t| t.utc_date()).unwrap_or_default(),
            a.observed_until.map(|t| t.utc_date()).unwrap_or_default()
        ),
        format!(
            "blast radius: {} of {} observed calls denied; trace of every statement: recommendation.json",
            r.blast_radius.denied_events, r.blast_radius.events
        ),
    ];
    let mut files = Vec::new();
    // IAM refuses a policy without statements: a role seen doing nothing gets no file.
    if !r.proposed.statements.is_empty() {
        files.push((
            dir.join(format!("aws/{role}.policy.json")),
            pretty(&r.document),
        ));
        files.push((
            dir.join(format!("aws/{role}.tf")),
            terraform::managed_policy(&r.role, &r.document, &header),
        ));
    }
    if let Pin::Pinned { document, .. } = &r.trust {
        files.push((dir.join(format!("aws/{role}.trust.json")), pretty(document)));
    }
    files
}

/// The allowlist file, its header saying whose it is, what it was replayed against and how
/// to use it.
fn egress_file(
    a: &AgentRecommendation,
    e: &iam_enforcer::recommend::EgressRecommendation,
    names: &BTreeMap<String, String>,
) -> String {
    let header = vec![
        format!(
            "agentward: kernel egress allowlist for {} ({})",
            name_of(names, &a.agent.key()),
            a.agent.key()
        ),
        format!(
            "observed {} → {}; replayed: {} of {} connections refused",
            a.observed_from.map(|t| t.utc_date()).unwrap_or_default(),
            a.observed_until.map(|t| t.utc_date()).unwrap_or_default(),
            e.replay.denied,
            e.replay.connections
        ),
        "use: agentward probe run --egress enforce --allow-from THIS_FILE ...".to_string(),
    ];
    e.allowlist.render(&header)
}

/// A probe-watched Deployment's NetworkPolicy and CiliumNetworkPolicy, from its egress
/// allowlist and the pod selector the user gave.
fn kubernetes_files(
    dir: &std::path::Path,
    a: &AgentRecommendation,
    e: &iam_enforcer::recommend::EgressRecommendation,
    selector: &BTreeMap<String, String>,
) -> Result<Vec<(PathBuf, String)>, serde_norway::Error> {
    let name = a.agent.id.rsplit('/').next().unwrap_or(&a.agent.id);
    let w = iam_enforcer::netpol::Workload {
        namespace: &a.agent.location,
        name,
        selector,
    };
    let header = format!(
        "# agentward: egress of {} from its observed connections; replayed: {} of {} refused\n",
        a.agent.key(),
        e.replay.denied,
        e.replay.connections
    );
    let yaml = |v: &serde_json::Value| -> Result<String, serde_norway::Error> {
        Ok(format!("{header}{}", serde_norway::to_string(v)?))
    };
    Ok(vec![
        (
            dir.join("k8s/networkpolicy.yaml"),
            yaml(&iam_enforcer::netpol::network_policy(&w, &e.allowlist))?,
        ),
        (
            dir.join("k8s/cilium-networkpolicy.yaml"),
            yaml(&iam_enforcer::netpol::cilium_policy(&w, &e.allowlist))?,
        ),
    ])
}
