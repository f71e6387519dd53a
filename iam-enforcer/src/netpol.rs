//! Kubernetes egress policies for a Deployment from its kernel egress allowlist: a
//! NetworkPolicy (peers by address and port, each peer's reason — the names it was looked
//! up by, its connections — in an annotation) and a CiliumNetworkPolicy variant that names
//! the peers the agent looked up by name (`toFQDNs`) and lets DNS through to the cluster
//! resolver so Cilium can see those lookups. The pod selector is the Deployment's own,
//! given by the user: the probe does not record labels, and agentward does not guess them.

use crate::egress::{Allowed, Allowlist};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The Deployment the policies are for.
#[derive(Debug, Clone, Copy)]
pub struct Workload<'a> {
    pub namespace: &'a str,
    /// `support-bot`, of `deployment/support-bot`.
    pub name: &'a str,
    /// Its `spec.selector.matchLabels`.
    pub selector: &'a BTreeMap<String, String>,
}

fn cidr(rule: &Allowed) -> String {
    let bits = if rule.endpoint.is_ipv4() { 32 } else { 128 };
    format!("{}/{bits}", rule.endpoint.ip())
}

/// The protocols a rule allows: what was seen; DNS (port 53) also over TCP, which a
/// resolver answers long replies on.
fn protocols(rule: &Allowed) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for p in &rule.protocols {
        match p.as_str() {
            "tcp" => out.push("TCP"),
            "udp" => out.push("UDP"),
            _ => {}
        }
    }
    if rule.endpoint.port() == 53 && !out.contains(&"TCP") {
        out.push("TCP");
    }
    out.sort_unstable();
    out
}

fn reason(rule: &Allowed) -> String {
    let names = if rule.names.is_empty() {
        "no lookup seen".to_string()
    } else {
        rule.names.iter().cloned().collect::<Vec<_>>().join(", ")
    };
    let e = &rule.evidence;
    format!(
        "{} ({names}): {} connections {} → {}, {} records",
        rule.endpoint,
        e.events,
        e.first.utc_date(),
        e.last.utc_date(),
        e.records.len()
    )
}

fn metadata(w: &Workload<'_>, annotations: BTreeMap<String, String>) -> Value {
    json!({
        "name": format!("agentward-egress-{}", w.name),
        "namespace": w.namespace,
        "labels": { "app.kubernetes.io/managed-by": "agentward" },
        "annotations": annotations,
    })
}

/// The NetworkPolicy (networking.k8s.io/v1): egress to exactly the allowlist's peers.
pub fn network_policy(w: &Workload<'_>, list: &Allowlist) -> Value {
    let mut annotations = BTreeMap::new();
    let egress: Vec<Value> = list
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            annotations.insert(format!("agentward.io/egress-{i}"), reason(r));
            let ports: Vec<Value> = protocols(r)
                .into_iter()
                .map(|p| json!({ "protocol": p, "port": r.endpoint.port() }))
                .collect();
            json!({ "to": [{ "ipBlock": { "cidr": cidr(r) } }], "ports": ports })
        })
        .collect();
    for (i, w) in list.withheld.iter().enumerate() {
        annotations.insert(
            format!("agentward.io/withheld-{i}"),
            format!(
                "{}: {} episode {}, not accepted",
                w.behavior, w.class, w.episode
            ),
        );
    }
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(w, annotations),
        "spec": {
            "podSelector": { "matchLabels": w.selector },
            "policyTypes": ["Egress"],
            "egress": egress,
        },
    })
}

/// The CiliumNetworkPolicy (cilium.io/v2): peers the agent looked up by name as
/// `toFQDNs`, the others by CIDR, and DNS to the cluster's resolver pods (Cilium's
/// documented `kube-system` / `k8s-app: kube-dns`) so the names can be matched.
pub fn cilium_policy(w: &Workload<'_>, list: &Allowlist) -> Value {
    let mut annotations = BTreeMap::new();
    let mut egress: Vec<Value> = vec![json!({
        "toEndpoints": [{ "matchLabels": {
            "k8s:io.kubernetes.pod.namespace": "kube-system",
            "k8s-app": "kube-dns",
        }}],
        "toPorts": [{
            "ports": [{ "port": "53", "protocol": "ANY" }],
            "rules": { "dns": [{ "matchPattern": "*" }] },
        }],
    })];
    for (i, r) in list.rules.iter().enumerate() {
        annotations.insert(format!("agentward.io/egress-{i}"), reason(r));
        if r.endpoint.port() == 53 {
            continue; // the resolver rule above
        }
        let ports: Vec<Value> = protocols(r)
            .into_iter()
            .map(|p| json!({ "port": r.endpoint.port().to_string(), "protocol": p }))
            .collect();
        let peer = if r.names.is_empty() {
            json!({ "toCIDR": [cidr(r)] })
        } else {
            let names: Vec<Value> = r.names.iter().map(|n| json!({ "matchName": n })).collect();
            json!({ "toFQDNs": names })
        };
        let mut rule = peer;
        rule["toPorts"] = json!([{ "ports": ports }]);
        egress.push(rule);
    }
    json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": metadata(w, annotations),
        "spec": {
            "endpointSelector": { "matchLabels": w.selector },
            "egress": egress,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::{Connection, allowlist};
    use normalizer::Timestamp;

    #[test]
    fn peers_by_address_and_port_with_their_reasons_and_names_for_cilium() {
        let c = |call, endpoint, name| Connection {
            call,
            endpoint,
            name,
            time: Timestamp(1),
            proof: "spool",
            count: 1,
        };
        let list = allowlist(
            [
                c("network:connect_udp", "10.96.0.10:53", None),
                c(
                    "network:connect_tcp",
                    "10.0.8.15:18080",
                    Some("model-gateway.agents.svc.cluster.local"),
                ),
                c("network:connect_tcp", "10.0.9.1:443", None),
            ],
            |_, _| None,
        );
        let selector = BTreeMap::from([("app".to_string(), "support-bot".to_string())]);
        let w = Workload {
            namespace: "agents",
            name: "support-bot",
            selector: &selector,
        };
        let np = network_policy(&w, &list);
        assert_eq!(
            np["spec"]["podSelector"]["matchLabels"]["app"],
            "support-bot"
        );
        let egress = np["spec"]["egress"].as_array().unwrap();
        assert_eq!(egress.len(), 3);
        let dns = egress.iter().find(|e| e["ports"][0]["port"] == 53).unwrap();
        assert_eq!(dns["to"][0]["ipBlock"]["cidr"], "10.96.0.10/32");
        assert_eq!(
            dns["ports"].as_array().unwrap().len(),
            2,
            "DNS over UDP and TCP"
        );
        let annotations = np["metadata"]["annotations"].to_string();
        assert!(
            annotations.contains("model-gateway.agents.svc.cluster.local"),
            "{annotations}"
        );

        let cilium = cilium_policy(&w, &list);
        let rules = cilium["spec"]["egress"].as_array().unwrap();
        assert_eq!(
            rules.len(),
            3,
            "the resolver, the named gateway, the unnamed peer"
        );
        assert_eq!(
            rules[1]["toFQDNs"][0]["matchName"],
            "model-gateway.agents.svc.cluster.local"
        );
        assert_eq!(rules[2]["toCIDR"][0], "10.0.9.1/32");
    }
}
