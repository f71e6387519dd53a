//! After the sources: coverage, drift, reconciliation and configuration findings judged
//! from the store's merged state and written back (JSON and OCSF), the scan's audit rows,
//! and its report.

use super::state::AgentSummary;
use super::{ScanError, ScanSummary, now};
use crate::behavior::{Analysis, DRIFT_DOC};
use crate::config::Config;
use crate::layout::{COVERAGE_DOC, FINDINGS_DOC, FINDINGS_OCSF};
use crate::store::Store;
use connectors::source::SourceSummary;
use normalizer::audit::AuditEntry;
use normalizer::drift::Episode;
use normalizer::{Coverage, Finding, Timestamp};
use serde_json::json;

/// What this scan judged, beside what the previous scan had.
struct Judged {
    finished: Timestamp,
    findings: Vec<Finding>,
    previous: Vec<Finding>,
    episodes: Vec<Episode>,
    previous_episodes: Vec<Episode>,
    missing_baseline_parts: usize,
}

pub async fn conclude(
    store: &Store,
    config: &Config,
    (started, sources): (Timestamp, Vec<SourceSummary>),
    (mut agents, unattributed_events): (Vec<AgentSummary>, u64),
) -> Result<ScanSummary, ScanError> {
    let judged = judge(store, config, &mut agents).await?;
    write_findings(store, &judged.findings).await?;
    let count = |kind: fn(&Finding) -> bool| judged.findings.iter().filter(|f| kind(f)).count();
    let summary = ScanSummary {
        started,
        finished: judged.finished,
        complete: sources.iter().all(|s| s.failures.is_empty()),
        sources,
        coverage_gaps: count(|f| f.kind.name() == "CoverageGap"),
        drift_findings: count(|f| f.kind.name() == "Drift"),
        reconciliation_findings: count(|f| {
            matches!(f.kind, normalizer::FindingKind::Reconciliation { .. })
        }),
        configuration_findings: count(|f| {
            matches!(f.kind, normalizer::FindingKind::Configuration { .. })
        }),
        missing_baseline_parts: judged.missing_baseline_parts,
        agents,
        unattributed_events,
        quarantine_location: format!("{}/quarantine/", store.at.display),
    };
    crate::audit::append(store, audit_entries(&summary, &judged)).await?;
    store
        .put_json(
            &format!("reports/{}-{}.json", started.millis(), std::process::id()),
            &summary,
        )
        .await?;
    Ok(summary)
}

/// Coverage, each agent's class and track, drift episodes and every finding, from the
/// store; the coverage and the episodes are written as they are judged.
async fn judge(
    store: &Store,
    config: &Config,
    agents: &mut [AgentSummary],
) -> Result<Judged, ScanError> {
    let coverage: Vec<Coverage> = agents.iter().flat_map(|a| a.coverage.clone()).collect();
    store.put_json(COVERAGE_DOC, &coverage).await?;
    let analysis = Analysis::load(store, true, config).await?;
    let episodes = analysis.episodes(None, None, None);
    for a in agents.iter_mut() {
        let key = a.agent.key();
        a.class = analysis.classes.get(&key).cloned();
        a.track = analysis.tracks.get(&key).cloned();
    }
    let previous_episodes: Vec<Episode> = store.get_json(DRIFT_DOC).await?.unwrap_or_default();
    store.put_json(DRIFT_DOC, &episodes).await?;
    let finished = now();
    let mut findings = Finding::coverage_gaps(&coverage, finished);
    findings.extend(Finding::drift(&episodes, finished));
    let reconciled =
        analysis.reconciliations(&normalizer::reconcile::ReconcileConfig::default(), None);
    findings.extend(Finding::reconciliation(&reconciled, finished));
    let inventory = super::context::inventory_history(store).await?;
    findings.extend(Finding::configuration(
        &inventory.snapshot_at(Timestamp(i64::MAX)),
        finished,
    ));
    let previous: Vec<Finding> = store.get_json(FINDINGS_DOC).await?.unwrap_or_default();
    Ok(Judged {
        finished,
        findings,
        previous,
        episodes,
        previous_episodes,
        missing_baseline_parts: analysis.missing_parts.len(),
    })
}

async fn write_findings(store: &Store, findings: &[Finding]) -> Result<(), ScanError> {
    store.put_json(FINDINGS_DOC, &findings).await?;
    let mut ocsf = Vec::new();
    for f in findings {
        ocsf.extend(
            serde_json::to_vec(&normalizer::ocsf::finding_to_ocsf(
                f,
                env!("CARGO_PKG_VERSION"),
            ))
            .unwrap_or_default(),
        );
        ocsf.push(b'\n');
    }
    store.put(FINDINGS_OCSF, ocsf).await?;
    Ok(())
}

/// The scan's row; a finding's when it appears or changes, not on every scan; every
/// episode's once, and again if its class changes: evolutions too, since absorbing
/// behavior into the baseline is a decision an auditor may question.
fn audit_entries(summary: &ScanSummary, judged: &Judged) -> Vec<AuditEntry> {
    let finished = judged.finished;
    let mut entries = vec![AuditEntry {
        time: finished,
        kind: "scan".into(),
        subject: None,
        summary: format!(
            "scan {}: {} new records, {} events, {} quarantined",
            if summary.complete {
                "complete"
            } else {
                "partial"
            },
            summary.sources.iter().map(|s| s.records).sum::<u64>(),
            summary.sources.iter().map(|s| s.events).sum::<u64>(),
            summary.sources.iter().map(|s| s.quarantined).sum::<u64>(),
        ),
        evidence: json!({ "sources": summary.sources.iter().map(|s| json!({
            "name": s.name, "files_scanned": s.files_scanned, "records": s.records,
            "events": s.events, "quarantined": s.quarantined, "failures": s.failures.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>() }),
    }];
    for f in &judged.findings {
        let unchanged = judged
            .previous
            .iter()
            .any(|p| p.uid == f.uid && p.kind == f.kind);
        if !unchanged {
            entries.push(AuditEntry {
                time: finished,
                kind: "finding".into(),
                subject: Some(f.agent.key()),
                summary: f.title.clone(),
                evidence: json!({ "finding": f.uid, "detail": f.detail }),
            });
        }
    }
    for e in &judged.episodes {
        let known = judged
            .previous_episodes
            .iter()
            .any(|p| p.uid == e.uid && p.class == e.class);
        if !known {
            entries.push(AuditEntry {
                time: finished,
                kind: "drift".into(),
                subject: Some(e.agent.key()),
                summary: format!(
                    "{} on {}: {}",
                    e.class.label(),
                    e.window_start.utc_date(),
                    e.explanation
                ),
                evidence: json!({
                    "episode": e.uid,
                    "departures": e.departures.iter().map(|d| d.describe()).collect::<Vec<_>>(),
                    "deploy": e.deploy,
                }),
            });
        }
    }
    entries
}
