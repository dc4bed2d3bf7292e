// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title PausableModule (govstate reference)
/// @notice Stand-in for the seven modules of the production system that
/// govstate does not manage (JobRegistry, ValidationModule, DisputeModule,
/// PlatformRegistry, FeePool, ReputationEngine, ArbitratorCommittee): only the
/// surface the modules-kind SystemPause relies on. `pause()` / `unpause()` are
/// allowed to the owner or the pauser; `setPauser` to the owner or the pauser
/// manager; `setPauserManager` to the owner. It has no fallback: an unknown
/// selector reverts without data.
contract PausableModule is Ownable, Pausable {
    error Unauthorized();
    error NotGovernanceOrPauserManager();

    event PauserUpdated(address indexed pauser);
    event PauserManagerUpdated(address indexed pauserManager);

    address public pauser;
    address public pauserManager;

    constructor(address owner_) Ownable(owner_) {}

    modifier onlyOwnerOrPauser() {
        if (msg.sender != owner() && msg.sender != pauser) revert Unauthorized();
        _;
    }

    function pause() external onlyOwnerOrPauser {
        _pause();
    }

    function unpause() external onlyOwnerOrPauser {
        _unpause();
    }

    function setPauser(address pauser_) external {
        if (msg.sender != owner() && msg.sender != pauserManager) revert NotGovernanceOrPauserManager();
        pauser = pauser_;
        emit PauserUpdated(pauser_);
    }

    function setPauserManager(address pauserManager_) external onlyOwner {
        pauserManager = pauserManager_;
        emit PauserManagerUpdated(pauserManager_);
    }
}
