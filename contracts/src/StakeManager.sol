// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Governable} from "./Governable.sol";

/// @title StakeManager (govstate reference)
/// @notice Reproduces the governance surface of the production StakeManager:
/// same signatures, custom errors, events, checks (in the same order) and
/// initial values. Staking itself is not part of the governance surface and is
/// left out, as is the 59-field `applyConfiguration` batch setter.
contract StakeManager is Governable, Pausable {
    error Unauthorized();
    error NotGovernanceOrPauserManager();
    error InvalidUser();
    error InvalidPercentage();
    error InvalidMinStake();
    error InvalidParams();
    error InvalidUnbondingPeriod();

    event PauserUpdated(address indexed pauser);
    event PauserManagerUpdated(address indexed pauserManager);
    event ValidatorLockManagerUpdated(address indexed manager, bool allowed);
    event FeePctUpdated(uint256 pct);
    event BurnPctUpdated(uint256 pct);
    event ValidatorRewardPctUpdated(uint256 pct);
    event MinStakeUpdated(uint256 minStake);
    event MaxStakePerAddressUpdated(uint256 maxStake);
    event RoleMinimumUpdated(uint8 indexed role, uint256 minStake);
    event UnbondingPeriodUpdated(uint256 period);

    address public pauser;
    address public pauserManager;
    mapping(address => bool) public validatorLockManagers;

    uint256 public feePct;
    uint256 public burnPct;
    uint256 public validatorRewardPct;
    /// @dev Overwritten by setValidatorRewardPct (the production side effect).
    uint256 public validatorSlashRewardPct;

    uint256 public minStake = 1e18;
    uint256 public maxStakePerAddress;
    uint256 public unbondingPeriod = 604800;
    /// @dev Role 0 Agent, 1 Validator, 2 Platform.
    mapping(uint8 => uint256) public roleMinimumStake;

    constructor(address governance_) Governable(governance_) {}

    modifier onlyGovernanceOrPauser() {
        if (msg.sender != governance && msg.sender != pauser) revert Unauthorized();
        _;
    }

    function pause() external onlyGovernanceOrPauser {
        _pause();
    }

    function unpause() external onlyGovernanceOrPauser {
        _unpause();
    }

    function setPauser(address pauser_) external {
        if (msg.sender != governance && msg.sender != pauserManager) revert NotGovernanceOrPauserManager();
        pauser = pauser_;
        emit PauserUpdated(pauser_);
    }

    function setPauserManager(address pauserManager_) external onlyGovernance {
        pauserManager = pauserManager_;
        emit PauserManagerUpdated(pauserManager_);
    }

    function setValidatorLockManager(address manager, bool allowed) external onlyGovernance {
        if (manager == address(0)) revert InvalidUser();
        validatorLockManagers[manager] = allowed;
        emit ValidatorLockManagerUpdated(manager, allowed);
    }

    function setFeePct(uint256 pct) external onlyGovernance {
        if (pct + burnPct + validatorRewardPct > 100) revert InvalidPercentage();
        if (pct != feePct) {
            feePct = pct;
            emit FeePctUpdated(pct);
        }
    }

    function setBurnPct(uint256 pct) external onlyGovernance {
        if (feePct + pct + validatorRewardPct > 100) revert InvalidPercentage();
        if (pct != burnPct) {
            burnPct = pct;
            emit BurnPctUpdated(pct);
        }
    }

    function setValidatorRewardPct(uint256 pct) external onlyGovernance {
        if (feePct + burnPct + pct > 100) revert InvalidPercentage();
        validatorSlashRewardPct = pct;
        if (pct != validatorRewardPct) {
            validatorRewardPct = pct;
            emit ValidatorRewardPctUpdated(pct);
        }
    }

    function setMinStake(uint256 minStake_) external onlyGovernance {
        if (minStake_ == 0) revert InvalidMinStake();
        minStake = minStake_;
        emit MinStakeUpdated(minStake_);
    }

    function setRoleMinimums(uint256 agent, uint256 validator, uint256 platform) external onlyGovernance {
        roleMinimumStake[0] = agent;
        roleMinimumStake[1] = validator;
        roleMinimumStake[2] = platform;
        emit RoleMinimumUpdated(0, agent);
        emit RoleMinimumUpdated(1, validator);
        emit RoleMinimumUpdated(2, platform);
    }

    function setStakeRecommendations(uint256 newMin, uint256 newMax) external onlyGovernance {
        if (newMin == 0) revert InvalidMinStake();
        if (newMax != 0 && newMax < newMin) revert InvalidParams();
        minStake = newMin;
        maxStakePerAddress = newMax;
        emit MinStakeUpdated(newMin);
        emit MaxStakePerAddressUpdated(newMax);
    }

    function setMaxStakePerAddress(uint256 maxStake) external onlyGovernance {
        maxStakePerAddress = maxStake;
        emit MaxStakePerAddressUpdated(maxStake);
    }

    function setUnbondingPeriod(uint256 period) external onlyGovernance {
        if (period == 0) revert InvalidUnbondingPeriod();
        unbondingPeriod = period;
        emit UnbondingPeriodUpdated(period);
    }
}
