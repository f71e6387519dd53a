//! Where a scan keeps what in the store: the paths every reader and writer of the store
//! agree on.

use sha2::{Digest, Sha256};

/// The agent key of events no agent could be tied to.
pub const UNATTRIBUTED: &str = "unattributed";
pub const INVENTORY_DIR: &str = "snapshots/inventory";
pub const IDENTITY_DIR: &str = "snapshots/identity";
pub const COVERAGE_DOC: &str = "snapshots/coverage.json";
pub const FINDINGS_DOC: &str = "findings/current.json";
pub const FINDINGS_OCSF: &str = "findings/current.ocsf.jsonl";

pub fn baseline_part(source: &str, unit: &str) -> String {
    format!("baselines/parts/{source}/{unit}.json")
}

pub fn cursor_dir(source: &str) -> String {
    format!("cursors/{source}")
}

/// A log file's stable name in the store, from its source and key.
pub fn unit_id(source: &str, key: &str) -> String {
    hex::encode(&Sha256::digest(format!("{source}\n{key}").as_bytes())[..12])
}

/// What an API source last read of its provider's configuration (its state).
pub fn telemetry_doc(source: &str) -> String {
    format!("snapshots/telemetry/{source}.json")
}

/// Where, inside the store, what the API source `api` read of its logs is kept.
pub fn pulled_dir(api: &str) -> String {
    format!("pulled/{api}")
}
