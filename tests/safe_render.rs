//! What owners and reviewers read of a Safe route, pinned: the plan's
//! route lines, what `sign` shows, and the Transaction Builder file, for
//! one fixed plan whose arena is owned by a 2-of-3 Safe (no chain).

use std::collections::BTreeSet;

use alloy::primitives::{Address, B256, U256};
use govstate::contracts::{Deployed, KINDS};
use govstate::observe::{AccountKind, BlockRef, Observed, ObservedAccount, ObservedContract};
use govstate::plan::{Plan, PlanOptions, RouteKind, plan};
use govstate::render::{Style, markdown, safe_transaction, safe_tx_builder, text};
use govstate::spec::{Desired, DesiredContract};

mod common;

use common::fixtures::{ETHER, fresh_fields, uint};

const SAFE: Address = Address::repeat_byte(0x5a);

fn observed() -> Observed {
    let contracts = KINDS
        .iter()
        .zip(fresh_fields())
        .enumerate()
        .map(|(i, (kind, fields))| ObservedContract {
            kind,
            address: Address::repeat_byte(0xa0 + i as u8),
            fields,
            authority: if kind.key == "arena" { SAFE } else { Address::repeat_byte(0xf3) },
            role_sets: match kind.key {
                "arena" => vec![("orchestrators", BTreeSet::from([Address::repeat_byte(0x11)]))],
                _ => vec![],
            },
        })
        .collect();
    let owners = vec![Address::repeat_byte(0x01), Address::repeat_byte(0x02), Address::repeat_byte(0x03)];
    Observed {
        chain_id: 31337,
        block: BlockRef { number: 42, hash: B256::repeat_byte(0x42), timestamp: 1_700_000_000, gas_limit: 0 },
        contracts,
        accounts: vec![
            ObservedAccount { address: SAFE, kind: AccountKind::Safe { threshold: U256::from(2), owners, nonce: 5 } },
            ObservedAccount { address: Address::repeat_byte(0xf3), kind: AccountKind::Eoa },
        ],
    }
}

/// Rotate the orchestrator and raise a reward: three arena calls.
fn desired() -> Desired {
    let contracts = KINDS
        .iter()
        .enumerate()
        .filter(|(_, kind)| kind.key == "arena")
        .map(|(i, kind)| DesiredContract {
            deployed: Deployed { kind, address: Address::repeat_byte(0xa0 + i as u8), deployed_block: Some(1) },
            fields: vec![(kind.field("rewards.teacher").map(|f| f.key).unwrap_or(""), uint(200 * ETHER))],
            role_sets: vec![("orchestrators", BTreeSet::from([Address::repeat_byte(0x22)]))],
        })
        .collect();
    Desired { chain_id: 31337, contracts }
}

fn the_plan() -> Plan {
    plan(&desired(), &observed(), &PlanOptions::default()).expect("a plan")
}

fn the_batch(plan: &Plan) -> &govstate::plan::SafeBatch {
    match plan.routes.first().map(|r| &r.via) {
        Some(RouteKind::Safe(batch)) => batch,
        other => panic!("expected a Safe route, got {other:?}"),
    }
}

#[test]
fn a_safe_route_reads_as_one_transaction_with_its_hash_and_who_signs() {
    let plan = the_plan();
    assert_eq!(plan.calls.len(), 3);
    assert_eq!(the_batch(&plan).nonce, 5);
    insta::assert_snapshot!(text(&plan, "state/mainnet.yaml", Style { color: false }));
}

#[test]
fn a_safe_route_in_markdown_names_the_safe_and_its_threshold() {
    insta::assert_snapshot!(markdown(&the_plan(), "state/mainnet.yaml"));
}

#[test]
fn what_an_owner_is_shown_before_signing() {
    let plan = the_plan();
    insta::assert_snapshot!(safe_transaction(&plan, the_batch(&plan)));
}

#[test]
fn the_transaction_builder_file() {
    let plan = the_plan();
    let file = safe_tx_builder(&plan, the_batch(&plan));
    assert_eq!(file["createdAt"], 1_700_000_000_000u64, "the plan's block time: the same plan, the same file");
    insta::assert_snapshot!(serde_json::to_string_pretty(&file).expect("json"));
}
