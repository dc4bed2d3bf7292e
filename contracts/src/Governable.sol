// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Governable (govstate reference)
/// @notice Single-step governance as in the production modules: `owner()`
/// returns `governance()`, `transferOwnership` is `setGovernance`, and there is
/// no two-step transfer. In production the governance is a TimelockController.
abstract contract Governable {
    error NotGovernance();
    error ZeroAddress();

    event GovernanceUpdated(address indexed governance);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    address public governance;

    constructor(address governance_) {
        if (governance_ == address(0)) revert ZeroAddress();
        governance = governance_;
        emit GovernanceUpdated(governance_);
        emit OwnershipTransferred(address(0), governance_);
    }

    modifier onlyGovernance() {
        if (msg.sender != governance) revert NotGovernance();
        _;
    }

    function owner() public view returns (address) {
        return governance;
    }

    function setGovernance(address newGovernance) public onlyGovernance {
        if (newGovernance == address(0)) revert ZeroAddress();
        address previous = governance;
        governance = newGovernance;
        emit GovernanceUpdated(newGovernance);
        emit OwnershipTransferred(previous, newGovernance);
    }

    function transferOwnership(address newOwner) external {
        setGovernance(newOwner);
    }
}
