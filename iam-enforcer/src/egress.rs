//! A kernel egress allowlist per agent, for `agentward probe run --egress … --allow-from
//! FILE`: every destination the agent was observed connecting to (address and port), with
//! the names it looked them up by and the trace of its connections, except those that are
//! the new behavior of a risky drift episode nobody accepted (withheld, and said). Then the
//! observed connections replayed against it.

use crate::recommend::Withheld;
use crate::replay::Evidence;
use normalizer::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// One observed connection.
#[derive(Debug, Clone, Copy)]
pub struct Connection<'a> {
    /// `network:connect_tcp`, `network:connect_udp`, as the baseline keys it.
    pub call: &'a str,
    /// `127.0.0.1:18080`, `[2001:db8::1]:443`.
    pub endpoint: &'a str,
    /// The name the agent looked the address up by, when the probe saw the lookup.
    pub name: Option<&'a str>,
    pub time: Timestamp,
    pub proof: &'a str,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Allowed {
    pub endpoint: SocketAddr,
    /// `tcp`, `udp`.
    pub protocols: BTreeSet<String>,
    /// Why this address: the names it was reached by.
    pub names: BTreeSet<String>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize)]
pub struct Allowlist {
    pub rules: Vec<Allowed>,
    pub withheld: Vec<Withheld>,
    /// Endpoints that are no address and port (said, never allowed).
    pub unreadable: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EgressRadius {
    pub connections: u64,
    pub denied: u64,
    /// Denied endpoints with their connections.
    pub denials: BTreeMap<String, Evidence>,
}

fn protocol(call: &str) -> &str {
    call.strip_prefix("network:connect_").unwrap_or(call)
}

/// The allowlist of `connections`; `withhold` gives, for a behavior (`call on endpoint`),
/// the risky episode that withholds it.
pub fn allowlist<'a>(
    connections: impl IntoIterator<Item = Connection<'a>>,
    withhold: impl Fn(&str, &str) -> Option<(String, String)>,
) -> Allowlist {
    let mut rules: BTreeMap<SocketAddr, Allowed> = BTreeMap::new();
    let mut withheld: BTreeMap<String, Withheld> = BTreeMap::new();
    let mut unreadable = BTreeSet::new();
    for c in connections {
        if let Some((episode, class)) = withhold(c.call, c.endpoint) {
            let behavior = format!("{} on {}", c.call, c.endpoint);
            withheld
                .entry(behavior.clone())
                .or_insert(Withheld {
                    behavior,
                    episode,
                    class,
                    events: 0,
                })
                .events += c.count.max(1);
            continue;
        }
        let Ok(endpoint) = c.endpoint.parse::<SocketAddr>() else {
            unreadable.insert(c.endpoint.to_string());
            continue;
        };
        let rule = rules.entry(endpoint).or_insert_with(|| Allowed {
            endpoint,
            protocols: BTreeSet::new(),
            names: BTreeSet::new(),
            evidence: Evidence::empty(c.time),
        });
        rule.protocols.insert(protocol(c.call).to_string());
        rule.names.extend(c.name.map(str::to_string));
        rule.evidence.add_n(c.time, c.proof, c.count);
    }
    Allowlist {
        rules: rules.into_values().collect(),
        withheld: withheld.into_values().collect(),
        unreadable: unreadable.into_iter().collect(),
    }
}

impl Allowlist {
    /// The file `probe run --allow-from` reads: one `ADDRESS:PORT` a line, each with its
    /// trace as a comment.
    pub fn render(&self, header: &[String]) -> String {
        let mut out: String = header.iter().map(|h| format!("# {h}\n")).collect();
        for r in &self.rules {
            let names = if r.names.is_empty() {
                "no lookup seen".to_string()
            } else {
                r.names.iter().cloned().collect::<Vec<_>>().join(", ")
            };
            out.push_str(&format!(
                "{}  # {} ({}), {} connections {} → {}, {} records\n",
                r.endpoint,
                names,
                r.protocols.iter().cloned().collect::<Vec<_>>().join("+"),
                r.evidence.events,
                r.evidence.first.utc_date(),
                r.evidence.last.utc_date(),
                r.evidence.records.len()
            ));
        }
        for w in &self.withheld {
            out.push_str(&format!(
                "# withheld: {} ({} connections): {} episode {}, not accepted\n",
                w.behavior, w.events, w.class, w.episode
            ));
        }
        out
    }

    /// Every observed connection judged by the allowlist, as the kernel would: allowed
    /// when its address and port are listed.
    pub fn replay<'a>(
        &self,
        connections: impl IntoIterator<Item = Connection<'a>>,
    ) -> EgressRadius {
        let allowed: BTreeSet<SocketAddr> = self.rules.iter().map(|r| r.endpoint).collect();
        let mut out = EgressRadius {
            connections: 0,
            denied: 0,
            denials: BTreeMap::new(),
        };
        for c in connections {
            let n = c.count.max(1);
            out.connections += n;
            let ok = c
                .endpoint
                .parse::<SocketAddr>()
                .is_ok_and(|e| allowed.contains(&e));
            if !ok {
                out.denied += n;
                out.denials
                    .entry(c.endpoint.to_string())
                    .or_insert_with(|| Evidence::empty(c.time))
                    .add_n(c.time, c.proof, c.count);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(
        call: &'static str,
        endpoint: &'static str,
        name: Option<&'static str>,
        t: i64,
    ) -> Connection<'static> {
        Connection {
            call,
            endpoint,
            name,
            time: Timestamp(t),
            proof: "spool/2026-11-01.jsonl.gz",
            count: 1,
        }
    }

    #[test]
    fn destinations_are_allowed_with_their_names_and_risky_ones_withheld() {
        let seen = [
            conn(
                "network:connect_tcp",
                "127.0.0.1:18080",
                Some("model-gateway.agents.svc.cluster.local"),
                1,
            ),
            conn(
                "network:connect_tcp",
                "127.0.0.1:18080",
                Some("model-gateway.agents.svc.cluster.local"),
                9,
            ),
            conn("network:connect_udp", "127.0.0.1:53", None, 1),
            conn(
                "network:connect_tcp",
                "127.0.0.1:18443",
                Some("paste.exfil.example"),
                5,
            ),
            conn("network:connect_tcp", "not-an-endpoint", None, 5),
        ];
        let list = allowlist(seen.iter().copied(), |call, endpoint| {
            (call == "network:connect_tcp" && endpoint == "127.0.0.1:18443").then(|| {
                (
                    "agentward:drift:x:2026-11-11".to_string(),
                    "risky drift".to_string(),
                )
            })
        });
        let endpoints: Vec<String> = list.rules.iter().map(|r| r.endpoint.to_string()).collect();
        assert_eq!(endpoints, ["127.0.0.1:53", "127.0.0.1:18080"]);
        let gateway = &list.rules[1];
        assert_eq!(gateway.evidence.events, 2);
        assert!(
            gateway
                .names
                .contains("model-gateway.agents.svc.cluster.local")
        );
        assert_eq!(list.withheld.len(), 1);
        assert_eq!(list.unreadable, ["not-an-endpoint"]);
        let text = list.render(&["agent support-bot".into()]);
        let rules: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(rules, ["127.0.0.1:53", "127.0.0.1:18080"]);
        assert!(text.contains("# withheld: network:connect_tcp on 127.0.0.1:18443"));

        // The replay denies exactly what was withheld or unreadable.
        let r = list.replay(seen.iter().copied());
        assert_eq!((r.connections, r.denied), (5, 2));
        assert!(r.denials.contains_key("127.0.0.1:18443"));
    }
}
