//! A Safe transaction for people and for Safe{Wallet}: what an owner signs
//! (the decoded calls and the `SafeTx` hash), and the Transaction Builder
//! batch file with its checksum, so owners who prefer the web app import
//! the very calls that were reviewed.

use std::fmt::Write;

use alloy::primitives::{B256, keccak256};
use serde_json::{Map, Value, json};

use super::call_signature;
use crate::plan::{Plan, RouteKind, SafeBatch};

/// The Transaction Builder version the file declares.
pub const TX_BUILDER_VERSION: &str = "1.16.5";

/// What an owner signs for `batch`: the Safe, its nonce, each call decoded
/// and the hash.
pub fn safe_transaction(plan: &Plan, batch: &SafeBatch) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Safe {} ({} of {}), nonce {}, chain {}:",
        batch.safe,
        batch.threshold,
        batch.owners.len(),
        batch.nonce,
        plan.chain_id
    );
    for line in decoded_calls(plan, batch) {
        let _ = writeln!(out, "  {line}");
    }
    let how = if batch.operation == 1 { "delegatecall to MultiSendCallOnly" } else { "call" };
    let _ = writeln!(out, "  as one {how} {}", batch.to);
    let _ = writeln!(out, "SafeTx hash: {}", batch.safe_tx_hash);
    out
}

/// The plan's calls carried by `batch`, decoded: its route's calls, or the
/// timelock batch it schedules.
fn decoded_calls(plan: &Plan, batch: &SafeBatch) -> Vec<String> {
    for route in &plan.routes {
        let (calls, prefix) = match &route.via {
            RouteKind::Safe(b) if b == batch => (&route.calls, ""),
            RouteKind::Timelock(t) if t.proposer.as_ref() == Some(batch) => {
                (&route.calls, "schedules on the timelock: ")
            }
            _ => continue,
        };
        return calls
            .iter()
            .filter_map(|i| plan.calls.get(*i).map(|c| (i, c)))
            .map(|(i, c)| format!("{prefix}call {}: {}.{} at {}", i + 1, c.contract, call_signature(c), c.target))
            .collect();
    }
    Vec::new()
}

/// The Transaction Builder batch file of `batch` (JSON, `meta.checksum`
/// set). `createdAt` is the plan's block time, so the same plan always
/// gives the same file.
pub fn safe_tx_builder(plan: &Plan, batch: &SafeBatch) -> Value {
    let transactions: Vec<Value> = batch
        .targets
        .iter()
        .zip(&batch.payloads)
        .map(|(to, data)| json!({ "to": to.to_checksum(None), "value": "0", "data": data.to_string() }))
        .collect();
    let mut file = json!({
        "version": "1.0",
        "chainId": plan.chain_id.to_string(),
        "createdAt": plan.block.timestamp.saturating_mul(1000),
        "meta": {
            "name": format!("govstate plan at block {}", plan.block.number),
            "description": format!("{} call(s) planned by govstate; SafeTx hash {} at nonce {}", transactions.len(), batch.safe_tx_hash, batch.nonce),
            "txBuilderVersion": TX_BUILDER_VERSION,
            "createdFromSafeAddress": batch.safe.to_checksum(None),
            "createdFromOwnerAddress": "",
        },
        "transactions": transactions,
    });
    let sum = checksum(&file);
    if let Some(meta) = file.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("checksum".to_string(), Value::String(sum.to_string()));
    }
    file
}

/// The checksum Safe{Wallet}'s Transaction Builder expects in
/// `meta.checksum`, computed as its `validateChecksum` does on import: the
/// file without `meta.checksum`, with `meta.name` set to null (the key kept,
/// so a batch renamed in the app stays valid), serialised canonically and
/// hashed with keccak256.
pub fn checksum(file: &Value) -> B256 {
    let mut file = file.clone();
    if let Some(meta) = file.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("checksum");
    }
    app_checksum(&file)
}

/// The app's `calculateChecksum`: `meta.name` nulled (added as null where
/// missing), everything else, `meta.checksum` included if present, hashed
/// as it is.
fn app_checksum(file: &Value) -> B256 {
    let mut file = file.clone();
    if let Some(meta) = file.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("name".to_string(), Value::Null);
    }
    keccak256(canonical(&file).as_bytes())
}

/// Arrays as `[a,b]`; objects as `{` + the JSON array of their sorted keys
/// + each value followed by `,` + `}`; anything else as JSON.
fn canonical(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        Value::Object(map) => object(map),
        other => other.to_string(),
    }
}

fn object(map: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let mut out = format!("{{{}", Value::from(keys.iter().map(|k| k.as_str()).collect::<Vec<_>>()));
    for key in keys {
        out.push_str(&canonical(&map[key]));
        out.push(',');
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batch of the app's own checksum test (`checksum.test.js`), whose
    /// `addChecksum` hashes it with `checksum: ""` still in `meta`.
    fn app_test_batch() -> Value {
        let to = "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6";
        json!({
            "version": "1.0",
            "chainId": "4",
            "createdAt": 1_646_321_521_061u64,
            "meta": {
                "name": "test batch file",
                "txBuilderVersion": "1.4.0",
                "checksum": "",
                "createdFromSafeAddress": "0xDF8a1Ce35c9a6ACE153B4e0767942f1E2291a1Aa",
                "createdFromOwnerAddress": to,
            },
            "transactions": [
                {
                    "to": to,
                    "value": "0",
                    "contractMethod": {
                        "inputs": [{ "internalType": "address", "name": "paramAddress", "type": "address" }],
                        "name": "testAddress",
                        "payable": false,
                    },
                    "contractInputsValues": { "paramAddress": to },
                },
                {
                    "to": to,
                    "value": "0",
                    "contractMethod": {
                        "inputs": [{ "internalType": "bool", "name": "paramBool", "type": "bool" }],
                        "name": "testBool",
                        "payable": false,
                    },
                    "contractInputsValues": { "paramAddress": "", "paramBool": "false" },
                },
                {
                    "to": to,
                    "value": "2000000000000000000",
                    "data": "0x42f4579000000000000000000000000049d4450977e2c95362c13d3a31a09311e0ea26a6",
                },
            ],
        })
    }

    #[test]
    fn the_apps_own_test_vector_gives_the_apps_checksum() {
        let expected = "0x4ecbfd364aa6759983915644e73f8bd411e85a2dc306f252a387c2728c4db64c";
        assert_eq!(app_checksum(&app_test_batch()).to_string(), expected);
        let mut renamed = app_test_batch();
        renamed["meta"]["name"] = json!("another name");
        assert_eq!(app_checksum(&renamed).to_string(), expected, "the name is not covered");
        let mut reordered = app_test_batch();
        reordered["transactions"].as_array_mut().expect("array").reverse();
        assert_ne!(app_checksum(&reordered).to_string(), expected, "the order of the calls is");
    }

    #[test]
    fn a_checksum_is_validated_without_the_checksum_key_and_with_the_name_nulled() {
        let mut file = app_test_batch();
        file["meta"]["checksum"] = json!("0x00");
        let mut bare = app_test_batch();
        bare["meta"].as_object_mut().expect("meta").remove("checksum");
        bare["meta"]["name"] = Value::Null;
        assert_eq!(checksum(&file), keccak256(canonical(&bare).as_bytes()));
    }
}
