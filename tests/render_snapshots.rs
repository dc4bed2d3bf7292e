//! What people read, pinned: the plan as text, markdown and JSON for one
//! fixed plan (no chain). A change to the output shows up in review as a
//! change to the snapshot files.

use std::collections::BTreeSet;

use alloy::primitives::{Address, B256};
use govstate::contracts::{Deployed, KINDS, Value};
use govstate::observe::{BlockRef, Observed, ObservedContract};
use govstate::plan::{Plan, PlanOptions, plan};
use govstate::render::{Style, markdown, text};
use govstate::spec::{Desired, DesiredContract};

mod common;

use common::fixtures::{ETHER, fresh_fields, uint};

/// A chain with a compromised orchestrator, fees 60/40/0, everything running.
fn observed() -> Observed {
    let mut fields = fresh_fields();
    fields[1][8..11].copy_from_slice(&[uint(6000), uint(2000), uint(2000)]);
    fields[2][3..5].copy_from_slice(&[uint(60), uint(40)]);
    let contracts = KINDS
        .iter()
        .zip(fields)
        .enumerate()
        .map(|(i, (kind, fields))| ObservedContract {
            kind,
            address: Address::repeat_byte(0xa0 + i as u8),
            fields,
            authority: Address::repeat_byte(0xf3),
            role_sets: match kind.key {
                "arena" => vec![("orchestrators", BTreeSet::from([Address::repeat_byte(0x11)]))],
                _ => vec![],
            },
        })
        .collect();
    Observed {
        chain_id: 31337,
        block: BlockRef { number: 42, hash: B256::repeat_byte(0x42), timestamp: 0, gas_limit: 0 },
        contracts,
        accounts: vec![],
    }
}

/// Pause everything, rotate the orchestrator, rebalance fees, raise a reward.
fn desired() -> Desired {
    let key = |contract: &str, field: &str| {
        govstate::contracts::kind(contract).and_then(|k| k.field(field)).map(|f| f.key).unwrap_or("")
    };
    let wants: [(&str, Vec<(&str, Value)>); 3] = [
        ("system_pause", vec![("paused", Value::Bool(true))]),
        ("arena", vec![("paused", Value::Bool(true)), ("rewards.teacher", uint(200 * ETHER))]),
        (
            "stake_manager",
            vec![("fees_pct.fee", uint(40)), ("fees_pct.burn", uint(55)), ("fees_pct.validator_reward", uint(5))],
        ),
    ];
    let contracts = KINDS
        .iter()
        .zip(wants)
        .enumerate()
        .map(|(i, (kind, (_, fields)))| DesiredContract {
            deployed: Deployed { kind, address: Address::repeat_byte(0xa0 + i as u8), deployed_block: Some(1) },
            fields: fields.into_iter().map(|(f, v)| (key(kind.key, f), v)).collect(),
            role_sets: match kind.key {
                "arena" => vec![("orchestrators", BTreeSet::from([Address::repeat_byte(0x22)]))],
                _ => vec![],
            },
        })
        .collect();
    Desired { chain_id: 31337, contracts }
}

fn the_plan() -> Plan {
    plan(&desired(), &observed(), &PlanOptions::default()).expect("a plan")
}

#[test]
fn plan_text_reads_like_terraform() {
    insta::assert_snapshot!(text(&the_plan(), "state/mainnet.yaml", Style { color: false }));
}

#[test]
fn plan_markdown_is_a_pull_request_comment() {
    insta::assert_snapshot!(markdown(&the_plan(), "state/mainnet.yaml"));
}

#[test]
fn plan_json_is_the_saved_plan() {
    let json = serde_json::to_string_pretty(&the_plan()).expect("json");
    insta::assert_snapshot!(json);
    let back: Plan = serde_json::from_str(&json).expect("a saved plan reads back");
    assert_eq!(back, the_plan());
}

#[test]
fn colour_marks_additions_removals_and_changes() {
    let coloured = text(&the_plan(), "x.yaml", Style { color: true });
    assert!(coloured.contains("\x1b[32m+ orchestrators"));
    assert!(coloured.contains("\x1b[31m- orchestrators"));
    assert!(coloured.contains("\x1b[33m~ paused"));
    assert!(!text(&the_plan(), "x.yaml", Style { color: false }).contains('\x1b'));
}

/// The same chain, governed by a TimelockController holding three pending
/// operations on StakeManager: one moving a managed fee elsewhere, one
/// setting a field the file leaves alone, one that does not decode.
fn observed_with_pending_operations() -> Observed {
    use alloy::primitives::{Bytes, U256};
    use alloy::sol_types::SolCall;
    use govstate::contracts::stake_manager::StakeManager;
    use govstate::observe::{AccountKind, ObservedAccount, Operation, OperationState, TimelockState};
    let stake = Address::repeat_byte(0xa2);
    let call = |data: Vec<u8>| (stake, U256::ZERO, Bytes::from(data));
    let operation = |byte: u8, data: Vec<u8>| Operation {
        id: B256::repeat_byte(byte),
        calls: vec![call(data)],
        predecessor: B256::ZERO,
        salt: B256::repeat_byte(byte),
        state: OperationState::Waiting,
        ready_at: 3600,
    };
    let operations = vec![
        operation(0x01, StakeManager::setFeePctCall { pct: U256::from(83) }.abi_encode()),
        operation(0x02, StakeManager::setMinStakeCall { minStake_: U256::from(ETHER) }.abi_encode()),
        operation(0x03, vec![0xde, 0xad, 0xbe, 0xef]),
    ];
    let mut observed = observed();
    let timelock = TimelockState { min_delay: 3600, operations, proposers: vec![] };
    observed.accounts =
        vec![ObservedAccount { address: Address::repeat_byte(0xf3), kind: AccountKind::Timelock(timelock) }];
    observed
}

#[test]
fn pending_operations_read_with_what_they_would_set_and_how_they_stand_to_the_file() {
    let plan = plan(&desired(), &observed_with_pending_operations(), &PlanOptions::default()).expect("a plan");
    let scopes: Vec<&str> = plan.operations.iter().map(|o| o.scope.name()).collect();
    assert_eq!(scopes, ["stale", "out of the file's scope", "not decodable"]);
    insta::assert_snapshot!(text(&plan, "state/mainnet.yaml", Style { color: false }));
}

/// A file name a pull request can choose: a mention, HTML, a link, a fake
/// "No changes" line and an unclosed comment that would hide the calls.
const HOSTILE_NAME: &str =
    "state/x`.yaml @org/admins <img src=x onerror=alert(1)> [click](https://evil.example) |\n\n**No changes.**\n<!--";

#[test]
fn an_injected_file_name_renders_inert_in_markdown() {
    let rendered = markdown(&the_plan(), HOSTILE_NAME);
    insta::assert_snapshot!(rendered);
    // Outside code spans, nothing of the name is markup.
    let outside: String = rendered.split('`').step_by(2).collect();
    for markup in ["@org", "<img", "<!--", "](https", "\n**No changes.**"] {
        assert!(!outside.contains(markup), "{markup:?} is live markup:\n{rendered}");
    }
    assert!(!rendered.contains("\n\n**No changes.**\n<!--"), "{rendered}");
}

#[test]
fn an_injected_file_name_cannot_drive_the_terminal() {
    let rendered = text(&the_plan(), "state/\u{1b}[2J\u{1b}]0;owned\u{7}x.yaml\r", Style { color: false });
    assert!(!rendered.contains('\u{1b}') && !rendered.contains('\r') && !rendered.contains('\u{7}'), "{rendered:?}");
}
