// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {AIGCCollection} from "./AIGCCollection.sol";

/**
 * @title CollectionFactory
 * @notice Deploys AIGC collections as ERC-1167 minimal proxies ("clones") of one implementation: a collection costs
 * a few hundred thousand gas instead of several million. Each clone is initialised in the same transaction, so no
 * one can initialise it in between; the implementation itself refuses initialisation.
 */
contract CollectionFactory {
    address private immutable IMPLEMENTATION;

    /// @notice A collection was created; carries its full configuration for indexers.
    event CollectionCreated(address indexed collection, address indexed owner, address indexed creator, AIGCCollection.InitParams params);

    error FactoryZeroImplementation();

    /// @param implementation_ A deployed AIGCCollection (its constructor disables initialisers).
    constructor(address implementation_) {
        if (implementation_ == address(0)) revert FactoryZeroImplementation();
        IMPLEMENTATION = implementation_;
    }

    /// @notice The AIGCCollection every clone delegates to.
    function implementation() external view returns (address) {
        return IMPLEMENTATION;
    }

    /**
     * @notice Creates and initialises a collection.
     * @return collection The new collection's address.
     *
     * Requirements: `params` valid for {AIGCCollection-initialize}.
     * Emits {CollectionCreated} (and the collection's initialisation events).
     */
    function createCollection(AIGCCollection.InitParams calldata params) external returns (address collection) {
        collection = Clones.clone(IMPLEMENTATION);
        AIGCCollection(collection).initialize(params);
        emit CollectionCreated(collection, params.owner, msg.sender, params);
    }

    /**
     * @notice Like {createCollection} at an address that depends only on the sender and `salt`
     * (see {predictAddress}), so a creator can publish the address before deploying.
     */
    function createCollectionDeterministic(AIGCCollection.InitParams calldata params, bytes32 salt)
        external
        returns (address collection)
    {
        collection = Clones.cloneDeterministic(IMPLEMENTATION, _salt(msg.sender, salt));
        AIGCCollection(collection).initialize(params);
        emit CollectionCreated(collection, params.owner, msg.sender, params);
    }

    /// @notice The address {createCollectionDeterministic} gives `creator` for `salt`.
    function predictAddress(address creator, bytes32 salt) external view returns (address) {
        return Clones.predictDeterministicAddress(IMPLEMENTATION, _salt(creator, salt));
    }

    function _salt(address creator, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(creator, salt));
    }
}
