// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @dev Test-only attacker. `attack` makes a first call to `target` (forwarding value); when `target` later sends
 * ether here, `receive` tries the `reentry` call once and records whether it succeeded. Also installed with
 * `anvil_setCode` at a signer's address to act as a malicious operator on `withdraw`.
 */
contract Reentrant {
    address public target;
    bytes public reentry;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryError;
    uint256 public received;

    function attack(address target_, bytes calldata first, bytes calldata reentry_) external payable returns (bytes memory) {
        target = target_;
        reentry = reentry_;
        (bool ok, bytes memory ret) = target_.call{value: msg.value}(first);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    // The attack is the point of this test contract.
    // solhint-disable-next-line no-complex-fallback
    receive() external payable {
        received += msg.value;
        if (reentry.length != 0 && !reentered) {
            reentered = true;
            (reentrySucceeded, reentryError) = target.call(reentry);
        }
    }
}
