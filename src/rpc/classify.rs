//! What a JSON-RPC error answer means, by its code *and* its message.
//!
//! Codes alone mislead: Infura's `-32005` is both "project rate limit
//! exceeded" (worth waiting for) and "query returned more than 10000
//! results" (a range problem: the same request fails again), and alloy's
//! own `is_retry_err` takes every `-32005` for a rate limit. So the
//! message decides first where it says what the problem is.

use alloy::rpc::json_rpc::ErrorPayload;

/// What an error answer calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Worth asking again after a wait: a rate limit, a backend behind a
    /// load balancer that has not seen the block yet, an internal error.
    Transient,
    /// The request asks for too much at once (an `eth_getLogs` range, a
    /// result count): ask for less, not again.
    TooMuch,
    /// The endpoint's quota (daily, monthly, credits) is spent: waiting a
    /// few seconds does not help.
    Quota,
    /// An answer: a revert, invalid parameters, a missing method.
    Answer,
}

/// The verdict on `error`.
pub fn verdict(error: &ErrorPayload) -> Verdict {
    let message = error.message.to_ascii_lowercase();
    if too_much(&message) {
        return Verdict::TooMuch;
    }
    if quota(&message) {
        return Verdict::Quota;
    }
    if message.contains("revert") {
        return Verdict::Answer;
    }
    let transient_message = ["header not found", "unknown block", "try again", "temporarily unavailable", "busy"];
    if transient_message.iter().any(|m| message.contains(m)) || error.code == -32603 || error.is_retry_err() {
        return Verdict::Transient;
    }
    Verdict::Answer
}

/// The message says the request asks for too much: a block range, a
/// result count or a response size over the endpoint's limit.
pub fn too_much(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    let range = message.contains("range")
        && [
            "exceed",
            "limit",
            "too large",
            "too wide",
            "too high",
            "too big",
            "bigger than",
            "larger than",
            "should work",
        ]
        .iter()
        .any(|m| message.contains(m));
    let results = (message.contains("result") || message.contains("response size"))
        && ["more than", "exceed", "too many", "limit"].iter().any(|m| message.contains(m));
    range || results
}

fn quota(message: &str) -> bool {
    ["quota", "capacity limit", "daily request count", "monthly", "credits exhausted", "payment required"]
        .iter()
        .any(|m| message.contains(m))
}

/// A single error answering a whole batch says the batch is too large (a
/// node's cap on its length or its body).
pub fn batch_refused(error: &ErrorPayload) -> bool {
    let message = error.message.to_ascii_lowercase();
    message.contains("batch") || (error.code == -32600 && !too_much(&message)) || message.contains("too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: i64, message: &str) -> ErrorPayload {
        ErrorPayload { code, message: message.to_string().into(), data: None }
    }

    #[test]
    fn infuras_minus_32005_is_a_range_problem_when_it_says_results_and_a_rate_limit_otherwise() {
        let range = error(-32005, "query returned more than 10000 results. Try with this block range [0x1, 0x2].");
        assert!(range.is_retry_err(), "alloy takes it for a rate limit");
        assert_eq!(verdict(&range), Verdict::TooMuch);
        assert_eq!(verdict(&error(-32005, "project ID request rate exceeded")), Verdict::Transient);
    }

    #[test]
    fn load_balancer_lag_internal_errors_and_rate_limits_are_transient() {
        assert_eq!(verdict(&error(-32000, "header not found")), Verdict::Transient);
        assert_eq!(verdict(&error(-32000, "unknown block")), Verdict::Transient);
        assert_eq!(verdict(&error(-32603, "internal error")), Verdict::Transient);
        assert_eq!(
            verdict(&error(429, "Your app has exceeded its compute units per second capacity")),
            Verdict::Transient
        );
    }

    #[test]
    fn reverts_bad_parameters_and_spent_quotas_are_not_retried() {
        assert_eq!(verdict(&error(3, "execution reverted")), Verdict::Answer);
        assert_eq!(verdict(&error(-32603, "execution reverted: nope")), Verdict::Answer);
        assert_eq!(verdict(&error(-32602, "invalid argument 0")), Verdict::Answer);
        assert_eq!(verdict(&error(-32005, "daily request count exceeded, request rate limited")), Verdict::Quota);
        assert_eq!(verdict(&error(-32001, "Monthly capacity limit exceeded.")), Verdict::Quota);
    }

    #[test]
    fn every_providers_range_refusal_is_too_much() {
        for message in [
            "exceed maximum block range: 50000",
            "query exceeds max block range 100000",
            "query exceeds max results 20000, retry with the range 1-2",
            "range 1000000 exceeds limit of 10000",
            "eth_getLogs is limited to a 10,000 range",
            "You can make eth_getLogs requests with up to a 500 block range. Based on your parameters, this block range should work: [0x1, 0x2]",
            "block range is larger than max block range, block range = 5120, max block range = 5000",
            "block range too large",
        ] {
            assert_eq!(verdict(&error(-32000, message)), Verdict::TooMuch, "{message}");
        }
    }

    #[test]
    fn gethss_single_object_batch_cap_is_a_refused_batch() {
        assert!(batch_refused(&error(-32600, "batch too large")));
        assert!(!batch_refused(&error(-32005, "daily request count exceeded, request rate limited")));
    }
}
