//! Listing role holders from event logs: chunked `eth_getLogs`, all chunks
//! of a round in one batch, halving any range a provider refuses.

use std::collections::BTreeSet;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::{Filter, Log};
use alloy::transports::{RpcError, TransportError};

use super::{ObserveError, rpc};

/// One contract event to scan over a block range.
#[derive(Debug, Clone, Copy)]
pub struct LogQuery {
    /// The emitting contract.
    pub address: Address,
    /// topic0 of the event; topic1 is the address it concerns.
    pub topic: B256,
    /// First block, inclusive.
    pub from: u64,
    /// Last block, inclusive.
    pub to: u64,
}

/// A block range of one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chunk {
    query: usize,
    from: u64,
    to: u64,
}

/// Splits every query into ranges of at most `size` blocks.
fn chunks(queries: &[LogQuery], size: u64) -> Vec<Chunk> {
    let size = size.max(1);
    let mut chunks = Vec::new();
    for (query, q) in queries.iter().enumerate() {
        let mut from = q.from;
        while from <= q.to {
            let to = q.to.min(from.saturating_add(size - 1));
            chunks.push(Chunk { query, from, to });
            match to.checked_add(1) {
                Some(next) => from = next,
                None => break,
            }
        }
    }
    chunks
}

/// Halves a range the provider refused; `None` for a single block.
fn halve(chunk: Chunk) -> Option<[Chunk; 2]> {
    if chunk.from >= chunk.to {
        return None;
    }
    let mid = chunk.from + (chunk.to - chunk.from) / 2;
    Some([Chunk { to: mid, ..chunk }, Chunk { from: mid + 1, ..chunk }])
}

/// The address in topic1 of every log of every query.
pub async fn scan(
    provider: &impl Provider,
    queries: &[LogQuery],
    chunk_size: u64,
    max_batch: usize,
) -> Result<Vec<BTreeSet<Address>>, ObserveError> {
    let logs = scan_logs(provider, queries, chunk_size, max_batch).await?;
    Ok(logs.iter().map(|logs| logs.iter().filter_map(holder).collect()).collect())
}

/// Every log of every query, in block order within each query; at most
/// `max_batch` requests in one JSON-RPC batch, the batches sent at once. A
/// batch the node refuses as a whole is halved and sent again, and so is a
/// block range it refuses.
pub async fn scan_logs(
    provider: &impl Provider,
    queries: &[LogQuery],
    chunk_size: u64,
    max_batch: usize,
) -> Result<Vec<Vec<Log>>, ObserveError> {
    let mut found = vec![Vec::new(); queries.len()];
    let group =
        |chunks: Vec<Chunk>| -> Vec<Vec<Chunk>> { chunks.chunks(max_batch.max(1)).map(<[Chunk]>::to_vec).collect() };
    let mut pending = group(chunks(queries, chunk_size));
    while !pending.is_empty() {
        let sent = pending.iter().map(|g| send_chunks(provider, queries, g));
        let answers = futures::future::join_all(sent).await;
        let (mut refused, mut halves) = (Vec::new(), Vec::new());
        for (batch, answer) in pending.into_iter().zip(answers) {
            match answer {
                Ok(answers) => {
                    for (chunk, result) in answers {
                        match result {
                            Ok(logs) => found[chunk.query].extend(logs),
                            Err(error) => refused.push((chunk, error)),
                        }
                    }
                }
                Err(_) if batch.len() > 1 => {
                    let (first, second) = batch.split_at(batch.len() / 2);
                    halves.extend([first.to_vec(), second.to_vec()]);
                }
                Err(source) => return Err(rpc("listing events from logs")(source)),
            }
        }
        pending = group(retry_smaller(refused)?);
        pending.extend(halves);
    }
    for logs in &mut found {
        logs.sort_by_key(|log| (log.block_number, log.log_index));
    }
    Ok(found)
}

/// One batch of `eth_getLogs`, one per chunk: each chunk's answer or error,
/// or the batch's own failure.
async fn send_chunks(
    provider: &impl Provider,
    queries: &[LogQuery],
    pending: &[Chunk],
) -> Result<Vec<(Chunk, Result<Vec<Log>, TransportError>)>, TransportError> {
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::with_capacity(pending.len());
    for chunk in pending {
        let query = &queries[chunk.query];
        let filter = Filter::new()
            .address(query.address)
            .event_signature(query.topic)
            .from_block(BlockNumberOrTag::Number(chunk.from))
            .to_block(BlockNumberOrTag::Number(chunk.to));
        waiters.push((*chunk, batch.add_call::<_, Vec<Log>>("eth_getLogs", &(filter,))?));
    }
    batch.send().await?;
    let mut answers = Vec::with_capacity(waiters.len());
    for (chunk, waiter) in waiters {
        answers.push((chunk, waiter.await));
    }
    Ok(answers)
}

/// Ranges the provider refused, halved; any other failure is an error.
fn retry_smaller(refused: Vec<(Chunk, TransportError)>) -> Result<Vec<Chunk>, ObserveError> {
    let mut retry = Vec::new();
    for (chunk, error) in refused {
        match (&error, halve(chunk)) {
            (RpcError::ErrorResp(_), Some(halves)) => retry.extend(halves),
            _ => {
                let doing = format!("listing logs of blocks {}..={}", chunk.from, chunk.to);
                return Err(ObserveError::Rpc { doing, source: error });
            }
        }
    }
    Ok(retry)
}

fn holder(log: &Log) -> Option<Address> {
    log.topics().get(1).map(|topic| Address::from_word(*topic))
}

/// The first block at which `address` has code, found by bisecting
/// `eth_getCode` over `0..=latest`.
pub async fn deployment_block(provider: &impl Provider, address: Address, latest: u64) -> Result<u64, ObserveError> {
    let has_code = |block: u64| async move {
        let code: Bytes = provider
            .get_code_at(address)
            .block_id(block.into())
            .await
            .map_err(rpc(format!("finding the deployment block of {address}")))?;
        Ok::<bool, ObserveError>(!code.is_empty())
    };
    if !has_code(latest).await? {
        return Err(ObserveError::NoCode { address, block: latest });
    }
    let (mut low, mut high) = (0, latest);
    while low < high {
        let mid = low + (high - low) / 2;
        if has_code(mid).await? {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    Ok(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(from: u64, to: u64) -> LogQuery {
        LogQuery { address: Address::ZERO, topic: B256::ZERO, from, to }
    }

    #[test]
    fn ranges_are_cut_into_chunks_that_cover_them_exactly() {
        let cut = chunks(&[query(0, 24), query(5, 5)], 10);
        let ranges: Vec<(usize, u64, u64)> = cut.iter().map(|c| (c.query, c.from, c.to)).collect();
        assert_eq!(ranges, vec![(0, 0, 9), (0, 10, 19), (0, 20, 24), (1, 5, 5)]);
    }

    #[test]
    fn an_empty_range_has_no_chunk_and_the_last_block_is_not_an_overflow() {
        assert!(chunks(&[query(10, 9)], 10).is_empty());
        assert_eq!(chunks(&[query(u64::MAX, u64::MAX)], 10).len(), 1);
    }

    #[test]
    fn a_refused_range_is_halved_down_to_one_block() {
        let chunk = Chunk { query: 0, from: 10, to: 13 };
        assert_eq!(halve(chunk), Some([Chunk { to: 11, ..chunk }, Chunk { from: 12, ..chunk }]));
        assert_eq!(halve(Chunk { query: 0, from: 7, to: 7 }), None);
    }
}
