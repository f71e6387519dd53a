//! Puts the probe's eBPF objects in OUT_DIR: compiled from `bpf/` by `bpf/build.sh` when
//! clang is on this machine, otherwise the objects committed beside the sources (so a
//! machine without clang builds too). `bpf/build.sh --check` shows the two agree.
use std::path::Path;
use std::process::Command;

const OBJECTS: [&str; 2] = ["probe.bpf.o", "egress.bpf.o"];

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    // Read when the script runs, not when it was compiled: cargo reuses a build script
    // compiled in another checkout of the same workspace.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let bpf = Path::new(&manifest_dir).join("bpf");
    for file in [
        "probe.bpf.c",
        "egress.bpf.c",
        "common.h",
        "events.h",
        "helpers.h",
        "build.sh",
        "probe.bpf.o",
        "egress.bpf.o",
    ] {
        println!("cargo:rerun-if-changed=bpf/{file}");
    }
    println!("cargo:rerun-if-env-changed=AGENTWARD_BPF_PREBUILT");

    let prebuilt_only = std::env::var_os("AGENTWARD_BPF_PREBUILT").is_some();
    let have_clang = Command::new("clang")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if have_clang && !prebuilt_only {
        let built = Command::new(bpf.join("build.sh"))
            .arg(&out_dir)
            .status()
            .is_ok_and(|s| s.success());
        if built {
            return;
        }
        println!(
            "cargo:warning=clang could not compile node-probe/bpf; using the committed objects"
        );
    }
    for object in OBJECTS {
        std::fs::copy(bpf.join(object), Path::new(&out_dir).join(object))
            .unwrap_or_else(|e| panic!("copying node-probe/bpf/{object}: {e}"));
    }
}
