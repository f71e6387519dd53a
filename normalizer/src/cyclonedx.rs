//! The inventory as a CycloneDX 1.6 BOM: agents are services, the tools they can call are
//! nested services, models are `machine-learning-model` components and knowledge bases
//! are `data` components. Provenance of every entry travels as `agentward:*` properties.
//! Output is byte-identical for identical input (the serial number is derived from it).

use crate::inventory::{AgentInventory, InventorySnapshot, Provenance, Sourced};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

fn provenance_properties(since: crate::Timestamp, p: &Provenance) -> Vec<Value> {
    vec![
        json!({ "name": "agentward:provenance", "value": p.kind.as_str() }),
        json!({ "name": "agentward:record", "value": p.record.to_string() }),
        json!({ "name": "agentward:since", "value": since.rfc3339() }),
    ]
}

fn sourced_properties<T>(s: &Sourced<T>) -> Vec<Value> {
    provenance_properties(s.since, &s.provenance)
}

fn agent_service(
    a: &AgentInventory,
    models: &mut BTreeMap<String, Vec<Value>>,
    data: &mut BTreeMap<String, Value>,
) -> (Value, Value) {
    let key = a.agent.key();
    let agent_ref = format!("agent:{key}");
    let mut depends = Vec::new();
    let mut props = vec![
        json!({ "name": "agentward:agent-key", "value": key }),
        json!({ "name": "agentward:provider", "value": a.agent.provider.as_str() }),
        json!({ "name": "agentward:scope", "value": a.agent.scope }),
        json!({ "name": "agentward:location", "value": a.agent.location }),
        json!({ "name": "agentward:first-seen", "value": a.first_seen.rfc3339() }),
    ];
    let mut field = |name: &str, value: &str, s: Option<(crate::Timestamp, &Provenance)>| {
        props.push(json!({ "name": format!("agentward:{name}"), "value": value }));
        if let Some((since, p)) = s {
            props.push(
                json!({ "name": format!("agentward:{name}:provenance"), "value": p.kind.as_str() }),
            );
            props.push(json!({ "name": format!("agentward:{name}:record"), "value": p.record.to_string() }));
            props.push(
                json!({ "name": format!("agentward:{name}:since"), "value": since.rfc3339() }),
            );
        }
    };
    if let Some(role) = &a.role {
        field(
            "identity",
            &role.value,
            Some((role.since, &role.provenance)),
        );
    }
    if let Some(g) = &a.guardrail {
        let v = match &g.value.version {
            Some(ver) => format!("{}:{ver}", g.value.id),
            None => g.value.id.clone(),
        };
        field("guardrail", &v, Some((g.since, &g.provenance)));
    }
    for v in &a.versions {
        field("version", &v.value, Some((v.since, &v.provenance)));
    }
    for alias in &a.aliases {
        let routed = alias.value.routed_version.as_deref().unwrap_or("unknown");
        field(
            &format!("alias:{}", alias.value.id),
            routed,
            Some((alias.since, &alias.provenance)),
        );
    }

    let mut model_use = |model: &str, relation: &str, s: &Sourced<String>| {
        let bom_ref = format!("model:{model}");
        let entry = models.entry(model.to_string()).or_default();
        let mut p = vec![
            json!({ "name": "agentward:used-by", "value": format!("{agent_ref} ({relation})") }),
        ];
        p.extend(sourced_properties(s));
        entry.extend(p);
        bom_ref
    };
    if let Some(m) = &a.declared_model {
        let r = model_use(&m.value, "declared", m);
        depends.push(r);
    }
    for m in &a.models_invoked {
        let r = model_use(&m.value, "invoked", m);
        if !depends.contains(&r) {
            depends.push(r);
        }
    }
    for kb in &a.knowledge_bases {
        let bom_ref = format!("knowledge-base:{}:{}", a.agent.scope, kb.value);
        let mut p = vec![json!({ "name": "agentward:used-by", "value": agent_ref.clone() })];
        p.extend(sourced_properties(kb));
        let component = data.entry(bom_ref.clone()).or_insert_with(|| {
            json!({
                "type": "data",
                "bom-ref": bom_ref,
                "name": kb.value,
                "data": [{ "type": "dataset", "name": kb.value, "description": "knowledge base" }],
                "properties": [],
            })
        });
        if let Some(arr) = component["properties"].as_array_mut() {
            arr.extend(p);
        }
        depends.push(bom_ref);
    }

    // What the node probe saw the processes load and reach.
    for pkg in &a.packages {
        let p = &pkg.value;
        let version = p.version.as_deref().unwrap_or("unknown");
        let bom_ref = format!("package:{}/{}@{version}", p.ecosystem, p.name);
        let mut props = vec![
            json!({ "name": "agentward:used-by", "value": agent_ref.clone() }),
            json!({ "name": "agentward:role", "value": p.role }),
            json!({ "name": "agentward:loaded-from", "value": p.path }),
        ];
        props.extend(sourced_properties(pkg));
        let component = data.entry(bom_ref.clone()).or_insert_with(|| {
            let mut c = json!({
                "type": if p.role == "agent framework" { "framework" } else { "library" },
                "bom-ref": bom_ref,
                "name": p.name,
                "properties": [],
            });
            if let Some(v) = &p.version {
                c["version"] = json!(v);
                // Package URLs encode an npm scope's `@`.
                c["purl"] = json!(format!(
                    "pkg:{}/{}@{v}",
                    p.ecosystem,
                    p.name.replace('@', "%40")
                ));
            }
            c
        });
        if let Some(arr) = component["properties"].as_array_mut() {
            arr.extend(props);
        }
        depends.push(bom_ref);
    }
    // What a reasoning engine declares it installs (its requirements), pinned or not.
    if let Some(engine) = &a.engine {
        for requirement in &engine.value.requirements {
            let (name, version) = requirement_name_and_pin(requirement);
            if name.is_empty() {
                continue;
            }
            let bom_ref = format!(
                "package:pypi/{name}@{}",
                version.as_deref().unwrap_or("unpinned")
            );
            let mut props = vec![
                json!({ "name": "agentward:used-by", "value": agent_ref.clone() }),
                json!({ "name": "agentward:declared-as", "value": requirement }),
            ];
            props.extend(sourced_properties(engine));
            let component = data.entry(bom_ref.clone()).or_insert_with(|| {
                let mut c = json!({
                    "type": "library",
                    "bom-ref": bom_ref,
                    "name": name,
                    "properties": [],
                });
                if let Some(v) = &version {
                    c["version"] = json!(v);
                    c["purl"] = json!(format!("pkg:pypi/{name}@{v}"));
                }
                c
            });
            if let Some(arr) = component["properties"].as_array_mut() {
                arr.extend(props);
            }
            depends.push(bom_ref);
        }
    }
    for file in &a.model_files {
        let bom_ref = format!("model-file:{}:{}", a.agent.scope, file.value);
        let mut props = vec![
            json!({ "name": "agentward:used-by", "value": agent_ref.clone() }),
            json!({ "name": "agentward:path", "value": file.value }),
        ];
        props.extend(sourced_properties(file));
        let name = file
            .value
            .rsplit('/')
            .next()
            .unwrap_or(&file.value)
            .to_string();
        let component = data.entry(bom_ref.clone()).or_insert_with(|| {
            json!({ "type": "machine-learning-model", "bom-ref": bom_ref, "name": name, "properties": [] })
        });
        if let Some(arr) = component["properties"].as_array_mut() {
            arr.extend(props);
        }
        depends.push(bom_ref);
    }
    for e in &a.endpoints {
        field(
            "endpoint",
            &e.value.to_string(),
            Some((e.since, &e.provenance)),
        );
    }
    let mcp_servers: Vec<Value> = a
        .mcp_servers
        .iter()
        .map(|m| {
            let bom_ref = format!("{agent_ref}/mcp-server:{}", m.value.name);
            depends.push(bom_ref.clone());
            let mut p = vec![
                json!({ "name": "agentward:tool-kind", "value": "mcp_server" }),
                json!({ "name": "agentward:transport", "value": "stdio" }),
                json!({ "name": "agentward:launcher", "value": m.value.launcher }),
                json!({ "name": "agentward:command", "value": m.value.command }),
            ];
            p.extend(sourced_properties(m));
            json!({ "bom-ref": bom_ref, "name": m.value.name, "properties": p })
        })
        .collect();

    let mut tools: Vec<Value> = a
        .tools
        .iter()
        .map(|t| {
            let bom_ref = format!("{agent_ref}/tool:{}", t.value.name);
            depends.push(bom_ref.clone());
            let mut p = vec![json!({ "name": "agentward:tool-kind", "value": t.value.kind })];
            if let Some(e) = &t.value.executor {
                p.push(json!({ "name": "agentward:executor", "value": e }));
            }
            if let Some(sig) = &t.value.signature {
                p.push(json!({ "name": "agentward:signature", "value": sig }));
            }
            p.extend(sourced_properties(t));
            json!({ "bom-ref": bom_ref, "name": t.value.name, "properties": p })
        })
        .collect();
    tools.extend(mcp_servers);

    let name = a
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| a.agent.id.clone());
    if let Some(n) = &a.name {
        props.extend(sourced_properties(n));
    }
    let mut service = json!({
        "bom-ref": agent_ref,
        "name": name,
        "description": format!("AI agent {} ({})", a.agent.id, a.agent.provider.as_str()),
        "properties": props,
    });
    if !tools.is_empty() {
        service["services"] = Value::Array(tools);
    }
    let dependency = json!({ "ref": service["bom-ref"].clone(), "dependsOn": depends });
    (service, dependency)
}

/// The snapshot as a CycloneDX 1.6 JSON document.
/// `google-adk[extras]==1.17.0 ; python_version>"3"` → (`google-adk`, `Some("1.17.0")`): the
/// distribution (lower-case, as package URLs name PyPI packages) and its exact pin.
fn requirement_name_and_pin(requirement: &str) -> (String, Option<String>) {
    let spec = requirement.split(';').next().unwrap_or("").trim();
    let end = spec
        .find(|c: char| "[<>=!~ ".contains(c))
        .unwrap_or(spec.len());
    let name = spec[..end].trim().to_lowercase().replace('_', "-");
    let pin = spec
        .split_once("==")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && !v.contains(['*', ',', ' ']));
    (name, pin)
}

pub fn snapshot_to_cyclonedx(snapshot: &InventorySnapshot, tool_version: &str) -> Value {
    let mut models: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut data: BTreeMap<String, Value> = BTreeMap::new();
    let mut services = Vec::new();
    let mut dependencies = Vec::new();
    // The BOM is what is deployed at that time: a deleted agent's history stays in the
    // inventory, not in the bill of materials.
    for a in snapshot.agents.iter().filter(|a| a.deleted.is_none()) {
        let (service, dependency) = agent_service(a, &mut models, &mut data);
        services.push(service);
        dependencies.push(dependency);
    }
    let mut components: Vec<Value> = models
        .into_iter()
        .map(|(model, props)| {
            json!({
                "type": "machine-learning-model",
                "bom-ref": format!("model:{model}"),
                "name": model,
                "properties": props,
            })
        })
        .collect();
    components.extend(data.into_values());
    for c in &components {
        dependencies.push(json!({ "ref": c["bom-ref"].clone() }));
    }

    let mut bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "timestamp": snapshot.at.rfc3339(),
            "tools": { "components": [{ "type": "application", "name": "agentward", "version": tool_version }] },
            "properties": [{ "name": "agentward:inventory-at", "value": snapshot.at.rfc3339() }],
        },
        "components": components,
        "services": services,
        "dependencies": dependencies,
    });
    let digest = Sha256::digest(bom.to_string().as_bytes());
    let h = hex::encode(&digest[..16]);
    bom["serialNumber"] = json!(format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ));
    bom
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_name_their_distribution_and_exact_pin() {
        assert_eq!(
            requirement_name_and_pin("google-cloud-aiplatform[agent_engines,adk]==1.121.0"),
            ("google-cloud-aiplatform".into(), Some("1.121.0".into()))
        );
        assert_eq!(
            requirement_name_and_pin("LangGraph>=0.6 ; python_version >= \"3.10\""),
            ("langgraph".into(), None)
        );
        assert_eq!(
            requirement_name_and_pin("zenpy==2.*"),
            ("zenpy".into(), None)
        );
    }
}
