//! One scan: config → sources → model → sinks. Every configured source takes its steps in
//! the order [`Step`] states (declare, observe its logs, complete); then coverage, drift,
//! reconciliation and findings are judged from the store's merged state, and the scan
//! enters the audit trail.

mod context;
mod logs;
mod sinks;
mod sources;
mod state;

pub use context::now;
pub use state::AgentSummary;

use crate::config::{Config, SourceConfig};
use crate::store::{Store, StoreError};
use connectors::location;
use connectors::source::{Source, SourceSummary, Step};
use normalizer::Timestamp;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot open the store: {0}")]
    OpenStore(connectors::ConnectorError),
    #[error("audit trail: {0}")]
    Audit(#[from] normalizer::ModelError),
    #[error(transparent)]
    Behavior(#[from] crate::behavior::BehaviorError),
    #[error(transparent)]
    Source(connectors::ConnectorError),
}

impl From<connectors::ConnectorError> for ScanError {
    /// A source's store failure is the store's; anything else is the source's.
    fn from(e: connectors::ConnectorError) -> Self {
        match e {
            connectors::ConnectorError::Store(inner) => match inner.downcast::<StoreError>() {
                Ok(store) => ScanError::Store(*store),
                Err(other) => ScanError::Source(connectors::ConnectorError::Store(other)),
            },
            other => ScanError::Source(other),
        }
    }
}

impl From<crate::audit::AppendError> for ScanError {
    fn from(e: crate::audit::AppendError) -> Self {
        match e {
            crate::audit::AppendError::Store(s) => ScanError::Store(s),
            crate::audit::AppendError::Model(m) => ScanError::Audit(m),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ScanSummary {
    pub started: Timestamp,
    pub finished: Timestamp,
    pub complete: bool,
    pub sources: Vec<SourceSummary>,
    /// Totals over everything in the store, not just this run.
    pub agents: Vec<AgentSummary>,
    pub unattributed_events: u64,
    pub coverage_gaps: usize,
    /// Drift episodes a human must review (risky or unclassified).
    pub drift_findings: usize,
    /// Unused-excess and inherited-overreach findings.
    pub reconciliation_findings: usize,
    /// What runs left open to a known attack (no guardrail, no prompt-attack filter).
    pub configuration_findings: usize,
    /// Log files whose baseline part is missing (see `agentward baseline show`).
    pub missing_baseline_parts: usize,
    pub quarantine_location: String,
}

/// Runs every configured source, then recomputes coverage and findings and appends the
/// scan to the audit trail.
pub async fn run(config: &Config, show_progress: bool) -> Result<ScanSummary, ScanError> {
    let started = now();
    let store = Store::new(
        location::open(&config.store, &config.base_dir, true).map_err(ScanError::OpenStore)?,
    );
    let progress = indicatif::MultiProgress::with_draw_target(if show_progress {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    });
    let ctx = context::StoreContext {
        store: &store,
        config,
    };
    let mut sources: Vec<Box<dyn Source>> = config.sources.iter().map(sources::build).collect();
    let summaries = run_sources(&ctx, &mut sources, &progress).await?;
    let (agents, unattributed_events) = state::compute_state(&ctx, &sources).await?;
    sinks::conclude(
        &store,
        config,
        (started, summaries),
        (agents, unattributed_events),
    )
    .await
}

/// Every source's steps, in the order of [`Step`] (sources of one step in configuration
/// order); a source's summary is taken after its last step.
async fn run_sources(
    ctx: &context::StoreContext<'_>,
    sources: &mut [Box<dyn Source>],
    progress: &indicatif::MultiProgress,
) -> Result<Vec<SourceSummary>, ScanError> {
    let configs: &[SourceConfig] = &ctx.config.sources;
    let mut plan: Vec<(Step, usize)> = sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.steps().iter().map(move |step| (*step, i)))
        .collect();
    plan.sort_by_key(|(step, _)| *step);
    let mut summaries = Vec::new();
    for (step, i) in plan {
        let source = &mut sources[i];
        let summary = match step {
            Step::AwsDeclare | Step::ManagedDeclare => {
                tracing::info!(source = %source.name(), "reading what the APIs declare");
                source.declare(ctx).await?;
                None
            }
            Step::AttributingLogs | Step::Logs => match source.log_format() {
                Some(format) => {
                    tracing::info!(source = %source.name(), "scanning");
                    let at = (&configs[i], format);
                    Some(logs::scan_source(ctx.store, ctx.config, at, progress).await?)
                }
                None => None,
            },
            Step::AwsComplete | Step::ManagedComplete => {
                source.complete(ctx).await?;
                None
            }
        };
        if source.steps().last() == Some(&step) {
            summaries.extend(summary.or_else(|| source.summary()));
        }
    }
    Ok(summaries)
}

/// Opens the configured store for reading: a local store that does not exist is an error
/// (a mistyped path must not look like an empty store).
pub fn open_existing_store(config: &Config) -> Result<Store, ScanError> {
    Ok(Store::new(
        location::open(&config.store, &config.base_dir, false).map_err(ScanError::OpenStore)?,
    ))
}
