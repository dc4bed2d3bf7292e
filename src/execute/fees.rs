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
//!
//! A chain without EIP-1559 (its latest block has no base fee, or the node
//! answers neither `eth_maxPriorityFeePerGas` nor `eth_feeHistory`), or
//! `--legacy` on any chain, gets type-0 transactions instead: one gas price,
//! the operator's (`--gas-price`) or the node's `eth_gasPrice`, held to the
//! same ceiling.

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
    /// Send type-0 transactions whatever the chain supports (`--legacy`;
    /// default `false`: only on a chain without EIP-1559).
    pub legacy: bool,
}

impl Default for FeeRequest {
    fn default() -> Self {
        Self { max_fee_per_gas: None, priority_fee_per_gas: None, ceiling: DEFAULT_FEE_CEILING, legacy: false }
    }
}

/// Why an apply sends type-0 transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// The operator asked for it (`--legacy`).
    Asked,
    /// The latest block has no base fee: the chain has no EIP-1559.
    NoBaseFee,
    /// The node answers neither `eth_maxPriorityFeePerGas` nor `eth_feeHistory`.
    NoFeeMarket,
}

impl std::fmt::Display for Legacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Legacy::Asked => "--legacy",
            Legacy::NoBaseFee => "the chain has no EIP-1559 base fee",
            Legacy::NoFeeMarket => "the node has no EIP-1559 fee market",
        })
    }
}

/// The fees every transaction of one apply offers, as checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    /// `maxFeePerGas`; with `legacy`, the gas price of type-0 transactions.
    pub max_fee_per_gas: u128,
    /// `maxPriorityFeePerGas` (0 with `legacy`: a type-0 transaction has none).
    pub priority_fee_per_gas: u128,
    /// The latest block's base fee they were checked against.
    pub base_fee: u128,
    /// That block.
    pub block: u64,
    /// The ceiling.
    pub ceiling: u128,
    /// Set when the transactions are type-0 (legacy), and why.
    pub legacy: Option<Legacy>,
}

impl std::fmt::Display for Fees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(why) = self.legacy {
            return write!(
                f,
                "Fees: legacy (type-0) transactions at a gas price of {} ({why}; block {}); ceiling {} (--max-fee-per-gas)",
                gwei(self.max_fee_per_gas),
                self.block,
                gwei(self.ceiling)
            );
        }
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
    /// A legacy gas price above the ceiling.
    #[error(
        "the gas price {} {} for legacy (type-0) transactions ({why}; block {block}) is above the ceiling of {} per gas; nothing was sent. If it is right, raise the ceiling with --max-fee-per-gas",
        gwei(*.gas_price), if *.from_node { "the node suggests (eth_gasPrice)" } else { "asked for (--gas-price)" }, gwei(*.ceiling)
    )]
    GasPriceAboveCeiling {
        /// The gas price that would have been offered.
        gas_price: u128,
        /// Why the transactions are legacy.
        why: Legacy,
        /// The latest block.
        block: u64,
        /// The ceiling.
        ceiling: u128,
        /// Whether the node's `eth_gasPrice` set it (else `--gas-price`).
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
/// the max fee, each checked as the module says; or, on a chain without
/// EIP-1559 or with `--legacy`, one gas price for type-0 transactions.
pub async fn settle(provider: &impl Provider, request: FeeRequest) -> Result<Fees, FeeError> {
    let block = provider.get_block_by_number(BlockNumberOrTag::Latest).await.map_err(FeeError::Rpc)?;
    let number = block.as_ref().map_or(0, |b| b.header.number);
    let base_fee = block.as_ref().and_then(|b| b.header.base_fee_per_gas).map(u128::from);
    let legacy = match (request.legacy, base_fee) {
        (true, _) => Some(Legacy::Asked),
        (false, None) => Some(Legacy::NoBaseFee),
        (false, Some(_)) => None,
    };
    if let Some(why) = legacy {
        return legacy_fees(provider, request, number, why).await;
    }
    let base_fee = base_fee.unwrap_or(0);
    let tip = match request.priority_fee_per_gas {
        Some(tip) => tip,
        None => match provider.get_max_priority_fee_per_gas().await {
            Ok(tip) => tip,
            Err(error) if unsupported(&error) && no_fee_history(provider).await => {
                return legacy_fees(provider, request, number, Legacy::NoFeeMarket).await;
            }
            Err(error) => return Err(FeeError::Rpc(error)),
        },
    };
    check(request, base_fee, number, tip, request.priority_fee_per_gas.is_none())
}

/// The gas price of type-0 transactions: `--gas-price`, else the node's
/// `eth_gasPrice`; refused above the ceiling.
async fn legacy_fees(provider: &impl Provider, request: FeeRequest, block: u64, why: Legacy) -> Result<Fees, FeeError> {
    let price = match request.max_fee_per_gas {
        Some(price) => price,
        None => provider.get_gas_price().await.map_err(FeeError::Rpc)?,
    };
    check_legacy(request, price, block, why)
}

/// A legacy gas price as checked against the ceiling.
fn check_legacy(request: FeeRequest, price: u128, block: u64, why: Legacy) -> Result<Fees, FeeError> {
    if price > request.ceiling {
        return Err(FeeError::GasPriceAboveCeiling {
            gas_price: price,
            why,
            block,
            ceiling: request.ceiling,
            from_node: request.max_fee_per_gas.is_none(),
        });
    }
    Ok(Fees {
        max_fee_per_gas: price,
        priority_fee_per_gas: 0,
        base_fee: 0,
        block,
        ceiling: request.ceiling,
        legacy: Some(why),
    })
}

/// True when the node does not know the method (as opposed to failing at it).
fn unsupported(error: &TransportError) -> bool {
    let Some(response) = error.as_error_resp() else { return false };
    let message = response.message.to_ascii_lowercase();
    response.code == -32601
        || ["not supported", "unsupported", "does not exist", "not available", "method not found"]
            .iter()
            .any(|m| message.contains(m))
}

/// True when the node does not answer `eth_feeHistory` either.
async fn no_fee_history(provider: &impl Provider) -> bool {
    match provider.get_fee_history(1, BlockNumberOrTag::Latest, &[]).await {
        Ok(_) => false,
        Err(error) => unsupported(&error),
    }
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
    Ok(Fees {
        max_fee_per_gas: max_fee,
        priority_fee_per_gas: tip,
        base_fee,
        block,
        ceiling: request.ceiling,
        legacy: None,
    })
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

    #[test]
    fn a_legacy_gas_price_above_the_ceiling_is_refused_and_one_below_is_shown_as_type_0() {
        let asked = FeeRequest { max_fee_per_gas: Some(300 * GWEI), legacy: true, ..FeeRequest::default() };
        let text = check_legacy(asked, 300 * GWEI, 9, Legacy::Asked).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains("gas price 300 gwei asked for (--gas-price)") && text.contains("ceiling of 200 gwei"),
            "{text}"
        );
        let node = check_legacy(FeeRequest::default(), 250 * GWEI, 9, Legacy::NoBaseFee).err().map(|e| e.to_string());
        assert!(node.unwrap_or_default().contains("the node suggests (eth_gasPrice)"));
        let fees = check_legacy(FeeRequest::default(), 2 * GWEI, 9, Legacy::NoBaseFee).expect("below the ceiling");
        assert_eq!((fees.max_fee_per_gas, fees.legacy), (2 * GWEI, Some(Legacy::NoBaseFee)));
        assert!(fees.to_string().contains("legacy (type-0) transactions at a gas price of 2 gwei"), "{fees}");
    }

    #[test]
    fn a_method_the_node_does_not_know_is_told_from_a_failure() {
        let unknown = TransportError::ErrorResp(alloy::rpc::json_rpc::ErrorPayload {
            code: -32601,
            message: "the method eth_feeHistory does not exist/is not available".into(),
            data: None,
        });
        let failing = TransportError::ErrorResp(alloy::rpc::json_rpc::ErrorPayload {
            code: -32000,
            message: "header not found".into(),
            data: None,
        });
        assert!(unsupported(&unknown));
        assert!(!unsupported(&failing));
    }
}
