//! Listing role holders from event logs: `eth_getLogs` over block ranges
//! sized to what the endpoint accepts, all ranges of a round in batches.
//!
//! Providers cap the range differently and say so differently (Infura,
//! Alchemy, reth, publicnode, QuickNode…). The scan starts with the largest
//! range it knows the endpoint accepts — the whole history for an endpoint
//! it has not met — and adapts to each refusal (see [`advice`]): a range
//! the answer suggests is taken, a stated limit is kept to (counted so it
//! holds whether the provider counts `to − from` or `to − from + 1`), and a
//! refusal that says neither halves the range. What was learned is kept per
//! endpoint in the cache ([`learned`]); after a scan with no refusal, a
//! range that was only suggested (not a stated limit) grows again.

mod learned;

use std::collections::BTreeSet;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::json_rpc::ErrorPayload;
use alloy::rpc::types::{Filter, Log};
use alloy::transports::{RpcError, TransportError};

pub use learned::Window;

use super::{ObserveError, ObserveOptions, rpc};

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

impl Chunk {
    /// Blocks in the range, both ends counted.
    fn blocks(&self) -> u64 {
        (self.to - self.from).saturating_add(1)
    }

    /// The range cut into pieces of at most `size` blocks.
    fn cut(self, size: u64) -> Vec<Chunk> {
        let size = size.max(1);
        let mut pieces = Vec::new();
        let mut from = self.from;
        while from <= self.to {
            let to = self.to.min(from.saturating_add(size - 1));
            pieces.push(Chunk { from, to, ..self });
            match to.checked_add(1) {
                Some(next) => from = next,
                None => break,
            }
        }
        pieces
    }
}

/// Splits every query into ranges of at most `size` blocks.
fn chunks(queries: &[LogQuery], size: u64) -> Vec<Chunk> {
    let whole = queries.iter().enumerate().map(|(query, q)| Chunk { query, from: q.from, to: q.to });
    whole.filter(|c| c.from <= c.to).flat_map(|c| c.cut(size)).collect()
}

/// What a refusal of `from..=to` says about the range to ask instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// This range should work (Infura's and Alchemy's `[0x…, 0x…]`, reth's
    /// "retry with the range A-B"): its blocks, both ends counted.
    Suggested(u64),
    /// The endpoint's stated limit in blocks ("exceed maximum block range:
    /// N", "limited to a 10,000 range", "up to a 2K block range").
    Limit(u64),
    /// Nothing usable: halve.
    Halve,
}

/// The advice of `message`, refusing the range `from..=to`. A suggestion
/// that is not smaller than the range refused (reth can repeat the range
/// asked) is no advice.
pub fn advice(message: &str, from: u64, to: u64) -> Advice {
    let asked = (to - from.min(to)).saturating_add(1);
    if let Some((start, end)) = suggested_range(message)
        && end >= start
    {
        let blocks = end - start + 1;
        return if blocks < asked { Advice::Suggested(blocks) } else { Advice::Halve };
    }
    let lower = message.to_ascii_lowercase();
    if lower.contains("range")
        && !lower.contains("result")
        && let Some(limit) = last_number(message).filter(|n| *n > 0 && *n < asked)
    {
        return Advice::Limit(limit);
    }
    Advice::Halve
}

/// `[0xA, 0xB]` (Infura, Alchemy) or `range A-B` (reth), as numbers.
fn suggested_range(message: &str) -> Option<(u64, u64)> {
    if let Some(open) = message.find('[') {
        let inside = &message[open + 1..];
        let inside = &inside[..inside.find(']')?];
        let (a, b) = inside.split_once(',')?;
        let hex = |t: &str| u64::from_str_radix(t.trim().trim_start_matches("0x").trim_start_matches("0X"), 16).ok();
        return Some((hex(a)?, hex(b)?));
    }
    let after = &message[message.find("range ")? + "range ".len()..];
    let (a, b) = after.split_once('-')?;
    let digits = |t: &str| t.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok();
    Some((digits(a.trim())?, digits(b.trim())?))
}

/// The last number in `message`: `10,000` and `2K` read as 10000 and 2000.
fn last_number(message: &str) -> Option<u64> {
    let mut last = None;
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii_digit() {
            continue;
        }
        let mut text = c.to_string();
        while let Some(&next) = chars.peek() {
            match next {
                '0'..='9' => text.push(next),
                ',' => {}
                _ => break,
            }
            chars.next();
        }
        let thousands = matches!(chars.peek(), Some('K' | 'k'));
        last = text.parse::<u64>().ok().map(|n| if thousands { n.saturating_mul(1000) } else { n });
    }
    last
}

/// The address in topic1 of every log of every query.
pub async fn scan(
    provider: &impl Provider,
    queries: &[LogQuery],
    options: &ObserveOptions,
) -> Result<Vec<BTreeSet<Address>>, ObserveError> {
    let logs = scan_logs(provider, queries, options).await?;
    Ok(logs.iter().map(|logs| logs.iter().filter_map(holder).collect()).collect())
}

/// Every log of every query, in block order within each query; at most
/// `max_batch` requests in one JSON-RPC batch, the batches sent at once,
/// each range within what the endpoint accepts (learned and remembered).
pub async fn scan_logs(
    provider: &impl Provider,
    queries: &[LogQuery],
    options: &ObserveOptions,
) -> Result<Vec<Vec<Log>>, ObserveError> {
    let mut window = learned::load(options);
    let mut found = vec![Vec::new(); queries.len()];
    let mut pending = chunks(queries, window.blocks);
    let mut refused_any = false;
    while !pending.is_empty() {
        let groups: Vec<&[Chunk]> = pending.chunks(options.max_batch.max(1)).collect();
        let answers = futures::future::join_all(groups.iter().map(|g| send_chunks(provider, queries, g))).await;
        let mut refused = Vec::new();
        for answer in answers {
            for (chunk, result) in answer.map_err(rpc("listing events from logs"))? {
                match result {
                    Ok(logs) => found[chunk.query].extend(logs),
                    Err(error) => refused.push(refusal(&queries[chunk.query], chunk, error)?),
                }
            }
        }
        refused_any |= !refused.is_empty();
        pending = retry_smaller(&mut window, refused);
    }
    learned::store(options, window.after_scan(refused_any));
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

/// What a chunk's error says: the advice of a refused range, or — for a
/// single block, or a failure that is no refusal — the error, naming the
/// request.
fn refusal(query: &LogQuery, chunk: Chunk, error: TransportError) -> Result<(Chunk, Advice), ObserveError> {
    let advice = match &error {
        RpcError::ErrorResp(ErrorPayload { message, .. }) => Some(advice(message, chunk.from, chunk.to)),
        other if crate::rpc::too_large(other) => Some(Advice::Halve),
        _ => None,
    };
    match advice {
        Some(advice) if chunk.blocks() > 1 => Ok((chunk, advice)),
        _ => {
            let (address, topic, from, to) = (query.address, query.topic, chunk.from, chunk.to);
            let doing = format!("listing logs (eth_getLogs of {address}, topic {topic}, blocks {from}..={to})");
            Err(ObserveError::Rpc { doing, source: error })
        }
    }
}

/// The refused ranges cut to the window their advice leaves (the smallest
/// of them all, so the rest of the round needs no refusal of its own).
fn retry_smaller(window: &mut Window, refused: Vec<(Chunk, Advice)>) -> Vec<Chunk> {
    for (chunk, advice) in &refused {
        window.narrow(*advice, chunk.blocks());
    }
    refused.into_iter().flat_map(|(chunk, _)| chunk.cut(window.blocks.min(chunk.blocks().div_ceil(2)).max(1))).collect()
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
    fn a_suggested_range_is_read_from_infura_alchemy_and_reth() {
        let infura = "query returned more than 10000 results. Try with this block range [0x64, 0xC7].";
        assert_eq!(advice(infura, 100, 1_000), Advice::Suggested(100));
        let alchemy = "You can make eth_getLogs requests with up to a 2K block range. Based on your parameters, this block range should work: [0x64, 0x833]";
        assert_eq!(advice(alchemy, 100, 100_000), Advice::Suggested(2000));
        let reth = "query exceeds max results 20000, retry with the range 100-149";
        assert_eq!(advice(reth, 100, 1_000), Advice::Suggested(50));
        assert_eq!(advice("query exceeds max results 20000, retry with the range 100-1000", 100, 1_000), Advice::Halve);
    }

    #[test]
    fn a_stated_limit_is_read_however_it_is_written() {
        assert_eq!(advice("exceed maximum block range: 50000", 0, 999_999), Advice::Limit(50_000));
        assert_eq!(advice("query exceeds max block range 100000", 0, 999_999), Advice::Limit(100_000));
        assert_eq!(advice("range 999999 exceeds limit of 10000", 0, 999_999), Advice::Limit(10_000));
        assert_eq!(advice("eth_getLogs is limited to a 10,000 range", 0, 999_999), Advice::Limit(10_000));
        assert_eq!(advice("up to a 2K block range", 0, 999_999), Advice::Limit(2_000));
        assert_eq!(advice("block range too large", 0, 999_999), Advice::Halve);
        assert_eq!(advice("query returned more than 10000 results", 0, 999_999), Advice::Halve);
    }

    #[test]
    fn a_limit_is_kept_to_whichever_way_the_provider_counts() {
        let mut window = Window::unlimited();
        window.narrow(Advice::Limit(10_000), 1_000_000);
        let piece = Chunk { query: 0, from: 0, to: 999_999 }.cut(window.blocks)[0];
        // `to − from + 1` blocks at most 10,000, so `to − from` under it too.
        assert_eq!(piece.blocks(), 10_000, "{piece:?}");
        assert!(piece.to - piece.from < 10_000, "{piece:?}");
    }

    #[test]
    fn a_refused_range_is_cut_to_the_smallest_advice_and_halved_without_one() {
        let mut window = Window::unlimited();
        let refused = vec![(Chunk { query: 0, from: 0, to: 99 }, Advice::Halve)];
        assert_eq!(
            retry_smaller(&mut window, refused),
            vec![Chunk { query: 0, from: 0, to: 49 }, Chunk { query: 0, from: 50, to: 99 }]
        );
        let refused = vec![(Chunk { query: 1, from: 0, to: 99 }, Advice::Suggested(30))];
        assert_eq!(retry_smaller(&mut window, refused).len(), 4);
        assert_eq!(window.blocks, 30);
    }
}
