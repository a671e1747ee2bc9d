// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ERC-7007: Verifiable AI-Generated Content Token (Final)
 * @dev ERC-165 identifier: 0x702c55a6 (addAigcData ^ verify). The ERC-165 and ERC-721 parts are implemented by the
 * collection itself.
 */
interface IERC7007 {
    /// @notice Emitted when AIGC data is added to `tokenId`.
    event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof);

    /// @notice Adds AIGC data to a token. Requirements are implementation-specific; `verify` must hold.
    function addAigcData(uint256 tokenId, bytes calldata prompt, bytes calldata aigcData, bytes calldata proof) external;

    /// @notice True if `aigcData` was produced from `prompt` as `proof` attests.
    function verify(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool success);
}
