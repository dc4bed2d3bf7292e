//! What a transaction may pay is decided here, never on a node's word alone.
//!
//! A node's fee suggestion is an answer like any other, and a lying or
//! compromised node can suggest a million gwei. Before anything is sent,
//! the fees are fixed once: the tip is the operator's (`--priority-gas-price`)
//! or the node's suggestion; the max fee is the operator's (`--gas-price`)
//! or twice the latest block's base fee plus the tip (room for about six
//! full blocks of base-fee rise). Both are checked against a ceiling
//! ([`DEFAULT_FEE_CEILING`] unless `--max-fee-per-gas` says otherwise), and
//! an explicit max fee below the block's base fee is refused (it would never
//! be mined). The result is shown before sending and in the prompt, and
//! every send (replacements included) uses it.

use alloy::eips::BlockNumberOrTag;
use alloy::providers::Provider;
use alloy::transports::TransportError;

/// One gwei in wei.
const GWEI: u128 = 1_000_000_000;

/// The highest max fee per gas paid unless the operator raises it: 200 gwei.
pub const DEFAULT_FEE_CEILING: u128 = 200 * GWEI;

/// What the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct FeeRequest {
    /// `maxFeePerGas` to use (default: twice the base fee plus the tip).
    pub max_fee_per_gas: Option<u128>,
    /// `maxPriorityFeePerGas` to use (default: the node's suggestion).
    pub priority_fee_per_gas: Option<u128>,
    /// The most any transaction may offer per gas (default [`DEFAULT_FEE_CEILING`]).
    pub ceiling: u128,
}

impl Default for FeeRequest {
    fn default() -> Self {
        Self { max_fee_per_gas: None, priority_fee_per_gas: None, ceiling: DEFAULT_FEE_CEILING }
    }
}

/// The fees every transaction of one apply offers, as checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    /// `maxFeePerGas`.
    pub max_fee_per_gas: u128,
    /// `maxPriorityFeePerGas`.
    pub priority_fee_per_gas: u128,
    /// The latest block's base fee they were checked against.
    pub base_fee: u128,
    /// That block.
    pub block: u64,
    /// The ceiling.
    pub ceiling: u128,
}

impl std::fmt::Display for Fees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Fees: at most {} per gas (tip {}; block {} base fee {}); ceiling {} (--max-fee-per-gas)",
            gwei(self.max_fee_per_gas),
            gwei(self.priority_fee_per_gas),
            self.block,
            gwei(self.base_fee),
            gwei(self.ceiling)
        )
    }
}

/// Why no fee could be settled; nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeeError {
    /// The fee is above the ceiling.
    #[error(
        "the fee {} would offer (max {} per gas, tip {}; block {block} base fee {}) is above the ceiling of {} per gas; nothing was sent. If it is right, raise the ceiling with --max-fee-per-gas",
        if *.from_node { "the node suggests" } else { "asked for" },
        gwei(*.max_fee_per_gas), gwei(*.priority_fee_per_gas), gwei(*.base_fee), gwei(*.ceiling)
    )]
    AboveCeiling {
        /// The max fee per gas that would have been offered.
        max_fee_per_gas: u128,
        /// The tip that would have been offered.
        priority_fee_per_gas: u128,
        /// The latest block's base fee.
        base_fee: u128,
        /// That block.
        block: u64,
        /// The ceiling.
        ceiling: u128,
        /// Whether the node's suggestion set it (else the operator's flags).
        from_node: bool,
    },
    /// An explicit max fee below the base fee: it would never be mined.
    #[error("--gas-price {} is below block {block}'s base fee of {}; it would never be mined. Nothing was sent", gwei(*.max_fee_per_gas), gwei(*.base_fee))]
    BelowBaseFee {
        /// The max fee asked for.
        max_fee_per_gas: u128,
        /// The base fee.
        base_fee: u128,
        /// That block.
        block: u64,
    },
    /// Reading the block or the suggestion failed.
    #[error("could not read the fees: {0}")]
    Rpc(#[source] TransportError),
}

/// Settles the fees for one apply: the latest block's base fee, the tip,
/// the max fee, each checked as the module says.
pub async fn settle(provider: &impl Provider, request: FeeRequest) -> Result<Fees, FeeError> {
    let block = provider.get_block_by_number(BlockNumberOrTag::Latest).await.map_err(FeeError::Rpc)?;
    let (number, base_fee) =
        block.map_or((0, 0), |b| (b.header.number, b.header.base_fee_per_gas.map_or(0, u128::from)));
    let tip = match request.priority_fee_per_gas {
        Some(tip) => tip,
        None => provider.get_max_priority_fee_per_gas().await.map_err(FeeError::Rpc)?,
    };
    check(request, base_fee, number, tip, request.priority_fee_per_gas.is_none())
}

/// The fees from the block's base fee and the tip, or why they are refused.
fn check(request: FeeRequest, base_fee: u128, block: u64, tip: u128, tip_from_node: bool) -> Result<Fees, FeeError> {
    let max_fee = request.max_fee_per_gas.unwrap_or_else(|| base_fee.saturating_mul(2).saturating_add(tip));
    if request.max_fee_per_gas.is_some() && max_fee < base_fee {
        return Err(FeeError::BelowBaseFee { max_fee_per_gas: max_fee, base_fee, block });
    }
    let tip = tip.min(max_fee);
    if max_fee > request.ceiling || tip > request.ceiling {
        return Err(FeeError::AboveCeiling {
            max_fee_per_gas: max_fee,
            priority_fee_per_gas: tip,
            base_fee,
            block,
            ceiling: request.ceiling,
            from_node: tip_from_node && request.max_fee_per_gas.is_none(),
        });
    }
    Ok(Fees { max_fee_per_gas: max_fee, priority_fee_per_gas: tip, base_fee, block, ceiling: request.ceiling })
}

/// `1000000 gwei`, `1.5 gwei`, `0.000000001 gwei` for one wei.
pub fn gwei(wei: u128) -> String {
    let (whole, fraction) = (wei / GWEI, wei % GWEI);
    if fraction == 0 {
        return format!("{whole} gwei");
    }
    let decimals = format!("{fraction:09}");
    format!("{whole}.{} gwei", decimals.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_tip_above_the_ceiling_is_refused_naming_the_flag() {
        let refused = check(FeeRequest::default(), GWEI, 7, 1_000_000 * GWEI, true).err().map(|e| e.to_string());
        let text = refused.unwrap_or_default();
        assert!(text.contains("the node suggests") && text.contains("tip 1000000 gwei"), "{text}");
        assert!(text.contains("--max-fee-per-gas") && text.contains("200 gwei"), "{text}");
    }

    #[test]
    fn the_max_fee_is_twice_the_base_fee_plus_the_tip_and_never_below_the_base_fee() {
        let fees = check(FeeRequest::default(), 3 * GWEI, 1, GWEI, true).expect("fine");
        assert_eq!((fees.max_fee_per_gas, fees.priority_fee_per_gas), (7 * GWEI, GWEI));
        let low = FeeRequest { max_fee_per_gas: Some(GWEI), ..FeeRequest::default() };
        assert!(matches!(check(low, 3 * GWEI, 1, GWEI, true), Err(FeeError::BelowBaseFee { .. })));
        assert_eq!(gwei(1_500_000_000), "1.5 gwei");
    }
}
