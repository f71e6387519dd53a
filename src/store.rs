//! The store: one object-store location (a local directory by default) holding
//!
//! ```text
//! events/date=YYYY-MM-DD/agent=KEY/UNIT.ocsf.jsonl   OCSF JSON Lines, one file per log file × day × agent
//! quarantine/SOURCE/UNIT.jsonl                       records that could not be mapped, with reasons
//! cursors/SOURCE/vNNN.json                           what each source has scanned (+ attribution)
//! snapshots/inventory/vNNN.json                      the inventory history
//! snapshots/coverage.json                            coverage per agent × layer, as of the last scan
//! findings/current.json, findings/current.ocsf.jsonl findings as of the last scan
//! audit/segments/NNN.jsonl                           the hash-chained audit trail, append-only
//! reports/TIME-PID.json                              one summary per scan
//! ```
//!
//! Shared state is versioned: a writer creates `v<n+1>` only if it does not exist yet
//! (create-if-absent works on local disks and on S3), and on a conflict re-reads, merges
//! and tries the next number. So two scanners on one store never lose each other's work.

use bytes::Bytes;
use connectors::location::Opened;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("store {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: object_store::Error,
    },
    #[error("store object {path} is not valid: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("could not commit {dir} after {attempts} attempts: other writers kept winning")]
    Contention { dir: String, attempts: u32 },
}

pub struct Store {
    pub at: Opened,
}

const KEEP_VERSIONS: usize = 3;
const MAX_COMMIT_ATTEMPTS: u32 = 64;

fn version_name(seq: u64) -> String {
    format!("v{seq:020}.json")
}

fn parse_version(name: &str) -> Option<u64> {
    name.strip_prefix('v')?.strip_suffix(".json")?.parse().ok()
}

impl Store {
    pub fn new(at: Opened) -> Self {
        Store { at }
    }

    pub fn path(&self, rel: &str) -> Path {
        self.at.child(rel)
    }

    fn io(op: &'static str, path: &Path) -> impl FnOnce(object_store::Error) -> StoreError + use<> {
        let path = path.to_string();
        move |source| StoreError::Io { op, path, source }
    }

    pub async fn put(&self, rel: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let path = self.path(rel);
        self.at
            .store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(Self::io("write", &path))?;
        Ok(())
    }

    /// `None` if the object does not exist.
    pub async fn get(&self, rel: &str) -> Result<Option<Bytes>, StoreError> {
        let path = self.path(rel);
        self.get_path(&path).await
    }

    pub async fn get_path(&self, path: &Path) -> Result<Option<Bytes>, StoreError> {
        match self.at.store.get(path).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(Self::io("read", path))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Self::io("read", path)(e)),
        }
    }

    pub async fn delete(&self, rel: &str) -> Result<(), StoreError> {
        let path = self.path(rel);
        match self.at.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Self::io("delete", &path)(e)),
        }
    }

    /// Every object under `rel`, as paths relative to the store, sorted.
    pub async fn list(&self, rel: &str) -> Result<Vec<String>, StoreError> {
        let prefix = self.path(rel);
        let mut out: Vec<String> = self
            .at
            .store
            .list(Some(&prefix))
            .map_ok(|m| self.at.relative(&m.location))
            .try_collect()
            .await
            .map_err(Self::io("list", &prefix))?;
        out.sort();
        Ok(out)
    }

    pub async fn get_json<T: DeserializeOwned>(&self, rel: &str) -> Result<Option<T>, StoreError> {
        match self.get(rel).await? {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    path: rel.to_string(),
                    reason: e.to_string(),
                }),
        }
    }

    pub async fn put_json<T: Serialize>(&self, rel: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| StoreError::Corrupt {
            path: rel.to_string(),
            reason: e.to_string(),
        })?;
        self.put(rel, bytes).await
    }

    /// Puts only if nothing is at `rel` yet; `Ok(false)` when someone else was first.
    pub async fn create(&self, rel: &str, bytes: Vec<u8>) -> Result<bool, StoreError> {
        let path = self.path(rel);
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self
            .at
            .store
            .put_opts(&path, PutPayload::from(bytes), opts)
            .await
        {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Ok(false),
            Err(e) => Err(Self::io("create", &path)(e)),
        }
    }

    /// Number of the newest version in a versioned directory, without reading it.
    async fn latest_version(&self, dir: &str) -> Result<Option<(u64, String)>, StoreError> {
        Ok(self
            .list(dir)
            .await?
            .into_iter()
            .filter_map(|n| parse_version(n.rsplit('/').next()?).map(|s| (s, n)))
            .max())
    }

    /// The newest version in a versioned directory, with its number.
    pub async fn latest<T: DeserializeOwned>(
        &self,
        dir: &str,
    ) -> Result<Option<(u64, T)>, StoreError> {
        // A version can be pruned between listing and reading it; list again then.
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let Some((seq, name)) = self.latest_version(dir).await? else {
                return Ok(None);
            };
            if let Some(v) = self.get_json::<T>(&name).await? {
                return Ok(Some((seq, v)));
            }
        }
        Err(StoreError::Contention {
            dir: dir.to_string(),
            attempts: MAX_COMMIT_ATTEMPTS,
        })
    }

    /// Writes `mine`, merged with whatever is newest, as the next version, and returns the
    /// version number with what was written. `known` is the version `mine` already
    /// includes: when that is still the newest, nothing is read back. `merge(mine, theirs)`
    /// must be a union (idempotent, commutative) so retries and races converge.
    pub async fn commit<T, F>(
        &self,
        dir: &str,
        mut mine: T,
        known: Option<u64>,
        merge: F,
    ) -> Result<(u64, T), StoreError>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(&mut T, T),
    {
        let mut merged_up_to = known;
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let next = match self.latest_version(dir).await? {
                None => 1,
                Some((seq, _)) if Some(seq) == merged_up_to => seq + 1,
                Some(_) => match self.latest::<T>(dir).await? {
                    Some((seq, theirs)) => {
                        merge(&mut mine, theirs);
                        merged_up_to = Some(seq);
                        seq + 1
                    }
                    None => 1,
                },
            };
            let bytes = serde_json::to_vec(&mine).map_err(|e| StoreError::Corrupt {
                path: dir.to_string(),
                reason: e.to_string(),
            })?;
            if self
                .create(&format!("{dir}/{}", version_name(next)), bytes)
                .await?
            {
                self.prune(dir, next).await?;
                return Ok((next, mine));
            }
        }
        Err(StoreError::Contention {
            dir: dir.to_string(),
            attempts: MAX_COMMIT_ATTEMPTS,
        })
    }

    async fn prune(&self, dir: &str, newest: u64) -> Result<(), StoreError> {
        for name in self.list(dir).await? {
            if let Some(seq) = name.rsplit('/').next().and_then(parse_version)
                && seq + (KEEP_VERSIONS as u64) <= newest
            {
                self.delete(&name).await?;
            }
        }
        Ok(())
    }
}
