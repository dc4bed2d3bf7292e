//! Calling many getters at one block in one round trip: a JSON-RPC batch of
//! `eth_call`s, or `aggregate3` calls to Multicall3 where it is deployed.

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, Bytes, address};
use alloy::providers::Provider;
use alloy::rpc::client::{BatchRequest, Waiter};
use alloy::rpc::types::TransactionRequest;
use alloy::sol;
use alloy::sol_types::SolCall;

use alloy::transports::{RpcError, TransportError};

use super::{BlockRef, ObserveError, pin};

sol!(
    #[allow(missing_docs)]
    Multicall3,
    "contracts/out/Multicall3.json"
);

/// Multicall3's address on most chains (not on a fresh anvil).
pub const MULTICALL3: Address = address!("0xcA11bde05977b3631167028862bE2a173976CA11");

/// Multicall3's runtime code, to install on a devnet.
pub fn multicall3_code() -> Bytes {
    Multicall3::DEPLOYED_BYTECODE.clone()
}

/// The gas one read inside `aggregate3` is budgeted at: a getter's cold
/// storage reads (2,100 each) and cold account access (2,600, once per
/// target), Multicall3's loop and copying (a few thousand), with room to
/// spare. Measured on anvil: about 5,600 a membership check in an
/// aggregate of 1,000 (`eth_estimateGas`, base cost included).
const GAS_PER_READ: u64 = 15_000;

/// Gas per call-data byte (16 for a non-zero byte), on top.
const GAS_PER_BYTE: u64 = 16;

/// The gas one `aggregate3` may be budgeted: half the block's gas limit (a
/// node caps `eth_call` at it, or at a fixed cap of about that size: geth's
/// 50M, many providers' 30M–550M), at most 15M, and 10M when the limit is
/// unknown.
fn aggregate_budget(block_gas_limit: u64) -> u64 {
    match block_gas_limit {
        0 => 10_000_000,
        limit => (limit / 2).clamp(1_000_000, 15_000_000),
    }
}

/// The reads cut into consecutive groups whose budgeted gas fits one
/// `aggregate3` (a read alone over the budget still goes, alone).
fn gas_chunks(reads: &[Read], budget: u64) -> Vec<&[Read]> {
    let mut chunks = Vec::new();
    let (mut start, mut gas) = (0, 0u64);
    for (i, read) in reads.iter().enumerate() {
        let cost = GAS_PER_READ + GAS_PER_BYTE * read.data.len() as u64;
        if i > start && gas + cost > budget {
            chunks.push(&reads[start..i]);
            (start, gas) = (i, 0);
        }
        gas += cost;
    }
    if start < reads.len() {
        chunks.push(&reads[start..]);
    }
    chunks
}

/// One getter call.
#[derive(Debug, Clone)]
pub struct Read {
    /// The contract called.
    pub to: Address,
    /// ABI-encoded call.
    pub data: Vec<u8>,
}

/// What one getter returned, or why it failed.
pub type ReadResult = Result<Bytes, String>;

/// Runs every read at `block`: through Multicall3 when `multicall` (in
/// `aggregate3` calls of bounded gas, see [`aggregate_budget`]), else as
/// plain `eth_call`s; either way in JSON-RPC batches of at most `max_batch`
/// requests, sent at once, each pinned by number and checking the block's
/// hash (a different hash is [`ObserveError::Reorg`]).
pub async fn read_all(
    provider: &impl Provider,
    reads: &[Read],
    block: BlockRef,
    multicall: bool,
    max_batch: usize,
) -> Result<Vec<ReadResult>, ObserveError> {
    if !multicall {
        return Ok(read_with_code(provider, reads, &[], block, max_batch).await?.0);
    }
    let budget = aggregate_budget(block.gas_limit);
    let aggregates: Vec<Read> = gas_chunks(reads, budget).into_iter().map(aggregate3).collect();
    let mut results = Vec::with_capacity(reads.len());
    for answer in batched(provider, &aggregates, &[], block, max_batch).await?.0 {
        let data = answer.map_err(|reason| ObserveError::Multicall { reason })?;
        results.extend(decode_aggregate3(&data)?);
    }
    Ok(results)
}

/// The results inside one `aggregate3` answer: a failed call is a result,
/// data that does not decode an error.
pub fn decode_aggregate3(data: &[u8]) -> Result<Vec<ReadResult>, ObserveError> {
    let decoded = Multicall3::aggregate3Call::abi_decode_returns(data)
        .map_err(|e| ObserveError::Multicall { reason: e.to_string() })?;
    let result =
        |r: Multicall3::Result| if r.success { Ok(r.returnData) } else { Err(format!("reverted: {}", r.returnData)) };
    Ok(decoded.into_iter().map(result).collect())
}

fn aggregate3(group: &[Read]) -> Read {
    let calls = group
        .iter()
        .map(|r| Multicall3::Call3 { target: r.to, allowFailure: true, callData: r.data.clone().into() })
        .collect();
    Read { to: MULTICALL3, data: Multicall3::aggregate3Call { calls }.abi_encode() }
}

/// [`read_all`] through plain `eth_call`s, with the `eth_getCode` of each of
/// `codes` at `block` riding along in the first batch; returns the answers
/// and the codes, in order.
pub async fn read_with_code(
    provider: &impl Provider,
    reads: &[Read],
    codes: &[Address],
    block: BlockRef,
    max_batch: usize,
) -> Result<(Vec<ReadResult>, Vec<Bytes>), ObserveError> {
    // The same call at the same block answers the same: asked once (a
    // field that is also the authority, as `owner()` is).
    let (distinct, index) = distinct(reads);
    let (answers, codes) = batched(provider, &distinct, codes, block, max_batch).await?;
    let answers = index.into_iter().map(|i| answers.get(i).cloned().unwrap_or_else(|| Err("no answer".into())));
    Ok((answers.collect(), codes))
}

/// The distinct reads among `reads`, in order of first appearance, and the
/// position of each read among them.
fn distinct(reads: &[Read]) -> (Vec<Read>, Vec<usize>) {
    let mut seen: std::collections::HashMap<(Address, &[u8]), usize> = std::collections::HashMap::new();
    let mut out = Vec::new();
    let mut index = Vec::with_capacity(reads.len());
    for read in reads {
        let at = *seen.entry((read.to, read.data.as_slice())).or_insert_with(|| {
            out.push(read.clone());
            out.len() - 1
        });
        index.push(at);
    }
    (out, index)
}

/// Sends the reads in batches of at most `max_batch` requests (the hash
/// check included), all at once; the `eth_getCode` of `codes` go in the
/// first. (A batch the node refuses for its length,
/// or whose answer is too large to read, is halved by the transport: see
/// `rpc::batch`.)
async fn batched(
    provider: &impl Provider,
    reads: &[Read],
    codes: &[Address],
    block: BlockRef,
    max_batch: usize,
) -> Result<(Vec<ReadResult>, Vec<Bytes>), ObserveError> {
    // Each batch also carries the pinned block's header (its hash check).
    let mut ranges = ranges(reads, max_batch.saturating_sub(1 + codes.len()));
    if ranges.is_empty() && !codes.is_empty() {
        ranges.push(0..0);
    }
    let sent = ranges.iter().enumerate().map(|(i, range)| {
        let codes = if i == 0 { codes } else { &[] };
        send_batch(provider, &reads[range.clone()], codes, block)
    });
    let (mut results, mut found_codes) = (Vec::with_capacity(reads.len()), Vec::with_capacity(codes.len()));
    for answer in futures::future::join_all(sent).await {
        match answer {
            Ok(Err(found)) => return Err(ObserveError::Reorg { number: block.number, expected: block.hash, found }),
            Ok(Ok((answers, codes))) => {
                results.extend(answers);
                found_codes.extend(codes);
            }
            Err(source) => return Err(ObserveError::Rpc { doing: "reading the managed fields".into(), source }),
        }
    }
    Ok((results, found_codes))
}

/// Call data per batch, well under common request-body limits (anvil
/// refuses bodies over 2 MiB; call data travels as hex, twice its size).
const MAX_BATCH_CALLDATA: usize = 512 * 1024;

/// The reads cut into consecutive ranges of at most `size` requests and
/// [`MAX_BATCH_CALLDATA`] bytes of call data each.
fn ranges(reads: &[Read], size: usize) -> Vec<std::ops::Range<usize>> {
    let size = size.max(1);
    let mut ranges = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, read) in reads.iter().enumerate() {
        let full = i - start == size || (i > start && bytes + read.data.len() > MAX_BATCH_CALLDATA);
        if full {
            ranges.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += read.data.len();
    }
    if start < reads.len() {
        ranges.push(start..reads.len());
    }
    ranges
}

/// Adds one `eth_call` of `read` at `block` to `batch`.
pub fn add_call(batch: &mut BatchRequest<'_>, read: &Read, block: BlockId) -> Result<Waiter<Bytes>, TransportError> {
    let tx = TransactionRequest::default().to(read.to).input(Bytes::from(read.data.clone()).into());
    batch.add_call::<_, Bytes>("eth_call", &(tx, block))
}

/// One batch of `eth_call`s at `block`'s number, with the check of its
/// hash. A reverted call is a result; a batch the node did not answer call
/// by call is an error; `Ok(Err(hash))` when the block at that height now
/// has another hash.
async fn send_batch(
    provider: &impl Provider,
    reads: &[Read],
    codes: &[Address],
    block: BlockRef,
) -> Result<Result<(Vec<ReadResult>, Vec<Bytes>), B256>, TransportError> {
    let mut batch = BatchRequest::new(provider.client());
    let check = pin::add_check(&mut batch, block)?;
    let mut code_waiters = Vec::with_capacity(codes.len());
    for address in codes {
        let at = alloy::eips::BlockNumberOrTag::Number(block.number);
        code_waiters.push(batch.add_call::<_, Bytes>("eth_getCode", &(*address, at))?);
    }
    let mut waiters = Vec::with_capacity(reads.len());
    for read in reads {
        waiters.push(add_call(&mut batch, read, BlockId::number(block.number))?);
    }
    batch.send().await?;
    if let Some(found) = pin::confirm(check, block).await? {
        return Ok(Err(found));
    }
    let mut found_codes = Vec::with_capacity(code_waiters.len());
    for waiter in code_waiters {
        found_codes.push(waiter.await?);
    }
    Ok(Ok((answers(waiters).await?, found_codes)))
}

/// The answers of a sent batch's `eth_call`s: a revert is a result, a
/// missing or malformed answer an error.
pub async fn answers(waiters: Vec<Waiter<Bytes>>) -> Result<Vec<ReadResult>, TransportError> {
    let mut answers = Vec::with_capacity(waiters.len());
    for waiter in waiters {
        match waiter.await {
            Ok(data) => answers.push(Ok(data)),
            Err(RpcError::ErrorResp(error)) => answers.push(Err(error.to_string())),
            Err(other) => return Err(other),
        }
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(sizes: &[usize]) -> Vec<Read> {
        sizes.iter().map(|n| Read { to: Address::ZERO, data: vec![0; *n] }).collect()
    }

    #[test]
    fn reads_are_cut_into_batches_of_bounded_count_that_cover_them_exactly() {
        assert_eq!(ranges(&reads(&[4; 5]), 2), vec![0..2, 2..4, 4..5]);
        assert_eq!(ranges(&reads(&[4; 4]), 2), vec![0..2, 2..4]);
        assert!(ranges(&[], 2).is_empty());
        assert_eq!(ranges(&reads(&[4; 3]), 0), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn aggregates_are_cut_by_budgeted_gas_and_cover_the_reads_exactly() {
        let membership = reads(&[36; 2_500]);
        let budget = aggregate_budget(30_000_000);
        assert_eq!(budget, 15_000_000);
        let chunks = gas_chunks(&membership, budget);
        let per_read = GAS_PER_READ + GAS_PER_BYTE * 36;
        assert!(chunks.iter().all(|c| c.len() as u64 * per_read <= budget));
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 2_500);
        assert_eq!(chunks.len(), 3, "about 960 membership checks per aggregate at a 30M block");
        assert_eq!(gas_chunks(&reads(&[4; 3]), 1).len(), 3, "a read over the budget goes alone");
        assert!(gas_chunks(&[], budget).is_empty());
        assert_eq!(aggregate_budget(0), 10_000_000);
        assert_eq!(aggregate_budget(1_000), 1_000_000);
    }

    #[test]
    fn the_same_read_is_asked_once_and_answers_every_place_it_was_asked() {
        let read = |to: u8, data: &[u8]| Read { to: Address::repeat_byte(to), data: data.to_vec() };
        let reads = [read(1, b"a"), read(2, b"a"), read(1, b"a"), read(1, b"b"), read(2, b"a")];
        let (distinct, index) = distinct(&reads);
        assert_eq!(distinct.len(), 3);
        assert_eq!(index, vec![0, 1, 0, 2, 1]);
        for (read, i) in reads.iter().zip(index) {
            assert_eq!((read.to, &read.data), (distinct[i].to, &distinct[i].data));
        }
    }

    #[test]
    fn reads_are_cut_into_batches_of_bounded_call_data() {
        let half = MAX_BATCH_CALLDATA / 2;
        assert_eq!(ranges(&reads(&[half, half, 1, half]), 100), vec![0..2, 2..4]);
        // A single read larger than the bound still goes, alone.
        assert_eq!(ranges(&reads(&[MAX_BATCH_CALLDATA * 2, 1]), 100), vec![0..1, 1..2]);
    }
}
