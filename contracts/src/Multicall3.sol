// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Multicall3 (aggregate3 only)
/// @notice The `aggregate3` entry point of Multicall3
/// (0xcA11bde05977b3631167028862bE2a173976CA11), with the same ABI and
/// behaviour, for installing on a devnet where Multicall3 is not deployed.
contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    function aggregate3(Call3[] calldata calls) public payable returns (Result[] memory returnData) {
        uint256 length = calls.length;
        returnData = new Result[](length);
        for (uint256 i = 0; i < length; i++) {
            Call3 calldata call = calls[i];
            Result memory result = returnData[i];
            (result.success, result.returnData) = call.target.call(call.callData);
            if (!call.allowFailure && !result.success) {
                revert("Multicall3: call failed");
            }
        }
    }
}
