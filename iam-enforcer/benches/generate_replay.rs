//! Least-privilege generation and blast-radius replay for many identities, on one core:
//! each identity's policy derived from its 90-day baseline, then every observed call of
//! the window replayed against it. Compared with the floor (visiting each call's fields and
//! one hash lookup of its action and resource: deciding by exact match, the cheapest
//! possible judge) and, per request, with the peer @cloud-copilot/iam-simulate (npm; run
//! when AGENTWARD_IAM_SIMULATE names its install, as scripts/test makes it).
//!
//!     cargo bench -p iam-enforcer --bench generate_replay [-- IDENTITIES [CALLS_PER_DAY]]

use iam_enforcer::aws_policy::{Observed, identity_policy};
use iam_enforcer::catalog::Catalog;
use iam_enforcer::eval::Policy;
use iam_enforcer::replay::{Call, Resource, replay};
use normalizer::Timestamp;
use normalizer::baseline::{Seen, generalize};
use std::collections::{BTreeMap, HashSet};
use std::hint::black_box;
use std::time::Instant;

#[path = "../tests/oracle/run.rs"]
mod oracle;

const DAYS: i64 = 90;

/// One identity's window: its calls (owned) and its baseline behaviors.
struct Identity {
    role: String,
    calls: Vec<(String, Vec<Resource>, Timestamp)>,
    behaviors: BTreeMap<(String, String), Seen>,
    windows: BTreeMap<i64, u64>,
}

fn resource(arn: String, kind: &str) -> Resource {
    Resource {
        arn,
        kind: Some(kind.to_string()),
    }
}

/// The calls of identity `i` on day `d`, the `k`-th of the day: a mix like an agent's
/// (models, tool Lambdas, S3 writes with volatile daily keys, reads of documents, a table,
/// a queue).
fn call(i: usize, d: i64, k: u64) -> (String, Vec<Resource>) {
    let acct = "111122223333";
    match k % 6 {
        0 => (
            "bedrock:InvokeModel".into(),
            vec![resource(
                format!(
                    "arn:aws:bedrock:us-east-1::foundation-model/model-{}",
                    k % 2
                ),
                "AWS::Bedrock::FoundationModel",
            )],
        ),
        1 => (
            "lambda:Invoke".into(),
            vec![resource(
                format!(
                    "arn:aws:lambda:us-east-1:{acct}:function:tool-{i}-{}",
                    k % 3
                ),
                "AWS::Lambda::Function",
            )],
        ),
        2 => (
            "s3:PutObject".into(),
            vec![
                resource(
                    format!("arn:aws:s3:::exports-{i}/daily/day-{d:03}/part-{k:05}.json"),
                    "AWS::S3::Object",
                ),
                resource(format!("arn:aws:s3:::exports-{i}"), "AWS::S3::Bucket"),
            ],
        ),
        3 => (
            "s3:GetObject".into(),
            vec![
                resource(
                    format!("arn:aws:s3:::docs-{i}/kb/doc-{}.md", k % 50),
                    "AWS::S3::Object",
                ),
                resource(format!("arn:aws:s3:::docs-{i}"), "AWS::S3::Bucket"),
            ],
        ),
        4 => (
            "dynamodb:GetItem".into(),
            vec![resource(
                format!("arn:aws:dynamodb:us-east-1:{acct}:table/tickets-{i}"),
                "AWS::DynamoDB::Table",
            )],
        ),
        _ => (
            "sqs:SendMessage".into(),
            vec![resource(
                format!("arn:aws:sqs:us-east-1:{acct}:queue-{i}"),
                "AWS::SQS::Queue",
            )],
        ),
    }
}

/// The corpus, and its baselines folded the way the baseline folds them (the most specific
/// resource, volatile segments generalized).
fn corpus(identities: usize, per_day: u64) -> Vec<Identity> {
    (0..identities)
        .map(|i| {
            let mut id = Identity {
                role: format!("arn:aws:iam::111122223333:role/agent-{i}"),
                calls: Vec::new(),
                behaviors: BTreeMap::new(),
                windows: BTreeMap::new(),
            };
            for d in 0..DAYS {
                for k in 0..per_day {
                    let t = Timestamp(d * Timestamp::MS_PER_DAY + k as i64 * 1_000);
                    let (action, resources) = call(i, d, k);
                    let key = (action.clone(), generalize(&resources[0].arn));
                    let seen = id.behaviors.entry(key).or_insert(Seen {
                        first: t,
                        last: t,
                        count: 0,
                        windows: BTreeMap::new(),
                    });
                    seen.last = t;
                    seen.count += 1;
                    *seen.windows.entry(d).or_default() += 1;
                    *id.windows.entry(d).or_default() += 1;
                    id.calls.push((action, resources, t));
                }
            }
            id
        })
        .collect()
}

/// The identity's proposed policy document, from its baseline behaviors.
fn document_of(id: &Identity, catalog: &Catalog) -> serde_json::Value {
    let observed = id
        .behaviors
        .iter()
        .map(|((call, resource), seen)| Observed {
            call,
            resource,
            seen,
        });
    identity_policy(&id.role, observed, &id.windows, catalog).document()
}

fn calls_of(id: &Identity) -> impl Iterator<Item = Call<'_>> {
    id.calls.iter().map(|(call, resources, time)| Call {
        call,
        resources,
        region: Some("us-east-1"),
        time: *time,
        proof: "bench",
        count: 1,
        refused: false,
    })
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let identities: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let per_day: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(24);
    let catalog = Catalog::aws().expect("the committed catalog parses");
    let ids = corpus(identities, per_day);
    let calls: usize = ids.iter().map(|i| i.calls.len()).sum();
    println!("{identities} identities × {DAYS} days, {per_day} calls a day each: {calls} calls");

    let start = Instant::now();
    let policies: Vec<Policy> = ids
        .iter()
        .map(|id| {
            Policy::parse("proposed", &document_of(id, catalog)).expect("a generated policy parses")
        })
        .collect();
    let generation = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut denied = 0;
    for (id, policy) in ids.iter().zip(&policies) {
        let r = replay(std::slice::from_ref(policy), calls_of(id), catalog);
        denied += r.denied_events;
        black_box(r);
    }
    let replayed = start.elapsed().as_secs_f64();
    assert_eq!(
        denied, 0,
        "a generated policy denies what it was derived from"
    );

    let floor = floor(&ids);
    let total = generation + replayed;
    println!("| step | time | calls/s |\n|---|---|---|");
    println!(
        "| floor: each call's fields + one exact-match lookup | {floor:.3} s | {:.2}M |",
        calls as f64 / floor / 1e6
    );
    println!("| generation ({identities} policies) | {generation:.3} s | — |");
    println!(
        "| replay (every call, 0 denied) | {replayed:.3} s | {:.2}M |",
        calls as f64 / replayed / 1e6
    );
    println!(
        "| **generation + replay** | **{total:.3} s** (goal 10 s) | ratio to floor {:.1}× |",
        total / floor
    );
    peer(&ids);
}

/// Deciding each call by an exact (action, generalized resource) lookup in the identity's
/// own set: what any judge must at least do — read the call and look it up.
fn floor(ids: &[Identity]) -> f64 {
    let start = Instant::now();
    let mut hits = 0u64;
    for id in ids {
        let allowed: HashSet<(&str, String)> = id
            .behaviors
            .keys()
            .map(|(a, r)| (a.as_str(), r.clone()))
            .collect();
        let mut scratch = String::new();
        for (action, resources, _) in &id.calls {
            scratch.clear();
            normalizer::baseline::generalize_into(&resources[0].arn, &mut scratch);
            hits += u64::from(allowed.contains(&(action.as_str(), scratch.clone())));
        }
    }
    black_box(hits);
    start.elapsed().as_secs_f64()
}

/// iam-simulate on a sample of the same requests, one node process, per request.
fn peer(ids: &[Identity]) {
    let Some(dir) = std::env::var_os("AGENTWARD_IAM_SIMULATE") else {
        println!(
            "peer iam-simulate: not run (AGENTWARD_IAM_SIMULATE is not set; scripts/test installs it)"
        );
        return;
    };
    let catalog = Catalog::aws().unwrap();
    let id = &ids[0];
    let document = document_of(id, catalog);
    let policy = Policy::parse("proposed", &document).unwrap();
    // The sample: the first identity's calls, as requests (action, resource).
    let sample: Vec<(String, String)> = id
        .calls
        .iter()
        .take(10_000)
        .map(|(call, resources, _)| {
            let (host, event) = call.split_once(':').unwrap();
            let action = catalog.actions_for(host, event).unwrap()[0].iam_name();
            (action, resources[0].arn.clone())
        })
        .collect();
    let mut input = String::new();
    for (action, resource) in &sample {
        let case = serde_json::json!({
            "policies": [{"name": "proposed", "policy": document}],
            "action": action, "resource": resource, "context": {},
        });
        input.push_str(&case.to_string());
        input.push('\n');
    }
    // Node's start and the package's load, apart from the requests.
    let start = Instant::now();
    oracle::run_oracle(&dir, String::new());
    let startup = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let out = oracle::run_oracle(&dir, input);
    let theirs = start.elapsed().as_secs_f64() - startup;
    assert_eq!(out.lines().count(), sample.len());
    let start = Instant::now();
    for (action, resource) in &sample {
        let context = Default::default();
        black_box(iam_enforcer::eval::evaluate(
            std::slice::from_ref(&policy),
            &iam_enforcer::eval::Request {
                action,
                resource,
                context: &context,
            },
        ));
    }
    let ours = start.elapsed().as_secs_f64();
    println!(
        "peer iam-simulate, {} requests: {theirs:.3} s (its {startup:.3} s start apart), ours {ours:.4} s: {:.0}× faster per request",
        sample.len(),
        theirs / ours
    );
}
