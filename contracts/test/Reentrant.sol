// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @dev Test-only attacker. `attack` makes a first call to `target` (forwarding value); when `target` later sends
 * ether here, `receive` tries the `reentry` call once and records whether it succeeded. Also installed with
 * `anvil_setCode` at a signer's address to act as a malicious payee on `withdraw`.
 *
 * Its record slots are primed non-zero before the first call, so `receive` writes only non-zero slots (2,900 gas
 * each rather than 22,100) and fits in the bounded gas a collection pushes payments with: the reentry is attempted
 * for real instead of failing for lack of gas.
 */
contract Reentrant {
    address public target;
    bytes public reentry;
    uint256 private _received = 1; // received + 1
    uint256 private _flags = 1; // 1 | reentered << 1 | succeeded << 2
    uint256 private _error = 1; // 1 | selector of the reentry's revert << 8

    function attack(address target_, bytes calldata first, bytes calldata reentry_) external payable returns (bytes memory) {
        target = target_;
        reentry = reentry_;
        if (_flags == 0) _flags = 1;
        if (_received == 0) _received = 1;
        if (_error == 0) _error = 1;
        (bool ok, bytes memory ret) = target_.call{value: msg.value}(first);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    /// @notice Ether received by `receive`.
    function received() external view returns (uint256) {
        return _received - 1;
    }

    /// @notice Whether `receive` tried the reentry.
    function reentered() external view returns (bool) {
        return _flags & 2 != 0;
    }

    /// @notice Whether the reentry call succeeded.
    function reentrySucceeded() external view returns (bool) {
        return _flags & 4 != 0;
    }

    /// @notice The selector the reentry reverted with (as revert data), or empty.
    function reentryError() external view returns (bytes memory) {
        return _error == 1 ? bytes("") : abi.encodePacked(bytes4(uint32(_error >> 8)));
    }

    // The attack is the point of this test contract.
    // solhint-disable-next-line no-complex-fallback
    receive() external payable {
        _received += msg.value;
        if (reentry.length != 0 && _flags & 2 == 0) {
            (bool ok, bytes memory err) = target.call(reentry);
            _flags |= 2 | (ok ? 4 : 0);
            if (!ok && err.length >= 4) _error = 1 | (uint256(uint32(bytes4(err))) << 8);
        }
    }
}
