//! Egress enforcement in this machine's kernel: real sockets from a real process in a test
//! cgroup, against listeners on loopback.

mod support;

use node_probe::{AllowRule, Egress, EgressMode, RawEvent};
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;
use support::{TestCgroup, kernel_available};

struct PinDir(PathBuf);

impl PinDir {
    fn new(name: &str) -> PinDir {
        PinDir(PathBuf::from(format!(
            "/sys/fs/bpf/agentward-test-{name}-{}",
            std::process::id()
        )))
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        if let Ok(egress) = Egress::open(&self.0) {
            let _ = egress.disable();
        }
    }
}

/// Outcome per op, from tests/support/netclient.py run in `cgroup` (or outside, if None).
fn try_ops(cgroup: Option<&TestCgroup>, ops: &[String]) -> Vec<(bool, Option<String>)> {
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/netclient.py");
    let mut args = vec![client];
    args.extend(ops.iter().map(String::as_str));
    let output = match cgroup {
        Some(c) => c.command("python3", &args).output().unwrap(),
        None => std::process::Command::new("python3")
            .args(&args)
            .output()
            .unwrap(),
    };
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "netclient failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                v["ok"].as_bool().unwrap(),
                v["errno"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn denied(outcome: &(bool, Option<String>)) -> bool {
    !outcome.0 && outcome.1.as_deref() == Some("EPERM")
}

#[tokio::test]
async fn enforce_denies_what_is_not_allowed_and_closes_the_bypasses() {
    if !kernel_available("enforce_denies_what_is_not_allowed_and_closes_the_bypasses") {
        return;
    }
    let pins = PinDir::new("enforce");
    let cgroup = TestCgroup::new("egress-enforce");
    let allowed = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (ok_port, deny_port, udp_port) = (
        allowed.local_addr().unwrap().port(),
        other.local_addr().unwrap().port(),
        udp.local_addr().unwrap().port(),
    );

    let mut egress = Egress::open(&pins.0).expect("egress programs load");
    let rule: AllowRule = format!("127.0.0.1:{ok_port}").parse().unwrap();
    egress
        .govern(&cgroup.path, EgressMode::Enforce, &[rule])
        .unwrap();
    let mut reports = egress.take_events().unwrap();

    let ops = vec![
        format!("tcp4:127.0.0.1:{ok_port}"),
        format!("tcp4:127.0.0.1:{deny_port}"),
        format!("tcp6:::ffff:127.0.0.1:{deny_port}"),
        format!("tcp6:::ffff:127.0.0.1:{ok_port}"),
        format!("udp4:127.0.0.1:{udp_port}"),
    ];
    let inside = try_ops(Some(&cgroup), &ops);
    assert_eq!(inside[0], (true, None), "the allowed destination connects");
    assert!(
        denied(&inside[1]),
        "a destination not allowed: EPERM, got {:?}",
        inside[1]
    );
    assert!(
        denied(&inside[2]),
        "v4-mapped IPv6 is no bypass: {:?}",
        inside[2]
    );
    assert_eq!(
        inside[3],
        (true, None),
        "the allowed one through v4-mapped IPv6 too"
    );
    assert!(
        denied(&inside[4]),
        "unconnected UDP sendto is no bypass: {:?}",
        inside[4]
    );

    let outside = try_ops(None, &ops[1..2]);
    assert_eq!(
        outside[0],
        (true, None),
        "a process outside the cgroup is unaffected"
    );

    let mut events = Vec::new();
    reports
        .next_batch(Duration::from_millis(100), &mut events)
        .await;
    let denials: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            RawEvent::EgressDenied {
                port,
                enforced,
                header,
                ..
            } => Some((*port, *enforced, header.cgroup_id)),
            _ => None,
        })
        .collect();
    assert_eq!(
        denials,
        vec![
            (deny_port, true, cgroup.id),
            (deny_port, true, cgroup.id),
            (udp_port, true, cgroup.id)
        ],
        "every denial is an event"
    );

    // Enforcement outlives the probe: the programs stay attached through their pins.
    drop(reports);
    drop(egress);
    let after_exit = try_ops(Some(&cgroup), &ops[1..2]);
    assert!(
        denied(&after_exit[0]),
        "still enforced after the probe exited"
    );
    let mut egress = Egress::open(&pins.0).unwrap();
    let governed = egress.governed().unwrap();
    assert_eq!(governed.len(), 1);
    assert_eq!(governed[0].cgroup_id, cgroup.id);
    assert_eq!(governed[0].mode, EgressMode::Enforce);
    assert_eq!(governed[0].rules, 1);
    assert_eq!(governed[0].pinned_links, 4);

    assert!(egress.release(cgroup.id).unwrap());
    let released = try_ops(Some(&cgroup), &ops[1..2]);
    assert_eq!(released[0], (true, None), "released: connects again");
    assert!(egress.governed().unwrap().is_empty());
}

#[tokio::test]
async fn monitor_lets_the_call_through_and_reports_it() {
    if !kernel_available("monitor_lets_the_call_through_and_reports_it") {
        return;
    }
    let pins = PinDir::new("monitor");
    let cgroup = TestCgroup::new("egress-monitor");
    let child = cgroup.child("worker");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    let mut egress = Egress::open(&pins.0).unwrap();
    egress
        .govern(&cgroup.path, EgressMode::Monitor, &[])
        .unwrap();
    let mut reports = egress.take_events().unwrap();
    let ops = vec![format!("tcp4:127.0.0.1:{port}")];
    // A process in a child cgroup falls under its parent's policy.
    let outcome = try_ops(Some(&child), &ops);
    assert_eq!(outcome[0], (true, None), "monitor mode does not block");

    let mut events = Vec::new();
    reports
        .next_batch(Duration::from_millis(100), &mut events)
        .await;
    assert!(
        matches!(
            events.as_slice(),
            [RawEvent::EgressDenied { port: p, enforced: false, header, .. }]
                if *p == port && header.cgroup_id == child.id && header.comm == "python3"
        ),
        "one would-be denial reported: {events:#?}"
    );
    assert_eq!(egress.counters().unwrap().emitted, 1);
    drop(child);
}

#[tokio::test]
async fn networks_are_allowed_by_prefix_and_port() {
    if !kernel_available("networks_are_allowed_by_prefix_and_port") {
        return;
    }
    let pins = PinDir::new("networks");
    let cgroup = TestCgroup::new("egress-networks");
    // The whole of 127/8 is this host's: listeners on several of its addresses.
    let in_net = TcpListener::bind("127.0.0.2:0").unwrap();
    let other_port = TcpListener::bind("127.0.0.2:0").unwrap();
    let any_port = TcpListener::bind("127.0.1.5:0").unwrap();
    let outside = TcpListener::bind("127.0.0.9:0").unwrap();
    let port = |l: &TcpListener| l.local_addr().unwrap().port();
    let (p, q, r, s) = (
        port(&in_net),
        port(&other_port),
        port(&any_port),
        port(&outside),
    );

    let mut egress = Egress::open(&pins.0).expect("egress programs load");
    let rules: Vec<AllowRule> = [format!("127.0.0.0/30:{p}"), "127.0.1.0/24".to_string()]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
    egress
        .govern(&cgroup.path, EgressMode::Enforce, &rules)
        .unwrap();
    assert_eq!(egress.governed().unwrap()[0].rules, 2);

    let ops = vec![
        format!("tcp4:127.0.0.2:{p}"),
        format!("tcp4:127.0.0.2:{q}"),
        format!("tcp4:127.0.1.5:{r}"),
        format!("tcp4:127.0.0.9:{s}"),
        format!("tcp6:::ffff:127.0.0.2:{p}"),
    ];
    let inside = try_ops(Some(&cgroup), &ops);
    assert_eq!(inside[0], (true, None), "inside the /30, on its port");
    assert!(
        denied(&inside[1]),
        "inside the /30, another port: {:?}",
        inside[1]
    );
    assert_eq!(inside[2], (true, None), "inside the /24, any port");
    assert!(denied(&inside[3]), "outside both networks: {:?}", inside[3]);
    assert_eq!(
        inside[4],
        (true, None),
        "the v4-mapped spelling is in the network too"
    );

    // Replacing the rules drops the networks no longer listed.
    egress
        .govern(&cgroup.path, EgressMode::Enforce, &rules[..1])
        .unwrap();
    assert_eq!(egress.governed().unwrap()[0].rules, 1);
    let again = try_ops(Some(&cgroup), &ops[2..3]);
    assert!(
        denied(&again[0]),
        "the /24 is no longer allowed: {:?}",
        again[0]
    );
    egress.release(cgroup.id).unwrap();
}
