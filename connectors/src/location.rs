//! Where records and state live: a local directory or an `object_store` URL (`s3://`,
//! with an endpoint override for S3-compatible servers; `gs://`, where Cloud Logging
//! sinks export), opened the same way everywhere.

use crate::ConnectorError;
use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde::Deserialize;
use std::io::{self, Read};
use std::sync::Arc;

/// A place as the configuration names it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LocationSpec {
    /// A directory path, `file:///abs/path`, `s3://bucket/prefix`, `gs://bucket/prefix` or
    /// `az://container/prefix` (the storage account from `AZURE_STORAGE_ACCOUNT_NAME`).
    pub url: String,
    /// S3-compatible endpoint, e.g. `http://127.0.0.1:9000`; for `gs://`, the Cloud
    /// Storage base URL (default `https://storage.googleapis.com`); for `az://`, the blob
    /// service URL (default `https://ACCOUNT.blob.core.windows.net`).
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// Needed for a plain-HTTP endpoint.
    #[serde(default)]
    pub allow_http: bool,
}

pub struct Opened {
    pub store: Arc<dyn ObjectStore>,
    /// Key prefix inside the store everything is relative to.
    pub prefix: Path,
    /// How to show this place to a person (never includes credentials).
    pub display: String,
}

impl Opened {
    pub fn child(&self, rel: &str) -> Path {
        let mut p = self.prefix.clone();
        for part in rel.split('/').filter(|s| !s.is_empty()) {
            p = p.clone().join(part);
        }
        p
    }

    /// `path` relative to the prefix, for display and for stable names.
    pub fn relative(&self, path: &Path) -> String {
        match path.prefix_match(&self.prefix) {
            Some(parts) => parts
                .map(|p| p.as_ref().to_string())
                .collect::<Vec<_>>()
                .join("/"),
            None => path.to_string(),
        }
    }
}

/// Opens a location. `base_dir` resolves relative directory paths (the config file's
/// directory); `create` makes a missing local directory (for stores, not for sources).
pub fn open(
    spec: &LocationSpec,
    base_dir: &std::path::Path,
    create: bool,
) -> Result<Opened, ConnectorError> {
    let bad = |reason: String| ConnectorError::BadLocation {
        url: spec.url.clone(),
        reason,
    };
    crate::rest::use_ring_for_tls();
    if let Some(rest) = spec.url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name after s3://".into()));
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(e) = &spec.endpoint {
            builder = builder
                .with_endpoint(e)
                .with_virtual_hosted_style_request(false);
        }
        if let Some(r) = &spec.region {
            builder = builder.with_region(r);
        }
        if spec.allow_http {
            builder = builder.with_allow_http(true);
        }
        let store = builder.build().map_err(|e| bad(e.to_string()))?;
        return Ok(Opened {
            store: Arc::new(store),
            prefix: Path::parse(prefix.trim_end_matches('/')).map_err(|e| bad(e.to_string()))?,
            display: spec.url.clone(),
        });
    }
    if let Some(rest) = spec.url.strip_prefix("gs://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name after gs://".into()));
        }
        // Credentials as Google's tools find them: GOOGLE_SERVICE_ACCOUNT(_KEY), or
        // GOOGLE_APPLICATION_CREDENTIALS / the gcloud login, or the metadata server.
        let mut builder =
            object_store::gcp::GoogleCloudStorageBuilder::from_env().with_bucket_name(bucket);
        if let Ok(path) = std::env::var("GOOGLE_APPLICATION_CREDENTIALS") {
            builder = builder.with_application_credentials(path);
        }
        if let Some(e) = &spec.endpoint {
            builder = builder.with_base_url(e.trim_end_matches('/'));
        }
        if spec.allow_http {
            builder = builder
                .with_client_options(object_store::ClientOptions::new().with_allow_http(true));
        }
        let store = builder.build().map_err(|e| bad(e.to_string()))?;
        return Ok(Opened {
            store: Arc::new(store),
            prefix: Path::parse(prefix.trim_end_matches('/')).map_err(|e| bad(e.to_string()))?,
            display: spec.url.clone(),
        });
    }
    if let Some(rest) = spec.url.strip_prefix("az://") {
        let (container, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if container.is_empty() {
            return Err(bad("no container name after az://".into()));
        }
        // Credentials and account as Azure's tools name them: AZURE_STORAGE_ACCOUNT_NAME
        // with AZURE_STORAGE_ACCOUNT_KEY, a SAS or AZURE_STORAGE_TOKEN; or an Entra ID
        // client secret, workload identity or managed identity (AZURE_CLIENT_ID, …).
        let mut builder =
            object_store::azure::MicrosoftAzureBuilder::from_env().with_container_name(container);
        if let Some(e) = &spec.endpoint {
            builder = builder.with_endpoint(e.trim_end_matches('/').to_string());
        }
        if spec.allow_http {
            builder = builder.with_allow_http(true);
        }
        let store = builder.build().map_err(|e| {
            bad(format!(
                "{e} (the storage account is named by AZURE_STORAGE_ACCOUNT_NAME)"
            ))
        })?;
        return Ok(Opened {
            store: Arc::new(store),
            prefix: Path::parse(prefix.trim_end_matches('/')).map_err(|e| bad(e.to_string()))?,
            display: spec.url.clone(),
        });
    }
    let local = match spec.url.strip_prefix("file://") {
        Some(p) => std::path::PathBuf::from(p),
        None if spec.url.contains("://") => {
            return Err(bad(
                "unsupported scheme: use a directory path, file://, s3://, gs:// or az://".into(),
            ));
        }
        None => base_dir.join(&spec.url),
    };
    if create {
        std::fs::create_dir_all(&local)
            .map_err(|e| bad(format!("cannot create {}: {e}", local.display())))?;
    } else if !local.is_dir() {
        return Err(bad(format!("{} is not a directory", local.display())));
    }
    let canonical = local
        .canonicalize()
        .map_err(|e| bad(format!("{}: {e}", local.display())))?;
    let store = object_store::local::LocalFileSystem::new_with_prefix(&canonical)
        .map_err(|e| bad(e.to_string()))?;
    Ok(Opened {
        store: Arc::new(store),
        prefix: Path::default(),
        display: canonical.display().to_string(),
    })
}

/// A blocking [`Read`] over an object, for parsers that run on a blocking thread. Chunks
/// arrive through a small bounded channel, so memory stays at a few chunks whatever the
/// object's size. Must be created inside a Tokio runtime.
pub fn blocking_reader(store: Arc<dyn ObjectStore>, path: Path) -> impl Read + Send {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
    tokio::spawn(async move {
        let stream = match store.get(&path).await {
            Ok(r) => r.into_stream(),
            Err(e) => {
                let _ = tx.send(Err(io::Error::other(e))).await;
                return;
            }
        };
        futures::pin_mut!(stream);
        while let Some(chunk) = stream.next().await {
            let item = chunk.map_err(io::Error::other);
            let failed = item.is_err();
            // A send fails only when the reader is gone; nothing left to do then.
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    ChannelReader {
        rx,
        current: Bytes::new(),
    }
}

struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}
