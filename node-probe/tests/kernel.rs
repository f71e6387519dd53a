//! The probe loaded into this machine's kernel, watching real processes in a cgroup the
//! test makes. Needs root; without it each test says so, and fails when
//! AGENTWARD_REQUIRE_KERNEL is set (CI sets it).

mod support;

use node_probe::{Probe, ProbeConfig, RawEvent, Transport};
use std::time::Duration;
use support::{TestCgroup, kernel_available};

#[tokio::test]
async fn watched_processes_are_seen_and_others_are_not() {
    if !kernel_available("watched_processes_are_seen_and_others_are_not") {
        return;
    }
    let cgroup = TestCgroup::new("seen");
    let mut probe = Probe::load(ProbeConfig::default()).expect("probe loads");
    probe.watch(cgroup.id).unwrap();
    probe.observe_cgroup(&cgroup.path).unwrap();
    let mut reader = probe.take_events().unwrap();

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Datagram destinations: a connected UDP socket (bash's /dev/udp) and an unconnected
    // sendto, both seen by the cgroup hooks.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    let sendto = std::net::UdpSocket::bind("[::1]:0").unwrap();
    let sendto_port = sendto.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker-file");
    std::fs::write(&marker, "x").unwrap();
    let written = dir.path().join("written-file");
    let script = format!(
        "cat {m} > /dev/null; cat {m} > /dev/null; echo y > {w}; exec 3<>/dev/tcp/127.0.0.1/{port}; \
         echo d > /dev/udp/127.0.0.1/{udp_port}; \
         python3 -c \"import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'd', ('::1', {sendto_port}))\"",
        m = marker.display(),
        w = written.display(),
    );
    let (status, stderr) = cgroup.run("bash", &["-c", &script]);
    assert!(status.success(), "{stderr}");
    // The same commands outside the cgroup.
    let status = std::process::Command::new("cat")
        .arg(&marker)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    let mut events = Vec::new();
    reader
        .next_batch(Duration::from_millis(200), &mut events)
        .await;
    let in_cgroup = |e: &RawEvent| e.header().cgroup_id == cgroup.id;
    assert!(
        events.iter().all(in_cgroup),
        "only the watched cgroup is reported"
    );

    let cat_execs: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            RawEvent::Exec { filename, argv, .. } if filename.ends_with("/cat") => Some(argv),
            _ => None,
        })
        .collect();
    assert_eq!(
        cat_execs.len(),
        1,
        "the second identical exec is counted, not sent: {events:#?}"
    );
    assert_eq!(cat_execs[0][1], marker.display().to_string());

    let opens: Vec<_> = events
        .iter()
        .filter(
            |e| matches!(e, RawEvent::Open { path, .. } if *path == marker.display().to_string()),
        )
        .collect();
    assert_eq!(
        opens.len(),
        1,
        "the second open of the file is counted, not sent"
    );
    // The flags come from the registers saved at entry: a write is told from a read.
    assert!(matches!(opens[0], RawEvent::Open { flags, .. } if flags & 3 == 0));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RawEvent::Open { path, flags, .. }
            if *path == written.display().to_string() && flags & 3 == 1)),
        "the redirect opens the file for writing: {events:#?}"
    );
    let counts = probe.dedupe_counts().unwrap();
    let key = node_probe::DedupeKey::of(opens[0]).unwrap();
    assert_eq!(
        counts.get(&key),
        Some(&2),
        "both opens are counted in the kernel"
    );

    let connect = events
        .iter()
        .find_map(|e| match e {
            RawEvent::Connect {
                transport,
                addr,
                port: p,
                header,
                ..
            } if *p == port => Some((transport, addr, header)),
            _ => None,
        })
        .expect("the TCP connect is reported");
    assert_eq!(*connect.0, Transport::Tcp);
    assert_eq!(connect.1.to_string(), "127.0.0.1");
    assert_eq!(connect.2.comm, "bash");
    let datagram = |wanted: u16, sent_to: bool| {
        events.iter().find_map(|e| match e {
            RawEvent::Connect {
                transport: Transport::Udp,
                addr,
                port,
                header,
                unconnected,
            } if *port == wanted && *unconnected == sent_to => {
                Some((addr.to_string(), header.comm.clone()))
            }
            _ => None,
        })
    };
    assert_eq!(
        datagram(udp_port, false),
        Some(("127.0.0.1".to_string(), "bash".to_string())),
        "{events:#?}"
    );
    let (to, sender) = datagram(sendto_port, true).expect("the unconnected sendto");
    assert_eq!(to, "::1");
    assert!(sender.starts_with("python"), "{sender}");

    let counters = probe.counters().unwrap();
    assert_eq!(counters.lost, 0);
    assert!(counters.deduped >= 2, "{counters:?}");
    assert_eq!(counters.emitted as usize, events.len());
}

#[tokio::test]
async fn a_full_ring_loses_events_and_counts_every_one() {
    if !kernel_available("a_full_ring_loses_events_and_counts_every_one") {
        return;
    }
    let cgroup = TestCgroup::new("overflow");
    // One page of ring, and a reader that does not read until the writer is done.
    let mut probe = Probe::load(ProbeConfig {
        ring_bytes: 4096,
        wakeup_bytes: u64::MAX,
    })
    .unwrap();
    probe.watch(cgroup.id).unwrap();
    let mut reader = probe.take_events().unwrap();

    let dir = tempfile::tempdir().unwrap();
    for i in 0..500 {
        std::fs::write(dir.path().join(format!("f{i}")), "x").unwrap();
    }
    let script = format!(
        "import os\nfor i in range(500):\n    os.close(os.open('{}/f%d' % i, os.O_RDONLY))\n",
        dir.path().display()
    );
    // The interpreter itself, not a shim that forks and execs on its way to it.
    let (status, stderr) = cgroup.run(&support::python(), &["-c", &script]);
    assert!(status.success(), "{stderr}");

    let mut events = Vec::new();
    while reader
        .next_batch(Duration::from_millis(50), &mut events)
        .await
        > 0
    {}
    let counters = probe.counters().unwrap();
    assert!(counters.lost > 0, "a 4 KiB ring cannot hold 500 opens");
    assert_eq!(
        counters.emitted as usize,
        events.len(),
        "every event sent was read"
    );
    // Every new target is remembered before it is sent, so the dedupe map holds one key
    // per event sent or lost; the process's one exit is the only other event.
    let keys = probe
        .dedupe_counts()
        .unwrap()
        .keys()
        .filter(|k| k.cgroup_id == cgroup.id)
        .count() as u64;
    assert_eq!(counters.emitted + counters.lost, keys + 1, "{counters:?}");
    let ours = events
        .iter()
        .filter(|e| matches!(e, RawEvent::Open { path, .. } if path.starts_with(&dir.path().display().to_string())))
        .count();
    assert!(ours < 500, "some of the opens were lost, and counted");
}
