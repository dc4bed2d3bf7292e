//! Adjustments to the JSON Schema schemars derives for the desired-state file.

/// schemars lets every `Option` field be `null`; the loader refuses empty values
/// (a key without a value must not silently unmanage a setting), so the schema
/// must refuse them too.
pub(crate) fn forbid_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(object) = value else {
        if let Value::Array(items) = value {
            items.iter_mut().for_each(forbid_null);
        }
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".to_owned(), only);
        }
    }
    let single = match object.get("anyOf") {
        Some(Value::Array(any_of)) => match without_null(any_of).as_slice() {
            [kept] => Some((*kept).clone()),
            _ => None,
        },
        _ => None,
    };
    if let Some(Value::Object(kept)) = single {
        object.remove("anyOf");
        object.extend(kept);
    }
    object.values_mut().for_each(forbid_null);
}

fn without_null(schemas: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    let is_null = |s: &&serde_json::Value| s.get("type").is_some_and(|t| t == "null");
    match schemas.iter().filter(|s| !is_null(s)).collect::<Vec<_>>() {
        kept if kept.len() < schemas.len() => kept,
        _ => schemas.iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nullable_types_and_ref_unions_lose_their_null() {
        let mut schema = json!({
            "properties": {
                "a": { "type": ["boolean", "null"] },
                "b": { "anyOf": [{ "$ref": "#/$defs/B" }, { "type": "null" }], "description": "b" },
                "c": { "anyOf": [{ "type": "integer" }, { "type": "string" }] }
            }
        });
        forbid_null(&mut schema);
        assert_eq!(
            schema,
            json!({
                "properties": {
                    "a": { "type": "boolean" },
                    "b": { "$ref": "#/$defs/B", "description": "b" },
                    "c": { "anyOf": [{ "type": "integer" }, { "type": "string" }] }
                }
            })
        );
    }
}
