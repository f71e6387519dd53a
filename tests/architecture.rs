//! The shape the architecture section promises: no cycle of imports between the top-level
//! modules of `src/` or of `connectors/src/` (a module's own tests aside), and no provider
//! module of `connectors` reaching into another provider's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the top-level modules of the same crate it names (`crate::NAME`).
fn imports(root: &str) -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let mut all = Vec::new();
    files(&root, &mut all);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in all {
        let rel = file.strip_prefix(&root).expect("below the root");
        let first = rel.components().next().expect("a component");
        let top = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        let code = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != top {
                edges.entry(top.clone()).or_default().insert(name);
            }
        }
    }
    edges
}

fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if !done.insert(node.to_string()) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_binary_s_modules_import_each_other_without_a_cycle() {
    let edges = imports("src");
    assert!(
        edges.contains_key("pipeline"),
        "the pipeline's imports were read"
    );
    assert_eq!(cycle(&edges), None, "src/ modules import in a cycle");
}

#[test]
fn connector_modules_import_each_other_without_a_cycle() {
    let edges = imports("connectors/src");
    assert!(
        edges.contains_key("source"),
        "the source trait's imports were read"
    );
    assert_eq!(
        cycle(&edges),
        None,
        "connectors/src modules import in a cycle"
    );
}

#[test]
fn no_provider_reaches_into_another_provider() {
    let edges = imports("connectors/src");
    let providers = ["aws", "gcp", "azure"];
    for p in providers {
        for other in providers.iter().filter(|o| **o != p) {
            assert!(
                !edges.get(p).is_some_and(|e| e.contains(*other)),
                "connectors::{p} imports connectors::{other}"
            );
        }
    }
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let mut edges = BTreeMap::new();
    edges.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    edges.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        cycle(&edges),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
