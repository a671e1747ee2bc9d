// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only ERC-721 receiver that refuses every token by reverting.
contract RevertingReceiver {
    /// @notice Raised for every token offered.
    error ReceiverRefused(uint256 tokenId);

    /// @notice Always reverts with {ReceiverRefused}.
    function onERC721Received(address, address, uint256 tokenId, bytes calldata) external pure returns (bytes4) {
        revert ReceiverRefused(tokenId);
    }
}
