//! Events per second through the behavioral baseline and drift classification, on one
//! core, against the floor of merely visiting each event's fields.
//!
//!     cargo bench -p normalizer --bench baseline_drift [-- EVENTS]

use normalizer::baseline::{Baseline, BaselineConfig};
use normalizer::drift::{DriftConfig, classify};
use normalizer::event::{Outcome, Principal, RawPointer, Target};
use normalizer::{AgentRef, Correlation, Event, Layer, Provider, Timestamp};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

const AGENTS: u64 = 7;
const DAYS: i64 = 60;

/// A deterministic mix like the example account's: model calls, tool Lambdas, S3 writes
/// and reads with volatile keys, as each agent's own roles.
fn corpus(n: u64) -> Vec<Event> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let r = next();
            let agent = r % AGENTS;
            let time = Timestamp((i as i64 * DAYS * Timestamp::MS_PER_DAY) / n as i64);
            let (service, operation, targets, model) = match (r >> 8) % 4 {
                0 => (
                    "bedrock.amazonaws.com",
                    "InvokeModel",
                    vec![format!(
                        "arn:aws:bedrock:us-east-1::foundation-model/model-{}",
                        (r >> 16) % 2
                    )],
                    Some(format!("model-{}", (r >> 16) % 2)),
                ),
                1 => (
                    "lambda.amazonaws.com",
                    "Invoke",
                    vec![format!(
                        "arn:aws:lambda:us-east-1:111122223333:function:tool-{agent}-{}",
                        (r >> 16) % 3
                    )],
                    None,
                ),
                2 => (
                    "s3.amazonaws.com",
                    "PutObject",
                    vec![
                        format!("arn:aws:s3:::exports-{agent}"),
                        format!(
                            "arn:aws:s3:::exports-{agent}/daily/2026-{}/part-{:05}.json",
                            time.utc_date(),
                            r % 10_000
                        ),
                    ],
                    None,
                ),
                _ => (
                    "s3.amazonaws.com",
                    "GetObject",
                    vec![format!("arn:aws:s3:::kb-{agent}/docs/{}.md", r % 50_000)],
                    None,
                ),
            };
            Event {
                uid: format!("e{i}"),
                time,
                agent: Some(AgentRef {
                    provider: Provider::Aws,
                    scope: "111122223333".into(),
                    location: "us-east-1".into(),
                    id: format!("AGENT{agent}"),
                    qualifier: Some("prod".into()),
                }),
                layer: Layer::IdentityApi,
                service: service.into(),
                operation: operation.into(),
                targets: targets
                    .into_iter()
                    .map(|uid| Target {
                        uid,
                        kind: None,
                        name: None,
                    })
                    .collect(),
                outcome: Outcome::Success,
                principal: Principal {
                    kind: "AssumedRole".into(),
                    issuer: Some(format!("arn:aws:iam::111122223333:role/agent-{agent}")),
                    ..Principal::default()
                },
                correlation: Correlation::default(),
                source: RawPointer {
                    source: "bench".into(),
                    object: "o".into(),
                    index: i,
                },
                cloud: None,
                src_ip: None,
                user_agent: None,
                model,
                category: None,
                read_only: None,
                original_time: None,
                prompt: None,
                count: None,
                permissions: Vec::new(),
            }
        })
        .collect()
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut events = corpus(n);
    // One exfiltration-like burst, so drift has a departure to classify: 2 % extra writes
    // by one agent on one day.
    let template = events
        .iter()
        .find(|e| e.operation == "PutObject" && e.agent.as_ref().is_some_and(|a| a.id == "AGENT0"))
        .expect("the mix has writes")
        .clone();
    for i in 0..n / 50 {
        let mut e = template.clone();
        e.uid = format!("burst{i}");
        e.time = Timestamp(50 * Timestamp::MS_PER_DAY + i as i64);
        events.push(e);
    }
    let n = events.len() as u64;

    // Floor: visit the fields the baseline reads, do nothing with them.
    let start = Instant::now();
    let mut touched = 0usize;
    for e in &events {
        touched += e.service.len()
            + e.operation.len()
            + e.targets.iter().map(|t| t.uid.len()).sum::<usize>();
        touched += e.model.as_ref().map_or(0, String::len)
            + e.principal.issuer.as_ref().map_or(0, String::len);
    }
    black_box(touched);
    let floor = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut baselines: HashMap<String, Baseline> = HashMap::new();
    for e in &events {
        let agent = e.agent.as_ref().expect("every bench event has an agent");
        match baselines.get_mut(&agent.id) {
            Some(b) => b.observe(e),
            None => {
                let mut b = Baseline::new(agent.clone(), BaselineConfig::default());
                b.observe(e);
                baselines.insert(agent.id.clone(), b);
            }
        }
    }
    let observe = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut episodes = 0;
    for b in baselines.values() {
        let until = b.last_event().expect("non-empty");
        episodes += classify(b, &DriftConfig::default(), until).len();
    }
    let drift = start.elapsed().as_secs_f64();
    let behaviors: usize = baselines.values().map(Baseline::distinct_behaviors).sum();
    let total = observe + drift;
    println!("events                      {n}");
    println!(
        "agents / distinct behaviors {} / {behaviors}",
        baselines.len()
    );
    println!("drift episodes              {episodes}");
    println!(
        "floor (visit fields)        {:>8.3} s  {:>12.0} events/s",
        floor,
        n as f64 / floor
    );
    println!(
        "baseline observe            {:>8.3} s  {:>12.0} events/s",
        observe,
        n as f64 / observe
    );
    println!("drift classify (all agents) {:>8.3} s", drift);
    println!(
        "baseline + drift            {:>8.3} s  {:>12.0} events/s  ({:.1}x the floor's time)",
        total,
        n as f64 / total,
        total / floor
    );
}
