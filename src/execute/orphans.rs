//! Transactions earlier applies recorded that the chain no longer holds.
//!
//! A reorganisation can take a mined transaction off the chain. Its signed
//! form stays valid while its nonce is unused, and whoever kept it (a
//! node's pool, a relayer, an explorer) can get it mined later — after the
//! next apply, into a state neither file asked for. So every apply first
//! looks again at what the signer's earlier receipts recorded as mined or
//! sent:
//!
//! - one still on chain where it was recorded is left alone; one a reorg
//!   moved to another block, or recorded as sent and mined since (its
//!   receipt unread when the endpoint's quota ran out), has its record
//!   corrected;
//! - one gone whose nonce another transaction has taken can never run: its
//!   record is corrected, nothing is sent;
//! - one gone whose nonce is still unused is made harmless before anything
//!   else is sent: when this plan sends the very same calls at the very
//!   same nonces, they are sent again by the plan itself; otherwise each of
//!   those nonces is taken by a zero-value self-transfer first, so the old
//!   signed transactions can never be mined, and the plan follows.
//!
//! Every correction is written into the receipt that recorded the
//! transaction and told in the new receipt's warnings.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};

use super::ApplyError;
use super::receipt::{Receipt, ReceiptLog, TransactionRecord};
use super::send::Sending;
use crate::route::Transaction;

/// How many blocks back a recorded transaction is looked up again: a
/// deeper reorganisation is not expected of any chain govstate serves, and
/// a transaction whose nonce is still unused is looked up whatever its age.
const REORG_WINDOW: u64 = 256;

/// The gas of a plain transfer.
const TRANSFER_GAS: u64 = 21_000;

use super::send::{POLL, RECEIPT_TIMEOUT};

/// One transaction an earlier receipt recorded that the chain no longer
/// holds, with its nonce still unused.
#[derive(Debug, Clone)]
struct Orphan {
    /// The receipt that recorded it.
    receipt: PathBuf,
    /// Its position in that receipt's transactions.
    index: usize,
    /// The record, as read.
    record: TransactionRecord,
    /// The contracts of the plan that sent it, by address, sorted.
    deployment: Vec<Address>,
}

/// Whether a recorded transaction is worth looking up again: it may be
/// gone (mined recently, or sent recently and never seen mined) or it may
/// still run (its nonce is unused). One already found gone with its nonce
/// taken is final; one whose receipt was never read (a spent quota) is
/// looked up until it is, however long ago it was sent. `made_at` is the
/// block its plan was made at.
fn worth_checking(record: &TransactionRecord, next: u64, latest: u64, made_at: u64) -> bool {
    let recent = |block: u64| block.saturating_add(REORG_WINDOW) > latest;
    match record.status.as_str() {
        "orphaned" => record.nonce >= next,
        "sent" if record.receipt_unread.is_some() => true,
        "sent" | "success" | "reverted" => record.nonce >= next || recent(record.block.unwrap_or(made_at)),
        _ => false,
    }
}

/// The contracts of a plan, by address, sorted: which deployment it is for.
pub fn deployment(plan: &crate::plan::Plan) -> Vec<Address> {
    let mut addresses: Vec<Address> = plan.contracts.iter().map(|c| c.address).collect();
    addresses.sort();
    addresses
}

/// The call a record made, for people: `stake_manager.setFeePct(fees_pct.fee: 2%)`.
fn what(record: &TransactionRecord) -> String {
    let call = if record.decoded.is_empty() { &record.function } else { &record.decoded };
    format!("{}.{call} ({}, nonce {})", record.contract, record.hash, record.nonce)
}

/// How a record left the chain: `orphaned by a reorg at block 5`, or
/// dropped before it was ever seen mined.
fn how(record: &TransactionRecord) -> String {
    match (record.status.as_str(), record.block) {
        ("orphaned", _) => record.orphaned.clone().unwrap_or_else(|| "orphaned".into()),
        (_, Some(block)) => format!("orphaned by a reorg at block {block}: no longer on chain"),
        (_, None) => "dropped before it was mined: not on chain".to_string(),
    }
}

/// True when `outgoing`, sent from nonce `next` on to the contracts of
/// `deployment`, makes exactly each orphan's call at the orphan's nonce:
/// then sending the plan is sending them again.
fn sent_again_by(orphans: &[Orphan], outgoing: &[&Transaction], next: u64, deployment: &[Address]) -> bool {
    orphans.iter().all(|o| {
        let at = usize::try_from(o.record.nonce - next).ok().and_then(|i| outgoing.get(i));
        at.is_some_and(|t| {
            !o.record.decoded.is_empty()
                && o.deployment == deployment
                && t.contract == o.record.contract
                && t.function == o.record.function
                && t.decoded == o.record.decoded
        })
    })
}

/// The signer's receipts in `dir` on chain `chain_id`, but `skip` (the
/// apply's own).
fn receipts(dir: &Path, signer: Address, chain_id: u64, skip: &Path) -> Vec<(PathBuf, Receipt)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<(PathBuf, Receipt)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && p != skip)
        .filter_map(|p| {
            let receipt = serde_json::from_slice::<Receipt>(&std::fs::read(&p).ok()?).ok()?;
            (receipt.signer == signer && receipt.plan.chain_id == chain_id).then_some((p, receipt))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// Where a recorded transaction stands now.
enum Standing {
    /// Mined (this version), with its receipt.
    Mined(B256, Box<TransactionReceipt>),
    /// Waiting in the node's pool: preflight's pending checks handle it.
    Pooled,
    /// Not on chain, not in the pool.
    Gone,
}

/// Looks up every version of a record (replacements included).
async fn standing(provider: &impl Provider, record: &TransactionRecord) -> Result<Standing, ApplyError> {
    for hash in std::iter::once(record.hash).chain(record.replaced.iter().copied()) {
        if let Some(mined) = provider.get_transaction_receipt(hash).await.map_err(lookup_error)? {
            return Ok(Standing::Mined(hash, Box::new(mined)));
        }
    }
    let held = provider.get_transaction_by_hash(record.hash).await.map_err(lookup_error)?;
    Ok(if held.is_some() { Standing::Pooled } else { Standing::Gone })
}

fn lookup_error(source: alloy::transports::TransportError) -> ApplyError {
    ApplyError::rpc("looking up a transaction an earlier apply recorded")(source)
}

/// What the earlier receipts hold that the chain does not: the orphans
/// whose nonce is unused, and a line per correction written.
#[derive(Debug, Default)]
pub struct Found {
    orphans: Vec<Orphan>,
    /// One line per correction written into an earlier receipt.
    pub lines: Vec<String>,
    /// The hash of the chain's block 0.
    genesis: Option<B256>,
}

impl Found {
    /// True when no signed transaction of an earlier apply can still run.
    pub fn settled(&self) -> bool {
        self.orphans.is_empty()
    }
}

/// Looks again at every recorded transaction worth it, corrects the
/// receipts where the chain says otherwise, and returns the orphans whose
/// nonce is still unused.
async fn find(
    provider: &impl Provider,
    dir: &Path,
    (signer, chain_id): (Address, u64),
    next: u64,
    own: &Path,
) -> Result<Found, ApplyError> {
    let latest = provider.get_block_number().await.map_err(ApplyError::rpc("reading the latest block"))?;
    let mut blocks = Blocks::default();
    let genesis = blocks.get(provider, 0).await?.map(|(hash, _)| *hash);
    let mut found = Found { genesis, ..Found::default() };
    for (path, mut receipt) in receipts(dir, signer, chain_id, own) {
        if !blocks.same_chain(provider, &receipt, genesis).await? {
            continue;
        }
        let mut changed = false;
        let (made_at, sent_for) = (receipt.plan.block.number, deployment(&receipt.plan));
        for (index, record) in receipt.transactions.iter_mut().enumerate() {
            if !worth_checking(record, next, latest, made_at) || blocks.holds(provider, record).await? {
                continue;
            }
            match standing(provider, record).await? {
                Standing::Mined(hash, mined) => {
                    if let Some(line) = correct_mined(record, hash, &mined) {
                        found.lines.push(format!("{line} (receipt {})", path.display()));
                        changed = true;
                    }
                }
                Standing::Pooled => {}
                Standing::Gone if record.nonce >= next => {
                    let deployment = sent_for.clone();
                    found.orphans.push(Orphan { receipt: path.clone(), index, record: record.clone(), deployment });
                }
                Standing::Gone => {
                    let note = format!(
                        "{}; its nonce {} was taken by another transaction, so it can never be mined",
                        how(record),
                        record.nonce
                    );
                    found.lines.push(format!("{} {note} (receipt {})", what(record), path.display()));
                    mark_orphaned(record, note);
                    changed = true;
                }
            }
        }
        if changed {
            save(&path, &receipt)?;
        }
    }
    Ok(found)
}

/// The transactions of the blocks records name, read once per block: a
/// record found in its block needs no lookup of its own, so a large apply
/// costs a read per block, not per transaction.
#[derive(Default)]
struct Blocks {
    /// Per block number: its hash and its transactions (none when the
    /// chain has no such block).
    read: std::collections::HashMap<u64, Option<(B256, Vec<B256>)>>,
}

impl Blocks {
    /// The block at `number`, read once.
    async fn get(&mut self, provider: &impl Provider, number: u64) -> Result<Option<&(B256, Vec<B256>)>, ApplyError> {
        if let std::collections::hash_map::Entry::Vacant(entry) = self.read.entry(number) {
            let block = provider
                .get_block_by_number(number.into())
                .await
                .map_err(ApplyError::rpc("reading a block an earlier apply recorded"))?;
            entry.insert(block.map(|b| (b.header.hash, b.transactions.hashes().collect())));
        }
        Ok(self.read.get(&number).and_then(Option::as_ref))
    }

    /// True when `receipt` was made on this chain, not on another with the
    /// same id: its genesis is this chain's, or (a receipt from before
    /// genesis was recorded) the block its plan was made at is still here.
    async fn same_chain(
        &mut self,
        provider: &impl Provider,
        receipt: &Receipt,
        genesis: Option<B256>,
    ) -> Result<bool, ApplyError> {
        if let Some(recorded) = receipt.genesis {
            return Ok(genesis == Some(recorded));
        }
        let made_at = receipt.plan.block;
        Ok(self.get(provider, made_at.number).await?.is_some_and(|(hash, _)| *hash == made_at.hash))
    }

    /// True when the record's block holds it as recorded.
    async fn holds(&mut self, provider: &impl Provider, record: &TransactionRecord) -> Result<bool, ApplyError> {
        let (Some(number), "success" | "reverted") = (record.block, record.status.as_str()) else {
            return Ok(false);
        };
        Ok(self.get(provider, number).await?.is_some_and(|(_, hashes)| hashes.contains(&record.hash)))
    }
}

/// Brings a record in line with where the chain holds it; a line saying
/// what changed, or `None` when the record was right.
fn correct_mined(record: &mut TransactionRecord, hash: B256, mined: &TransactionReceipt) -> Option<String> {
    let status = if mined.status() { "success" } else { "reverted" };
    if record.status == status && record.block == mined.block_number && record.hash == hash {
        return None;
    }
    let was = match (record.status.as_str(), record.block) {
        ("orphaned", _) => "recorded as orphaned".to_string(),
        (_, Some(block)) => format!("recorded in block {block}"),
        (_, None) => format!("recorded as {}", record.status),
    };
    let now = mined.block_number.map_or_else(|| "mined".to_string(), |b| format!("mined in block {b}"));
    let line = format!("{} was {was}; it is {now} ({status})", what(record));
    if record.hash != hash {
        record.replaced.retain(|h| *h != hash);
        record.replaced.push(record.hash);
        record.hash = hash;
    }
    record.mined_as(status, mined);
    record.orphaned = None;
    Some(line)
}

fn mark_orphaned(record: &mut TransactionRecord, note: String) {
    record.status = "orphaned".to_string();
    record.orphaned = Some(note);
}

/// Rewrites an earlier receipt with its corrections.
fn save(path: &Path, receipt: &Receipt) -> Result<(), ApplyError> {
    let json = serde_json::to_vec_pretty(receipt).map_err(|e| ApplyError::Receipt(std::io::Error::other(e)))?;
    super::lock::replace_file(path, &json).map_err(ApplyError::Receipt)
}

/// Writes `note` into each orphan's receipt.
fn correct_orphans(orphans: &[Orphan], note: impl Fn(&Orphan) -> String) -> Result<Vec<String>, ApplyError> {
    let mut lines = Vec::new();
    for orphan in orphans {
        let bytes = std::fs::read(&orphan.receipt).map_err(ApplyError::Receipt)?;
        let mut receipt: Receipt =
            serde_json::from_slice(&bytes).map_err(|e| ApplyError::Receipt(std::io::Error::other(e)))?;
        let text = note(orphan);
        if let Some(record) = receipt.transactions.get_mut(orphan.index) {
            mark_orphaned(record, text.clone());
        }
        save(&orphan.receipt, &receipt)?;
        lines.push(format!("{} {text} (receipt {})", what(&orphan.record), orphan.receipt.display()));
    }
    Ok(lines)
}

/// Makes every orphaned transaction of the signer harmless before this
/// apply sends its plan (`outgoing`, from nonce `next` on), correcting the
/// earlier receipts and telling each correction in `log`'s warnings.
/// Returns true when nonces were used (self-transfers were sent): the
/// caller then clears the plan again at the new nonce.
pub async fn settle(
    provider: &impl Provider,
    (plan, signer): (&crate::plan::Plan, Address),
    next: u64,
    outgoing: &[&Transaction],
    sending: &Sending,
    log: &mut ReceiptLog,
) -> Result<bool, ApplyError> {
    let dir = log.path().parent().map(Path::to_path_buf).unwrap_or_default();
    let found = find(provider, &dir, (signer, plan.chain_id), next, log.path()).await?;
    resolve(provider, (plan, signer), next, found, outgoing, sending, log).await
}

/// The orphans of the signer's earlier applies in `dir` whose nonce is
/// still unused, the receipts already corrected where the chain says
/// otherwise; sends nothing.
pub async fn look(
    provider: &impl Provider,
    dir: &Path,
    (plan, signer): (&crate::plan::Plan, Address),
    next: u64,
) -> Result<Found, ApplyError> {
    find(provider, dir, (signer, plan.chain_id), next, Path::new("")).await
}

/// What [`settle`] does once the orphans are found.
pub async fn resolve(
    provider: &impl Provider,
    (plan, signer): (&crate::plan::Plan, Address),
    next: u64,
    found: Found,
    outgoing: &[&Transaction],
    sending: &Sending,
    log: &mut ReceiptLog,
) -> Result<bool, ApplyError> {
    log.receipt.warnings.extend(found.lines);
    log.receipt.genesis = found.genesis;
    if found.orphans.is_empty() {
        log.save().map_err(ApplyError::Receipt)?;
        return Ok(false);
    }
    if sent_again_by(&found.orphans, outgoing, next, &deployment(plan)) {
        let lines = correct_orphans(&found.orphans, |o| {
            format!("{}; this apply sends the same call again at nonce {}", how(&o.record), o.record.nonce)
        })?;
        log.receipt.warnings.extend(lines);
        log.save().map_err(ApplyError::Receipt)?;
        return Ok(false);
    }
    let last = found.orphans.iter().map(|o| o.record.nonce).max().unwrap_or(next);
    let taken = cancel(provider, signer, next..=last, &found.orphans, sending, log).await?;
    let lines = correct_orphans(&found.orphans, |o| {
        let by = taken.iter().find(|(nonce, _, _)| *nonce == o.record.nonce);
        let (hash, block) = by.map_or((B256::ZERO, None), |(_, hash, block)| (*hash, *block));
        let block = block.map_or_else(String::new, |b| format!(" in block {b}"));
        format!(
            "{}; its nonce {} was taken by a zero-value self-transfer {hash}{block}, so it can never be mined",
            how(&o.record),
            o.record.nonce
        )
    })?;
    log.receipt.warnings.extend(lines);
    log.save().map_err(ApplyError::Receipt)?;
    Ok(true)
}

/// Takes each nonce of `nonces` with a zero-value self-transfer, sent back
/// to back and recorded in `log`, then waits for each; returns (nonce,
/// hash, block) per transfer.
async fn cancel(
    provider: &impl Provider,
    signer: Address,
    nonces: std::ops::RangeInclusive<u64>,
    orphans: &[Orphan],
    sending: &Sending,
    log: &mut ReceiptLog,
) -> Result<Vec<(u64, B256, Option<u64>)>, ApplyError> {
    if let Some(progress) = sending.progress {
        progress(&format!(
            "{} transaction(s) of earlier applies were taken off the chain and are still valid: taking nonces {}..={} with zero-value self-transfers first",
            orphans.len(),
            nonces.start(),
            nonces.end()
        ));
    }
    let mut sent = Vec::new();
    for (offset, nonce) in nonces.enumerate() {
        let orphan = orphans.iter().find(|o| o.record.nonce == nonce);
        let mut request = TransactionRequest::default()
            .from(signer)
            .to(signer)
            .value(U256::ZERO)
            .nonce(nonce)
            .gas_limit(TRANSFER_GAS);
        request = super::send::priced(request, sending);
        let function = "zero-value self-transfer".to_string();
        let hash = match provider.send_transaction(request).await {
            Ok(pending) => *pending.tx_hash(),
            Err(source) => return Err(ApplyError::SendFailed { function, sent: offset, source }),
        };
        let cancels = orphan.map_or_else(|| "a gap before later orphans".to_string(), |o| what(&o.record));
        let transfer = Transaction {
            call: 0,
            phase: orphan.map_or(crate::contracts::Phase::Configure, |o| o.record.phase),
            contract: "signer".to_string(),
            function,
            to: signer,
            data: Default::default(),
            operation: None,
            makes: Vec::new(),
            decoded: format!("zero-value self-transfer at nonce {nonce}, so that {cancels} can never be mined"),
            args: Vec::new(),
        };
        log.receipt.transactions.push(TransactionRecord::sent(&transfer, hash, nonce));
        log.save().map_err(ApplyError::Receipt)?;
        sent.push((nonce, hash));
    }
    let mut taken = Vec::with_capacity(sent.len());
    for (at, &(nonce, hash)) in sent.iter().enumerate() {
        let mined = match mined(provider, hash, sending).await {
            Ok(mined) => mined,
            Err(ApplyError::ReceiptUnread { call, hash, reason }) => {
                let nonces: Vec<u64> = sent[at..].iter().map(|(n, _)| *n).collect();
                super::send::mark_unread(log, &nonces, &reason);
                log.save().map_err(ApplyError::Receipt)?;
                return Err(ApplyError::ReceiptUnread { call, hash, reason });
            }
            Err(error) => return Err(error),
        };
        if let Some(record) = log.receipt.transactions.iter_mut().find(|r| r.hash == hash) {
            record.mined_as(if mined.status() { "success" } else { "reverted" }, &mined);
        }
        log.save().map_err(ApplyError::Receipt)?;
        taken.push((nonce, hash, mined.block_number));
    }
    Ok(taken)
}

/// Polls until `hash` is mined; a stop or the time-out ends the wait.
async fn mined(provider: &impl Provider, hash: B256, sending: &Sending) -> Result<TransactionReceipt, ApplyError> {
    let started = std::time::Instant::now();
    let failed = super::send::waiting_failed(hash, "signer.zero-value self-transfer");
    loop {
        if let Some(receipt) = provider.get_transaction_receipt(hash).await.map_err(failed)? {
            return Ok(receipt);
        }
        if sending.stopped() {
            return Err(ApplyError::Waiting { hash, reason: "stopped before it was mined".into() });
        }
        if started.elapsed() > RECEIPT_TIMEOUT {
            return Err(ApplyError::Waiting { hash, reason: "not mined within 10 minutes".into() });
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::Phase;

    fn record(nonce: u64, status: &str, block: Option<u64>) -> TransactionRecord {
        TransactionRecord {
            call: 1,
            phase: Phase::Configure,
            contract: "stake_manager".into(),
            function: "setFeePct(uint256)".into(),
            decoded: "setFeePct(fees_pct.fee: 2%)".into(),
            args: Vec::new(),
            hash: B256::repeat_byte(nonce as u8),
            nonce,
            status: status.into(),
            block,
            gas_used: None,
            effective_gas_price: None,
            revert: None,
            operation: None,
            replaced: Vec::new(),
            orphaned: None,
            receipt_unread: None,
        }
    }

    fn transaction(decoded: &str) -> Transaction {
        Transaction {
            call: 1,
            phase: Phase::Configure,
            contract: "stake_manager".into(),
            function: "setFeePct(uint256)".into(),
            to: Address::ZERO,
            data: Default::default(),
            operation: None,
            makes: vec![0],
            decoded: decoded.into(),
            args: Vec::new(),
        }
    }

    #[test]
    fn a_recorded_transaction_is_looked_up_while_it_may_be_gone_or_may_still_run() {
        let check = |r: TransactionRecord, next, latest| worth_checking(&r, next, latest, 3);
        assert!(check(record(4, "success", Some(5)), 6, 100), "recently mined: a reorg may take it");
        assert!(!check(record(4, "success", Some(5)), 6, 5 + REORG_WINDOW), "deep below the tip");
        assert!(check(record(7, "success", Some(5)), 6, 10_000), "its nonce is unused: it may still run");
        assert!(check(record(4, "sent", None), 6, 100), "sent recently, never seen mined");
        assert!(!check(record(4, "sent", None), 6, 3 + REORG_WINDOW), "sent long ago: its nonce went on");
        let unread = TransactionRecord { receipt_unread: Some("quota".into()), ..record(4, "sent", None) };
        assert!(check(unread, 6, 3 + 100 * REORG_WINDOW), "its receipt never read: looked up until it is");
        assert!(check(record(6, "orphaned", Some(5)), 6, 10), "orphaned, nonce unused");
        assert!(!check(record(4, "orphaned", Some(5)), 6, 10), "orphaned, nonce taken: final");
    }

    #[test]
    fn only_the_same_calls_at_the_same_nonces_count_as_sent_again() {
        let here = vec![Address::repeat_byte(1)];
        let orphan = |nonce| Orphan {
            receipt: PathBuf::new(),
            index: 0,
            record: record(nonce, "success", Some(5)),
            deployment: here.clone(),
        };
        let fee_2 = transaction("setFeePct(fees_pct.fee: 2%)");
        let fee_5 = transaction("setFeePct(fees_pct.fee: 5%)");
        assert!(sent_again_by(&[orphan(4)], &[&fee_2], 4, &here));
        assert!(sent_again_by(&[orphan(5)], &[&fee_5, &fee_2], 4, &here), "the second of the plan, at nonce 5");
        assert!(!sent_again_by(&[orphan(4)], &[&fee_5], 4, &here), "another value");
        assert!(!sent_again_by(&[orphan(5)], &[&fee_2], 4, &here), "the plan ends before its nonce");
        assert!(!sent_again_by(&[orphan(4), orphan(5)], &[&fee_2, &fee_5], 4, &here), "one of two differs");
        let elsewhere = [Address::repeat_byte(2)];
        assert!(!sent_again_by(&[orphan(4)], &[&fee_2], 4, &elsewhere), "the same call to another deployment");
    }

    #[test]
    fn a_record_found_mined_elsewhere_is_corrected_and_says_so() {
        let mined: TransactionReceipt = serde_json::from_value(serde_json::json!({
            "transactionHash": B256::repeat_byte(4), "transactionIndex": "0x0", "blockHash": B256::repeat_byte(9),
            "blockNumber": "0x9", "from": Address::ZERO, "to": Address::ZERO, "cumulativeGasUsed": "0x5208",
            "gasUsed": "0x5208", "effectiveGasPrice": "0x1", "contractAddress": null, "logs": [],
            "logsBloom": format!("0x{}", "00".repeat(256)), "type": "0x2", "status": "0x1"
        }))
        .expect("a receipt");
        let mut moved = record(4, "success", Some(5));
        let line = correct_mined(&mut moved, B256::repeat_byte(4), &mined).expect("corrected");
        assert!(line.contains("was recorded in block 5; it is mined in block 9"), "{line}");
        assert_eq!(moved.block, Some(9));
        assert!(correct_mined(&mut moved, B256::repeat_byte(4), &mined).is_none(), "right now");
    }
}
