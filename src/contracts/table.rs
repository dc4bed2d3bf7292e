//! The vocabulary of the contract table: fields, role sets, setters, phases.

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolCall;
use serde::{Deserialize, Serialize};

/// One managed contract kind: what it is called and which fields it has.
#[derive(Debug)]
pub struct Kind {
    /// Section key in the desired-state file, e.g. `stake_manager`.
    pub key: &'static str,
    /// Solidity contract name, e.g. `StakeManager`.
    pub name: &'static str,
    /// Which of a section's kinds this is, when one section has several
    /// (`switch` or `modules` for the SystemPause); found from the chain.
    pub variant: Option<&'static str>,
    /// Scalar fields, each read by one getter call.
    pub fields: &'static [Field],
    /// Address sets stored in a mapping, listed from events.
    pub role_sets: &'static [RoleSet],
    /// The setters govstate may call, each writing one or more fields.
    pub setters: &'static [Setter],
    /// Who may call the setters: the getter of the owner or governance.
    pub authority: Authority,
    /// The signature of the custom error with this selector, for naming a
    /// revert (`InvalidPercentage()`).
    pub error_signature: fn([u8; 4]) -> Option<&'static str>,
    /// Values the file writes as one key but the chain keeps in several
    /// fields (the modules kind's `paused`: every module's `paused()`).
    pub derived: &'static [Derived],
    /// How this contract forwards governance calls to the contracts it
    /// manages, when it does (the modules kind's `executeGovernanceCall`).
    pub forwarder: Option<Forwarder>,
    /// Recognises this kind among a section's kinds from the return data of
    /// its first field's getter; `None` for the fallback kind.
    pub recognise: Option<fn(&[u8]) -> bool>,
    /// Setters govstate never plans (another way to the same fields, or a
    /// call it must never make), known so that a pending operation calling
    /// one is decoded and judged like any other.
    pub other_setters: &'static [Setter],
    /// Creation code with constructor arguments, for the devnet: the
    /// argument is the address that owns or governs the new contract.
    /// `None` for a kind the devnet deploys with more arguments.
    pub creation_code: Option<fn(Address) -> Vec<u8>>,
}

impl Kind {
    /// The position of the field with key path `key` in [`Kind::fields`].
    pub fn field_index(&self, key: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.key == key)
    }

    /// The field with key path `key`.
    pub fn field(&self, key: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The role set with key `key`.
    pub fn role_set(&self, key: &str) -> Option<&'static RoleSet> {
        self.role_sets.iter().find(|r| r.key == key)
    }

    /// The setter that made a planned call: same function and, among
    /// setters sharing one (a per-module pause and unpause), same call data
    /// and the same leading arguments read from fields (`names`: the
    /// call's argument names, which name the module a module's `pause()` is
    /// for).
    pub fn setter_of(
        &self,
        function: &str,
        names: &[&str],
        args: &[Value],
        calldata: &[u8],
    ) -> Option<&'static Setter> {
        let mut same = self.setters.iter().filter(|s| s.function == function);
        let first = same.next()?;
        let Some(second) = same.next() else {
            return Some(first);
        };
        let encodes = |s: &&Setter| (s.encode)(args).is_ok_and(|data| data == calldata);
        let reads = |s: &&Setter| s.reads.iter().zip(names).all(|(r, n)| r == n) && names.len() >= s.reads.len();
        [first, second].into_iter().chain(same).filter(encodes).find(reads)
    }

    /// The unit of a field or derived key (a derived key: its first field's).
    pub fn unit_of(&self, key: &str) -> Option<Unit> {
        let first = self.derived(key).and_then(|d| d.from.first().copied()).unwrap_or(key);
        self.field(first).map(|f| f.unit)
    }

    /// The derived value with key `key`.
    pub fn derived(&self, key: &str) -> Option<&'static Derived> {
        self.derived.iter().find(|d| d.key == key)
    }

    /// The kind's name as shown: `SystemPause (modules kind)`.
    pub fn display_name(&self) -> String {
        match self.variant {
            Some(variant) => format!("{} ({variant} kind)", self.name),
            None => self.name.to_string(),
        }
    }

    /// The value of `key` among `values` (one per field): a field's value,
    /// or a derived value when all its fields agree.
    pub fn value_of(&self, values: &[Value], key: &str) -> Option<Value> {
        if let Some(index) = self.field_index(key) {
            return values.get(index).copied();
        }
        let derived = self.derived(key)?;
        let mut parts = derived.from.iter().map(|f| self.field_index(f).and_then(|i| values.get(i).copied()));
        let first = parts.next()??;
        parts.all(|v| v == Some(first)).then_some(first)
    }

    /// The fields whose getter is called on the contract itself, in order;
    /// the others are called on the address another field holds.
    pub fn own_fields(&self) -> impl Iterator<Item = &'static Field> {
        self.fields.iter().filter(|f| f.at.is_none())
    }
}

/// A value the file writes once that the chain keeps in several fields: it
/// reads as their common value, and is "partly" when they disagree.
#[derive(Debug)]
pub struct Derived {
    /// Key in the section, e.g. `paused`.
    pub key: &'static str,
    /// The fields it stands for.
    pub from: &'static [&'static str],
}

/// A contract that makes governance calls to the contracts it manages on
/// its governance's behalf (`executeGovernanceCall(target, data)`).
#[derive(Debug)]
pub struct Forwarder {
    /// Solidity signature, e.g. `executeGovernanceCall(address,bytes)`.
    pub function: &'static str,
    /// The address fields naming the contracts it may call.
    pub targets: &'static [&'static str],
    /// ABI-encoded forwarding call of `data` to `target`.
    pub encode: fn(Address, &[u8]) -> Vec<u8>,
    /// The target and data a forwarding call carries, when `data` is one.
    pub decode: fn(&[u8]) -> Option<Carried>,
}

/// What a forwarding call carries: the target and its call data.
pub type Carried = (Address, Vec<u8>);

/// The account allowed to call a contract's setters, read by a getter.
#[derive(Debug)]
pub struct Authority {
    /// Solidity getter, for people: `owner()`.
    pub getter: &'static str,
    /// ABI-encoded getter call.
    pub calldata: fn() -> Vec<u8>,
    /// Decodes the getter's return data.
    pub decode: fn(&[u8]) -> Result<Address, alloy::sol_types::Error>,
}

impl Authority {
    /// The authority read by the argument-less getter `C`.
    pub const fn of<C: SolCall<Return = Address> + Default>() -> Authority {
        Authority { getter: C::SIGNATURE, calldata: encode_default::<C>, decode: C::abi_decode_returns }
    }
}

/// How a field's value is meant, which decides how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A yes/no switch.
    Flag,
    /// An account or contract address.
    Address,
    /// A token amount in base units (wei).
    Amount,
    /// A plain count.
    Count,
    /// Basis points (1/10000).
    Bps,
    /// Percent.
    Percent,
    /// A duration in seconds.
    Seconds,
}

/// A field's value as read from the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// A `bool` getter.
    Bool(bool),
    /// An `address` getter.
    Address(Address),
    /// Any unsigned integer getter, widened to `uint256`.
    Uint(U256),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Address(a) => write!(f, "{a}"),
            Value::Uint(n) => write!(f, "{n}"),
        }
    }
}

/// One scalar field of a contract and the getter that reads it.
#[derive(Debug)]
pub struct Field {
    /// Key path inside the contract's section, e.g. `rewards.teacher`.
    pub key: &'static str,
    /// Solidity getter, for people: `baseTeacherReward()`.
    pub getter: &'static str,
    /// How the value is meant.
    pub unit: Unit,
    /// ABI-encoded getter call.
    pub calldata: fn() -> Vec<u8>,
    /// Decodes the getter's return data.
    pub decode: fn(&[u8]) -> Result<Value, alloy::sol_types::Error>,
    /// The address field naming the contract the getter is called on
    /// (a module's `paused()`); `None` for the contract itself.
    pub at: Option<&'static str>,
    /// Whether the file writes this field under its own key; `false` for
    /// fields read for context (a module's address).
    pub in_file: bool,
}

impl Field {
    /// A field read by the argument-less getter `C`.
    pub const fn of<C: Getter>(key: &'static str, unit: Unit) -> Field {
        Field {
            key,
            getter: C::SIGNATURE,
            unit,
            calldata: encode_default::<C>,
            decode: C::decode_value,
            at: None,
            in_file: true,
        }
    }

    /// A field the file does not write, read by the getter `C` on the
    /// contract itself or, with `at`, on the address that field holds.
    pub const fn context<C: Getter>(key: &'static str, unit: Unit, at: Option<&'static str>) -> Field {
        Field { at, in_file: false, ..Field::of::<C>(key, unit) }
    }
}

/// An address set kept in a `mapping(address => bool)`: its holders can only
/// be listed from the event that every change emits, then confirmed one by
/// one with the getter.
#[derive(Debug)]
pub struct RoleSet {
    /// Key inside the contract's section, e.g. `orchestrators`.
    pub key: &'static str,
    /// Solidity getter, for people: `orchestrators(address)`.
    pub getter: &'static str,
    /// topic0 of the event emitted on every change; topic1 is the address.
    pub event_topic: B256,
    /// That event's Solidity signature, for people.
    pub event_name: &'static str,
    /// ABI-encoded membership getter call for one address.
    pub calldata: fn(Address) -> Vec<u8>,
    /// Decodes the membership getter's return data.
    pub decode: fn(&[u8]) -> Result<bool, alloy::sol_types::Error>,
    /// Solidity setter that grants or revokes: `setOrchestrator(address,bool)`.
    pub setter: &'static str,
    /// ABI-encoded setter call granting (`true`) or revoking (`false`).
    pub set_calldata: fn(Address, bool) -> Vec<u8>,
}

/// A getter call with no arguments whose return value is a [`Value`].
pub trait Getter: SolCall + Default {
    /// Decodes the return data of this getter into a [`Value`].
    fn decode_value(data: &[u8]) -> Result<Value, alloy::sol_types::Error>;
}

impl<C> Getter for C
where
    C: SolCall + Default,
    C::Return: IntoValue,
{
    fn decode_value(data: &[u8]) -> Result<Value, alloy::sol_types::Error> {
        C::abi_decode_returns(data).map(IntoValue::into_value)
    }
}

/// A Solidity return type that widens losslessly into a [`Value`].
pub trait IntoValue {
    /// The value, widened.
    fn into_value(self) -> Value;
}

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl IntoValue for Address {
    fn into_value(self) -> Value {
        Value::Address(self)
    }
}

impl IntoValue for U256 {
    fn into_value(self) -> Value {
        Value::Uint(self)
    }
}

impl IntoValue for u16 {
    fn into_value(self) -> Value {
        Value::Uint(U256::from(self))
    }
}

fn encode_default<C: SolCall + Default>() -> Vec<u8> {
    C::default().abi_encode()
}

/// Decodes a membership getter's `bool` return data.
pub fn decode_membership<C: SolCall<Return = bool>>(data: &[u8]) -> Result<bool, alloy::sol_types::Error> {
    C::abi_decode_returns(data)
}

/// The phases of a plan, in the order they run: contain first, resume last,
/// hand over control at the very end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Contracts going from running to paused.
    Pause,
    /// Roles taken away.
    Revoke,
    /// Roles given.
    Grant,
    /// Parameters, in an order every intermediate state accepts.
    Configure,
    /// Contracts going from paused to running.
    Unpause,
    /// Owner or governance transfers; planned only when allowed.
    Ownership,
}

impl Phase {
    /// Every phase, in execution order.
    pub const ALL: [Phase; 6] =
        [Phase::Pause, Phase::Revoke, Phase::Grant, Phase::Configure, Phase::Unpause, Phase::Ownership];

    /// The phase's name as shown and serialised.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pause => "pause",
            Phase::Revoke => "revoke",
            Phase::Grant => "grant",
            Phase::Configure => "configure",
            Phase::Unpause => "unpause",
            Phase::Ownership => "ownership",
        }
    }
}

/// The revert a contract would give for a call, by its custom error's
/// signature (`InvalidPercentage()`).
pub type Revert = &'static str;

/// One setter function and the fields it writes.
#[derive(Debug)]
pub struct Setter {
    /// Solidity signature, e.g. `setRewards(uint256,uint256,uint256)`.
    pub function: &'static str,
    /// The event the contract emits when this setter changes its fields:
    /// how drift finds the transaction that last changed one (`None` when
    /// the setter emits none of its own).
    pub event: Option<Event>,
    /// The fields it writes, in argument order. A multi-field setter is
    /// called with the observed values of the fields the file leaves alone.
    pub fields: &'static [&'static str],
    /// When it runs.
    pub phase: Phase,
    /// For a switch such as `pause()` / `unpause()`: the value of its single
    /// field this setter produces. `None` for setters that take the values
    /// as arguments.
    pub produces: Option<Value>,
    /// ABI-encoded call for the given field values (argument order).
    pub encode: fn(&[Value]) -> Result<Vec<u8>, ValueError>,
    /// The contract's own check, on the state just before the call: the
    /// revert it would give, if any.
    pub check: fn(&ContractState, &[Value]) -> Result<(), Revert>,
    /// A side effect people should know about before it happens.
    pub note: Option<&'static str>,
    /// An address field whose holder may also call this setter besides the
    /// authority (StakeManager's `pauser` may pause and unpause).
    pub also_allowed: Option<&'static str>,
    /// Fields whose current values are passed first, before the written
    /// ones (the module a per-module pause is for).
    pub reads: &'static [&'static str],
    /// What the contract requires of the arguments together, for people
    /// (`the three splits sum to 1..=10000`), when it checks more than each.
    pub requires: Option<&'static str>,
    /// The address field naming the contract the call is sent to, when it
    /// is not this one: a module's own `pause()`, which its `pauser()` (the
    /// holder of `also_allowed`, and only it) sends straight to the module,
    /// with no forwarding and no timelock.
    pub at: Option<&'static str>,
    /// An upper bound on the gas one call uses when it runs (forwarding
    /// included): what a timelock batch is sized by, so that executing it
    /// fits in a block. Checked by simulation before a batch is scheduled.
    pub gas: u64,
}

/// The gas bound of a plain setter call: a few storage writes and events.
pub const SETTER_GAS: u64 = 100_000;

/// An event a setter emits, named for people and by its topic for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Solidity signature, e.g. `FeePctUpdated(uint256)`.
    pub name: &'static str,
    /// Its topic0.
    pub topic: B256,
}

impl Event {
    /// The event of a `sol!` binding.
    pub const fn of<E: alloy::sol_types::SolEvent>() -> Event {
        Event { name: E::SIGNATURE, topic: E::SIGNATURE_HASH }
    }
}

/// `Paused(address)`, as OpenZeppelin's Pausable emits it.
pub const PAUSED: Event = Event {
    name: "Paused(address)",
    topic: alloy::primitives::b256!("62e78cea01bee320cd4e420270b5ea74000d11b0c9f74754ebdbfc544b05a258"),
};

/// `Unpaused(address)`, as OpenZeppelin's Pausable emits it.
pub const UNPAUSED: Event = Event {
    name: "Unpaused(address)",
    topic: alloy::primitives::b256!("5db9ee0a495bf2e6ff9c91a7834c1ba4fdd244a5e8aa4e537bd38aeae4b073aa"),
};

/// A setter was handed a value of the wrong shape (a bug in govstate, never
/// in the user's file, which is checked first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {got:?}")]
pub struct ValueError {
    /// What the setter needs.
    pub expected: &'static str,
    /// What it got.
    pub got: Option<Value>,
}

/// Every scalar field of one contract: the state its checks run against.
#[derive(Debug, Clone)]
pub struct ContractState {
    /// The contract's kind.
    pub kind: &'static Kind,
    /// One value per entry of `kind.fields`, in the same order.
    pub values: Vec<Value>,
}

impl PartialEq for ContractState {
    fn eq(&self, other: &Self) -> bool {
        self.kind.key == other.kind.key && self.values == other.values
    }
}

impl Eq for ContractState {}

impl ContractState {
    /// The value of the field (or derived value) with key path `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.kind.value_of(&self.values, key)
    }

    /// Sets the field with key path `key`, or every field a derived value
    /// stands for; unknown keys are ignored.
    pub fn set(&mut self, key: &str, value: Value) {
        let fields = match self.kind.derived(key) {
            Some(derived) => derived.from,
            None => std::slice::from_ref(&key),
        };
        for field in fields {
            if let Some(index) = self.kind.field_index(field)
                && let Some(slot) = self.values.get_mut(index)
            {
                *slot = value;
            }
        }
    }

    /// The `uint256` value of `key`, or zero when unknown.
    pub fn uint(&self, key: &str) -> U256 {
        match self.get(key) {
            Some(Value::Uint(n)) => n,
            _ => U256::ZERO,
        }
    }
}

/// A setter argument as `uint256`.
pub fn uint_arg(args: &[Value], index: usize) -> Result<U256, ValueError> {
    match args.get(index) {
        Some(Value::Uint(n)) => Ok(*n),
        got => Err(ValueError { expected: "an unsigned integer", got: got.copied() }),
    }
}

/// A setter argument as `uint16`.
pub fn u16_arg(args: &[Value], index: usize) -> Result<u16, ValueError> {
    let n = uint_arg(args, index)?;
    u16::try_from(n).map_err(|_| ValueError { expected: "a uint16", got: Some(Value::Uint(n)) })
}

/// A setter argument as `address`.
pub fn address_arg(args: &[Value], index: usize) -> Result<Address, ValueError> {
    match args.get(index) {
        Some(Value::Address(a)) => Ok(*a),
        got => Err(ValueError { expected: "an address", got: got.copied() }),
    }
}

/// A check for setters the contract never refuses for their arguments.
pub fn always_ok(_: &ContractState, _: &[Value]) -> Result<(), Revert> {
    Ok(())
}

/// Encodes an argument-less call such as `pause()`.
pub fn encode_switch<C: SolCall + Default>(_: &[Value]) -> Result<Vec<u8>, ValueError> {
    Ok(C::default().abi_encode())
}

/// The `pause()` setter of a Pausable contract: Pause phase, refused when
/// already paused (`EnforcedPause()`).
pub const fn pause_setter<C: SolCall + Default>(also_allowed: Option<&'static str>) -> Setter {
    Setter {
        function: C::SIGNATURE,
        event: Some(PAUSED),
        fields: &["paused"],
        phase: Phase::Pause,
        produces: Some(Value::Bool(true)),
        encode: encode_switch::<C>,
        check: |state, _| {
            if state.get("paused") == Some(Value::Bool(true)) { Err("EnforcedPause()") } else { Ok(()) }
        },
        note: None,
        also_allowed,
        reads: &[],
        requires: None,
        at: None,
        gas: SETTER_GAS,
    }
}

/// The `unpause()` setter of a Pausable contract: Unpause phase, refused
/// when not paused (`ExpectedPause()`).
pub const fn unpause_setter<C: SolCall + Default>(also_allowed: Option<&'static str>) -> Setter {
    Setter {
        function: C::SIGNATURE,
        event: Some(UNPAUSED),
        fields: &["paused"],
        phase: Phase::Unpause,
        produces: Some(Value::Bool(false)),
        encode: encode_switch::<C>,
        check: |state, _| {
            if state.get("paused") == Some(Value::Bool(true)) { Ok(()) } else { Err("ExpectedPause()") }
        },
        note: None,
        also_allowed,
        reads: &[],
        requires: None,
        at: None,
        gas: SETTER_GAS,
    }
}
