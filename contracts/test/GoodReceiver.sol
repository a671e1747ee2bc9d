// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only ERC-721 receiver that accepts every token and records the last call it received.
contract GoodReceiver {
    /// @notice `operator` of the last call.
    address public lastOperator;
    /// @notice `from` of the last call.
    address public lastFrom;
    /// @notice `tokenId` of the last call.
    uint256 public lastTokenId;
    /// @notice `data` of the last call.
    bytes public lastData;
    /// @notice Number of calls received.
    uint256 public calls;

    /// @notice Records the arguments and accepts the token.
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4)
    {
        lastOperator = operator;
        lastFrom = from;
        lastTokenId = tokenId;
        lastData = data;
        ++calls;
        return this.onERC721Received.selector;
    }
}
