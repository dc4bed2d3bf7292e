// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title SystemPause (govstate reference)
/// @notice The global switch as the operators' runbook uses it: `pause()`,
/// `unpause()` and `paused()`, governance only. (The production deployment's
/// `pauseAll()` / `unpauseAll()` surface is a later issue.)
contract SystemPause is Pausable {
    error NotGovernance();

    address public governance;

    constructor(address governance_) {
        governance = governance_;
    }

    modifier onlyGovernance() {
        if (msg.sender != governance) revert NotGovernance();
        _;
    }

    function pause() external onlyGovernance {
        _pause();
    }

    function unpause() external onlyGovernance {
        _unpause();
    }
}
