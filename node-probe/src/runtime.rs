//! The agent's inventory as its processes reveal it: the AI packages they load, the MCP
//! servers they start, the model weights they open, the endpoints they reach. Read from
//! events, never from a manifest.

use normalizer::node::{McpServer, RuntimePackage};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Import names (Python) and package names (npm) that make a process an agent, and what
/// each one is. Everything else a process loads is behavior, not inventory.
const PYTHON: [(&str, &str); 28] = [
    ("langchain", "agent framework"),
    ("langchain_core", "agent framework"),
    ("langgraph", "agent framework"),
    ("llama_index", "agent framework"),
    ("crewai", "agent framework"),
    ("autogen", "agent framework"),
    ("autogen_agentchat", "agent framework"),
    ("semantic_kernel", "agent framework"),
    ("haystack", "agent framework"),
    ("dspy", "agent framework"),
    ("pydantic_ai", "agent framework"),
    ("smolagents", "agent framework"),
    ("agents", "agent framework"),
    ("strands", "agent framework"),
    ("google/adk", "agent framework"),
    ("openai", "model SDK"),
    ("anthropic", "model SDK"),
    ("google/genai", "model SDK"),
    ("cohere", "model SDK"),
    ("mistralai", "model SDK"),
    ("ollama", "model SDK"),
    ("litellm", "model SDK"),
    ("transformers", "model SDK"),
    ("vllm", "model SDK"),
    ("llama_cpp", "model SDK"),
    ("mcp", "MCP SDK"),
    ("fastmcp", "MCP SDK"),
    ("a2a", "agent framework"),
];

const NPM: [(&str, &str); 9] = [
    ("@modelcontextprotocol/sdk", "MCP SDK"),
    ("langchain", "agent framework"),
    ("@langchain/core", "agent framework"),
    ("@langchain/langgraph", "agent framework"),
    ("@openai/agents", "agent framework"),
    ("openai", "model SDK"),
    ("@anthropic-ai/sdk", "model SDK"),
    ("ai", "model SDK"),
    ("@google/genai", "model SDK"),
];

/// Files that hold model weights.
const WEIGHT_SUFFIXES: [&str; 6] = [".gguf", ".safetensors", ".ggml", ".onnx", ".pt", ".pth"];

pub fn is_model_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    // Under a package directory, `.pth` is Python's path configuration, not PyTorch.
    if lower.ends_with(".pth")
        && (lower.contains("/site-packages/") || lower.contains("/dist-packages/"))
    {
        return false;
    }
    WEIGHT_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// A file under a package directory: the ecosystem, the directory packages live in, and
/// the import (or npm) name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageHit {
    pub ecosystem: &'static str,
    pub packages_dir: String,
    pub import_name: String,
    pub role: &'static str,
    /// The file, relative to `packages_dir`: which distribution installed it is what
    /// names the package (several share a namespace: langgraph, langgraph-prebuilt).
    pub relative: String,
}

/// The AI package a file belongs to, if it is one we inventory.
pub fn package_of(path: &str) -> Option<PackageHit> {
    for marker in ["/site-packages/", "/dist-packages/"] {
        if let Some(at) = path.rfind(marker) {
            let dir = &path[..at + marker.len() - 1];
            let rest = &path[at + marker.len()..];
            let mut parts = rest.split('/');
            let first = parts.next()?;
            let top = first.strip_suffix(".py").unwrap_or(first);
            // Namespace packages (google.adk) are named by their first two levels.
            let second = parts.next().unwrap_or("");
            let two = format!("{top}/{second}");
            let (name, role) = PYTHON
                .iter()
                .find(|(n, _)| *n == two)
                .or_else(|| PYTHON.iter().find(|(n, _)| *n == top))?;
            return Some(PackageHit {
                ecosystem: "pypi",
                packages_dir: dir.to_string(),
                import_name: name.to_string(),
                role,
                relative: rest.to_string(),
            });
        }
    }
    let at = path.rfind("/node_modules/")?;
    let dir = &path[..at + "/node_modules".len()];
    let rest = &path[at + "/node_modules/".len()..];
    let mut parts = rest.split('/');
    let first = parts.next()?;
    let name = if first.starts_with('@') {
        format!("{first}/{}", parts.next()?)
    } else {
        first.to_string()
    };
    let (name, role) = NPM.iter().find(|(n, _)| *n == name)?;
    Some(PackageHit {
        ecosystem: "npm",
        packages_dir: dir.to_string(),
        import_name: name.to_string(),
        role,
        relative: rest.to_string(),
    })
}

/// Reads package versions from the metadata installed beside the package, through a
/// root (`/proc/<pid>/root` for a process in a container, `/` for a host process), and
/// remembers each directory it has read.
#[derive(Debug, Default)]
pub struct Versions {
    /// A packages directory, by its device and inode (the same directory seen through
    /// every process's root is read once) → what its dist-info directories say.
    python: HashMap<(u64, u64), PythonIndex>,
}

impl Versions {
    pub fn resolve(&mut self, root: &Path, hit: &PackageHit) -> RuntimePackage {
        let (name, version) = match hit.ecosystem {
            "npm" => {
                let manifest = join_under(root, &hit.packages_dir)
                    .join(&hit.import_name)
                    .join("package.json");
                let version = std::fs::read(&manifest)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .and_then(|v| {
                        v.get("version")
                            .and_then(|v| v.as_str())
                            .map(str::to_string)
                    });
                (hit.import_name.clone(), version)
            }
            _ => {
                let dir = join_under(root, &hit.packages_dir);
                let empty = PythonIndex::default();
                let index = match std::fs::metadata(&dir) {
                    Ok(meta) => self
                        .python
                        .entry((meta.dev(), meta.ino()))
                        .or_insert_with(|| python_index(&dir)),
                    // Gone with its process: the version stays unknown.
                    Err(_) => &empty,
                };
                let top = hit
                    .import_name
                    .split('/')
                    .next()
                    .unwrap_or(&hit.import_name);
                match index
                    .files
                    .get(&hit.relative)
                    .or_else(|| index.tops.get(top))
                {
                    Some((dist, version)) => (dist.clone(), Some(version.clone())),
                    None => (hit.import_name.replace('/', "-"), None),
                }
            }
        };
        RuntimePackage {
            ecosystem: hit.ecosystem.to_string(),
            name,
            version,
            role: hit.role.to_string(),
            path: hit.packages_dir.clone(),
        }
    }
}

fn join_under(root: &Path, absolute: &str) -> PathBuf {
    root.join(absolute.trim_start_matches('/'))
}

/// What one site-packages directory's `<dist>-<version>.dist-info` directories say:
/// which distribution installed each file (its RECORD), and, for files no RECORD lists,
/// which distribution provides each top-level name (`top_level.txt`, else its name).
#[derive(Debug, Default)]
struct PythonIndex {
    files: HashMap<String, (String, String)>,
    tops: HashMap<String, (String, String)>,
}

/// PyPI's normalized form of a distribution name (PEP 503): `langchain_core` →
/// `langchain-core`.
fn normalized(dist: &str) -> String {
    dist.to_ascii_lowercase().replace(['_', '.'], "-")
}

fn python_index(dir: &Path) -> PythonIndex {
    let mut index = PythonIndex::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return index;
    };
    let mut infos: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "dist-info"))
        .collect();
    // A fixed order, so a name two distributions claim resolves the same way each time.
    infos.sort();
    for info in infos {
        let file_name = info
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Some((dist, version)) = file_name.trim_end_matches(".dist-info").split_once('-') else {
            continue;
        };
        let entry = (normalized(dist), version.to_string());
        let record = std::fs::read_to_string(info.join("RECORD")).unwrap_or_default();
        for line in record.lines() {
            if let Some(path) = line.split(',').next().filter(|p| !p.is_empty()) {
                index.files.insert(path.to_string(), entry.clone());
            }
        }
        let tops: Vec<String> = std::fs::read_to_string(info.join("top_level.txt"))
            .map(|t| {
                t.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let tops = if tops.is_empty() {
            vec![dist.to_ascii_lowercase().replace('-', "_")]
        } else {
            tops
        };
        for top in tops {
            index.tops.entry(top).or_insert_with(|| entry.clone());
        }
    }
    index
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn looks_like_mcp(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("mcp") || lower.starts_with("@modelcontextprotocol/")
}

/// The first argument after `skip` that is not an option: the package a runner runs.
fn first_operand(args: &[String]) -> Option<&str> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--package" || arg == "-p" || arg == "--from" {
            iter.next();
            continue;
        }
        if !arg.starts_with('-') {
            return Some(arg);
        }
    }
    None
}

/// `pkg@1.2.3` → `pkg`, `@scope/pkg@1.2.3` → `@scope/pkg`, `pkg==1.2` → `pkg`.
fn without_version(spec: &str) -> &str {
    let spec = spec.split("==").next().unwrap_or(spec);
    match spec.strip_prefix('@') {
        Some(rest) => match rest.find('@') {
            Some(at) => &spec[..at + 1],
            None => spec,
        },
        None => spec.split('@').next().unwrap_or(spec),
    }
}

/// The MCP server an exec starts, if it starts one: a package run by npx/uvx/pipx/bunx,
/// a Python module run with `-m`, a Node script, or an installed `*mcp*` command.
pub fn mcp_server_of(filename: &str, argv: &[String]) -> Option<McpServer> {
    let program = argv
        .first()
        .map(|a| basename(a))
        .unwrap_or(basename(filename));
    let exe = basename(filename);
    let rest = argv.get(1..).unwrap_or(&[]);
    let command = if argv.is_empty() {
        filename.to_string()
    } else {
        argv.join(" ")
    };
    let found = |name: &str, launcher: &str| {
        looks_like_mcp(name).then(|| McpServer {
            name: name.to_string(),
            launcher: launcher.to_string(),
            command: command.clone(),
        })
    };
    let runner = |p: &str| matches!(p, "npx" | "bunx" | "uvx" | "pipx" | "pnpx");
    if runner(program) || runner(exe) {
        let args = match rest.first().map(String::as_str) {
            Some("run") if program == "pipx" || exe == "pipx" => &rest[1..],
            _ => rest,
        };
        let launcher = if runner(program) { program } else { exe };
        return first_operand(args).and_then(|spec| found(without_version(spec), launcher));
    }
    if exe.starts_with("python") || program.starts_with("python") {
        let module = rest
            .iter()
            .position(|a| a == "-m")
            .and_then(|i| rest.get(i + 1))?;
        return found(module, "python -m");
    }
    if exe == "node" || program == "node" {
        let script = first_operand(rest)?;
        // `.../node_modules/@scope/pkg/dist/index.js` is the package it belongs to.
        let name = package_of(script)
            .map(|h| h.import_name)
            .or_else(|| {
                script.rfind("/node_modules/").map(|at| {
                    let tail = &script[at + "/node_modules/".len()..];
                    let mut parts = tail.split('/');
                    let first = parts.next().unwrap_or("");
                    if first.starts_with('@') {
                        format!("{first}/{}", parts.next().unwrap_or(""))
                    } else {
                        first.to_string()
                    }
                })
            })
            .unwrap_or_else(|| script.to_string());
        return found(&name, "node");
    }
    found(program, "exec").or_else(|| found(exe, "exec"))
}

/// A stdio server known only by how it was started (on its parent's pipes): named by
/// the script an interpreter runs, else by the program.
pub fn stdio_server_of(filename: &str, argv: &[String]) -> McpServer {
    let program = argv
        .first()
        .map(|a| basename(a))
        .unwrap_or(basename(filename));
    let interpreter = ["python", "node", "bun", "deno", "ruby", "perl"]
        .iter()
        .any(|i| program.starts_with(i) || basename(filename).starts_with(i));
    let name = interpreter
        .then(|| first_operand(argv.get(1..).unwrap_or(&[])))
        .flatten()
        .map(|script| basename(script).to_string())
        .unwrap_or_else(|| program.to_string());
    McpServer {
        name,
        launcher: "stdio (inferred: a piped child of an MCP client)".into(),
        command: if argv.is_empty() {
            filename.to_string()
        } else {
            argv.join(" ")
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn mcp_servers_from_the_ways_they_are_launched() {
        let s = mcp_server_of(
            "/usr/bin/npx",
            &argv("npx -y @modelcontextprotocol/server-filesystem@2025.8.21 /data"),
        )
        .unwrap();
        assert_eq!(
            (s.name.as_str(), s.launcher.as_str()),
            ("@modelcontextprotocol/server-filesystem", "npx")
        );
        let s = mcp_server_of(
            "/root/.local/bin/uvx",
            &argv("uvx mcp-server-time --local-timezone UTC"),
        )
        .unwrap();
        assert_eq!(
            (s.name.as_str(), s.launcher.as_str()),
            ("mcp-server-time", "uvx")
        );
        let s = mcp_server_of("/usr/bin/python3.11", &argv("python3 -m mcp_server_time")).unwrap();
        assert_eq!(
            (s.name.as_str(), s.launcher.as_str()),
            ("mcp_server_time", "python -m")
        );
        let s = mcp_server_of(
            "/usr/bin/node",
            &argv("node /app/node_modules/@modelcontextprotocol/server-memory/dist/index.js"),
        )
        .unwrap();
        assert_eq!(s.name, "@modelcontextprotocol/server-memory");
        let s = mcp_server_of(
            "/venv/bin/mcp-server-fetch",
            &argv("/venv/bin/mcp-server-fetch"),
        )
        .unwrap();
        assert_eq!(
            (s.name.as_str(), s.launcher.as_str()),
            ("mcp-server-fetch", "exec")
        );
        assert_eq!(
            mcp_server_of("/usr/bin/python3", &argv("python3 agent.py")),
            None
        );
        assert_eq!(
            mcp_server_of("/usr/bin/npx", &argv("npx -y prettier")),
            None
        );
        assert_eq!(mcp_server_of("/bin/cat", &argv("cat /etc/hosts")), None);
    }

    #[test]
    fn ai_packages_from_the_files_a_process_opens() {
        let hit =
            package_of("/app/.venv/lib/python3.11/site-packages/langgraph/graph/state.py").unwrap();
        assert_eq!(hit.import_name, "langgraph");
        assert_eq!(hit.packages_dir, "/app/.venv/lib/python3.11/site-packages");
        assert_eq!(hit.role, "agent framework");
        assert_eq!(
            package_of("/usr/lib/python3/dist-packages/openai/__init__.py")
                .unwrap()
                .role,
            "model SDK"
        );
        assert_eq!(
            package_of("/usr/lib/python3/site-packages/google/adk/agents/__init__.py")
                .unwrap()
                .import_name,
            "google/adk"
        );
        let npm =
            package_of("/srv/app/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js")
                .unwrap();
        assert_eq!(
            (npm.ecosystem, npm.import_name.as_str()),
            ("npm", "@modelcontextprotocol/sdk")
        );
        assert_eq!(
            package_of("/usr/lib/python3/site-packages/numpy/core/__init__.py"),
            None
        );
        assert_eq!(package_of("/etc/hosts"), None);
    }

    #[test]
    fn versions_come_from_the_metadata_beside_the_package() {
        let root = tempfile::tempdir().unwrap();
        let site = root.path().join("venv/lib/python3.11/site-packages");
        std::fs::create_dir_all(site.join("langgraph")).unwrap();
        std::fs::create_dir_all(site.join("langgraph-0.2.60.dist-info")).unwrap();
        std::fs::write(
            site.join("langgraph-0.2.60.dist-info/RECORD"),
            "langgraph/__init__.py,sha256=x,10\nlanggraph-0.2.60.dist-info/METADATA,,\n",
        )
        .unwrap();
        // Another distribution in the same namespace: its files are its own.
        std::fs::create_dir_all(site.join("langgraph_prebuilt-1.1.2.dist-info")).unwrap();
        std::fs::write(
            site.join("langgraph_prebuilt-1.1.2.dist-info/RECORD"),
            "langgraph/prebuilt/__init__.py,sha256=y,20\n",
        )
        .unwrap();
        let mut versions = Versions::default();
        let hit = package_of("/venv/lib/python3.11/site-packages/langgraph/__init__.py").unwrap();
        let package = versions.resolve(root.path(), &hit);
        assert_eq!(package.name, "langgraph");
        assert_eq!(package.version.as_deref(), Some("0.2.60"));
        let hit = package_of("/venv/lib/python3.11/site-packages/langgraph/prebuilt/__init__.py")
            .unwrap();
        let package = versions.resolve(root.path(), &hit);
        assert_eq!(
            (package.name.as_str(), package.version.as_deref()),
            ("langgraph-prebuilt", Some("1.1.2"))
        );

        let modules = root
            .path()
            .join("app/node_modules/@modelcontextprotocol/sdk");
        std::fs::create_dir_all(&modules).unwrap();
        std::fs::write(
            modules.join("package.json"),
            r#"{"name":"@modelcontextprotocol/sdk","version":"1.17.4"}"#,
        )
        .unwrap();
        let hit = package_of("/app/node_modules/@modelcontextprotocol/sdk/dist/index.js").unwrap();
        assert_eq!(
            Versions::default()
                .resolve(root.path(), &hit)
                .version
                .as_deref(),
            Some("1.17.4")
        );
    }

    #[test]
    fn model_weights_by_their_file_types() {
        assert!(is_model_file("/models/llama-3.1-8b-instruct.Q4_K_M.gguf"));
        assert!(is_model_file("/models/bge/model.safetensors"));
        assert!(!is_model_file("/models/README.md"));
        assert!(is_model_file("/models/resnet50.pth"));
        assert!(!is_model_file(
            "/venv/lib/python3.11/site-packages/distutils-precedence.pth"
        ));
    }
}
