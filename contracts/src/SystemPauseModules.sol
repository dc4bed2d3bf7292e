// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Governable} from "./Governable.sol";

/// @notice The surface of a managed module that the SystemPause calls.
interface IPausableModule {
    function owner() external view returns (address);
    function pauserManager() external view returns (address);
    function pause() external;
    function unpause() external;
    function setPauser(address pauser) external;
    function setPauserManager(address pauserManager) external;
}

/// @title SystemPauseModules (govstate reference)
/// @notice The *modules kind* of SystemPause, the one the production
/// deployment uses: it pauses and unpauses the eight core modules together
/// (`pauseAll` / `unpauseAll`), forwards governance calls to them
/// (`executeGovernanceCall`) and keeps itself their pauser. It has no pause
/// state of its own: no `paused()`, no `pause()` / `unpause()`, no `Paused`
/// events. In production it owns every module and a TimelockController is its
/// governance.
contract SystemPauseModules is Governable, ReentrancyGuard {
    error InvalidJobRegistry(address module);
    error InvalidStakeManager(address module);
    error InvalidValidationModule(address module);
    error InvalidDisputeModule(address module);
    error InvalidPlatformRegistry(address module);
    error InvalidFeePool(address module);
    error InvalidReputationEngine(address module);
    error InvalidArbitratorCommittee(address module);
    error ModuleNotOwned(address module, address owner);
    error InvalidPauser(address pauser);
    error PauserManagerNotDelegated(address module);
    error UnknownGovernanceTarget(address target);
    error MissingSelector();
    error GovernanceCallFailed(address target, bytes data);

    event ModulesUpdated(
        address jobRegistry,
        address stakeManager,
        address validationModule,
        address disputeModule,
        address platformRegistry,
        address feePool,
        address reputationEngine,
        address arbitratorCommittee
    );
    event PausersUpdated(address indexed pauser);
    event GovernanceCallExecuted(address indexed target, bytes4 indexed selector, bytes result);

    address public jobRegistry;
    address public stakeManager;
    address public validationModule;
    address public disputeModule;
    address public platformRegistry;
    address public feePool;
    address public reputationEngine;
    address public arbitratorCommittee;
    address public activePauser;

    constructor(
        address jobRegistry_,
        address stakeManager_,
        address validationModule_,
        address disputeModule_,
        address platformRegistry_,
        address feePool_,
        address reputationEngine_,
        address arbitratorCommittee_,
        address governance_
    ) Governable(governance_) {
        address[8] memory modules_ = [
            jobRegistry_,
            stakeManager_,
            validationModule_,
            disputeModule_,
            platformRegistry_,
            feePool_,
            reputationEngine_,
            arbitratorCommittee_
        ];
        _validateModules(modules_);
        _storeModules(modules_);
    }

    // ---------------------------------------------------------------- pausing

    /// @notice Pauses the eight modules, in getter order. A module already
    /// paused (or one whose pauser is not this contract) reverts the whole
    /// call with its own error.
    function pauseAll() external onlyGovernance nonReentrant {
        address[8] memory modules_ = _modules();
        for (uint256 i = 0; i < 8; i++) {
            IPausableModule(modules_[i]).pause();
        }
    }

    /// @notice Unpauses the eight modules, in getter order; mirror of `pauseAll`.
    function unpauseAll() external onlyGovernance nonReentrant {
        address[8] memory modules_ = _modules();
        for (uint256 i = 0; i < 8; i++) {
            IPausableModule(modules_[i]).unpause();
        }
    }

    // ------------------------------------------------------ governance calls

    /// @notice Sends `data` to one of the eight modules as their owner.
    function executeGovernanceCall(address target, bytes calldata data)
        external
        onlyGovernance
        nonReentrant
        returns (bytes memory)
    {
        if (!_isModule(target)) revert UnknownGovernanceTarget(target);
        if (data.length < 4) revert MissingSelector();
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            if (result.length == 0) revert GovernanceCallFailed(target, data);
            _bubble(result);
        }
        emit GovernanceCallExecuted(target, bytes4(data[:4]), result);
        return result;
    }

    // ------------------------------------------------------------ wiring

    /// @notice Replaces the eight modules (each must be owned by this
    /// contract), then makes this contract their pauser as `refreshPausers`.
    function setModules(
        address jobRegistry_,
        address stakeManager_,
        address validationModule_,
        address disputeModule_,
        address platformRegistry_,
        address feePool_,
        address reputationEngine_,
        address arbitratorCommittee_
    ) external onlyGovernance {
        address[8] memory modules_ = [
            jobRegistry_,
            stakeManager_,
            validationModule_,
            disputeModule_,
            platformRegistry_,
            feePool_,
            reputationEngine_,
            arbitratorCommittee_
        ];
        _validateModules(modules_);
        _requireOwnership(modules_);
        _storeModules(modules_);
        _setPausers(modules_, address(this));
        emit ModulesUpdated(
            jobRegistry_,
            stakeManager_,
            validationModule_,
            disputeModule_,
            platformRegistry_,
            feePool_,
            reputationEngine_,
            arbitratorCommittee_
        );
    }

    /// @notice Makes this contract the pauser (and pauser manager) of every module.
    function refreshPausers() external onlyGovernance {
        address[8] memory modules_ = _modules();
        _requireOwnership(modules_);
        _setPausers(modules_, address(this));
    }

    /// @notice Makes `pauser` the pauser of every module (this contract stays
    /// their pauser manager).
    function setGlobalPauser(address pauser) external onlyGovernance {
        address[8] memory modules_ = _modules();
        _requireOwnership(modules_);
        _setPausers(modules_, pauser);
    }

    // ------------------------------------------------------------ internals

    function _modules() internal view returns (address[8] memory) {
        return [
            jobRegistry,
            stakeManager,
            validationModule,
            disputeModule,
            platformRegistry,
            feePool,
            reputationEngine,
            arbitratorCommittee
        ];
    }

    function _isModule(address target) internal view returns (bool) {
        if (target == address(0)) return false;
        address[8] memory modules_ = _modules();
        for (uint256 i = 0; i < 8; i++) {
            if (modules_[i] == target) return true;
        }
        return false;
    }

    function _validateModules(address[8] memory modules_) internal view {
        if (!_deployed(modules_[0])) revert InvalidJobRegistry(modules_[0]);
        if (!_deployed(modules_[1])) revert InvalidStakeManager(modules_[1]);
        if (!_deployed(modules_[2])) revert InvalidValidationModule(modules_[2]);
        if (!_deployed(modules_[3])) revert InvalidDisputeModule(modules_[3]);
        if (!_deployed(modules_[4])) revert InvalidPlatformRegistry(modules_[4]);
        if (!_deployed(modules_[5])) revert InvalidFeePool(modules_[5]);
        if (!_deployed(modules_[6])) revert InvalidReputationEngine(modules_[6]);
        if (!_deployed(modules_[7])) revert InvalidArbitratorCommittee(modules_[7]);
    }

    function _deployed(address module) internal view returns (bool) {
        return module != address(0) && module.code.length > 0;
    }

    function _requireOwnership(address[8] memory modules_) internal view {
        for (uint256 i = 0; i < 8; i++) {
            address moduleOwner = IPausableModule(modules_[i]).owner();
            if (moduleOwner != address(this)) revert ModuleNotOwned(modules_[i], moduleOwner);
        }
    }

    function _storeModules(address[8] memory modules_) internal {
        jobRegistry = modules_[0];
        stakeManager = modules_[1];
        validationModule = modules_[2];
        disputeModule = modules_[3];
        platformRegistry = modules_[4];
        feePool = modules_[5];
        reputationEngine = modules_[6];
        arbitratorCommittee = modules_[7];
    }

    /// @dev For each module in getter order: unless this contract already is
    /// its pauser manager, asks it to become one (`setPauserManager`, a
    /// failure is swallowed) and reverts `PauserManagerNotDelegated` when the
    /// module still names another manager. Then sets `pauser` on every module.
    function _setPausers(address[8] memory modules_, address pauser) internal {
        if (pauser == address(0)) revert InvalidPauser(pauser);
        for (uint256 i = 0; i < 8; i++) {
            IPausableModule module = IPausableModule(modules_[i]);
            if (module.pauserManager() != address(this)) {
                try module.setPauserManager(address(this)) {} catch {}
            }
            if (module.pauserManager() != address(this)) revert PauserManagerNotDelegated(address(module));
        }
        for (uint256 i = 0; i < 8; i++) {
            IPausableModule(modules_[i]).setPauser(pauser);
        }
        activePauser = pauser;
        emit PausersUpdated(pauser);
    }

    /// @dev Re-raises `result` as this call's revert data, verbatim.
    function _bubble(bytes memory result) internal pure {
        assembly ("memory-safe") {
            revert(add(result, 32), mload(result))
        }
    }
}
