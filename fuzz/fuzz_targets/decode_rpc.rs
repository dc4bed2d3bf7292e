//! Feeds arbitrary bytes to everything that decodes an RPC answer: the
//! JSON-RPC response body (single or batch) and the results govstate reads
//! from it (call data, blocks, numbers), every getter's return-data decoder
//! of every contract kind, and Multicall3's `aggregate3` answer. Each must
//! return a `Result`, never panic.
#![no_main]

use alloy::primitives::{Bytes, U64};
use alloy::rpc::json_rpc::{Response, ResponsePacket, ResponsePayload};
use alloy::rpc::types::Block;
use libfuzzer_sys::fuzz_target;

fn results(response: &Response) {
    if let ResponsePayload::Success(raw) = &response.payload {
        let _ = serde_json::from_str::<Bytes>(raw.get());
        let _ = serde_json::from_str::<U64>(raw.get());
        let _ = serde_json::from_str::<Option<Block>>(raw.get());
    }
}

fuzz_target!(|data: &[u8]| {
    match serde_json::from_slice::<ResponsePacket>(data) {
        Ok(ResponsePacket::Single(response)) => results(&response),
        Ok(ResponsePacket::Batch(responses)) => responses.iter().for_each(results),
        Err(_) => {}
    }
    for kind in govstate::contracts::ALL_KINDS {
        for field in kind.fields {
            let _ = (field.decode)(data);
        }
        for set in kind.role_sets {
            let _ = (set.decode)(data);
        }
        let _ = (kind.authority.decode)(data);
    }
    let _ = govstate::observe::decode_aggregate3(data);
});
