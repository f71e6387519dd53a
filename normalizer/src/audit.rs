//! The tamper-evident audit trail: rows hash-chained with SHA-256 over the previous hash
//! and the canonical JSON of the row. Changing, removing or reordering any row breaks
//! the chain at that row; truncating the tail is caught by comparing the head hash with
//! one recorded elsewhere (`expected_head`).

use crate::{ModelError, Timestamp, canonical::to_canonical_json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a row records before it is chained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub time: Timestamp,
    /// `scan`, `finding`, … : what kind of decision or incident the row is.
    pub kind: String,
    /// The agent (key) the row is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub summary: String,
    /// The references that justify the row: record pointers, event uids, counts.
    pub evidence: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: u64,
    #[serde(flatten)]
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Serialize)]
struct Unhashed<'a> {
    seq: u64,
    #[serde(flatten)]
    entry: &'a AuditEntry,
    prev_hash: &'a str,
}

fn row_hash(seq: u64, entry: &AuditEntry, prev_hash: &str) -> Result<String, ModelError> {
    let canonical = to_canonical_json(&Unhashed {
        seq,
        entry,
        prev_hash,
    })
    .map_err(|e| ModelError::AuditSerialization {
        seq,
        reason: e.to_string(),
    })?;
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    Ok(hex::encode(h.finalize()))
}

/// Chains `entries` after `head` (the last row written, `None` for an empty trail).
pub fn chain(
    head: Option<&AuditRow>,
    entries: Vec<AuditEntry>,
) -> Result<Vec<AuditRow>, ModelError> {
    let (mut seq, mut prev) = match head {
        Some(h) => (h.seq + 1, h.hash.clone()),
        None => (0, GENESIS_HASH.to_string()),
    };
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let hash = row_hash(seq, &entry, &prev)?;
        rows.push(AuditRow {
            seq,
            entry,
            prev_hash: prev,
            hash: hash.clone(),
        });
        prev = hash;
        seq += 1;
    }
    Ok(rows)
}

/// A line of the trail as read back, before it is trusted.
pub enum ReadRow {
    Row { location: String, row: AuditRow },
    Unreadable { location: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AuditProblem {
    /// The line is not a row at all (a flipped byte in its syntax, say).
    Unreadable { location: String, reason: String },
    /// The row's content no longer matches its own hash.
    HashMismatch { location: String, seq: u64 },
    /// The row does not follow the one before it: a row was removed or moved.
    BrokenLink {
        location: String,
        seq: u64,
        expected_seq: u64,
    },
    /// The newest row is not the head recorded elsewhere: the tail was cut or replaced.
    HeadMismatch { expected: String, found: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerdict {
    pub rows: u64,
    pub head: String,
    pub problems: Vec<AuditProblem>,
}

impl AuditVerdict {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks every row's hash and its link to the row before it, in the order given.
pub fn verify(
    rows: impl IntoIterator<Item = ReadRow>,
    expected_head: Option<&str>,
) -> AuditVerdict {
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut expected_seq = 0u64;
    let mut count = 0u64;
    let mut problems = Vec::new();
    for read in rows {
        count += 1;
        let (location, row) = match read {
            ReadRow::Row { location, row } => (location, row),
            ReadRow::Unreadable { location, reason } => {
                problems.push(AuditProblem::Unreadable { location, reason });
                // The chain cannot be followed through an unreadable row; resynchronise on
                // the next readable one so later damage is still reported.
                prev_hash.clear();
                continue;
            }
        };
        match row_hash(row.seq, &row.entry, &row.prev_hash) {
            Ok(h) if h == row.hash => {}
            _ => problems.push(AuditProblem::HashMismatch {
                location: location.clone(),
                seq: row.seq,
            }),
        }
        if !prev_hash.is_empty() && (row.prev_hash != prev_hash || row.seq != expected_seq) {
            problems.push(AuditProblem::BrokenLink {
                location,
                seq: row.seq,
                expected_seq,
            });
        }
        prev_hash = row.hash.clone();
        expected_seq = row.seq + 1;
    }
    let head = if count == 0 {
        GENESIS_HASH.to_string()
    } else {
        prev_hash
    };
    if let Some(expected) = expected_head
        && expected != head
    {
        problems.push(AuditProblem::HeadMismatch {
            expected: expected.to_string(),
            found: head.clone(),
        });
    }
    AuditVerdict {
        rows: count,
        head,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entries(n: usize) -> Vec<AuditEntry> {
        (0..n)
            .map(|i| AuditEntry {
                time: Timestamp(i as i64 * 1000),
                kind: "scan".into(),
                subject: Some(format!("agent-{i}")),
                summary: format!("row {i}"),
                evidence: json!({"records": i}),
            })
            .collect()
    }

    fn read(rows: &[AuditRow]) -> Vec<ReadRow> {
        rows.iter()
            .map(|r| ReadRow::Row {
                location: format!("row {}", r.seq),
                row: r.clone(),
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies_and_continues_across_appends() {
        let first = chain(None, entries(3)).unwrap();
        let more = chain(first.last(), entries(2)).unwrap();
        let all: Vec<AuditRow> = first.into_iter().chain(more).collect();
        let verdict = verify(read(&all), Some(&all[4].hash));
        assert!(verdict.is_intact(), "{:?}", verdict.problems);
        assert_eq!(verdict.rows, 5);
    }

    #[test]
    fn edited_deleted_and_reordered_rows_are_each_caught() {
        let rows = chain(None, entries(4)).unwrap();

        let mut edited = rows.clone();
        edited[1].entry.summary = "row 1 (edited)".into();
        assert!(matches!(
            verify(read(&edited), None).problems[0],
            AuditProblem::HashMismatch { seq: 1, .. }
        ));

        let mut deleted = rows.clone();
        deleted.remove(2);
        assert!(matches!(
            verify(read(&deleted), None).problems[0],
            AuditProblem::BrokenLink { seq: 3, .. }
        ));

        let mut reordered = rows.clone();
        reordered.swap(1, 2);
        assert!(!verify(read(&reordered), None).is_intact());

        let truncated = &rows[..3];
        let verdict = verify(read(truncated), Some(&rows[3].hash));
        assert!(matches!(
            verdict.problems[0],
            AuditProblem::HeadMismatch { .. }
        ));
    }
}
