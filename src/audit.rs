//! The audit trail in the store: append-only segments `audit/segments/<first seq>.jsonl`,
//! each created only if absent, so two writers cannot both extend the chain from the same
//! row: the loser re-reads the head and chains after the winner.

use crate::store::{Store, StoreError};
use normalizer::audit::{self, AuditEntry, AuditRow, AuditVerdict, ReadRow};

const DIR: &str = "audit/segments";
const MAX_ATTEMPTS: u32 = 64;

fn segment_name(first_seq: u64) -> String {
    format!("{DIR}/{first_seq:020}.jsonl")
}

async fn segments(store: &Store) -> Result<Vec<String>, StoreError> {
    Ok(store
        .list(DIR)
        .await?
        .into_iter()
        .filter(|n| n.ends_with(".jsonl"))
        .collect())
}

async fn head(store: &Store) -> Result<Option<AuditRow>, StoreError> {
    let Some(last) = segments(store).await?.pop() else {
        return Ok(None);
    };
    let bytes = store.get(&last).await?.unwrap_or_default();
    let line = bytes
        .split(|b| *b == b'\n')
        .rfind(|l| !l.is_empty())
        .unwrap_or_default();
    serde_json::from_slice(line)
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            path: last,
            reason: format!("last audit row unreadable ({e}); run `agentward audit verify`"),
        })
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Model(#[from] normalizer::ModelError),
}

pub async fn append(store: &Store, entries: Vec<AuditEntry>) -> Result<Vec<AuditRow>, AppendError> {
    for _ in 0..MAX_ATTEMPTS {
        let head = head(store).await?;
        let rows = audit::chain(head.as_ref(), entries.clone())?;
        let Some(first) = rows.first() else {
            return Ok(rows);
        };
        let mut bytes = Vec::new();
        for r in &rows {
            bytes.extend(serde_json::to_vec(r).map_err(|e| StoreError::Corrupt {
                path: DIR.into(),
                reason: e.to_string(),
            })?);
            bytes.push(b'\n');
        }
        if store.create(&segment_name(first.seq), bytes).await? {
            return Ok(rows);
        }
    }
    Err(StoreError::Contention {
        dir: DIR.into(),
        attempts: MAX_ATTEMPTS,
    }
    .into())
}

/// Reads every segment in order and checks the chain.
pub async fn verify(
    store: &Store,
    expected_head: Option<&str>,
) -> Result<AuditVerdict, StoreError> {
    let mut read = Vec::new();
    for name in segments(store).await? {
        let bytes = store.get(&name).await?.unwrap_or_default();
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let location = format!("{name}:{}", i + 1);
            read.push(match serde_json::from_slice::<AuditRow>(line) {
                Ok(row) => ReadRow::Row { location, row },
                Err(e) => ReadRow::Unreadable {
                    location,
                    reason: e.to_string(),
                },
            });
        }
    }
    Ok(audit::verify(read, expected_head))
}
