//! What a source reads and records of the store, through the port the sources define.

use crate::config::{Config, SourceKind};
use crate::cursor::SourceCursor;
use crate::layout::{IDENTITY_DIR, INVENTORY_DIR, cursor_dir, pulled_dir, telemetry_doc};
use crate::store::{Store, StoreError};
use connectors::ConnectorError;
use connectors::cloudtrail::Attribution;
use normalizer::Timestamp;
use normalizer::identity::{IdentityHistory, IdentityObservation};
use normalizer::inventory::{InventoryHistory, Observation};

pub struct StoreContext<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
}

fn carried(e: StoreError) -> ConnectorError {
    ConnectorError::Store(Box::new(e))
}

pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(d.as_millis() as i64)
}

/// The inventory as the store has it.
pub async fn inventory_history(store: &Store) -> Result<InventoryHistory, StoreError> {
    Ok(store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| h)
        .unwrap_or_default())
}

/// Merges inventory facts into the shared history (order-independent: safe to repeat).
pub async fn record_inventory(store: &Store, facts: Vec<Observation>) -> Result<(), StoreError> {
    if facts.is_empty() {
        return Ok(());
    }
    let mut mine = InventoryHistory::default();
    mine.merge(facts);
    store
        .commit(INVENTORY_DIR, mine, None, |m, theirs| {
            m.merge(theirs.observations)
        })
        .await?;
    Ok(())
}

/// Merges declared-identity facts into the shared history (a union: safe to repeat).
pub async fn record_identity(
    store: &Store,
    facts: Vec<IdentityObservation>,
) -> Result<(), StoreError> {
    if facts.is_empty() {
        return Ok(());
    }
    let mut mine = IdentityHistory::default();
    mine.merge(facts);
    store
        .commit(IDENTITY_DIR, mine, None, |m, theirs| {
            m.merge(theirs.observations)
        })
        .await?;
    Ok(())
}

/// What every CloudTrail source has learned about which agent is which role, function
/// and knowledge base, and what the APIs said about it.
pub async fn cloudtrail_attribution(
    store: &Store,
    config: &Config,
) -> Result<Attribution, StoreError> {
    let mut all = store
        .latest::<InventoryHistory>(INVENTORY_DIR)
        .await?
        .map(|(_, h)| Attribution::from_inventory(&h.snapshot_at(Timestamp(i64::MAX))))
        .unwrap_or_default();
    for source in config
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::CloudTrail)
    {
        if let Some((_, c)) = store
            .latest::<SourceCursor>(&cursor_dir(&source.name))
            .await?
        {
            all.merge(&c.attribution);
        }
    }
    Ok(all)
}

#[async_trait::async_trait]
impl connectors::source::Context for StoreContext<'_> {
    fn now(&self) -> Timestamp {
        now()
    }

    async fn inventory(&self) -> Result<InventoryHistory, ConnectorError> {
        inventory_history(self.store).await.map_err(carried)
    }

    async fn record_inventory(&self, facts: Vec<Observation>) -> Result<(), ConnectorError> {
        record_inventory(self.store, facts).await.map_err(carried)
    }

    async fn identity(&self) -> Result<IdentityHistory, ConnectorError> {
        Ok(self
            .store
            .latest::<IdentityHistory>(IDENTITY_DIR)
            .await
            .map_err(carried)?
            .map(|(_, h)| h)
            .unwrap_or_default())
    }

    async fn record_identity(&self, facts: Vec<IdentityObservation>) -> Result<(), ConnectorError> {
        record_identity(self.store, facts).await.map_err(carried)
    }

    async fn state(&self, source: &str) -> Result<Option<Vec<u8>>, ConnectorError> {
        let bytes = self.store.get(&telemetry_doc(source)).await;
        Ok(bytes.map_err(carried)?.map(|b| b.to_vec()))
    }

    async fn put_state(&self, source: &str, json: Vec<u8>) -> Result<(), ConnectorError> {
        let path = telemetry_doc(source);
        self.store.put(&path, json).await.map_err(carried)
    }

    async fn put_pulled(
        &self,
        source: &str,
        key: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ConnectorError> {
        let path = format!("{}/{key}", pulled_dir(source));
        self.store.put(&path, bytes).await.map_err(carried)
    }

    async fn attribution(&self) -> Result<Attribution, ConnectorError> {
        cloudtrail_attribution(self.store, self.config)
            .await
            .map_err(carried)
    }

    async fn roles_acted_as(&self) -> Result<Vec<String>, ConnectorError> {
        Ok(self
            .store
            .latest::<crate::behavior::Rollup>(crate::behavior::BASELINE_DIR)
            .await
            .map_err(carried)?
            .map(|(_, r)| r.roles_acted_as())
            .unwrap_or_default())
    }
}
