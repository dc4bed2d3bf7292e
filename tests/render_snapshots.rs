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
        scheduled_in: None,
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

/// The plan as `plan --out` saves it: made from a file at a commit.
fn saved_plan() -> Plan {
    let mut saved = the_plan();
    saved.source = Some(govstate::plan::Reviewed {
        file: "state/mainnet.yaml".into(),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        uncommitted: false,
    });
    saved.sealed()
}

/// The receipt of applying [`saved_plan`]: two calls mined, the chain
/// after showing the pause and the rotation.
fn the_receipt() -> govstate::execute::Receipt {
    use govstate::execute::{Receipt, TransactionRecord};
    let plan = saved_plan();
    let tx = |n: usize, nonce: u64, block: u64| {
        let call = &plan.calls[n - 1];
        TransactionRecord {
            call: n,
            phase: call.phase,
            contract: call.contract.clone(),
            function: call.function.clone(),
            decoded: govstate::render::call_signature(call),
            args: call.args.clone(),
            hash: B256::repeat_byte(0xc0 + n as u8),
            nonce,
            status: "success".into(),
            block: Some(block),
            gas_used: Some(30_000 + n as u64),
            effective_gas_price: Some(1_500_000_000),
            revert: None,
            operation: None,
            replaced: Vec::new(),
            orphaned: None,
            receipt_unread: None,
        }
    };
    let before = plan.contracts.clone();
    let mut after = before.clone();
    after[1].fields.insert("paused".into(), Value::Bool(true));
    after[1].role_sets.insert("orchestrators".into(), vec![Address::repeat_byte(0x22)]);
    Receipt {
        format_version: govstate::execute::RECEIPT_FORMAT_VERSION,
        source: "receipts/../rotate.plan.json".into(),
        reviewed: plan.source.clone(),
        plan_digest: plan.digest,
        started_at: "2026-12-01T10:00:00.000Z".into(),
        finished_at: Some("2026-12-01T10:00:07.000Z".into()),
        signer: Address::repeat_byte(0xf3),
        overrides: Vec::new(),
        targets: vec!["arena".into()],
        transactions: vec![tx(2, 7, 43), tx(3, 8, 44), tx(4, 9, 44)],
        operations: Vec::new(),
        before,
        after: Some(after),
        outcome: Some("converged".into()),
        warnings: Vec::new(),
        genesis: None,
        plan,
    }
}

#[test]
fn show_of_a_saved_plan_names_its_source_commit_and_digest() {
    insta::assert_snapshot!(govstate::render::show_plan(&saved_plan(), "rotate.plan.json"));
}

#[test]
fn show_of_a_receipt_reads_each_call_with_its_arguments_outcome_and_fee() {
    insta::assert_snapshot!(govstate::render::show_receipt(&the_receipt(), "receipts/apply-1.json"));
}

#[test]
fn show_of_a_receipt_in_markdown_is_an_incident_log_entry() {
    let written =
        govstate::render::Written::Receipt { file: "receipts/apply-1.json".into(), receipt: Box::new(the_receipt()) };
    insta::assert_snapshot!(govstate::render::show_markdown(&written));
}

/// An incident's three applies: the pause, the rotation, the rebalance
/// (scheduled through a timelock, waiting).
fn incident_receipts() -> Vec<(String, govstate::execute::Receipt)> {
    use govstate::execute::OperationRecord;
    let full = the_receipt();
    let mut pause = full.clone();
    pause.transactions.truncate(1);
    let mut after = pause.before.clone();
    after[1].fields.insert("paused".into(), Value::Bool(true));
    pause.after = Some(after.clone());
    let mut rotate = full.clone();
    rotate.transactions.remove(0);
    rotate.started_at = "2026-12-01T10:05:00.000Z".into();
    rotate.before = after.clone();
    let mut rotated = after.clone();
    rotated[1].role_sets.insert("orchestrators".into(), vec![Address::repeat_byte(0x22)]);
    rotate.after = Some(rotated.clone());
    let mut rebalance = full;
    rebalance.transactions.clear();
    rebalance.started_at = "2026-12-01T10:09:00.000Z".into();
    rebalance.before = rotated.clone();
    rebalance.after = Some(rotated);
    rebalance.operations = vec![OperationRecord {
        timelock: Address::repeat_byte(0xf3),
        id: B256::repeat_byte(0x0b),
        action: "scheduled".into(),
        ready_at: Some(1_796_115_400),
        batch: None,
    }];
    vec![("pause.json".into(), pause), ("rotate.json".into(), rotate), ("rebalance.json".into(), rebalance)]
}

#[test]
fn incident_report_in_markdown_says_what_changed_who_sent_it_and_what_is_pending() {
    let report = govstate::render::incident_report(&incident_receipts(), Some("https://etherscan.io/tx/{hash}"));
    assert_eq!(report.changes.len(), 3, "{:?}", report.changes);
    insta::assert_snapshot!(govstate::render::report_markdown(&report));
}

#[test]
fn a_report_of_a_public_chain_links_through_its_usual_explorer_without_being_told() {
    let mut receipts = incident_receipts();
    for (_, receipt) in &mut receipts {
        receipt.plan.chain_id = 11_155_111;
    }
    let report = govstate::render::incident_report(&receipts, None);
    let hash = &report.transactions[0].hash;
    assert_eq!(
        report.transactions[0].link.as_deref(),
        Some(format!("https://sepolia.etherscan.io/tx/{hash}").as_str())
    );
    let told = govstate::render::incident_report(&receipts, Some("https://blockscout.example/tx/{hash}"));
    assert_eq!(told.transactions[0].link.as_deref(), Some(format!("https://blockscout.example/tx/{hash}").as_str()));
    let devnet = govstate::render::incident_report(&incident_receipts(), None);
    assert_eq!(devnet.transactions[0].link, None, "a devnet has no explorer");
}
