//! What a person reads: the scan summary, inventory, events, coverage, findings, baselines,
//! drift and reconciliation as text, one module per thing rendered.

mod baseline;
mod coverage;
mod drift;
mod events;
mod findings;
mod inventory;
mod recommend;
mod reconcile;
mod scan;

pub use baseline::{baseline_detail, baseline_list, envelopes_table};
pub use coverage::coverage_table;
pub use drift::drift_table;
pub use events::{event_row, quarantine_row};
pub use findings::findings_table;
pub use inventory::{changes_since, inventory_table};
pub use recommend::{artifact_files, recommend_markdown};
pub use reconcile::reconcile_table;
pub use scan::scan_summary;

/// `1 agent`, `2 agents`.
pub(super) fn count_of(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
