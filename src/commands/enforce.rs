//! `recommend` and `artifacts`: least-privilege IAM for each agent from what it was seen
//! doing, replayed against its own window before it is proposed.

use super::behavior::{only_agent, open_analysis};
use crate::{Cli, RecommendFormat, report, store};
use anyhow::Context;
use iam_enforcer::catalog::Catalog;
use iam_enforcer::egress::Connection;
use iam_enforcer::gcp_role::Granted;
use iam_enforcer::recommend::{AgentRecommendation, Input, recommend};
use iam_enforcer::replay::{Call, Resource, is_access_denied};
use iam_enforcer::seccomp::Syscall;
use normalizer::Timestamp;
use normalizer::classes::AgentClass;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// One stored event as the replay needs it (OCSF field names).
#[derive(Deserialize)]
struct Stored {
    time: i64,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    actor: Actor,
    #[serde(default)]
    resources: Vec<StoredResource>,
    #[serde(default)]
    cloud: Cloud,
    #[serde(default)]
    dst_endpoint: Option<Destination>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    status_code: Option<String>,
    unmapped: Unmapped,
}

#[derive(Deserialize)]
struct Destination {
    #[serde(default)]
    hostname: Option<String>,
}

#[derive(Deserialize, Default)]
struct Actor {
    #[serde(default)]
    user: User,
    #[serde(default)]
    session: Session,
}

#[derive(Deserialize, Default)]
struct User {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    account: Option<AccountRef>,
}

#[derive(Deserialize)]
struct AccountRef {
    #[serde(default)]
    uid: Option<String>,
}

#[derive(Deserialize, Default)]
struct Session {
    #[serde(default)]
    issuer: Option<String>,
}

#[derive(Deserialize)]
struct StoredResource {
    uid: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Deserialize, Default)]
struct Cloud {
    #[serde(default)]
    region: Option<String>,
}

#[derive(Deserialize)]
struct Unmapped {
    agentward: Ours,
}

#[derive(Deserialize)]
struct Ours {
    layer: String,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    raw: Option<Raw>,
    /// A probe record's target (`127.0.0.1:18080`).
    #[serde(default)]
    target: Option<String>,
    /// The permissions Google granted the call.
    #[serde(default)]
    permissions: Vec<String>,
}

#[derive(Deserialize)]
struct Raw {
    source: String,
    object: String,
}

/// An observed call, owned: what [`Call`] borrows.
struct Owned {
    call: String,
    resources: Vec<Resource>,
    region: Option<String>,
    time: Timestamp,
    proof: String,
    count: u64,
    refused: bool,
}

/// An observed connection, owned: what [`Connection`] borrows.
struct OwnedConnection {
    call: String,
    endpoint: String,
    name: Option<String>,
    time: Timestamp,
    proof: String,
    count: u64,
}

/// What the agent was observed doing, as the recommendation replays it: the calls it made
/// as a role (an assumed-role session), by role key — the same calls its baseline's
/// `action as role` behaviors count — and the connections a probe saw it open.
#[derive(Default)]
struct Observed {
    calls: BTreeMap<String, Vec<Owned>>,
    connections: Vec<OwnedConnection>,
    granted: Vec<OwnedGrant>,
    /// Recorded syscalls: (name, period end, proof).
    syscalls: Vec<(String, Timestamp, String)>,
}

/// A call's granted permissions, owned: what [`Granted`] borrows.
struct OwnedGrant {
    principal: String,
    project: String,
    permissions: Vec<String>,
    time: Timestamp,
    proof: String,
    count: u64,
}

/// The permissions Google granted an agent's own call (not a change made to it), `None`
/// for any other event.
fn grant(e: &Stored, file: &str) -> Option<OwnedGrant> {
    let ours = &e.unmapped.agentward;
    if ours.permissions.is_empty() || ours.layer != "identity_api" {
        return None;
    }
    Some(OwnedGrant {
        principal: e.actor.user.uid.clone()?,
        project: e.actor.user.account.as_ref()?.uid.clone()?,
        permissions: ours.permissions.clone(),
        time: Timestamp(e.time),
        proof: proof_of(ours, file),
        count: e.count.unwrap_or(1).max(1),
    })
}

fn proof_of(ours: &Ours, file: &str) -> String {
    match &ours.raw {
        Some(raw) => format!("{} {}", raw.source, raw.object),
        None => file.to_string(),
    }
}

/// A probe's record of a syscall used in a report period, `None` for any other.
fn syscall(e: &Stored, file: &str) -> Option<(String, Timestamp, String)> {
    let ours = &e.unmapped.agentward;
    let name = ours.action.as_deref()?.strip_prefix("syscall:")?;
    (ours.layer == "kernel").then(|| (name.to_string(), Timestamp(e.time), proof_of(ours, file)))
}

/// A probe's record of a connection, `None` for any other.
fn connection(e: &Stored, file: &str) -> Option<OwnedConnection> {
    let ours = &e.unmapped.agentward;
    let action = ours.action.as_deref()?;
    if ours.layer != "network" || !action.starts_with("network:connect_") {
        return None;
    }
    Some(OwnedConnection {
        call: action.to_string(),
        endpoint: ours.target.clone()?,
        name: e.dst_endpoint.as_ref().and_then(|d| d.hostname.clone()),
        time: Timestamp(e.time),
        proof: proof_of(ours, file),
        count: e.count.unwrap_or(1).max(1),
    })
}

impl Observed {
    /// The granted permissions, as the recommendation borrows them.
    fn grants(&self) -> Vec<Granted<'_>> {
        self.granted
            .iter()
            .map(|g| Granted {
                principal: &g.principal,
                project: &g.project,
                permissions: &g.permissions,
                time: g.time,
                proof: &g.proof,
                count: g.count,
            })
            .collect()
    }

    fn syscalls(&self) -> Vec<Syscall<'_>> {
        self.syscalls
            .iter()
            .map(|(name, time, proof)| Syscall {
                name,
                time: *time,
                proof,
            })
            .collect()
    }

    /// The calls by role and the connections, as the recommendation borrows them.
    fn borrowed(&self) -> (BTreeMap<String, Vec<Call<'_>>>, Vec<Connection<'_>>) {
        let calls = self
            .calls
            .iter()
            .map(|(role, calls)| {
                let borrowed = calls.iter().map(|c| Call {
                    call: &c.call,
                    resources: &c.resources,
                    region: c.region.as_deref(),
                    time: c.time,
                    proof: &c.proof,
                    count: c.count,
                    refused: c.refused,
                });
                (role.clone(), borrowed.collect())
            })
            .collect();
        let connections = self
            .connections
            .iter()
            .map(|c| Connection {
                call: &c.call,
                endpoint: &c.endpoint,
                name: c.name.as_deref(),
                time: c.time,
                proof: &c.proof,
                count: c.count,
            })
            .collect();
        (calls, connections)
    }
}

/// The store's event files by agent key (`events/date=D/agent=KEY/…`), listed once for
/// every agent's recommendation.
async fn event_files(store: &store::Store) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in store.list("events").await? {
        if !name.ends_with(".ocsf.jsonl") {
            continue;
        }
        let key = name
            .split('/')
            .find_map(|part| part.strip_prefix("agent="))
            .map(str::to_string);
        if let Some(key) = key {
            out.entry(key).or_default().push(name);
        }
    }
    Ok(out)
}

async fn observed_of(
    store: &store::Store,
    agent: &normalizer::AgentRef,
    files: &[String],
) -> anyhow::Result<Observed> {
    let mut out = Observed::default();
    for name in files {
        let name = name.as_str();
        let bytes = store.get(name).await?.unwrap_or_default();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let e: Stored = serde_json::from_slice(line)
                .with_context(|| format!("corrupt event line in {name}"))?;
            if let Some(c) = connection(&e, name) {
                out.connections.push(c);
            } else if let Some(s) = syscall(&e, name) {
                out.syscalls.push(s);
            } else if let Some(g) = grant(&e, name) {
                out.granted.push(g);
            } else if let Some((role, call)) = call_as_role(e, agent, name) {
                out.calls.entry(role).or_default().push(call);
            }
        }
    }
    Ok(out)
}

/// The role and call of an event made as a role, `None` for any other. A call to the
/// agent itself carries its caller's role and is left out, as the baseline leaves it.
fn call_as_role(e: Stored, agent: &normalizer::AgentRef, file: &str) -> Option<(String, Owned)> {
    let ours = e.unmapped.agentward;
    if ours.action.is_none() || ours.layer == "control" || ours.layer == "prompt" {
        return None;
    }
    if e.actor.user.kind.as_deref() != Some("AssumedRole") {
        return None;
    }
    let names_agent = |u: &str| {
        [":agent/", ":agent-alias/"].iter().any(|kind| {
            u.split_once(kind)
                .is_some_and(|(_, rest)| rest.split('/').next() == Some(&agent.id))
        })
    };
    if e.resources
        .iter()
        .filter_map(|r| r.uid.as_deref())
        .any(names_agent)
    {
        return None;
    }
    let proof = proof_of(&ours, file);
    let (action, issuer) = (ours.action?, e.actor.session.issuer?);
    let resources = e
        .resources
        .into_iter()
        .filter_map(|r| {
            Some(Resource {
                arn: r.uid?,
                kind: r.kind,
            })
        })
        .collect();
    let refused = e.status.as_deref() == Some("Failure")
        && e.status_code.as_deref().is_some_and(is_access_denied);
    let call = Owned {
        call: action,
        resources,
        region: e.cloud.region,
        time: Timestamp(e.time),
        proof,
        count: e.count.unwrap_or(1).max(1),
        refused,
    };
    Some((normalizer::identity::role_key(&issuer), call))
}

/// Every observed agent's recommendation (or the one `--agent` names).
async fn recommendations(
    cli: &Cli,
    agent: &Option<String>,
) -> anyhow::Result<(
    store::Store,
    Vec<AgentRecommendation>,
    BTreeMap<String, String>,
)> {
    let (store, analysis) = open_analysis(cli).await?;
    let only = only_agent(&analysis, agent.as_deref())?;
    let catalog = Catalog::aws()?;
    let declared = analysis.declared_now();
    let reconciliations = analysis.reconciliations(
        &normalizer::reconcile::ReconcileConfig::default(),
        only.as_ref(),
    );
    let files = event_files(&store).await?;
    let mut out = Vec::new();
    for r in &reconciliations {
        // An agent no log shows acting has nothing to derive a policy from: reconcile says
        // what it is granted.
        let Some(baseline) = analysis.rollup.agents.get(&r.agent.key()) else {
            continue;
        };
        let mine = files
            .get(&r.agent.key())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let owned = observed_of(&store, &r.agent, mine).await?;
        let (calls, connections) = owned.borrowed();
        let granted = owned.grants();
        let syscalls = owned.syscalls();
        let class = analysis
            .classes
            .get(&r.agent.key())
            .map_or(AgentClass::General, |c| c.class);
        let inventory = analysis.inventory_of(baseline);
        // The whole observation, so an episode anywhere in it is judged.
        let span = baseline
            .first_event()
            .zip(baseline.last_event())
            .map(|(f, l)| l.millis() - f.millis() + Timestamp::MS_PER_DAY);
        let episodes = analysis.episodes(span, None, Some(&r.agent));
        let input = Input {
            baseline,
            inventory: inventory.as_ref(),
            declared: &declared,
            reconciliation: r,
            calls: &calls,
            episodes: &episodes,
            connections: &connections,
            granted: &granted,
            syscalls: &syscalls,
            class,
        };
        out.push(recommend(&input, catalog)?);
    }
    let names = analysis.names.clone();
    Ok((store, out, names))
}

/// Exit 2 when a proposal would deny an observed call: it is shown, never hidden, but it
/// is not ready to apply.
fn exit_for(results: &[AgentRecommendation]) -> ExitCode {
    let denied = results.iter().any(|a| {
        a.roles.iter().any(|r| r.blast_radius.denied_events > 0)
            || a.egress.as_ref().is_some_and(|e| e.replay.denied > 0)
            || a.seccomp.as_ref().is_some_and(|s| s.replay.denied > 0)
    });
    if denied {
        tracing::warn!("a proposed policy would deny calls this agent was observed making");
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

pub async fn recommend_cmd(
    cli: &Cli,
    agent: &Option<String>,
    format: &RecommendFormat,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let (_, results, names) = recommendations(cli, agent).await?;
    match format {
        RecommendFormat::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&results)?)?,
        RecommendFormat::Md => {
            write!(stdout, "{}", report::recommend_markdown(&results, &names))?;
            if results.is_empty() {
                writeln!(stdout, "no observed agents yet: run `agentward scan` first")?;
            }
        }
    }
    Ok(exit_for(&results))
}

/// What `artifacts` wrote last in a directory: each file's SHA-256, by its path there.
const MANIFEST: &str = "agentward-artifacts.json";

/// Writes `files` under `out` and their manifest. Within `scope` (a folder prefix: one
/// agent's, or `""` for all; `None` for none), a file the previous manifest listed that
/// this run does not write (a role gone since) is removed, so the directory holds exactly
/// the latest artifacts; entries outside it are kept. Returns this run's digests.
fn write_artifacts(
    out: &Path,
    scope: Option<&str>,
    files: &[(std::path::PathBuf, String)],
    stdout: &mut impl Write,
) -> anyhow::Result<BTreeMap<String, String>> {
    let manifest = out.join(MANIFEST);
    let previous: BTreeMap<String, String> = match std::fs::read(&manifest) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not agentward's manifest", manifest.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", manifest.display())),
    };
    let mut digests = BTreeMap::new();
    for (rel, contents) in files {
        // Names come from provider data: each must stay inside the directory.
        if !rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            anyhow::bail!(
                "refusing to write {}: not a plain path under the output directory",
                rel.display()
            );
        }
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        writeln!(stdout, "{}", path.display())?;
        let digest = hex::encode(Sha256::digest(contents.as_bytes()));
        digests.insert(rel.display().to_string(), digest);
    }
    let in_scope = |k: &String| scope.is_some_and(|s| k.starts_with(s));
    for stale in previous
        .keys()
        .filter(|k| in_scope(k) && !digests.contains_key(*k))
    {
        let path = out.join(stale);
        if std::path::Path::new(stale)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            match std::fs::remove_file(&path) {
                Ok(()) => writeln!(stdout, "removed {} (not proposed any more)", path.display())?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
    }
    let mut listed: BTreeMap<String, String> =
        previous.into_iter().filter(|(k, _)| !in_scope(k)).collect();
    listed.extend(digests.clone());
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(&manifest, serde_json::to_string_pretty(&listed)? + "\n")
        .with_context(|| format!("writing {}", manifest.display()))?;
    Ok(digests)
}

/// `AGENT=KEY=VALUE[,KEY=VALUE]` → (AGENT, labels).
fn parse_selector(text: &str) -> anyhow::Result<(String, BTreeMap<String, String>)> {
    let bad = || {
        anyhow::anyhow!(
            "--selector {text:?}: expected AGENT=KEY=VALUE[,KEY=VALUE] (e.g. support-bot=app=support-bot)"
        )
    };
    let (agent, labels) = text.split_once('=').ok_or_else(bad)?;
    let labels = labels
        .split(',')
        .map(|l| {
            let (k, v) = l.split_once('=').ok_or_else(bad)?;
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() {
                return Err(bad());
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect::<anyhow::Result<BTreeMap<_, _>>>()?;
    if agent.trim().is_empty() || labels.is_empty() {
        return Err(bad());
    }
    Ok((agent.trim().to_string(), labels))
}

/// Each `--selector` by the key of the agent it names (its key, id or name).
fn selectors_by_agent(
    given: &[String],
    results: &[AgentRecommendation],
    names: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, BTreeMap<String, String>>> {
    let mut out = BTreeMap::new();
    for text in given {
        let (wanted, labels) = parse_selector(text)?;
        let agent = results
            .iter()
            .map(|a| &a.agent)
            .find(|a| {
                let key = a.key();
                key == wanted || a.id == wanted || names.get(&key) == Some(&wanted)
            })
            .ok_or_else(|| {
                anyhow::anyhow!("--selector {text:?}: no recommended agent is {wanted:?}")
            })?;
        out.insert(agent.key(), labels);
    }
    Ok(out)
}

pub async fn artifacts_cmd(
    cli: &Cli,
    agent: &Option<String>,
    out: &Path,
    selectors: &[String],
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let (store, results, names) = recommendations(cli, agent).await?;
    let selectors = selectors_by_agent(selectors, &results, &names)?;
    let files = report::artifact_files(&results, &names, &selectors)?;
    for a in results.iter().filter(|a| a.egress.is_some()) {
        if !selectors.contains_key(&a.agent.key()) {
            writeln!(
                stdout,
                "{}: no NetworkPolicy written: give its Deployment's pod selector with --selector {}=KEY=VALUE (the probe does not record labels)",
                a.agent.key(),
                a.agent.id
            )?;
        }
    }
    // With --agent, only that agent's folder is this run's to tidy (none, if it has no
    // recommendation).
    let scope = match (agent, results.first()) {
        (None, _) => Some(String::new()),
        (Some(_), Some(a)) => Some(format!("{}/", a.agent.key())),
        (Some(_), None) => None,
    };
    let digests = write_artifacts(out, scope.as_deref(), &files, stdout)?;
    crate::audit::append(
        &store,
        vec![normalizer::audit::AuditEntry {
            time: crate::pipeline::now(),
            kind: "artifacts-written".into(),
            subject: None,
            summary: format!(
                "{} least-privilege artifacts written for {} agents",
                files.len(),
                results.len()
            ),
            evidence: serde_json::json!({ "sha256": digests }),
        }],
    )
    .await?;
    writeln!(
        stdout,
        "{} files for {} agents under {}",
        files.len(),
        results.len(),
        out.display()
    )?;
    Ok(exit_for(&results))
}
