//! OpenAPI documents as tools: what the model sees of each operation. Bedrock action
//! groups, Dialogflow tools and Foundry OpenAPI tools all describe their tools this way.

use crate::{ConnectorError, FailureClass};
use normalizer::inventory::ToolOperation;

/// The operations an OpenAPI document (JSON or YAML) exposes: the operationId the model
/// sees, with the method and path that runs.
/// A document that is neither is `Malformed`.
pub fn openapi_operations(payload: &str) -> Result<Vec<ToolOperation>, ConnectorError> {
    let malformed =
        |what: &str, detail: String| ConnectorError::failed(FailureClass::Malformed, what, detail);
    let doc: serde_json::Value = match serde_json::from_str(payload) {
        Ok(v) => v,
        Err(_) => serde_norway::from_str(payload)
            .map_err(|e| malformed("the OpenAPI schema is neither JSON nor YAML", e.to_string()))?,
    };
    let paths = doc
        .get("paths")
        .and_then(|p| p.as_object())
        .ok_or_else(|| malformed("the OpenAPI schema has no `paths`", String::new()))?;
    let mut out = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            let Some(op) = item.get(method) else { continue };
            let route = format!("{} {path}", method.to_uppercase());
            out.push(ToolOperation {
                name: op
                    .get("operationId")
                    .and_then(|o| o.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| route.clone()),
                detail: Some(route),
            });
        }
    }
    out.sort();
    Ok(out)
}
