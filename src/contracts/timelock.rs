//! OpenZeppelin's TimelockController: not a managed contract but an
//! authority, which governs the SystemPause (and through it StakeManager) in
//! production. Its bindings serve recognising it and the devnet.

use alloy::sol;

sol!(
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[sol(rpc, all_derives)]
    TimelockController,
    "contracts/out/TimelockController.json"
);
