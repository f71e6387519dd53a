//! The pods of this node and the workloads that own them, from the Kubernetes API: what
//! attribution uses instead of guessing owners from generated pod names when the probe
//! runs in a cluster (a DaemonSet with a service account that may list pods and get
//! ReplicaSets and Jobs).
//!
//! Requests: `GET /api/v1/pods?fieldSelector=spec.nodeName=NODE` (every page, `limit` and
//! `continue`), then each controlling ReplicaSet (`/apis/apps/v1/…/replicasets/NAME`) and
//! Job (`/apis/batch/v1/…/jobs/NAME`) once, for the Deployment or CronJob above it.

use crate::ProbeError;
use crate::attribution::owner_from_controller_name;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

const SERVICE_ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
const PAGE: u32 = 500;

/// Where the API is and how to authenticate to it.
#[derive(Debug, Clone)]
pub struct KubeApiConfig {
    /// `https://10.96.0.1:443`.
    pub url: String,
    /// A bearer token file, read at every refresh (projected tokens rotate).
    pub token_file: Option<PathBuf>,
    /// The cluster's CA bundle: the only roots trusted for the API server.
    pub ca_file: Option<PathBuf>,
    /// The node whose pods are listed.
    pub node: String,
}

impl KubeApiConfig {
    /// The in-cluster configuration (a pod's service account and the
    /// `KUBERNETES_SERVICE_HOST`/`_PORT` the kubelet sets), when running in a pod.
    pub fn in_cluster(node: &str) -> Option<KubeApiConfig> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").ok()?;
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        let account = Path::new(SERVICE_ACCOUNT);
        Some(KubeApiConfig {
            url: format!("https://{host}:{port}"),
            token_file: Some(account.join("token")),
            ca_file: Some(account.join("ca.crt")),
            node: node.to_string(),
        })
    }
}

/// A pod on this node and the workload that controls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPod {
    pub uid: String,
    pub namespace: String,
    pub name: String,
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob`, `ReplicaSet` (one no
    /// Deployment controls), another controller's kind, or `Pod` for a bare pod.
    pub kind: String,
    pub owner: String,
    /// The ownership chain as read (`ReplicaSet support-bot-7d9f8b6c5d → Deployment
    /// support-bot`).
    pub chain: String,
}

/// An object's kind and name.
type Named = (String, String);

pub struct KubeApi {
    config: KubeApiConfig,
    http: reqwest::Client,
    /// The controller of each ReplicaSet and Job read so far, by (namespace, kind, name):
    /// a pod's owner's owner does not change while the owner lives.
    controllers: Mutex<HashMap<(String, String, String), Option<Named>>>,
}

fn failed(what: String, reason: impl std::fmt::Display) -> ProbeError {
    ProbeError::Kubernetes(format!("{what}: {reason}"))
}

/// The controlling owner reference (`controller: true`) of an object: (kind, name).
fn controller_of(object: &Value) -> Option<Named> {
    object["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
        .and_then(|r| {
            Some((
                r["kind"].as_str()?.to_string(),
                r["name"].as_str()?.to_string(),
            ))
        })
}

impl KubeApi {
    pub fn new(config: KubeApiConfig) -> Result<KubeApi, ProbeError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("agentward-probe/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &config.ca_file {
            let pem = std::fs::read(ca).map_err(|source| ProbeError::Io {
                what: format!("reading the cluster CA {}", ca.display()),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| failed(format!("the cluster CA {}", ca.display()), e))?;
            if certs.is_empty() {
                return Err(failed(
                    format!("the cluster CA {}", ca.display()),
                    "no PEM certificate in it",
                ));
            }
            builder = builder.tls_certs_only(certs);
        }
        let http = builder
            .build()
            .map_err(|e| failed("building the Kubernetes API client".into(), e))?;
        Ok(KubeApi {
            config,
            http,
            controllers: Mutex::new(HashMap::new()),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "Kubernetes API {} (node {})",
            self.config.url, self.config.node
        )
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ProbeError> {
        let url = format!("{}{path}", self.config.url.trim_end_matches('/'));
        let mut request = self.http.get(&url).query(query);
        if let Some(file) = &self.config.token_file {
            let token = std::fs::read_to_string(file).map_err(|source| ProbeError::Io {
                what: format!("reading the service account token {}", file.display()),
                source,
            })?;
            request = request.bearer_auth(token.trim());
        }
        let response = request
            .send()
            .await
            .map_err(|e| failed(format!("GET {url}"), crate::with_causes(&e)))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| failed(format!("GET {url}: HTTP {status}"), e))?;
        if !status.is_success() {
            // The API's errors are Status objects: reason and message say why.
            return Err(failed(
                format!("GET {url}"),
                format!(
                    "HTTP {} {}: {}",
                    status.as_u16(),
                    body["reason"].as_str().unwrap_or("?"),
                    body["message"].as_str().unwrap_or("(no message)")
                ),
            ));
        }
        Ok(body)
    }

    /// The controller of a ReplicaSet or Job, read once.
    async fn controller(
        &self,
        namespace: &str,
        kind: &str,
        name: &str,
    ) -> Result<Option<Named>, ProbeError> {
        let key = (namespace.to_string(), kind.to_string(), name.to_string());
        if let Some(known) = self.controllers.lock().expect("not poisoned").get(&key) {
            return Ok(known.clone());
        }
        let path = match kind {
            "ReplicaSet" => format!("/apis/apps/v1/namespaces/{namespace}/replicasets/{name}"),
            _ => format!("/apis/batch/v1/namespaces/{namespace}/jobs/{name}"),
        };
        let object = self.get(&path, &[]).await?;
        let found = controller_of(&object);
        self.controllers
            .lock()
            .expect("not poisoned")
            .insert(key, found.clone());
        Ok(found)
    }

    /// Every pod scheduled on this node, with its owning workload.
    pub async fn node_pods(&self) -> Result<Vec<ApiPod>, ProbeError> {
        let selector = format!("spec.nodeName={}", self.config.node);
        let limit = PAGE.to_string();
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut query = vec![("fieldSelector", selector.as_str()), ("limit", &limit)];
            if let Some(token) = &next {
                query.push(("continue", token));
            }
            let page = self.get("/api/v1/pods", &query).await?;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["metadata"]["continue"]
                .as_str()
                .filter(|c| !c.is_empty())
            {
                Some(token) => next = Some(token.to_string()),
                None => break,
            }
        }
        let mut pods = Vec::with_capacity(items.len());
        for item in &items {
            let meta = &item["metadata"];
            let (Some(uid), Some(namespace), Some(name)) = (
                meta["uid"].as_str(),
                meta["namespace"].as_str(),
                meta["name"].as_str(),
            ) else {
                continue;
            };
            let (kind, owner, chain) = match controller_of(item) {
                None => (
                    "Pod".to_string(),
                    name.to_string(),
                    "no controller".to_string(),
                ),
                Some((kind, owner)) if kind == "ReplicaSet" || kind == "Job" => {
                    match self.controller(namespace, &kind, &owner).await {
                        Ok(Some((top_kind, top))) => (
                            top_kind.clone(),
                            top.clone(),
                            format!("{kind} {owner} → {top_kind} {top}"),
                        ),
                        Ok(None) => (kind.clone(), owner.clone(), format!("{kind} {owner}")),
                        // One owner that cannot be read (deleted since the list, or not
                        // allowed) costs only that pod its exactness: the workload above
                        // comes from the controller's generated name, and says so; the
                        // next read asks again.
                        Err(error) => {
                            let e = match error {
                                ProbeError::Kubernetes(reason) => reason,
                                other => other.to_string(),
                            };
                            match owner_from_controller_name(&kind, &owner) {
                                Some((top_kind, top)) => (
                                    top_kind.clone(),
                                    top.clone(),
                                    format!(
                                        "{kind} {owner} → {top_kind} {top} (from the {kind}'s name: it could not be read: {e})"
                                    ),
                                ),
                                None => (
                                    kind.clone(),
                                    owner.clone(),
                                    format!("{kind} {owner} (it could not be read: {e})"),
                                ),
                            }
                        }
                    }
                }
                Some((kind, owner)) => (kind.clone(), owner.clone(), format!("{kind} {owner}")),
            };
            pods.push(ApiPod {
                uid: uid.to_string(),
                namespace: namespace.to_string(),
                name: name.to_string(),
                kind,
                owner,
                chain,
            });
        }
        Ok(pods)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_controller_is_the_owner_reference_marked_so() {
        let pod = json!({"metadata": {"ownerReferences": [
            {"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": "n"},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "bot-7d9f8b6c5d", "uid": "r",
             "controller": true, "blockOwnerDeletion": true}
        ]}});
        assert_eq!(
            controller_of(&pod),
            Some(("ReplicaSet".into(), "bot-7d9f8b6c5d".into()))
        );
        assert_eq!(controller_of(&json!({"metadata": {}})), None);
    }
}
