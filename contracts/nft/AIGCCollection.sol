// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/**
 * @title AIGCCollection
 * @notice An ERC-721 collection whose tokens are rendered off chain by a diffusion model from the collector's
 * prompt and a seed this contract fixes, stored on Arweave, and minted with a signed provenance commitment.
 *
 * Lifecycle of a request: `requestMint` escrows the price, fixes the seed and emits `MintRequested` with the full
 * prompt. An operator node renders, uploads and calls `fulfill` with an EIP-712 signature by an authorised signer
 * over (requestId, promptHash, seed, imageSha256, manifestId, modelHash); the token (id = request id) is minted to
 * the requester and the escrow is credited to the signer. A signer may `reject` a request (immediate refund); after
 * `refundDelay` anyone may `refund` it. Every request ends exactly once.
 *
 * Storage: a pending request is one slot holding `keccak256(abi.encode(Request))`; the full values travel in the
 * `MintRequested` event and callers pass them back. Once minted, the same slot holds the Arweave manifest id, so
 * fulfilment rewrites a warm non-zero slot instead of allocating a new one.
 */
contract AIGCCollection is ERC721, Ownable, EIP712, ReentrancyGuardTransient {
    /// @notice What a signer key is. NONE means not authorised.
    enum SignerKind {
        NONE,
        OPERATOR,
        TEE
    }

    /// @notice The preimage of a pending request's slot, as emitted in `MintRequested`.
    struct Request {
        address requester;
        uint96 paid;
        uint64 requestedAt;
        bytes32 seed;
        bytes32 promptHash;
    }

    /// @notice Per-signer state: its kind and the escrow it has earned and not yet withdrawn.
    struct Signer {
        SignerKind kind;
        uint128 earnings;
    }

    bytes32 public constant FULFILLMENT_TYPEHASH = keccak256(
        "Fulfillment(uint256 requestId,bytes32 promptHash,bytes32 seed,bytes32 imageSha256,bytes32 manifestId,bytes32 modelHash)"
    );

    // One slot: price, limits and counters.
    uint96 private _price;
    uint32 private _maxSupply;
    uint16 private _maxPromptBytes;
    uint32 private _refundDelay;
    uint40 private _lastRequestId;
    uint32 private _reserved; // open requests + minted tokens, checked against _maxSupply

    mapping(uint256 requestId => bytes32) private _slots;
    mapping(address signer => Signer) private _signers;

    /// @notice Emitted when a collector asks for a mint; carries everything an indexer or operator needs.
    event MintRequested(
        uint256 indexed requestId,
        address indexed requester,
        uint256 paid,
        uint64 requestedAt,
        bytes32 seed,
        bytes32 promptHash,
        bytes prompt
    );
    /// @notice Emitted when a request is minted as token `requestId`.
    event MintFulfilled(
        uint256 indexed requestId,
        address indexed requester,
        address indexed signer,
        bytes32 manifestId,
        bytes32 imageSha256,
        bytes32 modelHash
    );
    /// @notice Emitted when a signer rejects a request; the requester has been refunded.
    event MintRejected(uint256 indexed requestId, address indexed requester, uint256 refunded, uint8 reason);
    /// @notice Emitted when an expired request is refunded to its requester.
    event MintRefunded(uint256 indexed requestId, address indexed requester, uint256 refunded);
    /// @notice Emitted when a signer is authorised, changed or revoked (kind NONE).
    event SignerSet(address indexed signer, SignerKind kind, bytes32 attestationHash);
    /// @notice Emitted when a signer withdraws its earnings.
    event EarningsWithdrawn(address indexed signer, uint256 amount);

    error AIGCWrongPayment(uint256 sent, uint256 price);
    error AIGCPromptLength(uint256 length, uint256 max);
    error AIGCSoldOut(uint256 maxSupply);
    error AIGCUnknownRequest(uint256 requestId);
    error AIGCUnauthorizedSigner(address signer);
    error AIGCInvalidManifest();
    error AIGCRefundTooEarly(uint256 requestId, uint256 availableAt);
    error AIGCTransferFailed(address to, uint256 amount);

    /**
     * @param name_ ERC-721 name.
     * @param symbol_ ERC-721 symbol.
     * @param owner_ Admin of the collection (sets signers).
     * @param price_ Price of one mint in wei.
     * @param maxSupply_ Maximum number of tokens (open requests count against it).
     * @param maxPromptBytes_ Maximum prompt length in bytes.
     * @param refundDelay_ Seconds after a request after which anyone may refund it.
     */
    constructor(
        string memory name_,
        string memory symbol_,
        address owner_,
        uint96 price_,
        uint32 maxSupply_,
        uint16 maxPromptBytes_,
        uint32 refundDelay_
    ) ERC721(name_, symbol_) Ownable(owner_) EIP712("AIGCCollection", "1") {
        _price = price_;
        _maxSupply = maxSupply_;
        _maxPromptBytes = maxPromptBytes_;
        _refundDelay = refundDelay_;
    }

    /**
     * @notice Pays for a mint of an image rendered from `prompt`. The seed is fixed here, so no operator can
     * choose among outputs.
     * @return requestId The request id, which becomes the token id.
     *
     * Requirements: `msg.value` equals the price; 1 ≤ prompt length ≤ the cap; supply left.
     * Emits a {MintRequested} event.
     */
    function requestMint(bytes calldata prompt) external payable returns (uint256 requestId) {
        if (msg.value != _price) revert AIGCWrongPayment(msg.value, _price);
        if (prompt.length == 0 || prompt.length > _maxPromptBytes) {
            revert AIGCPromptLength(prompt.length, _maxPromptBytes);
        }
        if (_reserved >= _maxSupply) revert AIGCSoldOut(_maxSupply);
        unchecked {
            requestId = ++_lastRequestId;
            ++_reserved;
        }
        bytes32 seed = keccak256(abi.encode(block.prevrandao, block.chainid, address(this), requestId, msg.sender));
        Request memory request = Request({
            requester: msg.sender,
            paid: uint96(msg.value),
            requestedAt: uint64(block.timestamp),
            seed: seed,
            promptHash: keccak256(prompt)
        });
        _slots[requestId] = _requestKey(request);
        emit MintRequested(requestId, msg.sender, msg.value, request.requestedAt, seed, request.promptHash, prompt);
    }

    /**
     * @notice Mints request `requestId` with the Arweave manifest `manifestId`. Anyone may submit it: the signature,
     * not the sender, is what authorises the mint, and the escrow goes to the signer.
     * @param request The request's preimage as emitted in {MintRequested}.
     * @param manifestId The 32-byte Arweave transaction id of the metadata manifest.
     * @param imageSha256 SHA-256 of the image bytes stored on Arweave.
     * @param modelHash Hash identifying the model (backend, id, version, weights) that rendered the image.
     * @param signature EIP-712 signature over the {FULFILLMENT_TYPEHASH} struct by an authorised signer.
     *
     * Requirements: the request is pending with exactly this preimage; the signer is authorised; manifest id non-zero.
     * Emits {Transfer} and {MintFulfilled}.
     */
    function fulfill(
        uint256 requestId,
        Request calldata request,
        bytes32 manifestId,
        bytes32 imageSha256,
        bytes32 modelHash,
        bytes calldata signature
    ) external {
        _checkPending(requestId, request);
        if (manifestId == bytes32(0)) revert AIGCInvalidManifest();
        bytes32 digest = fulfillmentDigest(requestId, request.promptHash, request.seed, imageSha256, manifestId, modelHash);
        address signer = ECDSA.recover(digest, signature);
        Signer storage s = _signers[signer];
        if (s.kind == SignerKind.NONE) revert AIGCUnauthorizedSigner(signer);

        _slots[requestId] = manifestId;
        unchecked {
            s.earnings += request.paid;
        }
        _mint(request.requester, requestId);
        emit MintFulfilled(requestId, request.requester, signer, manifestId, imageSha256, modelHash);
    }

    /**
     * @notice Ends a pending request without a mint and refunds the requester at once (e.g. moderation, or a
     * backend that failed for good).
     *
     * Requirements: caller is an authorised signer; the request is pending with this preimage.
     * Emits {MintRejected}.
     */
    function reject(uint256 requestId, Request calldata request, uint8 reason) external nonReentrant {
        if (_signers[msg.sender].kind == SignerKind.NONE) revert AIGCUnauthorizedSigner(msg.sender);
        _checkPending(requestId, request);
        _close(requestId);
        emit MintRejected(requestId, request.requester, request.paid, reason);
        _send(request.requester, request.paid);
    }

    /**
     * @notice Refunds a request that was not served within `refundDelay` seconds. Anyone may call it; the
     * money always goes to the requester.
     *
     * Requirements: the request is pending with this preimage and its deadline has passed.
     * Emits {MintRefunded}.
     */
    function refund(uint256 requestId, Request calldata request) external nonReentrant {
        _checkPending(requestId, request);
        uint256 availableAt = uint256(request.requestedAt) + _refundDelay;
        if (block.timestamp < availableAt) revert AIGCRefundTooEarly(requestId, availableAt);
        _close(requestId);
        emit MintRefunded(requestId, request.requester, request.paid);
        _send(request.requester, request.paid);
    }

    /**
     * @notice Sends the caller's accumulated earnings (escrow of the requests it fulfilled) to the caller.
     * Emits {EarningsWithdrawn}.
     */
    function withdraw() external nonReentrant {
        Signer storage s = _signers[msg.sender];
        uint256 amount = s.earnings;
        s.earnings = 0;
        emit EarningsWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /**
     * @notice Authorises (or with kind NONE revokes) a provenance signer. Earnings already accrued are kept.
     * @param attestationHash For TEE keys, the hash of the attestation document binding the key; zero otherwise.
     *
     * Requirements: caller is the owner. Emits {SignerSet}.
     */
    function setSigner(address signer, SignerKind kind, bytes32 attestationHash) external onlyOwner {
        _signers[signer].kind = kind;
        emit SignerSet(signer, kind, attestationHash);
    }

    /// @notice The kind of `signer` and its unwithdrawn earnings.
    function signerInfo(address signer) external view returns (SignerKind kind, uint256 earnings) {
        Signer storage s = _signers[signer];
        return (s.kind, s.earnings);
    }

    /// @notice Mint settings: price in wei, max supply, prompt byte cap, refund delay in seconds.
    function mintConfig()
        external
        view
        returns (uint256 price, uint256 maxSupply, uint256 maxPromptBytes, uint256 refundDelay)
    {
        return (_price, _maxSupply, _maxPromptBytes, _refundDelay);
    }

    /// @notice The id of the latest request (0 before the first).
    function lastRequestId() external view returns (uint256) {
        return _lastRequestId;
    }

    /// @notice True while `requestId` is pending with exactly this preimage.
    function isPending(uint256 requestId, Request calldata request) external view returns (bool) {
        return _slots[requestId] == _requestKey(request) && _ownerOf(requestId) == address(0);
    }

    /// @notice The Arweave manifest id of a minted token. Reverts for tokens that do not exist.
    function manifestOf(uint256 tokenId) public view returns (bytes32) {
        _requireOwned(tokenId);
        return _slots[tokenId];
    }

    /// @notice `ar://` followed by the base64url Arweave id of the token's metadata manifest.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        return string.concat("ar://", Base64.encodeURL(abi.encodePacked(manifestOf(tokenId))));
    }

    /// @notice The EIP-712 digest a signer signs to authorise a fulfilment; exposed so off-chain code can check it.
    function fulfillmentDigest(
        uint256 requestId,
        bytes32 promptHash,
        bytes32 seed,
        bytes32 imageSha256,
        bytes32 manifestId,
        bytes32 modelHash
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(FULFILLMENT_TYPEHASH, requestId, promptHash, seed, imageSha256, manifestId, modelHash))
        );
    }

    function _requestKey(Request memory request) private pure returns (bytes32) {
        return keccak256(abi.encode(request));
    }

    function _checkPending(uint256 requestId, Request calldata request) private view {
        if (_slots[requestId] != _requestKey(request) || _ownerOf(requestId) != address(0)) {
            revert AIGCUnknownRequest(requestId);
        }
    }

    /// @dev Clears a pending request and frees its place in the supply.
    function _close(uint256 requestId) private {
        delete _slots[requestId];
        unchecked {
            --_reserved;
        }
    }

    function _send(address to, uint256 amount) private {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert AIGCTransferFailed(to, amount);
    }
}
