//! Which agent a cgroup belongs to. Baselines are kept per owning workload (a Kubernetes
//! Deployment, not its pods; a systemd unit; a name the operator gave a cgroup), so they
//! survive replica churn and rollouts.

use crate::kube::ApiPod;
use normalizer::{AgentRef, Provider};
use std::collections::BTreeMap;
use std::path::Path;

/// The workload a cgroup belongs to, and how that was worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// `Deployment`, `StatefulSet`, `DaemonSet or Job`, `CronJob`, `Pod`, `systemd unit`,
    /// `configured`, `cgroup`.
    pub kind: String,
    pub name: String,
    /// Kubernetes namespace; `None` off Kubernetes.
    pub namespace: Option<String>,
    pub pod: Option<String>,
    pub container: Option<String>,
    /// How the workload was derived, for the record.
    pub how: String,
}

impl Workload {
    /// The agent this workload is: scope is the cluster (or host), location the
    /// namespace (`host` off Kubernetes), id `kind/name`.
    pub fn agent(&self, scope: &str) -> AgentRef {
        let kind = match self.kind.as_str() {
            "DaemonSet or Job" => "daemonset-or-job".to_string(),
            "systemd unit" => "unit".to_string(),
            "configured" => "agent".to_string(),
            // Kubernetes kinds (Deployment, StatefulSet, DaemonSet, Job, CronJob,
            // ReplicaSet, Pod, another controller's) and `cgroup`.
            other => other.to_ascii_lowercase(),
        };
        AgentRef {
            provider: Provider::SelfHosted,
            scope: scope.to_string(),
            location: self.namespace.clone().unwrap_or_else(|| "host".into()),
            id: format!("{kind}/{}", self.name),
            qualifier: None,
        }
    }
}

/// The pods the kubelet runs on this node, by uid: read from its log directory
/// (`/var/log/pods/<namespace>_<pod>_<uid>/`), which every kubelet keeps, and, when the
/// probe may read it, from the Kubernetes API with their real owners.
#[derive(Debug, Clone, Default)]
pub struct PodDirectory {
    by_uid: BTreeMap<String, (String, String)>,
    from_api: BTreeMap<String, ApiPod>,
}

impl PodDirectory {
    pub fn read(log_dir: &Path) -> PodDirectory {
        let mut directory = PodDirectory::default();
        directory.read_logs(log_dir);
        directory
    }

    /// Adds the pods whose log directories appeared since the last read.
    pub fn read_logs(&mut self, log_dir: &Path) {
        if let Ok(entries) = std::fs::read_dir(log_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some((namespace, pod, uid)) = split_pod_dir(&name) {
                    self.insert(uid, namespace, pod);
                }
            }
        }
    }

    /// The API's pods of this node, replacing those of an earlier read.
    pub fn set_api_pods(&mut self, pods: Vec<ApiPod>) {
        self.from_api = pods.into_iter().map(|p| (p.uid.clone(), p)).collect();
    }

    pub fn knows(&self, uid: &str) -> bool {
        self.by_uid.contains_key(uid) || self.from_api.contains_key(uid)
    }

    pub fn insert(&mut self, uid: &str, namespace: &str, pod: &str) {
        self.by_uid
            .insert(uid.to_string(), (namespace.to_string(), pod.to_string()));
    }

    fn get(&self, uid: &str) -> Option<&(String, String)> {
        self.by_uid.get(uid)
    }
}

fn split_pod_dir(name: &str) -> Option<(&str, &str, &str)> {
    // Namespaces and pod names cannot hold `_`; the uid is last.
    let mut parts = name.splitn(3, '_');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

/// The cgroup path's pod uid and container id, for both kubelet cgroup drivers:
/// systemd (`kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope`) and
/// cgroupfs (`/kubepods/burstable/pod<uid>/<id>`).
pub fn kubernetes_ids(cgroup_path: &str) -> Option<(String, Option<String>)> {
    if !cgroup_path.contains("kubepods") {
        return None;
    }
    let mut pod = None;
    let mut container = None;
    for part in cgroup_path.split('/') {
        let stem = part
            .strip_suffix(".slice")
            .or_else(|| part.strip_suffix(".scope"))
            .unwrap_or(part);
        if let Some(at) = stem.rfind("pod") {
            let uid = &stem[at + 3..];
            if uid.len() >= 32
                && uid
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == '_' || c == '-')
            {
                pod = Some(uid.replace('_', "-"));
                continue;
            }
        }
        if pod.is_some() {
            // `cri-containerd-<id>`, `crio-<id>`, `docker-<id>`, or the bare id.
            let id = stem.rsplit('-').next().unwrap_or(stem);
            if id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()) {
                container = Some(id.to_string());
            }
        }
    }
    pod.map(|p| (p, container))
}

/// The alphabet Kubernetes uses for generated name suffixes (no vowels, no 0/1/3).
fn generated(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
}

/// The owning workload of a pod, from the names its controllers generate:
/// Deployment `name-<pod-template-hash>-<5>`, CronJob `name-<minutes>-<5>`, StatefulSet
/// `name-<ordinal>`, DaemonSet or Job `name-<5>` (the two cannot be told apart by name).
pub fn owner_from_pod_name(pod: &str) -> (String, String) {
    let parts: Vec<&str> = pod.rsplitn(3, '-').collect();
    if let [suffix, middle, base] = parts.as_slice() {
        if generated(suffix, 5, 5) && generated(middle, 6, 10) {
            return ("Deployment".into(), (*base).into());
        }
        if generated(suffix, 5, 5)
            && middle.len() >= 8
            && middle.chars().all(|c| c.is_ascii_digit())
        {
            return ("CronJob".into(), (*base).into());
        }
    }
    if let Some((base, last)) = pod.rsplit_once('-') {
        if !last.is_empty() && last.chars().all(|c| c.is_ascii_digit()) {
            return ("StatefulSet".into(), base.into());
        }
        if generated(last, 5, 5) {
            return ("DaemonSet or Job".into(), base.into());
        }
    }
    ("Pod".into(), pod.into())
}

/// The workload above a ReplicaSet or Job, from the name its controller gave it:
/// Deployment `name-<pod-template-hash>`, CronJob `name-<scheduled minutes>`.
pub fn owner_from_controller_name(kind: &str, name: &str) -> Option<(String, String)> {
    let (base, suffix) = name.rsplit_once('-')?;
    match kind {
        "ReplicaSet" if generated(suffix, 6, 10) => Some(("Deployment".into(), base.into())),
        "Job" if suffix.len() >= 8 && suffix.chars().all(|c| c.is_ascii_digit()) => {
            Some(("CronJob".into(), base.into()))
        }
        _ => None,
    }
}

/// The nearest systemd unit in a cgroup path (`/system.slice/agent.service` → `agent.service`).
fn systemd_unit(cgroup_path: &str) -> Option<&str> {
    cgroup_path
        .rsplit('/')
        .find(|p| p.ends_with(".service") || (p.ends_with(".scope") && !p.starts_with("session-")))
}

/// Attributes a cgroup: a name the operator configured for it (or an ancestor) wins;
/// then Kubernetes (pod uid in the path, owner from the pod's name); then a systemd
/// unit; else the cgroup path itself.
pub fn attribute(
    cgroup_path: &str,
    configured: &BTreeMap<String, String>,
    pods: &PodDirectory,
) -> Workload {
    let mut best: Option<(&str, &str)> = None;
    for (prefix, name) in configured {
        let under = cgroup_path == prefix
            || cgroup_path.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
            || prefix == "/";
        if under && best.is_none_or(|(p, _)| prefix.len() > p.len()) {
            best = Some((prefix, name));
        }
    }
    if let Some((prefix, name)) = best {
        return Workload {
            kind: "configured".into(),
            name: name.to_string(),
            namespace: None,
            pod: None,
            container: None,
            how: format!("named {name:?} for cgroup {prefix} by the probe's configuration"),
        };
    }
    if let Some((uid, container)) = kubernetes_ids(cgroup_path) {
        if let Some(pod) = pods.from_api.get(&uid) {
            return Workload {
                kind: pod.kind.clone(),
                name: pod.owner.clone(),
                namespace: Some(pod.namespace.clone()),
                pod: Some(pod.name.clone()),
                container,
                how: format!(
                    "pod {}/{} (uid {uid}) from the Kubernetes API: {}",
                    pod.namespace, pod.name, pod.chain
                ),
            };
        }
        return match pods.get(&uid) {
            Some((namespace, pod)) => {
                let (kind, name) = owner_from_pod_name(pod);
                Workload {
                    how: format!(
                        "pod {namespace}/{pod} (uid {uid}, from the kubelet's pod log directory); {kind} from the pod's generated name"
                    ),
                    kind,
                    name,
                    namespace: Some(namespace.clone()),
                    pod: Some(pod.clone()),
                    container,
                }
            }
            None => Workload {
                kind: "Pod".into(),
                name: uid.clone(),
                namespace: Some("unknown".into()),
                pod: None,
                container,
                how: format!(
                    "pod uid {uid} from the cgroup path; the kubelet has no log directory for it"
                ),
            },
        };
    }
    if let Some(unit) = systemd_unit(cgroup_path) {
        return Workload {
            kind: "systemd unit".into(),
            name: unit.to_string(),
            namespace: None,
            pod: None,
            container: None,
            how: format!("systemd unit from cgroup {cgroup_path}"),
        };
    }
    Workload {
        kind: "cgroup".into(),
        name: cgroup_path.trim_start_matches('/').to_string(),
        namespace: None,
        pod: None,
        container: None,
        how: format!("cgroup {cgroup_path}: no configured name, pod or unit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "0f3c2a9e-5b7d-4c1e-9a8f-2d6b4e8c1a70";
    const CID: &str = "4b8e1f0c9d2a7e6b5c3f1a0d9e8b7c6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c";

    #[test]
    fn pod_and_container_from_either_cgroup_driver() {
        let systemd = format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{CID}.scope",
            UID.replace('-', "_")
        );
        assert_eq!(
            kubernetes_ids(&systemd),
            Some((UID.to_string(), Some(CID.to_string())))
        );
        let cgroupfs = format!("/kubepods/besteffort/pod{UID}/{CID}");
        assert_eq!(
            kubernetes_ids(&cgroupfs),
            Some((UID.to_string(), Some(CID.to_string())))
        );
        assert_eq!(kubernetes_ids("/system.slice/agent.service"), None);
    }

    #[test]
    fn owners_from_generated_pod_names() {
        assert_eq!(
            owner_from_pod_name("support-agent-7d9f8b6c5d-x2k4p"),
            ("Deployment".into(), "support-agent".into())
        );
        assert_eq!(
            owner_from_pod_name("vector-db-2"),
            ("StatefulSet".into(), "vector-db".into())
        );
        assert_eq!(
            owner_from_pod_name("node-agent-q7w2z"),
            ("DaemonSet or Job".into(), "node-agent".into())
        );
        assert_eq!(
            owner_from_pod_name("nightly-eval-29384756-bn7xq"),
            ("CronJob".into(), "nightly-eval".into())
        );
        assert_eq!(owner_from_pod_name("debug"), ("Pod".into(), "debug".into()));
    }

    #[test]
    fn owners_above_controllers_from_their_generated_names() {
        assert_eq!(
            owner_from_controller_name("ReplicaSet", "support-agent-7d9f8b6c5d"),
            Some(("Deployment".into(), "support-agent".into()))
        );
        assert_eq!(
            owner_from_controller_name("Job", "nightly-eval-29384756"),
            Some(("CronJob".into(), "nightly-eval".into()))
        );
        assert_eq!(owner_from_controller_name("Job", "migrate-schema"), None);
        assert_eq!(owner_from_controller_name("ReplicaSet", "standalone"), None);
    }

    #[test]
    fn replicas_of_one_deployment_are_one_agent() {
        let mut pods = PodDirectory::default();
        pods.insert(UID, "agents", "support-agent-7d9f8b6c5d-x2k4p");
        let other = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
        pods.insert(other, "agents", "support-agent-5c6d7f8b9-m4n5q");
        let path = |uid: &str| format!("/kubepods/burstable/pod{uid}/{CID}");
        let none = BTreeMap::new();
        let a = attribute(&path(UID), &none, &pods);
        let b = attribute(&path(other), &none, &pods);
        assert_eq!(a.agent("prod-eu"), b.agent("prod-eu"));
        assert_eq!(
            a.agent("prod-eu").key(),
            "selfhosted.prod-eu.agents.deployment_support-agent"
        );
        assert_ne!(a.pod, b.pod, "the pods stay in the record");
    }

    #[test]
    fn the_api_owner_wins_over_what_the_pod_name_suggests() {
        let mut pods = PodDirectory::default();
        // Named like a StatefulSet's pod, but a Deployment's through its ReplicaSet.
        pods.insert(UID, "agents", "ingest-2");
        let path = format!("/kubepods/burstable/pod{UID}/{CID}");
        let guessed = attribute(&path, &BTreeMap::new(), &pods);
        assert_eq!(guessed.kind, "StatefulSet");
        pods.set_api_pods(vec![ApiPod {
            uid: UID.into(),
            namespace: "agents".into(),
            name: "ingest-2".into(),
            kind: "Deployment".into(),
            owner: "ingest".into(),
            chain: "ReplicaSet ingest-6f7d8c9b5 → Deployment ingest".into(),
        }]);
        let known = attribute(&path, &BTreeMap::new(), &pods);
        assert_eq!(
            known.agent("prod").key(),
            "selfhosted.prod.agents.deployment_ingest"
        );
        assert!(
            known
                .how
                .contains("from the Kubernetes API: ReplicaSet ingest-6f7d8c9b5")
        );
        assert_eq!(known.pod.as_deref(), Some("ingest-2"));
    }

    #[test]
    fn a_configured_name_wins_for_the_whole_subtree() {
        let configured = BTreeMap::from([
            ("/agents".to_string(), "fleet".to_string()),
            ("/agents/research".to_string(), "research-agent".to_string()),
        ]);
        let pods = PodDirectory::default();
        assert_eq!(
            attribute("/agents/research/worker", &configured, &pods).name,
            "research-agent"
        );
        assert_eq!(attribute("/agents/other", &configured, &pods).name, "fleet");
        assert_eq!(attribute("/agentsx", &configured, &pods).kind, "cgroup");
        let unit = attribute("/system.slice/rag.service", &BTreeMap::new(), &pods);
        assert_eq!(
            (unit.kind.as_str(), unit.name.as_str()),
            ("systemd unit", "rag.service")
        );
    }

    #[test]
    fn pod_directories_split_into_namespace_pod_uid() {
        assert_eq!(
            split_pod_dir(&format!("agents_support-agent-7d9f8b6c5d-x2k4p_{UID}")),
            Some(("agents", "support-agent-7d9f8b6c5d-x2k4p", UID))
        );
    }
}
