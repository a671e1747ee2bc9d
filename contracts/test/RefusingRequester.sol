// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only requester that refuses every ether payment, so its refunds and payouts become credits.
contract RefusingRequester {
    /// @notice Raised by `receive` for every payment.
    error Refused(uint256 amount);

    /// @notice Calls `target` with `data`, forwarding `msg.value`, and bubbles up a revert.
    function forward(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    /// @notice Claims this contract's credit at `collection`, paid to `to`.
    function claim(address collection, address to) external {
        ICreditClaim(collection).claim(to);
    }

    /// @notice Refuses every payment.
    receive() external payable {
        revert Refused(msg.value);
    }
}

/// @notice The collection's `claim`.
interface ICreditClaim {
    /// @notice Sends the caller's credit to `to`.
    function claim(address to) external;
}
