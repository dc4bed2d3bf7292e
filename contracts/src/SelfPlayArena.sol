// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title SelfPlayArena (govstate reference)
/// @notice Reproduces the governance surface of the production SelfPlayArena:
/// same signatures, custom errors, events and checks, in the same order. The
/// arena's round logic is not part of the governance surface and is left out.
contract SelfPlayArena is Ownable, Pausable {
    error ZeroAddress();
    error ZeroValue();
    error InvalidSplit();

    event OrchestratorUpdated(address indexed orchestrator, bool allowed);
    event RewardsUpdated(uint256 teacherReward, uint256 studentReward, uint256 validatorReward);
    event CommitteeParametersUpdated(uint256 committeeSize, uint256 validatorStake);
    event TargetSuccessRateUpdated(uint256 targetSuccessRateBps);
    event RewardSplitsUpdated(uint16 teacherSplitBps, uint16 studentSplitBps, uint16 validatorSplitBps);
    event ParametersUpdated(
        uint256 teacherReward,
        uint256 studentReward,
        uint256 validatorReward,
        uint256 committeeSize,
        uint256 validatorStake,
        uint256 targetSuccessRateBps,
        uint16 teacherSplitBps,
        uint16 studentSplitBps,
        uint16 validatorSplitBps,
        address feePool
    );

    mapping(address => bool) public orchestrators;

    uint256 public baseTeacherReward = 150 ether;
    uint256 public baseStudentReward = 50 ether;
    uint256 public baseValidatorReward = 25 ether;
    uint256 public committeeSize = 5;
    uint256 public validatorStake = 5 ether;
    uint256 public targetSuccessRateBps = 7000;

    /// @dev Production starts with 10000 / 10000 / 10000, a state that
    /// setRewardSplits itself rejects (sum 30000).
    uint16 public teacherRewardSplitBps = 10000;
    uint16 public studentRewardSplitBps = 10000;
    uint16 public validatorRewardSplitBps = 10000;

    address internal feePool;

    constructor(address initialOwner, address feePool_) Ownable(initialOwner) {
        feePool = feePool_;
    }

    function pause() external onlyOwner {
        _pause();
    }

    function unpause() external onlyOwner {
        _unpause();
    }

    function setOrchestrator(address orchestrator, bool allowed) external onlyOwner {
        if (orchestrator == address(0)) revert ZeroAddress();
        orchestrators[orchestrator] = allowed;
        emit OrchestratorUpdated(orchestrator, allowed);
    }

    function setRewards(uint256 teacherReward, uint256 studentReward, uint256 validatorReward) external onlyOwner {
        if (teacherReward == 0 || studentReward == 0 || validatorReward == 0) revert ZeroValue();
        baseTeacherReward = teacherReward;
        baseStudentReward = studentReward;
        baseValidatorReward = validatorReward;
        emit RewardsUpdated(teacherReward, studentReward, validatorReward);
        _emitParameters();
    }

    function setCommitteeParameters(uint256 committeeSize_, uint256 validatorStake_) external onlyOwner {
        if (committeeSize_ == 0 || validatorStake_ == 0) revert ZeroValue();
        committeeSize = committeeSize_;
        validatorStake = validatorStake_;
        emit CommitteeParametersUpdated(committeeSize_, validatorStake_);
        _emitParameters();
    }

    function setTargetSuccessRateBps(uint256 targetSuccessRateBps_) external onlyOwner {
        if (targetSuccessRateBps_ == 0 || targetSuccessRateBps_ > 10_000) revert ZeroValue();
        targetSuccessRateBps = targetSuccessRateBps_;
        emit TargetSuccessRateUpdated(targetSuccessRateBps_);
        _emitParameters();
    }

    function setRewardSplits(uint16 teacherSplitBps, uint16 studentSplitBps, uint16 validatorSplitBps)
        external
        onlyOwner
    {
        uint256 total = uint256(teacherSplitBps) + uint256(studentSplitBps) + uint256(validatorSplitBps);
        if (total == 0 || total > 10_000) revert InvalidSplit();
        teacherRewardSplitBps = teacherSplitBps;
        studentRewardSplitBps = studentSplitBps;
        validatorRewardSplitBps = validatorSplitBps;
        emit RewardSplitsUpdated(teacherSplitBps, studentSplitBps, validatorSplitBps);
        _emitParameters();
    }

    function _emitParameters() internal {
        emit ParametersUpdated(
            baseTeacherReward,
            baseStudentReward,
            baseValidatorReward,
            committeeSize,
            validatorStake,
            targetSuccessRateBps,
            teacherRewardSplitBps,
            studentRewardSplitBps,
            validatorRewardSplitBps,
            feePool
        );
    }
}
