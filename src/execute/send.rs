//! Sending transactions group by group (a plan's phases, then timelock
//! actions): within a group, back to back with consecutive nonces; then
//! every receipt before the next group.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::rpc::types::simulate::{SimBlock, SimCallResult, SimulatePayload};

use super::ApplyError;
use super::receipt::{ReceiptLog, TransactionRecord};
use crate::contracts::{error_name, kind};
use crate::route::Transaction;

/// How long to wait for one transaction before giving up (it may still be
/// mined; the receipt file records its hash).
pub(super) const RECEIPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// The transaction request that makes `tx` from `from`.
pub(super) fn request(tx: &Transaction, from: alloy::primitives::Address) -> TransactionRequest {
    TransactionRequest::default().from(from).to(tx.to).input(tx.data.clone().into())
}

/// The name of the custom error in revert data, e.g. `InvalidPercentage()`:
/// looked up in the contract's own errors first, then in every known
/// contract's (a module's revert bubbles up through the SystemPause).
pub fn revert_name(contract: &str, data: &[u8]) -> String {
    let selector = data.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok());
    let named = selector.and_then(|s| error_name(kind(contract), s));
    if named.is_none()
        && let Ok(reason) = <alloy::sol_types::Revert as alloy::sol_types::SolError>::abi_decode(data)
    {
        // A string revert, as the Safe gives (`GS013`, `GS026`).
        return format!("Error({:?})", reason.reason);
    }
    match (named, selector) {
        (Some(name), _) => name.to_string(),
        (None, Some(_)) => format!("unknown error {}", Bytes::copy_from_slice(data)),
        (None, None) => "a revert without data".to_string(),
    }
}

/// Runs every transaction in order with `eth_simulateV1` at the latest
/// block and returns the gas limit for each; refuses when one would revert.
/// A node that cannot simulate a sequence gets each call estimated alone,
/// with a warning; if that fails too, nothing is sent.
pub async fn simulate(
    provider: &impl Provider,
    transactions: &[&Transaction],
    from: alloy::primitives::Address,
) -> Result<Simulated, ApplyError> {
    if transactions.is_empty() {
        return Ok(Simulated { gas: Vec::new(), warning: None });
    }
    let calls = transactions.iter().map(|t| request(t, from)).collect();
    let results = match in_sequence(provider, calls).await {
        Ok(results) => results,
        // The node cannot simulate a sequence (no eth_simulateV1, or it
        // refuses the request): estimate call by call, which only holds for
        // calls that do not depend on the ones before them.
        Err(error) if error.as_error_resp().is_some() => {
            let reason = error.as_error_resp().map(|e| format!("{} ({})", e.message, e.code)).unwrap_or_default();
            return estimate_each(provider, transactions, from, &reason).await;
        }
        Err(error) => return Err(ApplyError::rpc("simulating the plan")(error)),
    };
    let mut gas = Vec::with_capacity(transactions.len());
    for (tx, result) in transactions.iter().zip(results) {
        if !result.status {
            let revert = revert_name(&tx.contract, &result.return_data);
            return Err(ApplyError::SimulationReverted {
                contract: tx.contract.clone(),
                function: tx.function.clone(),
                revert,
            });
        }
        gas.push(gas_limit(result.gas_used));
    }
    Ok(Simulated { gas, warning: None })
}

/// The outcome of each of `calls` run in order, in one block on top of the
/// latest (`eth_simulateV1`, no validation: balances and fees are not
/// checked): what apply, `plan`'s block estimate and the batch-fit check
/// simulate with.
pub(super) async fn in_sequence(
    provider: &impl Provider,
    calls: Vec<TransactionRequest>,
) -> Result<Vec<SimCallResult>, alloy::transports::TransportError> {
    let payload = SimulatePayload {
        block_state_calls: vec![SimBlock { block_overrides: None, state_overrides: None, calls }],
        trace_transfers: false,
        validation: false,
        return_full_transactions: false,
    };
    let blocks = provider.simulate(&payload).block_id(BlockNumberOrTag::Latest.into()).await?;
    Ok(blocks.into_iter().flat_map(|b| b.calls).collect())
}

/// The gas limit a transaction is sent with, from the gas it used when
/// simulated: half again as much (state may change before it is mined),
/// and never below 60,000.
pub(super) fn gas_limit(used: u64) -> u64 {
    (used.saturating_mul(3) / 2).max(60_000)
}

/// What simulating found: a gas limit per transaction, and a warning when
/// the node could not simulate the sequence as a whole.
#[derive(Debug)]
pub struct Simulated {
    /// The gas limit of each transaction, in order.
    pub gas: Vec<u64>,
    /// Set when the calls were estimated one by one instead.
    pub warning: Option<String>,
}

/// `eth_estimateGas` for each transaction alone, when the sequence cannot
/// be simulated. A call that reverts on its own may depend on an earlier
/// one: then nothing is sent, and the operator may choose to send without
/// simulation (`--simulate-first false`).
async fn estimate_each(
    provider: &impl Provider,
    transactions: &[&Transaction],
    from: alloy::primitives::Address,
    reason: &str,
) -> Result<Simulated, ApplyError> {
    let mut gas = Vec::with_capacity(transactions.len());
    for tx in transactions {
        match provider.estimate_gas(request(tx, from)).await {
            Ok(estimate) => gas.push(gas_limit(estimate)),
            Err(error) => {
                let revert = match error.as_error_resp().and_then(|e| e.as_revert_data()) {
                    Some(data) => revert_name(&tx.contract, &data),
                    None => error.to_string(),
                };
                return Err(ApplyError::SimulationUnavailable {
                    reason: reason.to_string(),
                    contract: tx.contract.clone(),
                    function: tx.function.clone(),
                    revert,
                });
            }
        }
    }
    let warning = format!(
        "the node cannot simulate the calls in sequence (eth_simulateV1: {reason}); gas was estimated call by call instead"
    );
    Ok(Simulated { gas, warning: Some(warning) })
}

/// How to send: confirmations, fees, and when to stop.
#[derive(Debug, Clone, Default)]
pub struct Sending {
    /// Confirmations to wait for.
    pub confirmations: u64,
    /// `maxFeePerGas` in wei, when set (else the node's suggestion); with
    /// `legacy`, the gas price of type-0 transactions.
    pub max_fee_per_gas: Option<u128>,
    /// `maxPriorityFeePerGas` in wei, when set.
    pub priority_fee_per_gas: Option<u128>,
    /// Turns true (from a signal handler) to stop sending: what was sent
    /// is still waited for, briefly.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
    /// Where progress lines go while waiting (what is pending, for how long,
    /// at what fee); default: nowhere.
    pub progress: Option<fn(&str)>,
    /// Replace a transaction still unmined after this long with the same
    /// call at the same nonce and a higher fee (default: never).
    pub bump_after: Option<std::time::Duration>,
    /// The most a replacement may offer per gas (default: no ceiling; the
    /// command line sets [`super::fees::DEFAULT_FEE_CEILING`] or the flag).
    pub fee_ceiling: Option<u128>,
    /// Send type-0 (legacy) transactions priced at `max_fee_per_gas`, for a
    /// chain without EIP-1559 fees (default `false`).
    pub legacy: bool,
    /// The block gas limit, which sizes the bursts a phase is sent in
    /// (default: [`DEFAULT_BLOCK_GAS_LIMIT`]).
    pub block_gas_limit: Option<u64>,
}

impl Sending {
    pub(super) fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }

    /// Ends [`GRACE`] after a stop is asked for; never without one.
    async fn grace_after_stop(&self) {
        let Some(mut stop) = self.stop.clone() else {
            return std::future::pending().await;
        };
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
        tokio::time::sleep(GRACE).await;
    }
}

/// How long a stopped apply still waits for each transaction it sent.
const GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// The block gas limit assumed when [`Sending::block_gas_limit`] is unset.
pub const DEFAULT_BLOCK_GAS_LIMIT: u64 = 30_000_000;

/// How often the receipt is written while sending or waiting, at most
/// (besides the end of every burst and every revert): writing it is an
/// `fsync` of the whole file, which took most of the time of a large apply.
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The transactions from `start` on that go in one burst: as many as a
/// block holds by their gas limits, and at least one.
pub fn burst_end(gas: &[u64], start: usize, block_gas_limit: u64) -> usize {
    let mut used = 0u64;
    let mut end = start;
    while let Some(&next) = gas.get(end) {
        if end > start && used.saturating_add(next) > block_gas_limit {
            break;
        }
        used = used.saturating_add(next);
        end += 1;
    }
    end
}

/// How many blocks a phase of these gas limits needs at least: its
/// bursts, each one block's worth.
pub fn blocks_needed(gas: &[u64], block_gas_limit: u64) -> usize {
    let (mut start, mut blocks) = (0, 0);
    while start < gas.len() {
        start = burst_end(gas, start, block_gas_limit);
        blocks += 1;
    }
    blocks
}

/// True when a node refused a send because the sender or the pool has no
/// room (geth's "txpool is full" and "account limit exceeded", reth's sender
/// capacity): sent again once earlier transactions are mined.
fn no_room(error: &alloy::transports::TransportError) -> bool {
    let Some(response) = error.as_error_resp() else { return false };
    let message = response.message.to_ascii_lowercase();
    [
        "pool is full",
        "txpool is full",
        "account limit exceeded",
        "exceeds capacity",
        "exceeded capacity",
        "capacity exceeded",
        "too many transactions",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// How many times one transaction is sent again after a "no room" refusal.
const NO_ROOM_RETRIES: u32 = 100;

/// Sends one group of transactions with consecutive nonces as fast as the
/// node takes them, recording each as it goes, then waits for every
/// receipt. They go in bursts of one block's gas (by their gas limits),
/// back to back, never more than two bursts ahead of what is mined; a node
/// that refuses one for want of pool room gets it again once an earlier one
/// is mined. Whatever goes wrong after the first send, what was sent is
/// waited for and recorded before the error is returned, so the receipt
/// says what is on chain.
pub async fn send_phase(
    provider: &impl Provider,
    transactions: &[(&Transaction, u64)],
    from: alloy::primitives::Address,
    first_nonce: u64,
    sending: &Sending,
    log: &mut ReceiptLog,
) -> Result<(), ApplyError> {
    let limit = sending.block_gas_limit.unwrap_or(DEFAULT_BLOCK_GAS_LIMIT).max(1);
    let gas: Vec<u64> = transactions.iter().map(|(_, g)| *g).collect();
    if let (Some(progress), true) = (sending.progress, transactions.len() > 1) {
        progress(&format!(
            "sending {} transactions ({} gas at most): about {} block(s) at a block gas limit of {limit}",
            transactions.len(),
            gas.iter().sum::<u64>(),
            blocks_needed(&gas, limit)
        ));
    }
    let mut pending = Vec::with_capacity(transactions.len());
    let mut failure = None;
    let mut saved = std::time::Instant::now();
    let (mut offset, mut bursts, mut refusals) = (0, Vec::new(), 0);
    'sending: while offset < transactions.len() {
        let end = burst_end(&gas, offset, limit);
        // Two bursts in the pool at most: the node mines about one a block.
        if let Some(&(_, two_back)) = bursts.len().checked_sub(2).and_then(|i| bursts.get(i)) {
            match room_until(provider, from, first_nonce + two_back as u64, sending).await {
                Ok(true) => {}
                Ok(false) => {
                    failure = Some(ApplyError::Interrupted { unsent: transactions.len() - offset });
                    break;
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        for (at, (tx, gas)) in transactions.iter().enumerate().take(end).skip(offset) {
            if sending.stopped() {
                failure = Some(ApplyError::Interrupted { unsent: transactions.len() - at });
                break 'sending;
            }
            let nonce = first_nonce + at as u64;
            let request = priced(request(tx, from).nonce(nonce).gas_limit(*gas), sending);
            let hash = match provider.send_transaction(request).await {
                Ok(sent) => *sent.tx_hash(),
                Err(source) if no_room(&source) && refusals < NO_ROOM_RETRIES => {
                    refusals += 1;
                    log.save().map_err(ApplyError::Receipt)?;
                    match make_room(provider, from, nonce, sending).await {
                        Ok(true) => {}
                        Ok(false) => {
                            failure = Some(ApplyError::Interrupted { unsent: transactions.len() - at });
                            break 'sending;
                        }
                        Err(error) => {
                            failure = Some(error);
                            break 'sending;
                        }
                    }
                    offset = at;
                    continue 'sending;
                }
                Err(source) => {
                    failure = Some(ApplyError::SendFailed { function: tx.function.clone(), sent: at, source });
                    break 'sending;
                }
            };
            log.receipt.transactions.push(TransactionRecord::sent(tx, hash, nonce));
            pending.push((tx, hash, nonce, *gas));
            if saved.elapsed() >= SAVE_EVERY {
                log.save().map_err(ApplyError::Receipt)?;
                saved = std::time::Instant::now();
            }
        }
        log.save().map_err(ApplyError::Receipt)?;
        saved = std::time::Instant::now();
        bursts.push((offset, end));
        offset = end;
    }
    log.save().map_err(ApplyError::Receipt)?;
    let waited = wait_all(provider, pending, sending, from, log).await;
    match (failure, waited) {
        (Some(failure), _) => Err(failure),
        (None, result) => result,
    }
}

/// The fees of `sending` on `request`: a type-0 gas price with `legacy`,
/// else the EIP-1559 max fee and tip that are set.
pub(crate) fn priced(mut request: TransactionRequest, sending: &Sending) -> TransactionRequest {
    if sending.legacy {
        if let Some(price) = sending.max_fee_per_gas {
            request = request.gas_price(price);
        }
        return request;
    }
    if let Some(fee) = sending.max_fee_per_gas {
        request = request.max_fee_per_gas(fee);
    }
    if let Some(tip) = sending.priority_fee_per_gas {
        request = request.max_priority_fee_per_gas(tip);
    }
    request
}

/// Waits until the account has `count` transactions mined, so the pool
/// has room again; false when a stop ended the wait.
async fn room_until(
    provider: &impl Provider,
    from: alloy::primitives::Address,
    count: u64,
    sending: &Sending,
) -> Result<bool, ApplyError> {
    let started = std::time::Instant::now();
    loop {
        if mined_count(provider, from).await? >= count {
            return Ok(true);
        }
        if sending.stopped() {
            return Ok(false);
        }
        if started.elapsed() > RECEIPT_TIMEOUT {
            return Err(ApplyError::Rpc {
                doing: format!("waiting for nonce {} to be mined before sending more", count.saturating_sub(1)),
                source: alloy::transports::TransportErrorKind::custom_str("not mined within 10 minutes"),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// After a "no room" refusal of the transaction at `nonce`: waits for one
/// more of the account's earlier transactions to be mined, or, with none of
/// them left in the pool, a moment; false when a stop ended the wait.
async fn make_room(
    provider: &impl Provider,
    from: alloy::primitives::Address,
    nonce: u64,
    sending: &Sending,
) -> Result<bool, ApplyError> {
    let mined = mined_count(provider, from).await?;
    if mined < nonce {
        return room_until(provider, from, mined + 1, sending).await;
    }
    tokio::time::sleep(POLL * 4).await;
    Ok(!sending.stopped())
}

/// The account's mined nonce (`eth_getTransactionCount` at `latest`).
async fn mined_count(provider: &impl Provider, from: alloy::primitives::Address) -> Result<u64, ApplyError> {
    provider
        .get_transaction_count(from)
        .await
        .map_err(ApplyError::rpc("waiting for the pool to take more transactions"))
}

/// Waits for every sent transaction and records its outcome; the first
/// revert, or the first wait that failed, is the result. While waiting it
/// says what is pending and for how long.
async fn wait_all(
    provider: &impl Provider,
    pending: Vec<(&&Transaction, B256, u64, u64)>,
    sending: &Sending,
    from: alloy::primitives::Address,
    log: &mut ReceiptLog,
) -> Result<(), ApplyError> {
    let mut first_error = None;
    let mut saved = std::time::Instant::now();
    let mut pending = pending.into_iter();
    while let Some((tx, hash, nonce, gas)) = pending.next() {
        let waited = tokio::select! {
            mined = mined(provider, Sent { tx, hash, nonce, gas, from }, sending, log) => mined,
            () = sending.grace_after_stop() => Err(ApplyError::Waiting { hash, reason: "stopped before it was mined".into() }),
        };
        let (hash, receipt) = match waited {
            Ok(found) => found,
            Err(ApplyError::ReceiptUnread { call, hash, reason }) => {
                // Every later read meets the same refusal: the rest are
                // recorded unread without asking.
                let nonces: Vec<u64> = std::iter::once(nonce).chain(pending.by_ref().map(|p| p.2)).collect();
                mark_unread(log, &nonces, &reason);
                first_error.get_or_insert(ApplyError::ReceiptUnread { call, hash, reason });
                break;
            }
            Err(error) => {
                first_error.get_or_insert(error);
                continue;
            }
        };
        let revert = if receipt.status() { None } else { Some(revert_reason(provider, &tx.contract, hash).await) };
        if let Some(record) = log.receipt.transactions.iter_mut().find(|r| r.hash == hash) {
            record.mined_as(if revert.is_none() { "success" } else { "reverted" }, &receipt);
            record.revert = revert.clone();
        }
        if revert.is_some() || saved.elapsed() >= SAVE_EVERY {
            log.save().map_err(ApplyError::Receipt)?;
            saved = std::time::Instant::now();
        }
        if let Some(revert) = revert {
            first_error.get_or_insert(ApplyError::Reverted {
                contract: tx.contract.clone(),
                function: tx.function.clone(),
                hash,
                revert,
            });
        }
    }
    log.save().map_err(ApplyError::Receipt)?;
    first_error.map_or(Ok(()), Err)
}

/// Records on the transactions of `log` at `nonces` that their receipts
/// could not be read, and why (they stay `sent`: they may well be mined).
pub(super) fn mark_unread(log: &mut ReceiptLog, nonces: &[u64], reason: &str) {
    for record in log.receipt.transactions.iter_mut().filter(|r| nonces.contains(&r.nonce) && r.block.is_none()) {
        record.receipt_unread = Some(reason.to_string());
    }
}

/// What a failed read while waiting for `hash` (the transaction of `call`)
/// means: a spent quota ends the wait for good (asking again cannot help,
/// and every other read meets it too); anything else is a failed wait.
pub(super) fn waiting_failed(
    hash: B256,
    call: &str,
) -> impl Fn(alloy::transports::TransportError) -> ApplyError + Copy + '_ {
    move |error| match crate::rpc::QuotaExhausted::of(&error) {
        Some(quota) => ApplyError::ReceiptUnread { call: call.to_string(), hash, reason: quota.to_string() },
        None => ApplyError::Waiting { hash, reason: error.to_string() },
    }
}

/// How often a pending transaction is looked for.
pub(super) const POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// How often progress is told while waiting.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// One sent transaction, with what it takes to send it again.
struct Sent<'a> {
    tx: &'a Transaction,
    hash: B256,
    nonce: u64,
    gas: u64,
    from: alloy::primitives::Address,
}

/// Polls until the transaction is mined with the wanted confirmations,
/// telling what it waits for every [`PROGRESS_EVERY`] and, with
/// `bump_after`, replacing it at the same nonce with a higher fee (whichever
/// version is mined, the call is made once); returns the mined hash and
/// receipt.
async fn mined(
    provider: &impl Provider,
    sent: Sent<'_>,
    sending: &Sending,
    log: &mut ReceiptLog,
) -> Result<(B256, alloy::rpc::types::TransactionReceipt), ApplyError> {
    let started = std::time::Instant::now();
    let (mut told, mut sent_at) = (started, started);
    let mut hashes = vec![sent.hash];
    let call = format!("{}.{}", sent.tx.contract, sent.tx.function);
    loop {
        for hash in hashes.iter().rev() {
            let failed = waiting_failed(*hash, &call);
            if let Some(receipt) = provider.get_transaction_receipt(*hash).await.map_err(failed)? {
                // One confirmation is the receipt itself: no need to ask the height.
                let deep = receipt.block_number.unwrap_or_default() + sending.confirmations.max(1) - 1;
                if sending.confirmations <= 1 || provider.get_block_number().await.map_err(failed)? >= deep {
                    return Ok((*hash, receipt));
                }
            }
        }
        let latest = hashes[hashes.len() - 1];
        let waiting = started.elapsed();
        if waiting > RECEIPT_TIMEOUT {
            return Err(ApplyError::Waiting { hash: latest, reason: "not mined within 10 minutes".into() });
        }
        if let (Some(progress), true) = (sending.progress, told.elapsed() >= PROGRESS_EVERY) {
            let function = &sent.tx.function;
            progress(&format!(
                "waiting for {function} ({latest}, nonce {}): {} s so far",
                sent.nonce,
                waiting.as_secs()
            ));
            told = std::time::Instant::now();
        }
        if let Some(after) = sending.bump_after
            && sent_at.elapsed() >= after
            && !sending.stopped()
        {
            let replacement = replace(provider, &sent, latest, sending).await?;
            if let Some(progress) = sending.progress {
                let function = &sent.tx.function;
                progress(&format!(
                    "replaced {function} ({latest}) with {replacement}: same nonce {}, higher fee",
                    sent.nonce
                ));
            }
            if let Some(record) = log.receipt.transactions.iter_mut().find(|r| r.hash == latest) {
                record.replaced.push(latest);
                record.hash = replacement;
            }
            log.save().map_err(ApplyError::Receipt)?;
            hashes.push(replacement);
            sent_at = std::time::Instant::now();
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The same call at the same nonce with fees at least 12.5 % above the
/// version `current` (what nodes ask of a replacement) and at least what the
/// node suggests now (its gas price, for a legacy transaction), but never
/// above the fee ceiling. A version the node dropped is sent again only while
/// its nonce is unused.
async fn replace(
    provider: &impl Provider,
    sent: &Sent<'_>,
    current: B256,
    sending: &Sending,
) -> Result<B256, ApplyError> {
    use alloy::consensus::Transaction as _;
    let call = format!("{}.{}", sent.tx.contract, sent.tx.function);
    let failed = waiting_failed(current, &call);
    let old = provider.get_transaction_by_hash(current).await.map_err(failed)?;
    if old.is_none() && provider.get_transaction_count(sent.from).await.map_err(failed)? > sent.nonce {
        return Err(ApplyError::Waiting {
            hash: current,
            reason: format!("nonce {} was used by another transaction", sent.nonce),
        });
    }
    let bumped = |fee: u128| fee + fee / 8 + 1;
    // Never above the ceiling: offer it at most, as long as that is still
    // the bump a node asks of a replacement.
    let ceiling = sending.fee_ceiling.unwrap_or(u128::MAX);
    let above_ceiling = || ApplyError::Waiting {
        hash: current,
        reason: format!(
            "a replacement would have to offer more than the ceiling of {} per gas (--max-fee-per-gas); it was not sent",
            super::fees::gwei(ceiling)
        ),
    };
    let request = request(sent.tx, sent.from).nonce(sent.nonce).gas_limit(sent.gas);
    let request = if sending.legacy {
        let suggested = provider.get_gas_price().await.map_err(failed)?;
        let old_price = old.map_or(0, |o| o.inner.max_fee_per_gas());
        let price = bumped(old_price).max(suggested).min(ceiling);
        if price < bumped(old_price) {
            return Err(above_ceiling());
        }
        request.gas_price(price)
    } else {
        let suggested = provider.estimate_eip1559_fees().await.map_err(failed)?;
        let (old_fee, old_tip) =
            old.map_or((0, 0), |o| (o.inner.max_fee_per_gas(), o.inner.max_priority_fee_per_gas().unwrap_or(0)));
        let tip = bumped(old_tip).max(suggested.max_priority_fee_per_gas);
        let max_fee = bumped(old_fee).max(suggested.max_fee_per_gas).max(tip).min(ceiling);
        let tip = tip.min(max_fee);
        if max_fee < bumped(old_fee) || tip < bumped(old_tip) {
            return Err(above_ceiling());
        }
        request.max_fee_per_gas(max_fee).max_priority_fee_per_gas(tip)
    };
    let pending = provider.send_transaction(request).await.map_err(failed)?;
    Ok(*pending.tx_hash())
}

/// Why a mined transaction reverted: its custom error, from the node's
/// call trace.
async fn revert_reason(provider: &impl Provider, contract: &str, hash: B256) -> String {
    let options = serde_json::json!({ "tracer": "callTracer" });
    let trace: Result<serde_json::Value, _> =
        provider.raw_request("debug_traceTransaction".into(), (hash, options)).await;
    let output = trace.ok().and_then(|t| t.get("output").and_then(|o| o.as_str()).map(str::to_string));
    match output.and_then(|hex| hex.parse::<Bytes>().ok()) {
        Some(data) => revert_name(contract, &data),
        None => "a revert (the node gave no trace)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_goes_in_bursts_of_one_block_of_gas_limits_and_a_too_large_call_alone() {
        let gas = [10, 10, 10, 25, 40, 5];
        assert_eq!(burst_end(&gas, 0, 30), 3, "three of 10 fill a block of 30");
        assert_eq!(burst_end(&gas, 3, 30), 4, "25 and 40 do not share one");
        assert_eq!(burst_end(&gas, 4, 30), 5, "a call above the limit still goes, alone");
        assert_eq!(burst_end(&gas, 5, 30), 6);
        assert_eq!(blocks_needed(&gas, 30), 4);
        assert_eq!(blocks_needed(&[], 30), 0);
        // 600 grants at 71,500 gas each in 30M blocks: 419 + 181.
        assert_eq!(blocks_needed(&[71_500; 600], 30_000_000), 2);
    }

    #[test]
    fn only_a_refusal_for_pool_room_is_sent_again() {
        let answer = |message: &str| {
            alloy::transports::TransportError::ErrorResp(alloy::rpc::json_rpc::ErrorPayload {
                code: -32000,
                message: message.to_string().into(),
                data: None,
            })
        };
        assert!(no_room(&answer("txpool is full")));
        assert!(no_room(&answer("account limit exceeded")));
        assert!(no_room(&answer("Transaction's sender exceeds capacity")));
        assert!(!no_room(&answer("nonce too low")));
        assert!(!no_room(&answer("insufficient funds for gas * price + value")));
        assert!(!no_room(&alloy::transports::TransportErrorKind::custom_str("connection reset")));
    }
}
