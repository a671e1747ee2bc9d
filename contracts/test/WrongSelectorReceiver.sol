// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only ERC-721 receiver that answers with a wrong selector.
contract WrongSelectorReceiver {
    /// @notice Returns a selector other than `onERC721Received`'s.
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return 0xdeadbeef;
    }
}
