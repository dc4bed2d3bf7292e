//! Safe v1.4.1 (`@safe-global/safe-contracts`): not a managed contract but an
//! authority, which may own the arena or propose to a timelock. Its bindings
//! (from the package's shipped artifacts), the MultiSendCallOnly packing,
//! the EIP-712 `SafeTx` hash owners sign, and `execTransaction`.
//!
//! Pure: every function here builds bytes; nothing touches the network.

use alloy::primitives::{Address, B256, Bytes, U256, address};
use alloy::sol;
use alloy::sol_types::{SolCall, SolStruct, eip712_domain};

pub use bindings::{MultiSendCallOnly, SafeL2, SafeProxyFactory};

/// The bindings generated from the package's artifacts.
#[allow(missing_docs, clippy::too_many_arguments)]
mod bindings {
    use alloy::sol;

    sol!(
        #[allow(missing_docs, clippy::too_many_arguments)]
        #[sol(rpc, all_derives)]
        SafeL2,
        "contracts/out/SafeL2.json"
    );

    sol!(
        #[allow(missing_docs)]
        #[sol(rpc, all_derives)]
        SafeProxyFactory,
        "contracts/out/SafeProxyFactory.json"
    );

    sol!(
        #[allow(missing_docs)]
        #[sol(rpc, all_derives)]
        MultiSendCallOnly,
        "contracts/out/MultiSendCallOnly.json"
    );
}

sol! {
    /// The struct owners sign (EIP-712), as Safe v1.4.1 defines it.
    #[allow(missing_docs)]
    struct SafeTx {
        address to;
        uint256 value;
        bytes data;
        uint8 operation;
        uint256 safeTxGas;
        uint256 baseGas;
        uint256 gasPrice;
        address gasToken;
        address refundReceiver;
        uint256 nonce;
    }
}

/// Where MultiSendCallOnly v1.4.1 lives on every chain the Safe team deployed
/// to (the devnet installs it there too).
pub const MULTI_SEND_CALL_ONLY: Address = address!("0x9641d764fc13c8B624c04430C7356C1C7C8102e2");

/// `execTransaction` operation: a call.
pub const CALL: u8 = 0;
/// `execTransaction` operation: a delegatecall (to MultiSendCallOnly).
pub const DELEGATECALL: u8 = 1;

/// The one transaction a Safe makes for a list of calls: a single call goes
/// to its target; several become `multiSend` on MultiSendCallOnly, by
/// delegatecall. Returns (to, operation, data).
pub fn batch_transaction(calls: &[(Address, Bytes)]) -> (Address, u8, Bytes) {
    match calls {
        [(to, data)] => (*to, CALL, data.clone()),
        _ => {
            let packed = pack(calls);
            let data = MultiSendCallOnly::multiSendCall { transactions: packed.into() }.abi_encode();
            (MULTI_SEND_CALL_ONLY, DELEGATECALL, data.into())
        }
    }
}

/// MultiSend's packed encoding: per call `uint8 operation (0) ‖ address to ‖
/// uint256 value (0) ‖ uint256 dataLength ‖ data`.
pub fn pack(calls: &[(Address, Bytes)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (to, data) in calls {
        out.push(CALL);
        out.extend_from_slice(to.as_slice());
        out.extend_from_slice(&U256::ZERO.to_be_bytes::<32>());
        out.extend_from_slice(&U256::from(data.len()).to_be_bytes::<32>());
        out.extend_from_slice(data);
    }
    out
}

/// The calls packed by [`pack`], read back; `None` when the bytes are not
/// such a packing (or a call carries value or is not a plain call).
pub fn unpack(mut packed: &[u8]) -> Option<Vec<(Address, Bytes)>> {
    let mut calls = Vec::new();
    while !packed.is_empty() {
        let (head, rest) = packed.split_at_checked(85)?;
        if head[0] != CALL || head[21..53].iter().any(|b| *b != 0) {
            return None;
        }
        let to = Address::from_slice(&head[1..21]);
        let len: usize = U256::from_be_slice(&head[53..85]).try_into().ok()?;
        let (data, rest) = rest.split_at_checked(len)?;
        calls.push((to, Bytes::copy_from_slice(data)));
        packed = rest;
    }
    Some(calls)
}

/// The EIP-712 hash owners sign for a transaction of `safe` (no refund, no
/// gas price: the sender pays), as `getTransactionHash` computes it.
pub fn safe_tx_hash(chain_id: u64, safe: Address, to: Address, operation: u8, data: &Bytes, nonce: u64) -> B256 {
    let domain = eip712_domain! { chain_id: chain_id, verifying_contract: safe, };
    safe_tx(to, operation, data, nonce).eip712_signing_hash(&domain)
}

/// The `SafeTx` as an EIP-712 document in `eth_signTypedData_v4`'s form:
/// what an external signer or a device is asked to sign. It hashes to
/// [`safe_tx_hash`] of the same arguments.
pub fn safe_tx_typed_data(
    chain_id: u64,
    safe: Address,
    to: Address,
    operation: u8,
    data: &Bytes,
    nonce: u64,
) -> serde_json::Value {
    let field = |name: &str, kind: &str| serde_json::json!({ "name": name, "type": kind });
    serde_json::json!({
        "types": {
            "EIP712Domain": [field("chainId", "uint256"), field("verifyingContract", "address")],
            "SafeTx": [
                field("to", "address"), field("value", "uint256"), field("data", "bytes"),
                field("operation", "uint8"), field("safeTxGas", "uint256"), field("baseGas", "uint256"),
                field("gasPrice", "uint256"), field("gasToken", "address"), field("refundReceiver", "address"),
                field("nonce", "uint256"),
            ],
        },
        "primaryType": "SafeTx",
        "domain": { "chainId": chain_id, "verifyingContract": safe },
        "message": {
            "to": to, "value": "0", "data": data, "operation": operation, "safeTxGas": "0", "baseGas": "0",
            "gasPrice": "0", "gasToken": Address::ZERO, "refundReceiver": Address::ZERO, "nonce": nonce.to_string(),
        },
    })
}

fn safe_tx(to: Address, operation: u8, data: &Bytes, nonce: u64) -> SafeTx {
    SafeTx {
        to,
        value: U256::ZERO,
        data: data.clone(),
        operation,
        safeTxGas: U256::ZERO,
        baseGas: U256::ZERO,
        gasPrice: U256::ZERO,
        gasToken: Address::ZERO,
        refundReceiver: Address::ZERO,
        nonce: U256::from(nonce),
    }
}

/// `execTransaction(to, 0, data, operation, 0, 0, 0, 0, 0, signatures)`.
pub fn exec_transaction(to: Address, operation: u8, data: &Bytes, signatures: Bytes) -> Vec<u8> {
    SafeL2::execTransactionCall {
        to,
        value: U256::ZERO,
        data: data.clone(),
        operation,
        safeTxGas: U256::ZERO,
        baseGas: U256::ZERO,
        gasPrice: U256::ZERO,
        gasToken: Address::ZERO,
        refundReceiver: Address::ZERO,
        signatures,
    }
    .abi_encode()
}

/// The `signatures` argument: 65-byte signatures sorted by owner,
/// ascending. An owner without an entry but sending the transaction itself
/// counts as approving (`v` = 1, `r` = the owner).
pub fn pack_signatures(mut signatures: Vec<(Address, [u8; 65])>) -> Bytes {
    signatures.sort_by_key(|(owner, _)| *owner);
    signatures.dedup_by_key(|(owner, _)| *owner);
    signatures.into_iter().flat_map(|(_, s)| s).collect::<Vec<u8>>().into()
}

/// The 65 bytes that say "the sender, an owner, approves": `r` = owner,
/// `s` = 0, `v` = 1.
pub fn approved_by_sender(owner: Address) -> [u8; 65] {
    let mut signature = [0u8; 65];
    signature[12..32].copy_from_slice(owner.as_slice());
    signature[64] = 1;
    signature
}

/// The `setup` initializer: `owners`, `threshold`, no module, no fallback
/// handler, no payment.
pub fn setup(owners: &[Address], threshold: u64) -> Vec<u8> {
    SafeL2::setupCall {
        _owners: owners.to_vec(),
        _threshold: U256::from(threshold),
        to: Address::ZERO,
        data: Bytes::new(),
        fallbackHandler: Address::ZERO,
        paymentToken: Address::ZERO,
        payment: U256::ZERO,
        paymentReceiver: Address::ZERO,
    }
    .abi_encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_reads_back_as_the_same_calls() {
        let calls = vec![
            (Address::repeat_byte(1), Bytes::from(vec![1, 2, 3, 4])),
            (Address::repeat_byte(2), Bytes::from(vec![9; 68])),
        ];
        let packed = pack(&calls);
        assert_eq!(packed.len(), 85 * 2 + 4 + 68);
        assert_eq!(unpack(&packed), Some(calls));
    }

    #[test]
    fn a_single_call_goes_to_its_target_and_several_through_multisend() {
        let one = vec![(Address::repeat_byte(1), Bytes::from(vec![1, 2, 3, 4]))];
        assert_eq!(batch_transaction(&one), (Address::repeat_byte(1), CALL, Bytes::from(vec![1, 2, 3, 4])));
        let two = [one.clone(), one].concat();
        let (to, operation, _) = batch_transaction(&two);
        assert_eq!((to, operation), (MULTI_SEND_CALL_ONLY, DELEGATECALL));
    }

    #[test]
    fn signatures_are_sorted_by_owner() {
        let low = Address::repeat_byte(1);
        let high = Address::repeat_byte(2);
        let packed = pack_signatures(vec![(high, approved_by_sender(high)), (low, approved_by_sender(low))]);
        assert_eq!(&packed[12..32], low.as_slice());
        assert_eq!(&packed[65 + 12..65 + 32], high.as_slice());
    }
}
