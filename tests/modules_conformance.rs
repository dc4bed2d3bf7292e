//! The modules-kind SystemPause (`SystemPauseModules`) and the module
//! stand-in (`PausableModule`) reproduce the surface described in
//! shared/contracts.md ("SystemPause — two kinds exist"): constructor checks,
//! access rules, revert data (bubbled verbatim from the modules), events in
//! order, getters. One table of cases, run against one production-wired chain
//! (tests/common/modules.rs), returning to a snapshot before each case; a last
//! check proves that the table exercises every function, error and event of
//! both ABIs.

#[path = "common/modules.rs"]
mod modules;

use std::collections::BTreeSet;

use alloy::json_abi::JsonAbi;
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, FixedBytes, LogData, U256, address};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolConstructor, SolError, SolEvent, SolValue};
use modules::{
    ModulesChain, PausableModule as PM, REENTERER, STAKE, StakeManager as SM, SystemPauseModules as SP, Wiring,
    set_modules, system_pause_creation,
};

const OWNER: usize = 0;
const STRANGER: usize = 1;
const HELPER: usize = 2;
const ALICE: Address = address!("0x00000000000000000000000000000000000a11ce");

/// Where a call goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum On {
    /// The production-wired SystemPause.
    Pause,
    /// One of its eight modules, by position (`STAKE` is the StakeManager).
    Module(usize),
    /// A stand-in owned by account 0.
    Spare,
    /// A stand-in owned by the SystemPause, not one of its modules.
    SpareOwned,
    /// The SystemPause whose modules refuse to delegate pauser management.
    Refused,
    /// The forwarder that governs [`On::Reentered`].
    Reenterer,
    /// The SystemPause governed by the forwarder.
    Reentered,
    /// A new `SystemPauseModules` (the data is its creation code).
    Deploy,
}

impl On {
    fn address(self, w: &Wiring) -> Option<Address> {
        Some(match self {
            On::Pause => w.pause,
            On::Module(i) => w.modules[i],
            On::Spare => w.spare,
            On::SpareOwned => w.spare_owned,
            On::Refused => w.refused,
            On::Reenterer => REENTERER,
            On::Reentered => w.reentered,
            On::Deploy => return None,
        })
    }

    /// Whether the target runs `SystemPauseModules` / `PausableModule` code
    /// (for the coverage check).
    fn is_system_pause(self) -> bool {
        matches!(self, On::Pause | On::Refused | On::Reentered | On::Reenterer | On::Deploy)
    }

    fn is_stand_in(self) -> bool {
        matches!(self, On::Spare | On::SpareOwned) || matches!(self, On::Module(i) if i != STAKE)
    }
}

#[derive(Clone, Debug)]
struct Call {
    on: On,
    data: Vec<u8>,
}

fn call(on: On, c: impl SolCall) -> Call {
    Call { on, data: c.abi_encode() }
}

fn pause(c: impl SolCall) -> Call {
    call(On::Pause, c)
}

fn module(i: usize, c: impl SolCall) -> Call {
    call(On::Module(i), c)
}

/// `executeGovernanceCall(target, data)` on the SystemPause.
fn forward(target: Address, data: Vec<u8>) -> Call {
    pause(SP::executeGovernanceCallCall { target, data: data.into() })
}

#[derive(Debug)]
enum Expect {
    /// The call reverts with exactly this data.
    Revert(Vec<u8>),
    /// The call returns `returns` (when given), then mined it emits exactly
    /// these logs (emitter, topics and data) in this order, and afterwards
    /// each getter returns the given ABI-encoded value.
    Success { returns: Option<Vec<u8>>, logs: Vec<(On, LogData)>, then: Vec<(Call, Vec<u8>)> },
}

struct Case {
    name: String,
    setup: Vec<Call>,
    from: usize,
    call: Call,
    expect: Expect,
}

fn reverts(name: impl Into<String>, call: Call, error: impl SolError) -> Case {
    Case { name: name.into(), setup: vec![], from: OWNER, call, expect: Expect::Revert(error.abi_encode()) }
}

fn reverts_without_data(name: impl Into<String>, call: Call) -> Case {
    Case { name: name.into(), setup: vec![], from: OWNER, call, expect: Expect::Revert(vec![]) }
}

fn succeeds(name: impl Into<String>, call: Call, logs: Vec<(On, LogData)>, then: Vec<(Call, Vec<u8>)>) -> Case {
    Case { name: name.into(), setup: vec![], from: OWNER, call, expect: Expect::Success { returns: None, logs, then } }
}

impl Case {
    fn after(mut self, setup: Vec<Call>) -> Self {
        self.setup = setup;
        self
    }

    fn by(mut self, from: usize) -> Self {
        self.from = from;
        self
    }

    fn returning(mut self, value: Vec<u8>) -> Self {
        if let Expect::Success { returns, .. } = &mut self.expect {
            *returns = Some(value);
        }
        self
    }
}

fn log(on: On, event: impl SolEvent) -> (On, LogData) {
    (on, event.encode_log_data())
}

fn reads(getter: Call, value: impl SolValue) -> (Call, Vec<u8>) {
    (getter, value.abi_encode())
}

/// The SystemPause's getter for module position `i`.
fn position_getter(i: usize) -> Call {
    let data = match i {
        0 => SP::jobRegistryCall {}.abi_encode(),
        1 => SP::stakeManagerCall {}.abi_encode(),
        2 => SP::validationModuleCall {}.abi_encode(),
        3 => SP::disputeModuleCall {}.abi_encode(),
        4 => SP::platformRegistryCall {}.abi_encode(),
        5 => SP::feePoolCall {}.abi_encode(),
        6 => SP::reputationEngineCall {}.abi_encode(),
        7 => SP::arbitratorCommitteeCall {}.abi_encode(),
        _ => unreachable!("eight positions"),
    };
    Call { on: On::Pause, data }
}

/// The constructor / `setModules` error for a bad module at position `i`.
fn invalid_module(i: usize, module: Address) -> Vec<u8> {
    match i {
        0 => SP::InvalidJobRegistry { module }.abi_encode(),
        1 => SP::InvalidStakeManager { module }.abi_encode(),
        2 => SP::InvalidValidationModule { module }.abi_encode(),
        3 => SP::InvalidDisputeModule { module }.abi_encode(),
        4 => SP::InvalidPlatformRegistry { module }.abi_encode(),
        5 => SP::InvalidFeePool { module }.abi_encode(),
        6 => SP::InvalidReputationEngine { module }.abi_encode(),
        7 => SP::InvalidArbitratorCommittee { module }.abi_encode(),
        _ => unreachable!("eight positions"),
    }
}

/// The modules with position `i` replaced by `module`.
fn replaced(modules: [Address; 8], i: usize, module: Address) -> [Address; 8] {
    let mut m = modules;
    m[i] = module;
    m
}

/// A getter read on all eight modules.
fn on_every_module(getter: impl SolCall + Clone, value: impl SolValue + Clone) -> Vec<(Call, Vec<u8>)> {
    (0..8).map(|i| reads(module(i, getter.clone()), value.clone())).collect()
}

/// The logs of `refreshPausers` / `setGlobalPauser(pauser)` when `delegating`
/// modules (positions) are not yet managed by `manager`.
fn pauser_logs(modules: &[On], delegating: &[On], manager: Address, pauser: Address, by: On) -> Vec<(On, LogData)> {
    let mut logs: Vec<(On, LogData)> =
        delegating.iter().map(|on| log(*on, PM::PauserManagerUpdated { pauserManager: manager })).collect();
    logs.extend(modules.iter().map(|on| log(*on, PM::PauserUpdated { pauser })));
    logs.push(log(by, SP::PausersUpdated { pauser }));
    logs
}

fn all_modules() -> Vec<On> {
    (0..8).map(On::Module).collect()
}

fn governable_cases(w: &Wiring) -> Vec<Case> {
    let gov = w.governance;
    let helper = ModulesChain::address_of(HELPER);
    let stranger = ModulesChain::address_of(STRANGER);
    let not_governance =
        |name: &str, c: Call| reverts(format!("{name} by a stranger"), c, SP::NotGovernance {}).by(STRANGER);
    vec![
        succeeds(
            "set governance",
            pause(SP::setGovernanceCall { newGovernance: ALICE }),
            vec![
                log(On::Pause, SP::GovernanceUpdated { governance: ALICE }),
                log(On::Pause, SP::OwnershipTransferred { previousOwner: gov, newOwner: ALICE }),
            ],
            vec![reads(pause(SP::governanceCall {}), ALICE), reads(pause(SP::ownerCall {}), ALICE)],
        ),
        succeeds(
            "transfer ownership is set governance",
            pause(SP::transferOwnershipCall { newOwner: ALICE }),
            vec![
                log(On::Pause, SP::GovernanceUpdated { governance: ALICE }),
                log(On::Pause, SP::OwnershipTransferred { previousOwner: gov, newOwner: ALICE }),
            ],
            vec![reads(pause(SP::governanceCall {}), ALICE), reads(pause(SP::ownerCall {}), ALICE)],
        ),
        reverts(
            "set governance to zero",
            pause(SP::setGovernanceCall { newGovernance: Address::ZERO }),
            SP::ZeroAddress {},
        ),
        reverts(
            "transfer ownership to zero",
            pause(SP::transferOwnershipCall { newOwner: Address::ZERO }),
            SP::ZeroAddress {},
        ),
        reverts("the old governance is refused", pause(SP::pauseAllCall {}), SP::NotGovernance {})
            .after(vec![pause(SP::setGovernanceCall { newGovernance: helper })]),
        succeeds(
            "the new governance pauses all",
            pause(SP::pauseAllCall {}),
            all_modules().into_iter().map(|on| log(on, PM::Paused { account: w.pause })).collect(),
            vec![],
        )
        .after(vec![pause(SP::setGovernanceCall { newGovernance: helper })])
        .by(HELPER),
        not_governance("setGovernance", pause(SP::setGovernanceCall { newGovernance: stranger })),
        not_governance("transferOwnership", pause(SP::transferOwnershipCall { newOwner: stranger })),
        not_governance("pauseAll", pause(SP::pauseAllCall {})),
        not_governance("unpauseAll", pause(SP::unpauseAllCall {})).after(vec![pause(SP::pauseAllCall {})]),
        not_governance("executeGovernanceCall", forward(w.modules[0], PM::pauseCall {}.abi_encode())),
        not_governance("setModules", pause(set_modules(w.modules))),
        not_governance("refreshPausers", pause(SP::refreshPausersCall {})),
        not_governance("setGlobalPauser", pause(SP::setGlobalPauserCall { pauser: stranger })),
        // The pauser of every module is the SystemPause, not its governance's delegate.
        not_governance("pauseAll by the global pauser", pause(SP::pauseAllCall {}))
            .after(vec![pause(SP::setGlobalPauserCall { pauser: stranger })]),
    ]
}

fn wiring_cases(w: &Wiring) -> Vec<Case> {
    let gov = w.governance;
    let mut then: Vec<(Call, Vec<u8>)> = (0..8).map(|i| reads(position_getter(i), w.modules[i])).collect();
    then.extend([
        reads(pause(SP::activePauserCall {}), w.pause),
        reads(pause(SP::governanceCall {}), gov),
        reads(pause(SP::ownerCall {}), gov),
    ]);
    then.extend(on_every_module(PM::ownerCall {}, w.pause));
    then.extend(on_every_module(PM::pauserCall {}, w.pause));
    then.extend(on_every_module(PM::pauserManagerCall {}, w.pause));
    then.extend(on_every_module(PM::pausedCall {}, false));
    then.push(reads(module(STAKE, SM::governanceCall {}), w.pause));
    vec![
        succeeds("the production wiring", pause(SP::activePauserCall {}), vec![], then),
        // No pause state of its own.
        reverts_without_data("no paused()", pause(PM::pausedCall {})),
        reverts_without_data("no pause()", pause(PM::pauseCall {})),
        reverts_without_data("no unpause()", pause(PM::unpauseCall {})),
    ]
}

fn constructor_cases(w: &Wiring) -> Vec<Case> {
    let deploy = |modules: [Address; 8], governance: Address| Call {
        on: On::Deploy,
        data: system_pause_creation(modules, governance),
    };
    let mut cases = Vec::new();
    for (i, position) in modules::POSITIONS.iter().enumerate() {
        for (what, bad) in [("zero", Address::ZERO), ("codeless", ALICE)] {
            let name = format!("constructor with a {what} {position}");
            let call = deploy(replaced(w.modules, i, bad), w.governance);
            cases.push(Case { name, setup: vec![], from: OWNER, call, expect: Expect::Revert(invalid_module(i, bad)) });
        }
    }
    cases.push(reverts("constructor with zero governance", deploy(w.modules, Address::ZERO), SP::ZeroAddress {}));
    cases.push(Case {
        name: "constructor checks the modules in getter order".into(),
        setup: vec![],
        from: OWNER,
        call: deploy(replaced(replaced(w.modules, 6, ALICE), 3, Address::ZERO), w.governance),
        expect: Expect::Revert(invalid_module(3, Address::ZERO)),
    });
    // Governable's constructor runs first, as in the deployed contract.
    cases.push(reverts(
        "constructor checks governance before the modules",
        deploy(replaced(w.modules, 0, Address::ZERO), Address::ZERO),
        SP::ZeroAddress {},
    ));
    cases
}

fn pause_all_cases(w: &Wiring) -> Vec<Case> {
    let paused = |account: Address| -> Vec<(On, LogData)> {
        all_modules().into_iter().map(|on| log(on, PM::Paused { account })).collect()
    };
    let unpaused: Vec<(On, LogData)> =
        all_modules().into_iter().map(|on| log(on, PM::Unpaused { account: w.pause })).collect();
    let pause_all = || pause(SP::pauseAllCall {});
    let unpause_all = || pause(SP::unpauseAllCall {});
    let helper = ModulesChain::address_of(HELPER);
    vec![
        succeeds("pause all", pause_all(), paused(w.pause), on_every_module(PM::pausedCall {}, true)),
        succeeds("unpause all", unpause_all(), unpaused, on_every_module(PM::pausedCall {}, false))
            .after(vec![pause_all()]),
        reverts("pause all twice", pause_all(), PM::EnforcedPause {}).after(vec![pause_all()]),
        reverts("unpause all while running", unpause_all(), PM::ExpectedPause {}),
        reverts("pause all with the last module paused", pause_all(), PM::EnforcedPause {})
            .after(vec![forward(w.modules[7], PM::pauseCall {}.abi_encode())]),
        reverts("pause all with the stake manager paused", pause_all(), SM::EnforcedPause {})
            .after(vec![forward(w.modules[STAKE], SM::pauseCall {}.abi_encode())]),
        reverts("unpause all with the first module running", unpause_all(), PM::ExpectedPause {})
            .after(vec![pause_all(), forward(w.modules[0], PM::unpauseCall {}.abi_encode())]),
        reverts(
            "pause all when the stake manager is neither governed nor paused by it",
            pause_all(),
            SM::Unauthorized {},
        )
        .after(vec![
            forward(w.modules[STAKE], SM::setPauserCall { pauser_: helper }.abi_encode()),
            forward(w.modules[STAKE], SM::setGovernanceCall { newGovernance: ALICE }.abi_encode()),
        ]),
        reverts("unpause all when a module is neither owned nor paused by it", unpause_all(), PM::Unauthorized {})
            .after(vec![
                pause_all(),
                forward(w.modules[3], PM::setPauserCall { pauser_: helper }.abi_encode()),
                forward(w.modules[3], PM::transferOwnershipCall { newOwner: ALICE }.abi_encode()),
            ]),
        // As owner (governance) it may still pause a module whose pauser is someone else.
        succeeds("pause all while another account is the pauser", pause_all(), paused(w.pause), vec![])
            .after(vec![pause(SP::setGlobalPauserCall { pauser: helper })]),
        // As pauser it may pause a module it does not own.
        succeeds("pause all a module it only pauses", pause_all(), paused(w.pause), vec![])
            .after(vec![forward(w.modules[5], PM::transferOwnershipCall { newOwner: ALICE }.abi_encode())]),
    ]
}

fn governance_call_cases(w: &Wiring) -> Vec<Case> {
    let executed = |target: Address, selector: [u8; 4], result: Vec<u8>| {
        log(On::Pause, SP::GovernanceCallExecuted { target, selector: FixedBytes(selector), result: result.into() })
    };
    let returns = |result: Vec<u8>| SP::executeGovernanceCallCall::abi_encode_returns(&Bytes::from(result));
    let stake = w.modules[STAKE];
    let fee = SM::setFeePctCall { pct: U256::from(5) };
    let owner_of_2 = w.pause.abi_encode();
    let junk = vec![0xde, 0xad, 0xbe, 0xef];
    vec![
        succeeds(
            "forward a stake manager setter",
            forward(stake, fee.abi_encode()),
            vec![
                log(On::Module(STAKE), SM::FeePctUpdated { pct: U256::from(5) }),
                executed(stake, SM::setFeePctCall::SELECTOR, vec![]),
            ],
            vec![reads(module(STAKE, SM::feePctCall {}), U256::from(5))],
        )
        .returning(returns(vec![])),
        succeeds(
            "forward a call with return data",
            forward(w.modules[2], PM::ownerCall {}.abi_encode()),
            vec![executed(w.modules[2], PM::ownerCall::SELECTOR, owner_of_2.clone())],
            vec![],
        )
        .returning(returns(owner_of_2)),
        succeeds(
            "forward a module pause",
            forward(w.modules[4], PM::pauseCall {}.abi_encode()),
            vec![
                log(On::Module(4), PM::Paused { account: w.pause }),
                executed(w.modules[4], PM::pauseCall::SELECTOR, vec![]),
            ],
            vec![reads(module(4, PM::pausedCall {}), true), reads(module(3, PM::pausedCall {}), false)],
        ),
        succeeds(
            "forward an ownership transfer",
            forward(w.modules[0], PM::transferOwnershipCall { newOwner: ALICE }.abi_encode()),
            vec![
                log(On::Module(0), PM::OwnershipTransferred { previousOwner: w.pause, newOwner: ALICE }),
                executed(w.modules[0], PM::transferOwnershipCall::SELECTOR, vec![]),
            ],
            vec![reads(module(0, PM::ownerCall {}), ALICE)],
        ),
        reverts(
            "forward to an outsider",
            forward(ALICE, PM::pauseCall {}.abi_encode()),
            SP::UnknownGovernanceTarget { target: ALICE },
        ),
        reverts(
            "forward to a stand-in it owns but does not manage",
            forward(w.spare_owned, PM::pauseCall {}.abi_encode()),
            SP::UnknownGovernanceTarget { target: w.spare_owned },
        ),
        reverts(
            "forward to itself",
            forward(w.pause, SP::refreshPausersCall {}.abi_encode()),
            SP::UnknownGovernanceTarget { target: w.pause },
        ),
        reverts(
            "forward to zero",
            forward(Address::ZERO, PM::pauseCall {}.abi_encode()),
            SP::UnknownGovernanceTarget { target: Address::ZERO },
        ),
        reverts(
            "the target is checked before the selector",
            forward(ALICE, vec![]),
            SP::UnknownGovernanceTarget { target: ALICE },
        ),
        reverts("forward no data", forward(w.modules[0], vec![]), SP::MissingSelector {}),
        reverts("forward three bytes", forward(stake, vec![1, 2, 3]), SP::MissingSelector {}),
        reverts(
            "forward re-raises the stake manager's error",
            forward(stake, SM::setFeePctCall { pct: U256::from(101) }.abi_encode()),
            SM::InvalidPercentage {},
        ),
        reverts(
            "forward re-raises a module error with arguments",
            forward(w.modules[0], PM::transferOwnershipCall { newOwner: Address::ZERO }.abi_encode()),
            PM::OwnableInvalidOwner { owner: Address::ZERO },
        ),
        reverts(
            "forward re-raises a module's pause state error",
            forward(w.modules[5], PM::unpauseCall {}.abi_encode()),
            PM::ExpectedPause {},
        ),
        reverts(
            "forward an unknown selector",
            forward(w.modules[6], junk.clone()),
            SP::GovernanceCallFailed { target: w.modules[6], data: junk.clone().into() },
        ),
        reverts(
            "forward an unknown selector to the stake manager",
            forward(stake, [junk.clone(), vec![0]].concat()),
            SP::GovernanceCallFailed { target: stake, data: [junk, vec![0]].concat().into() },
        ),
    ]
}

fn set_modules_cases(w: &Wiring) -> Vec<Case> {
    let gov = w.governance;
    let helper = ModulesChain::address_of(HELPER);
    let new = replaced(w.modules, 0, w.spare_owned);
    let new_on: Vec<On> = std::iter::once(On::SpareOwned).chain((1..8).map(On::Module)).collect();
    let modules_updated = |m: [Address; 8]| {
        log(
            On::Pause,
            SP::ModulesUpdated {
                jobRegistry: m[0],
                stakeManager: m[1],
                validationModule: m[2],
                disputeModule: m[3],
                platformRegistry: m[4],
                feePool: m[5],
                reputationEngine: m[6],
                arbitratorCommittee: m[7],
            },
        )
    };
    let mut logs = pauser_logs(&new_on, &[On::SpareOwned], w.pause, w.pause, On::Pause);
    logs.push(modules_updated(new));
    let mut cases = vec![
        succeeds(
            "set modules",
            pause(set_modules(new)),
            logs,
            vec![
                reads(position_getter(0), w.spare_owned),
                reads(position_getter(1), w.modules[1]),
                reads(call(On::SpareOwned, PM::pauserCall {}), w.pause),
                reads(call(On::SpareOwned, PM::pauserManagerCall {}), w.pause),
                reads(pause(SP::activePauserCall {}), w.pause),
            ],
        ),
        {
            let mut logs = pauser_logs(&all_modules(), &[], w.pause, w.pause, On::Pause);
            logs.push(modules_updated(w.modules));
            succeeds(
                "set modules again makes it the pauser again",
                pause(set_modules(w.modules)),
                logs,
                [reads(pause(SP::activePauserCall {}), w.pause)]
                    .into_iter()
                    .chain(on_every_module(PM::pauserCall {}, w.pause))
                    .collect(),
            )
            .after(vec![pause(SP::setGlobalPauserCall { pauser: helper })])
        },
        reverts(
            "set modules with a module it does not own",
            pause(set_modules(replaced(w.modules, 2, w.spare))),
            SP::ModuleNotOwned { module: w.spare, owner: gov },
        ),
        reverts(
            "set modules when the stake manager has another governance",
            pause(set_modules(w.modules)),
            SP::ModuleNotOwned { module: w.modules[STAKE], owner: ALICE },
        )
        .after(vec![forward(w.modules[STAKE], SM::setGovernanceCall { newGovernance: ALICE }.abi_encode())]),
        reverts(
            "set modules checks addresses before ownership",
            pause(set_modules(replaced(replaced(w.modules, 0, w.spare), 7, ALICE))),
            SP::InvalidArbitratorCommittee { module: ALICE },
        ),
        reverts(
            "set modules with a module that will not delegate pauser management",
            pause(set_modules(replaced(w.modules, 7, w.refusing))),
            SP::PauserManagerNotDelegated { module: w.refusing },
        ),
    ];
    for (i, position) in modules::POSITIONS.iter().enumerate() {
        for (what, bad) in [("zero", Address::ZERO), ("codeless", ALICE)] {
            cases.push(Case {
                name: format!("set modules with a {what} {position}"),
                setup: vec![],
                from: OWNER,
                call: pause(set_modules(replaced(w.modules, i, bad))),
                expect: Expect::Revert(invalid_module(i, bad)),
            });
        }
    }
    cases
}

fn pauser_cases(w: &Wiring) -> Vec<Case> {
    let helper = ModulesChain::address_of(HELPER);
    let global = |pauser: Address| pause(SP::setGlobalPauserCall { pauser });
    let refresh = || pause(SP::refreshPausersCall {});
    let every = all_modules();
    let state = |pauser: Address| -> Vec<(Call, Vec<u8>)> {
        let mut then = on_every_module(PM::pauserCall {}, pauser);
        then.extend(on_every_module(PM::pauserManagerCall {}, w.pause));
        then.push(reads(pause(SP::activePauserCall {}), pauser));
        then
    };
    let moved_away = || forward(w.modules[3], PM::transferOwnershipCall { newOwner: ALICE }.abi_encode());
    vec![
        succeeds(
            "set global pauser",
            global(helper),
            pauser_logs(&every, &[], w.pause, helper, On::Pause),
            state(helper),
        ),
        succeeds("refresh pausers", refresh(), pauser_logs(&every, &[], w.pause, w.pause, On::Pause), state(w.pause))
            .after(vec![global(helper)]),
        succeeds(
            "refresh pausers takes pauser management back",
            refresh(),
            pauser_logs(&every, &[On::Module(6)], w.pause, w.pause, On::Pause),
            state(w.pause),
        )
        .after(vec![forward(w.modules[6], PM::setPauserManagerCall { pauserManager_: ALICE }.abi_encode())]),
        succeeds(
            "refresh pausers takes the stake manager's pauser management back",
            refresh(),
            pauser_logs(&every, &[On::Module(STAKE)], w.pause, w.pause, On::Pause),
            state(w.pause),
        )
        .after(vec![forward(w.modules[STAKE], SM::setPauserManagerCall { pauserManager_: ALICE }.abi_encode())]),
        succeeds(
            "the global pauser pauses a module",
            module(2, PM::pauseCall {}),
            vec![log(On::Module(2), PM::Paused { account: helper })],
            vec![reads(module(2, PM::pausedCall {}), true)],
        )
        .after(vec![global(helper)])
        .by(HELPER),
        succeeds(
            "the global pauser pauses the stake manager",
            module(STAKE, SM::pauseCall {}),
            vec![log(On::Module(STAKE), SM::Paused { account: helper })],
            vec![reads(module(STAKE, SM::pausedCall {}), true)],
        )
        .after(vec![global(helper)])
        .by(HELPER),
        reverts("set global pauser to zero", global(Address::ZERO), SP::InvalidPauser { pauser: Address::ZERO }),
        reverts(
            "set global pauser with a module moved away",
            global(helper),
            SP::ModuleNotOwned { module: w.modules[3], owner: ALICE },
        )
        .after(vec![moved_away()]),
        reverts(
            "ownership is checked before the pauser",
            global(Address::ZERO),
            SP::ModuleNotOwned { module: w.modules[3], owner: ALICE },
        )
        .after(vec![moved_away()]),
        reverts(
            "refresh pausers with a module moved away",
            refresh(),
            SP::ModuleNotOwned { module: w.modules[3], owner: ALICE },
        )
        .after(vec![moved_away()]),
        reverts(
            "refresh pausers with the stake manager moved away",
            refresh(),
            SP::ModuleNotOwned { module: w.modules[STAKE], owner: ALICE },
        )
        .after(vec![forward(w.modules[STAKE], SM::setGovernanceCall { newGovernance: ALICE }.abi_encode())]),
        reverts(
            "refresh pausers with a module that will not delegate",
            call(On::Refused, SP::refreshPausersCall {}),
            SP::PauserManagerNotDelegated { module: modules::REFUSING_MODULE_2 },
        ),
        reverts(
            "set global pauser with a module that will not delegate",
            call(On::Refused, SP::setGlobalPauserCall { pauser: helper }),
            SP::PauserManagerNotDelegated { module: modules::REFUSING_MODULE_2 },
        ),
        reverts(
            "the pauser is checked before delegation",
            call(On::Refused, SP::setGlobalPauserCall { pauser: Address::ZERO }),
            SP::InvalidPauser { pauser: Address::ZERO },
        ),
    ]
}

/// A SystemPause governed by a contract that forwards every call it gets to
/// it: a module call that re-enters the SystemPause reaches the guard.
fn reentrancy_cases(w: &Wiring) -> Vec<Case> {
    let through = |inner: Vec<u8>| Call {
        on: On::Reenterer,
        data: SP::executeGovernanceCallCall { target: REENTERER, data: inner.into() }.abi_encode(),
    };
    let governance = SP::governanceCall {}.abi_encode();
    vec![
        succeeds(
            "a forwarded call that re-enters an unguarded getter works",
            through(governance),
            vec![log(
                On::Reentered,
                SP::GovernanceCallExecuted {
                    target: REENTERER,
                    selector: FixedBytes(SP::governanceCall::SELECTOR),
                    result: REENTERER.abi_encode().into(),
                },
            )],
            vec![],
        ),
        reverts("re-entering pauseAll", through(SP::pauseAllCall {}.abi_encode()), SP::ReentrancyGuardReentrantCall {}),
        reverts(
            "re-entering unpauseAll",
            through(SP::unpauseAllCall {}.abi_encode()),
            SP::ReentrancyGuardReentrantCall {},
        ),
        reverts(
            "re-entering executeGovernanceCall",
            through(
                SP::executeGovernanceCallCall { target: w.modules[2], data: PM::pauseCall {}.abi_encode().into() }
                    .abi_encode(),
            ),
            SP::ReentrancyGuardReentrantCall {},
        ),
    ]
}

/// Every case of the SystemPause-side table.
fn system_pause_cases(w: &Wiring) -> Vec<Case> {
    [
        governable_cases(w),
        wiring_cases(w),
        constructor_cases(w),
        pause_all_cases(w),
        governance_call_cases(w),
        set_modules_cases(w),
        pauser_cases(w),
        reentrancy_cases(w),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The module stand-in on its own: the spare, owned by account 0.
fn stand_in_cases() -> Vec<Case> {
    let owner = ModulesChain::address_of(OWNER);
    let helper = ModulesChain::address_of(HELPER);
    let stranger = ModulesChain::address_of(STRANGER);
    let pause = || call(On::Spare, PM::pauseCall {});
    let unpause = || call(On::Spare, PM::unpauseCall {});
    let paused = || call(On::Spare, PM::pausedCall {});
    let set_pauser = |p: Address| call(On::Spare, PM::setPauserCall { pauser_: p });
    let set_manager = |m: Address| call(On::Spare, PM::setPauserManagerCall { pauserManager_: m });
    vec![
        succeeds(
            "module fresh state",
            paused(),
            vec![],
            vec![
                reads(call(On::Spare, PM::ownerCall {}), owner),
                reads(paused(), false),
                reads(call(On::Spare, PM::pauserCall {}), Address::ZERO),
                reads(call(On::Spare, PM::pauserManagerCall {}), Address::ZERO),
            ],
        ),
        succeeds(
            "module pause by the owner",
            pause(),
            vec![log(On::Spare, PM::Paused { account: owner })],
            vec![reads(paused(), true)],
        ),
        succeeds(
            "module unpause by the owner",
            unpause(),
            vec![log(On::Spare, PM::Unpaused { account: owner })],
            vec![reads(paused(), false)],
        )
        .after(vec![pause()]),
        reverts("module pause twice", pause(), PM::EnforcedPause {}).after(vec![pause()]),
        reverts("module unpause while running", unpause(), PM::ExpectedPause {}),
        reverts("module pause by a stranger", pause(), PM::Unauthorized {}).by(STRANGER),
        reverts("module unpause by a stranger", unpause(), PM::Unauthorized {}).after(vec![pause()]).by(STRANGER),
        succeeds(
            "module set pauser",
            set_pauser(helper),
            vec![log(On::Spare, PM::PauserUpdated { pauser: helper })],
            vec![reads(call(On::Spare, PM::pauserCall {}), helper)],
        ),
        succeeds("module pause by the pauser", pause(), vec![log(On::Spare, PM::Paused { account: helper })], vec![])
            .after(vec![set_pauser(helper)])
            .by(HELPER),
        succeeds(
            "module unpause by the pauser",
            unpause(),
            vec![log(On::Spare, PM::Unpaused { account: helper })],
            vec![],
        )
        .after(vec![set_pauser(helper), pause()])
        .by(HELPER),
        reverts("module set pauser by a stranger", set_pauser(stranger), PM::NotGovernanceOrPauserManager {})
            .by(STRANGER),
        reverts("module set pauser by the pauser", set_pauser(stranger), PM::NotGovernanceOrPauserManager {})
            .after(vec![set_pauser(helper)])
            .by(HELPER),
        succeeds(
            "module set pauser manager",
            set_manager(helper),
            vec![log(On::Spare, PM::PauserManagerUpdated { pauserManager: helper })],
            vec![reads(call(On::Spare, PM::pauserManagerCall {}), helper)],
        ),
        succeeds(
            "module set pauser by the pauser manager",
            set_pauser(ALICE),
            vec![log(On::Spare, PM::PauserUpdated { pauser: ALICE })],
            vec![reads(call(On::Spare, PM::pauserCall {}), ALICE)],
        )
        .after(vec![set_manager(helper)])
        .by(HELPER),
        reverts("module pause by the pauser manager", pause(), PM::Unauthorized {})
            .after(vec![set_manager(helper)])
            .by(HELPER),
        reverts(
            "module set pauser manager by the pauser manager",
            set_manager(stranger),
            PM::OwnableUnauthorizedAccount { account: helper },
        )
        .after(vec![set_manager(helper)])
        .by(HELPER),
        reverts(
            "module set pauser manager by a stranger",
            set_manager(stranger),
            PM::OwnableUnauthorizedAccount { account: stranger },
        )
        .by(STRANGER),
        succeeds(
            "module transfer ownership",
            call(On::Spare, PM::transferOwnershipCall { newOwner: ALICE }),
            vec![log(On::Spare, PM::OwnershipTransferred { previousOwner: owner, newOwner: ALICE })],
            vec![reads(call(On::Spare, PM::ownerCall {}), ALICE)],
        ),
        reverts(
            "module transfer ownership to zero",
            call(On::Spare, PM::transferOwnershipCall { newOwner: Address::ZERO }),
            PM::OwnableInvalidOwner { owner: Address::ZERO },
        ),
        reverts(
            "module transfer ownership by a stranger",
            call(On::Spare, PM::transferOwnershipCall { newOwner: stranger }),
            PM::OwnableUnauthorizedAccount { account: stranger },
        )
        .by(STRANGER),
        succeeds(
            "module renounce ownership",
            call(On::Spare, PM::renounceOwnershipCall {}),
            vec![log(On::Spare, PM::OwnershipTransferred { previousOwner: owner, newOwner: Address::ZERO })],
            vec![reads(call(On::Spare, PM::ownerCall {}), Address::ZERO)],
        ),
        reverts("module without an owner refuses its pauser", pause(), PM::Unauthorized {})
            .after(vec![call(On::Spare, PM::renounceOwnershipCall {})]),
        reverts(
            "module deployed with a zero owner",
            Call {
                on: On::Deploy,
                data: [PM::BYTECODE.as_ref(), &PM::constructorCall { owner_: Address::ZERO }.abi_encode()].concat(),
            },
            PM::OwnableInvalidOwner { owner: Address::ZERO },
        ),
        reverts_without_data("module unknown selector", Call { on: On::Spare, data: vec![0xde, 0xad, 0xbe, 0xef] }),
    ]
}

/// Runs one case; `Err` says what differed.
async fn run_case(chain: &ModulesChain, case: &Case) -> Result<(), String> {
    let w = &chain.wiring;
    for step in &case.setup {
        let to = step.on.address(w).expect("setup steps call a contract");
        chain.send(OWNER, to, step.data.clone()).await;
    }
    let to = case.call.on.address(w);
    let from = ModulesChain::address_of(case.from);
    let got = chain.try_call(from, to, case.call.data.clone()).await;
    match &case.expect {
        Expect::Revert(expected) => {
            let data = got.err().ok_or("expected a revert, but the call succeeded")?;
            if data.as_ref() != &expected[..] {
                return Err(format!("revert data {data}, expected {}", Bytes::from(expected.clone())));
            }
            // Mined, the call reverts too and leaves no log.
            if let Some(to) = to {
                let receipt = chain.send_unchecked(case.from, to, case.call.data.clone()).await;
                if receipt.status() || !receipt.inner.logs().is_empty() {
                    return Err("the mined transaction succeeded or logged".into());
                }
            }
        }
        Expect::Success { returns, logs, then } => {
            let to = to.expect("successes call a contract");
            let got = got.map_err(|e| format!("reverted with {e}"))?;
            if let Some(expected) = returns
                && got.as_ref() != &expected[..]
            {
                return Err(format!("returned {got}, expected {}", Bytes::from(expected.clone())));
            }
            let receipt = chain.send(case.from, to, case.call.data.clone()).await;
            let emitted: Vec<(Address, LogData)> =
                receipt.inner.logs().iter().map(|l| (l.address(), l.data().clone())).collect();
            let expected: Vec<(Address, LogData)> =
                logs.iter().map(|(on, data)| (on.address(w).expect("an emitter"), data.clone())).collect();
            if emitted != expected {
                return Err(format!("logs {emitted:#?}\nexpected {expected:#?}"));
            }
            for (getter, value) in then {
                let at = getter.on.address(w).expect("a getter on a contract");
                let got = chain.read(at, getter.data.clone()).await;
                if got.as_ref() != &value[..] {
                    return Err(format!(
                        "getter {} on {at} returned {got}, expected {}",
                        Bytes::from(getter.data.clone()),
                        Bytes::from(value.clone())
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Runs every case from a snapshot of the wiring; panics listing every
/// case that failed.
async fn run_all(chain: &ModulesChain, cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let snapshot = chain.snapshot().await;
        if let Err(why) = run_case(chain, case).await {
            failures.push(format!("{}: {why}", case.name));
        }
        chain.revert(snapshot).await;
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[tokio::test]
async fn the_modules_kind_system_pause_conforms() {
    let chain = ModulesChain::start().await;
    let cases = system_pause_cases(&chain.wiring);
    assert!(cases.len() >= 100, "the table lost cases: {}", cases.len());
    run_all(&chain, &cases).await;
}

#[tokio::test]
async fn the_module_stand_in_conforms() {
    let chain = ModulesChain::start().await;
    let cases = stand_in_cases();
    assert!(cases.len() >= 20, "the table lost cases: {}", cases.len());
    run_all(&chain, &cases).await;
}

#[tokio::test]
async fn a_failing_pause_all_leaves_every_module_as_it_was() {
    let chain = ModulesChain::start().await;
    let w = &chain.wiring;
    chain.send(OWNER, w.pause, forward(w.modules[6], PM::pauseCall {}.abi_encode()).data).await;
    let receipt = chain.send_unchecked(OWNER, w.pause, SP::pauseAllCall {}.abi_encode()).await;
    assert!(!receipt.status(), "pauseAll over a paused module must revert");
    for (i, at) in w.modules.iter().enumerate() {
        let paused = chain.read(*at, PM::pausedCall {}.abi_encode()).await;
        assert_eq!(paused.as_ref(), &(i == 6).abi_encode()[..], "module {i} after the reverted pauseAll");
    }
}

#[tokio::test]
async fn the_constructor_emits_only_the_governance_events() {
    let chain = ModulesChain::start().await;
    let w = &chain.wiring;
    let provider = chain.account(OWNER);
    let tx = TransactionRequest::default().with_deploy_code(system_pause_creation(w.modules, ALICE));
    let receipt = provider.send_transaction(tx).await.expect("sent").get_receipt().await.expect("receipt");
    assert!(receipt.status());
    let created = receipt.contract_address.expect("created");
    let logs: Vec<(Address, LogData)> = receipt.inner.logs().iter().map(|l| (l.address(), l.data().clone())).collect();
    assert_eq!(
        logs,
        vec![
            (created, SP::GovernanceUpdated { governance: ALICE }.encode_log_data()),
            (created, SP::OwnershipTransferred { previousOwner: Address::ZERO, newOwner: ALICE }.encode_log_data()),
        ]
    );
    let active = chain.read(created, SP::activePauserCall {}.abi_encode()).await;
    assert_eq!(active.as_ref(), &Address::ZERO.abi_encode()[..], "no pauser before refreshPausers");
    for i in 0..8 {
        let got = chain.read(created, position_getter(i).data).await;
        assert_eq!(got.as_ref(), &w.modules[i].abi_encode()[..], "position {i}");
    }
}

/// Every function, error and event of both ABIs is exercised by the tables:
/// functions called (or read) on a contract of that kind, errors expected as
/// revert data, events expected in the logs.
#[test]
fn the_tables_cover_both_abis() {
    let w = Wiring {
        governance: ModulesChain::address_of(OWNER),
        pause: Address::repeat_byte(0x50),
        modules: std::array::from_fn(|i| Address::repeat_byte(0x10 + i as u8)),
        spare: Address::repeat_byte(0x20),
        spare_owned: Address::repeat_byte(0x21),
        refusing: modules::REFUSING_MODULE,
        refused: Address::repeat_byte(0x22),
        reentered: Address::repeat_byte(0x23),
    };
    let cases: Vec<Case> = system_pause_cases(&w).into_iter().chain(stand_in_cases()).collect();
    let mut pause_calls = BTreeSet::new();
    let mut module_calls = BTreeSet::new();
    let mut errors = BTreeSet::new();
    let mut events = BTreeSet::new();
    let mut note_call = |c: &Call| {
        let Some(selector) = c.data.get(..4).map(|s| <[u8; 4]>::try_from(s).expect("four bytes")) else { return };
        if c.on.is_system_pause() {
            pause_calls.insert(selector);
            // Calls forwarded through the SystemPause count for their target.
            if let Ok(inner) = SP::executeGovernanceCallCall::abi_decode(&c.data)
                && let Some(s) = inner.data.get(..4)
            {
                module_calls.insert(<[u8; 4]>::try_from(s).expect("four bytes"));
            }
        }
        if c.on.is_stand_in() {
            module_calls.insert(selector);
        }
    };
    for case in &cases {
        note_call(&case.call);
        match &case.expect {
            Expect::Revert(data) => {
                if let Some(s) = data.get(..4) {
                    errors.insert(<[u8; 4]>::try_from(s).expect("four bytes"));
                }
            }
            Expect::Success { logs, then, .. } => {
                events.extend(logs.iter().map(|(_, data)| data.topics()[0]));
                for (getter, _) in then {
                    note_call(getter);
                }
            }
        }
    }
    let check = |artifact: &str, calls: &BTreeSet<[u8; 4]>| {
        let json: serde_json::Value = serde_json::from_str(artifact).expect("an artifact");
        let abi: JsonAbi = serde_json::from_value(json["abi"].clone()).expect("an ABI");
        let missing_functions: Vec<String> =
            abi.functions().filter(|f| !calls.contains(&f.selector().0)).map(|f| f.signature()).collect();
        let missing_errors: Vec<String> =
            abi.errors().filter(|e| !errors.contains(&e.selector().0)).map(|e| e.signature()).collect();
        let missing_events: Vec<String> =
            abi.events().filter(|e| !events.contains(&B256::from(e.selector()))).map(|e| e.signature()).collect();
        assert!(
            missing_functions.is_empty() && missing_errors.is_empty() && missing_events.is_empty(),
            "{}: not covered: functions {missing_functions:?}, errors {missing_errors:?}, events {missing_events:?}",
            json["contractName"]
        );
        abi.functions().count() + abi.errors().count() + abi.events().count()
    };
    let pause_items = check(modules::SYSTEM_PAUSE_ARTIFACT, &pause_calls);
    let module_items = check(modules::MODULE_ARTIFACT, &module_calls);
    // SystemPauseModules: 19 functions, 17 errors, 5 events; PausableModule: 10, 6, 5.
    assert_eq!((pause_items, module_items), (41, 21), "the ABIs changed: extend the tables");
}
