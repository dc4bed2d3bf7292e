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
//! endpoint in the cache ([`learned`]); after a scan that asked ranges that
//! wide and had none refused, a range that was only suggested (not a
//! stated limit) grows again. A refusal that is not about the range (a
//! missing method, a rate limit the retries outlasted) is an error at once,
//! never halved down to single blocks.
//!
//! Two orders: [`scan_logs`] asks every range at once (all of a history is
//! wanted), [`scan_newest_first`] asks the newest ranges first, a round
//! trip at a time, and stops a query once its caller has what it needs
//! (the last change of a field is usually recent).

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

/// The logs of any of several events of one contract over a block range
/// (a [`LogQuery`] is one with a single event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsQuery {
    /// The emitting contract.
    pub address: Address,
    /// topic0 of each event asked for (a log matches any of them).
    pub topics: Vec<B256>,
    /// First block, inclusive.
    pub from: u64,
    /// Last block, inclusive.
    pub to: u64,
}

impl From<&LogQuery> for EventsQuery {
    fn from(query: &LogQuery) -> Self {
        EventsQuery { address: query.address, topics: vec![query.topic], from: query.from, to: query.to }
    }
}

/// Where a log came from: the block and transaction that emitted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOrigin {
    /// The block it is in.
    pub block: u64,
    /// The transaction that emitted it.
    pub transaction: B256,
    /// The block's timestamp, when the node gave it with the log.
    pub time: Option<u64>,
}

impl LogOrigin {
    /// The origin of `log`; `None` for a log without block or transaction
    /// (a pending one).
    pub fn of(log: &Log) -> Option<Self> {
        Some(LogOrigin { block: log.block_number?, transaction: log.transaction_hash?, time: log.block_timestamp })
    }
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
fn chunks(queries: &[EventsQuery], size: u64) -> Vec<Chunk> {
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
    let queries: Vec<EventsQuery> = queries.iter().map(EventsQuery::from).collect();
    let mut window = learned::load(options);
    let mut found = vec![Vec::new(); queries.len()];
    let mut pending = chunks(&queries, window.blocks);
    let (mut refused_any, mut widest) = (false, 0);
    while !pending.is_empty() {
        let refused = ask(provider, &queries, &pending, options.max_batch, &mut found, &mut widest).await?;
        refused_any |= !refused.is_empty();
        pending = retry_smaller(&mut window, refused);
    }
    learned::store(options, window.after_scan(refused_any, widest));
    in_block_order(&mut found);
    Ok(found)
}

/// Every log of every query that its caller needs, asked newest range
/// first: the first round trip asks one range of each query, each later
/// one twice as many ranges (up to `max_batch`), every range within what
/// the endpoint accepts (learned and remembered, as for [`scan_logs`]).
/// After each round trip, `enough(query, logs)` is asked of each query
/// every range of which above its oldest unasked block has been answered
/// (`logs`: what it has found so far, in block order, so the newest log
/// there is the newest of its range); once it says yes, no older range of
/// that query is asked. What each query found is returned in block order.
pub async fn scan_newest_first(
    provider: &impl Provider,
    queries: &[EventsQuery],
    options: &ObserveOptions,
    mut enough: impl FnMut(usize, &[Log]) -> bool,
) -> Result<Vec<Vec<Log>>, ObserveError> {
    let mut window = learned::load(options);
    let mut cursors: Vec<Cursor> = queries.iter().enumerate().map(|(i, q)| Cursor::new(i, q)).collect();
    let mut found = vec![Vec::new(); queries.len()];
    let (mut refused_any, mut widest, mut budget, max) = (false, 0, 1usize, options.max_batch.max(1));
    loop {
        let round = newest_round(&mut cursors, window.blocks, budget);
        if round.is_empty() {
            break;
        }
        let refused = ask(provider, queries, &round, max, &mut found, &mut widest).await?;
        refused_any |= !refused.is_empty();
        learn(&mut window, &refused);
        for (chunk, _) in refused {
            cursors[chunk.query].give_back(chunk);
        }
        for (cursor, logs) in cursors.iter_mut().zip(found.iter_mut()) {
            if !cursor.done && cursor.gap_free() {
                logs.sort_by_key(|log| (log.block_number, log.log_index));
                cursor.done = enough(cursor.query, logs);
            }
        }
        budget = budget.saturating_mul(2).min(max);
    }
    learned::store(options, window.after_scan(refused_any, widest));
    in_block_order(&mut found);
    Ok(found)
}

/// Each query's logs sorted by block, then by index in the block.
fn in_block_order(found: &mut [Vec<Log>]) {
    for logs in found {
        logs.sort_by_key(|log| (log.block_number, log.log_index));
    }
}

/// What of one query's range a newest-first scan has still to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    query: usize,
    /// The first block of the query's range.
    first: u64,
    /// The ranges not answered yet, newest first, none adjacent.
    left: Vec<Chunk>,
    /// Its caller has what it needs.
    done: bool,
}

impl Cursor {
    fn new(query: usize, q: &EventsQuery) -> Self {
        let left = if q.from <= q.to { vec![Chunk { query, from: q.from, to: q.to }] } else { Vec::new() };
        Cursor { query, first: q.from, left, done: false }
    }

    /// Up to `count` ranges of at most `window` blocks, newest first.
    fn take(&mut self, window: u64, count: usize) -> Vec<Chunk> {
        let mut taken = Vec::new();
        while taken.len() < count
            && let Some(top) = self.left.first_mut()
        {
            let from = top.to.saturating_sub(window.max(1) - 1).max(top.from);
            taken.push(Chunk { from, ..*top });
            if from == top.from {
                self.left.remove(0);
            } else {
                top.to = from - 1;
            }
        }
        taken
    }

    /// A refused range, to be asked again (cut to the window then).
    fn give_back(&mut self, chunk: Chunk) {
        self.left.push(chunk);
        self.left.sort_by_key(|c| std::cmp::Reverse(c.to));
        let mut merged: Vec<Chunk> = Vec::with_capacity(self.left.len());
        for chunk in self.left.drain(..) {
            match merged.last_mut() {
                Some(newer) if chunk.to.checked_add(1) == Some(newer.from) => newer.from = chunk.from,
                _ => merged.push(chunk),
            }
        }
        self.left = merged;
    }

    /// Every block above the oldest ones left has been answered: what is
    /// left is `first..=b` for some `b`, or nothing.
    fn gap_free(&self) -> bool {
        match self.left.as_slice() {
            [] => true,
            [only] => only.from == self.first,
            _ => false,
        }
    }

    fn open(&self) -> bool {
        !self.done && !self.left.is_empty()
    }
}

/// The next round trip's ranges: about `budget` in all, shared among the
/// queries still open, at least one each.
fn newest_round(cursors: &mut [Cursor], window: u64, budget: usize) -> Vec<Chunk> {
    let open = cursors.iter().filter(|c| c.open()).count();
    if open == 0 {
        return Vec::new();
    }
    let share = (budget / open).max(1);
    cursors.iter_mut().filter(|c| c.open()).flat_map(|c| c.take(window, share)).collect()
}

/// Asks `pending`, at most `max_batch` in one batch, the batches at once:
/// the logs found go to their query in `found`, `widest` keeps the most
/// blocks of a range answered, the refused ranges are returned with their
/// advice.
async fn ask(
    provider: &impl Provider,
    queries: &[EventsQuery],
    pending: &[Chunk],
    max_batch: usize,
    found: &mut [Vec<Log>],
    widest: &mut u64,
) -> Result<Vec<(Chunk, Advice)>, ObserveError> {
    let groups: Vec<&[Chunk]> = pending.chunks(max_batch.max(1)).collect();
    let answers = futures::future::join_all(groups.iter().map(|g| send_chunks(provider, queries, g))).await;
    let mut refused = Vec::new();
    for answer in answers {
        for (chunk, result) in answer.map_err(rpc("listing events from logs"))? {
            match result {
                Ok(logs) => {
                    *widest = (*widest).max(chunk.blocks());
                    found[chunk.query].extend(logs);
                }
                Err(error) => refused.push(refusal(&queries[chunk.query], chunk, error)?),
            }
        }
    }
    Ok(refused)
}

/// One batch of `eth_getLogs`, one per chunk: each chunk's answer or error,
/// or the batch's own failure.
async fn send_chunks(
    provider: &impl Provider,
    queries: &[EventsQuery],
    pending: &[Chunk],
) -> Result<Vec<(Chunk, Result<Vec<Log>, TransportError>)>, TransportError> {
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::with_capacity(pending.len());
    for chunk in pending {
        let query = &queries[chunk.query];
        let filter = Filter::new()
            .address(query.address)
            .event_signature(query.topics.clone())
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
/// single block, or a failure that is no refusal of the range (a missing
/// method, a rate limit that outlasted the retries) — the error, naming
/// the request.
fn refusal(query: &EventsQuery, chunk: Chunk, error: TransportError) -> Result<(Chunk, Advice), ObserveError> {
    let advice = match &error {
        RpcError::ErrorResp(payload) if about_the_range(payload) => {
            Some(advice(&payload.message, chunk.from, chunk.to))
        }
        other if crate::rpc::too_large(other) => Some(Advice::Halve),
        _ => None,
    };
    match advice {
        Some(advice) if chunk.blocks() > 1 => Ok((chunk, advice)),
        _ => {
            let (address, from, to) = (query.address, chunk.from, chunk.to);
            let topics: Vec<String> = query.topics.iter().map(ToString::to_string).collect();
            let topics = if topics.len() == 1 { "topic" } else { "topics" }.to_string() + " " + &topics.join(", ");
            let doing = format!("listing logs (eth_getLogs of {address}, {topics}, blocks {from}..={to})");
            Err(ObserveError::Rpc { doing, source: error })
        }
    }
}

/// Whether an error answer may be a refusal of the range asked, so that a
/// smaller one may pass: every answer but those that plainly say something
/// else (a missing method, no access, a spent quota, a rate limit or a
/// backend failure the retries outlasted), since providers word their
/// range limits in too many ways to list (QuickNode's "eth_getLogs is
/// limited to a 10,000 range" names no blocks).
fn about_the_range(error: &ErrorPayload) -> bool {
    use crate::rpc::Verdict;
    let lower = error.message.to_ascii_lowercase();
    let elsewhere = ["does not exist", "not available", "not supported", "unsupported", "unauthorized", "forbidden"];
    match crate::rpc::verdict(error) {
        Verdict::TooMuch => true,
        Verdict::Quota | Verdict::Transient => false,
        Verdict::Answer => error.code != -32601 && !elsewhere.iter().any(|m| lower.contains(m)),
    }
}

/// Narrows the window by every refusal of a round.
fn learn(window: &mut Window, refused: &[(Chunk, Advice)]) {
    for (chunk, advice) in refused {
        window.narrow(*advice, chunk.blocks());
    }
}

/// The refused ranges cut to the window their advice leaves (the smallest
/// of them all, so the rest of the round needs no refusal of its own).
fn retry_smaller(window: &mut Window, refused: Vec<(Chunk, Advice)>) -> Vec<Chunk> {
    learn(window, &refused);
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

    fn query(from: u64, to: u64) -> EventsQuery {
        EventsQuery { address: Address::ZERO, topics: vec![B256::ZERO], from, to }
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

    #[test]
    fn only_a_refusal_about_the_range_is_asked_again_smaller() {
        let answer = |code: i64, message: &str| ErrorPayload { code, message: message.to_string().into(), data: None };
        for message in [
            "block range too large",
            "exceed maximum block range: 50000",
            "query returned more than 10000 results. Try with this block range [0x1, 0x2].",
            "Log response size exceeded.",
            "requested too many blocks from 0 to 99999, maximum is set to 2048",
            "Query timeout exceeded. Consider reducing your block range",
            "eth_getLogs is limited to a 10,000 range",
            "something a provider says of its own limits",
        ] {
            assert!(about_the_range(&answer(-32000, message)), "{message}");
        }
        for (code, message) in [
            (-32601, "the method eth_getLogs does not exist/is not available"),
            (-32000, "method not supported"),
            (-32005, "rate limit reached"),
            (-32001, "Monthly capacity limit exceeded."),
            (-32000, "unauthorized"),
            (-32603, "internal error"),
        ] {
            assert!(!about_the_range(&answer(code, message)), "{message}");
        }
    }

    fn cursor(from: u64, to: u64) -> Cursor {
        Cursor::new(0, &query(from, to))
    }

    fn ranges(chunks: &[Chunk]) -> Vec<(u64, u64)> {
        chunks.iter().map(|c| (c.from, c.to)).collect()
    }

    #[test]
    fn a_newest_first_cursor_hands_out_the_newest_ranges_first_down_to_the_first_block() {
        let mut cursor = cursor(5, 34);
        assert_eq!(ranges(&cursor.take(10, 2)), vec![(25, 34), (15, 24)]);
        assert!(cursor.gap_free());
        assert_eq!(ranges(&cursor.take(10, 5)), vec![(5, 14)]);
        assert!(cursor.left.is_empty() && !cursor.open());
        assert_eq!(ranges(&self::cursor(0, 9).take(u64::MAX, 1)), vec![(0, 9)], "the whole range at once");
        assert!(self::cursor(10, 9).take(10, 1).is_empty(), "an empty range asks nothing");
    }

    #[test]
    fn a_refused_range_is_asked_again_before_older_ones_and_leaves_a_gap_until_answered() {
        let mut cursor = cursor(0, 99);
        let round = cursor.take(30, 2);
        assert_eq!(ranges(&round), vec![(70, 99), (40, 69)]);
        cursor.give_back(round[0]);
        assert!(!cursor.gap_free(), "70..=99 is not answered, 40..=69 is");
        assert_eq!(ranges(&cursor.take(10, 2)), vec![(90, 99), (80, 89)]);
        cursor.give_back(Chunk { query: 0, from: 80, to: 89 });
        assert_eq!(ranges(&cursor.left), vec![(70, 89), (0, 39)], "adjacent ranges left are one");
        let mut whole = self::cursor(0, 99);
        let all = whole.take(u64::MAX, 1);
        whole.give_back(all[0]);
        assert!(whole.gap_free(), "nothing answered, nothing above a gap");
    }

    #[test]
    fn a_round_shares_its_budget_among_the_open_queries_at_least_one_each() {
        let mut cursors = vec![cursor(0, 99), Cursor::new(1, &query(0, 99)), Cursor::new(2, &query(0, 99))];
        cursors[2].done = true;
        assert_eq!(newest_round(&mut cursors, 10, 1).len(), 2);
        let round = newest_round(&mut cursors, 10, 8);
        assert_eq!(round.iter().filter(|c| c.query == 0).count(), 4);
        assert!(round.iter().all(|c| c.query != 2), "a query with what it needs asks no more");
    }
}
