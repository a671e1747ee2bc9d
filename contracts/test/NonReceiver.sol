// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only contract without `onERC721Received` (nor a fallback).
contract NonReceiver {
    /// @notice A function unrelated to ERC-721, so the contract has code.
    function ping() external pure returns (uint256) {
        return 1;
    }
}
