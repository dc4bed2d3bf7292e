//! Chain states without a chain, for the pure tests.

use alloy::primitives::{Address, U256};
use govstate::contracts::Value;

/// One ether in wei.
pub const ETHER: u128 = 1_000_000_000_000_000_000;

/// A `uint256` value.
pub fn uint(n: u128) -> Value {
    Value::Uint(U256::from(n))
}

/// Every field of every contract as a fresh devnet has them (owner and
/// governance `0xf3…f3`), in `KINDS` and table order.
pub fn fresh_fields() -> Vec<Vec<Value>> {
    let owner = Value::Address(Address::repeat_byte(0xf3));
    let no = Value::Bool(false);
    let splits = uint(10_000);
    let zero = uint(0);
    vec![
        vec![no],
        vec![owner, no, uint(150 * ETHER), uint(50 * ETHER), uint(25 * ETHER), uint(5), uint(5 * ETHER), uint(7000)]
            .into_iter()
            .chain([splits; 3])
            .collect(),
        vec![owner, no, Value::Address(Address::ZERO), zero, zero, zero, uint(ETHER), zero, zero, zero, zero]
            .into_iter()
            .chain([uint(604_800)])
            .collect(),
    ]
}
