//! Canonical JSON: object keys sorted, no insignificant whitespace. Hashes are taken over
//! this form so that a row re-serialized by another program hashes the same.

use serde::Serialize;
use serde_json::Value;

/// Canonical bytes of any serializable value.
pub fn to_canonical_json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    // serde_json's Map is ordered by key (no `preserve_order`), so going through Value
    // sorts every object; to_string emits no whitespace.
    let v: Value = serde_json::to_value(value)?;
    serde_json::to_string(&v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_bytes() {
        let a = json!({"b": 1, "a": {"z": [1, 2], "y": "x"}});
        let b: Value =
            serde_json::from_str(r#"{ "a": { "y": "x", "z": [1,2] }, "b": 1 }"#).unwrap();
        assert_eq!(
            to_canonical_json(&a).unwrap(),
            to_canonical_json(&b).unwrap()
        );
        assert_eq!(
            to_canonical_json(&a).unwrap(),
            r#"{"a":{"y":"x","z":[1,2]},"b":1}"#
        );
    }
}
