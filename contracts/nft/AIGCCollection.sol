// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC721/ERC721Upgradeable.sol";
import {ERC2981Upgradeable} from "@openzeppelin/contracts-upgradeable/token/common/ERC2981Upgradeable.sol";
import {Ownable2StepUpgradeable} from "@openzeppelin/contracts-upgradeable/access/Ownable2StepUpgradeable.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC7007} from "./interfaces/IERC7007.sol";

/**
 * @title AIGCCollection
 * @notice An ERC-721 collection of AI-generated images. A collector pays for a mint with a prompt; this contract fixes
 * the seed; an operator renders off chain, stores image and metadata on Arweave, and calls `fulfill` with an EIP-712
 * signature over (requestId, promptHash, seed, imageSha256, manifestId, modelHash) by an authorised signer. The token
 * (id = request id) goes to the request's recipient and the escrow to the signer (pull payment). A signer may
 * `reject` a request (refund now); after `refundDelay` anyone may `refund` it. Every request ends exactly once.
 *
 * Storage layout, chosen for gas:
 * - A pending request is ONE slot, `keccak256(abi.encode(Request))`. The values travel in `MintRequested` and
 *   callers pass them back; the contract checks the hash. Once minted, the same slot holds the Arweave manifest id,
 *   so `fulfill` rewrites a warm non-zero slot instead of allocating another.
 * - Mint settings fill one slot; the request counters share another. Signer kind and earnings share one slot.
 * - `tokenURI` is derived from the bytes32 manifest id (`ar://` + base64url); no string is stored per token.
 *
 * Deployed as ERC-1167 clones by {CollectionFactory}; the implementation itself cannot be initialised.
 * Pausing stops new requests only: fulfilment, rejection, refunds and withdrawals keep working so escrow never locks.
 */
contract AIGCCollection is
    IERC4906,
    IERC7007,
    ERC721Upgradeable,
    ERC2981Upgradeable,
    Ownable2StepUpgradeable,
    PausableUpgradeable,
    EIP712,
    ReentrancyGuardTransient
{
    /// @notice What a signer key is. NONE means not authorised.
    enum SignerKind {
        NONE,
        OPERATOR,
        TEE
    }

    /// @notice Preimage of a pending request's slot, as emitted in {MintRequested}.
    /// @dev `requester` paid and is refunded; `recipient` receives the token (differs for sponsored mints).
    struct Request {
        address requester;
        uint96 paid;
        address recipient;
        uint64 requestedAt;
        bytes32 seed;
        bytes32 promptHash;
    }

    /// @notice One signed fulfilment, as passed to {fulfill} and {fulfillBatch}.
    struct Fulfillment {
        uint256 requestId;
        Request request;
        bytes32 manifestId;
        bytes32 imageSha256;
        bytes32 modelHash;
        bytes signature;
    }

    /// @notice Mint settings. `mintEnd` 0 means no end.
    struct MintConfig {
        uint96 price;
        uint32 maxSupply;
        uint16 maxPromptBytes;
        uint32 refundDelay;
        uint40 mintStart;
        uint40 mintEnd;
    }

    /// @notice Everything a clone is initialised with. `walletLimit` 0 means no per-wallet limit; `signer` 0 means none.
    struct InitParams {
        string name;
        string symbol;
        address owner;
        MintConfig mint;
        uint16 walletLimit;
        address royaltyReceiver;
        uint96 royaltyBps;
        address signer;
    }

    struct Signer {
        SignerKind kind;
        uint128 earnings;
    }

    bytes32 public constant FULFILLMENT_TYPEHASH = keccak256(
        "Fulfillment(uint256 requestId,bytes32 promptHash,bytes32 seed,bytes32 imageSha256,bytes32 manifestId,bytes32 modelHash)"
    );

    MintConfig private _config;
    uint40 private _lastRequestId;
    uint32 private _reserved; // open requests + minted tokens, checked against maxSupply
    uint16 private _walletLimit;

    mapping(uint256 requestId => bytes32) private _slots;
    mapping(address signer => Signer) private _signers;
    mapping(address signer => bytes32) private _attestations;
    mapping(address recipient => uint256) private _requestsOf; // only kept when a wallet limit is set

    /// @notice A collector asked for a mint; carries everything an indexer or operator needs.
    event MintRequested(
        uint256 indexed requestId,
        address indexed requester,
        address indexed recipient,
        uint256 paid,
        uint64 requestedAt,
        bytes32 seed,
        bytes32 promptHash,
        bytes prompt
    );
    /// @notice Request `requestId` was minted as token `requestId`.
    event MintFulfilled(
        uint256 indexed requestId,
        address indexed recipient,
        address indexed signer,
        bytes32 manifestId,
        bytes32 imageSha256,
        bytes32 modelHash
    );
    /// @notice An item of {fulfillBatch} was skipped; `reason` is the selector of the error a single fulfil would raise.
    event FulfillSkipped(uint256 indexed requestId, bytes4 reason);
    /// @notice A signer rejected a request; the requester was refunded.
    event MintRejected(uint256 indexed requestId, address indexed requester, uint256 refunded, uint8 reason);
    /// @notice An expired request was refunded to its requester.
    event MintRefunded(uint256 indexed requestId, address indexed requester, uint256 refunded);
    /// @notice A signer was authorised, changed or revoked (kind NONE).
    event SignerSet(address indexed signer, SignerKind kind, bytes32 attestationHash);
    /// @notice A signer withdrew its earnings.
    event EarningsWithdrawn(address indexed signer, uint256 amount);
    /// @notice Mint settings were set.
    event MintConfigSet(MintConfig config, uint16 walletLimit);

    error AIGCWrongPayment(uint256 sent, uint256 price);
    error AIGCPromptLength(uint256 length, uint256 max);
    error AIGCSoldOut(uint256 maxSupply);
    error AIGCMintNotOpen(uint256 opensAt);
    error AIGCMintClosed(uint256 closedAt);
    error AIGCWalletLimit(address recipient, uint256 limit);
    error AIGCInvalidRecipient();
    error AIGCUnknownRequest(uint256 requestId);
    error AIGCUnauthorizedSigner(address signer);
    error AIGCInvalidSignature();
    error AIGCInvalidManifest();
    error AIGCInvalidAigcData();
    error AIGCInvalidConfig();
    error AIGCRefundTooEarly(uint256 requestId, uint256 availableAt);
    error AIGCTransferFailed(address to, uint256 amount);

    /// @dev The implementation is only a template for clones.
    constructor() EIP712("AIGCCollection", "1") {
        _disableInitializers();
    }

    /**
     * @notice Initialises a clone. Called once, by {CollectionFactory}, in the clone's creation transaction.
     *
     * Requirements: not initialised before; valid config (see {setMintConfig}); non-zero owner.
     * Emits {MintConfigSet}, {OwnershipTransferred} and, with a signer, {SignerSet}.
     */
    function initialize(InitParams calldata p) external initializer {
        __ERC721_init(p.name, p.symbol);
        __Ownable_init(p.owner);
        _setMintConfig(p.mint, p.walletLimit);
        if (p.royaltyBps != 0) _setDefaultRoyalty(p.royaltyReceiver, p.royaltyBps);
        if (p.signer != address(0)) _setSigner(p.signer, SignerKind.OPERATOR, bytes32(0));
    }

    // ─── Requests ────────────────────────────────────────────────────────────────────────────────────────────────

    /**
     * @notice Pays for a mint of an image rendered from `prompt`, for the caller.
     * @return requestId The request id, which becomes the token id.
     *
     * Requirements: not paused; within the mint window; `msg.value` equals the price; 1 ≤ prompt bytes ≤ the cap;
     * supply left; the caller under the per-wallet limit.
     * Emits {MintRequested}.
     */
    function requestMint(bytes calldata prompt) external payable whenNotPaused returns (uint256 requestId) {
        return _request(msg.sender, prompt);
    }

    /**
     * @notice Like {requestMint}, but the token goes to `to` (sponsored mints). A refund goes to the caller, who paid.
     *
     * Requirements: as {requestMint}; `to` non-zero; `to` under the per-wallet limit.
     * Emits {MintRequested}.
     */
    function requestMintFor(address to, bytes calldata prompt)
        external
        payable
        whenNotPaused
        returns (uint256 requestId)
    {
        if (to == address(0)) revert AIGCInvalidRecipient();
        return _request(to, prompt);
    }

    // ─── Fulfilment ──────────────────────────────────────────────────────────────────────────────────────────────

    /**
     * @notice Mints a request with its Arweave manifest. Anyone may submit it: the signature, not the sender,
     * authorises the mint, and the escrow is credited to the signer.
     *
     * Requirements: the request is pending with exactly this preimage; non-zero manifest id; the signature is by an
     * authorised signer over this request's values under this contract's EIP-712 domain.
     * Emits {Transfer}, {MintFulfilled}, {AigcData} and {MetadataUpdate}.
     */
    function fulfill(Fulfillment calldata f) external {
        (bytes4 err, address signer) = _validate(f);
        if (err != 0) _revertWith(err, f.requestId, signer);
        _mintFulfilled(f, signer);
        unchecked {
            _signers[signer].earnings += f.request.paid;
        }
    }

    /**
     * @notice Fulfils many requests in one transaction. An item that is not valid is skipped, with a
     * {FulfillSkipped} event naming the error, and the others proceed: one stale item (refunded meanwhile, or
     * fulfilled by another writer) must not waste the whole batch's gas.
     * @return minted The number of tokens minted.
     *
     * Emits, per minted item, the events of {fulfill}; per skipped item, {FulfillSkipped}.
     */
    function fulfillBatch(Fulfillment[] calldata items) external returns (uint256 minted) {
        address lastSigner;
        uint256 earned;
        for (uint256 i; i < items.length; ++i) {
            Fulfillment calldata f = items[i];
            (bytes4 err, address signer) = _validate(f);
            if (err != 0) {
                emit FulfillSkipped(f.requestId, err);
                continue;
            }
            _mintFulfilled(f, signer);
            // Credit earnings once per run of the same signer rather than once per item.
            if (signer != lastSigner) {
                _credit(lastSigner, earned);
                (lastSigner, earned) = (signer, 0);
            }
            unchecked {
                earned += f.request.paid;
                ++minted;
            }
        }
        _credit(lastSigner, earned);
    }

    /**
     * @notice Ends a pending request without a mint and refunds the requester at once (moderation, or a backend
     * that failed for good). `reason` is an operator-defined code, emitted.
     *
     * Requirements: caller is an authorised signer; the request is pending with this preimage.
     * Emits {MintRejected}.
     */
    function reject(uint256 requestId, Request calldata request, uint8 reason) external nonReentrant {
        if (_signers[msg.sender].kind == SignerKind.NONE) revert AIGCUnauthorizedSigner(msg.sender);
        _checkPending(requestId, request);
        _close(requestId, request);
        emit MintRejected(requestId, request.requester, request.paid, reason);
        _send(request.requester, request.paid);
    }

    /**
     * @notice Refunds a request that was not served within `refundDelay` seconds. Anyone may call it; the money
     * always goes to the requester.
     *
     * Requirements: the request is pending with this preimage; its deadline has passed.
     * Emits {MintRefunded}.
     */
    function refund(uint256 requestId, Request calldata request) external nonReentrant {
        _checkPending(requestId, request);
        uint256 availableAt = uint256(request.requestedAt) + _config.refundDelay;
        if (block.timestamp < availableAt) revert AIGCRefundTooEarly(requestId, availableAt);
        _close(requestId, request);
        emit MintRefunded(requestId, request.requester, request.paid);
        _send(request.requester, request.paid);
    }

    /**
     * @notice Sends the caller's earnings (escrow of the requests it signed) to the caller. Revoked signers keep
     * what they earned.
     * Emits {EarningsWithdrawn}.
     */
    function withdraw() external nonReentrant {
        Signer storage s = _signers[msg.sender];
        uint256 amount = s.earnings;
        s.earnings = 0;
        emit EarningsWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    // ─── ERC-7007 ────────────────────────────────────────────────────────────────────────────────────────────────

    /**
     * @notice ERC-7007 check. `aigcData` = abi.encode(requestId, seed, modelHash, imageSha256, manifestId) and
     * `proof` = the fulfilment signature, both as emitted in {AigcData}. True iff the token was minted with that
     * manifest and `proof` is a signature, by a currently authorised signer, over these values and keccak256(prompt).
     */
    function verify(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        public
        view
        returns (bool success)
    {
        if (aigcData.length != 160) return false;
        (uint256 tokenId, bytes32 seed, bytes32 modelHash, bytes32 imageSha256, bytes32 manifestId) =
            abi.decode(aigcData, (uint256, bytes32, bytes32, bytes32, bytes32));
        if (_ownerOf(tokenId) == address(0) || _slots[tokenId] != manifestId) return false;
        bytes32 digest = fulfillmentDigest(tokenId, keccak256(prompt), seed, imageSha256, manifestId, modelHash);
        (address signer, ECDSA.RecoverError e,) = ECDSA.tryRecover(digest, proof);
        return e == ECDSA.RecoverError.NoError && _signers[signer].kind != SignerKind.NONE;
    }

    /**
     * @notice Re-emits {AigcData} for a minted token with the full prompt (indexers that want it on chain in one
     * event). AIGC data itself is fixed at fulfilment and cannot be changed.
     *
     * Requirements: `verify(prompt, aigcData, proof)` holds and `aigcData` is about `tokenId`.
     */
    function addAigcData(uint256 tokenId, bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
    {
        if (!verify(prompt, aigcData, proof) || uint256(bytes32(aigcData[:32])) != tokenId) {
            revert AIGCInvalidAigcData();
        }
        emit AigcData(tokenId, prompt, aigcData, proof);
    }

    // ─── Admin ───────────────────────────────────────────────────────────────────────────────────────────────────

    /**
     * @notice Authorises (or with kind NONE revokes) a provenance signer.
     * @param attestationHash For TEE keys, the hash of the attestation document that binds the key; zero otherwise.
     *
     * Requirements: caller is the owner. Emits {SignerSet}.
     */
    function setSigner(address signer, SignerKind kind, bytes32 attestationHash) external onlyOwner {
        _setSigner(signer, kind, attestationHash);
    }

    /**
     * @notice Changes the mint settings.
     *
     * Requirements: caller is the owner; prompt cap ≥ 1; max supply ≥ tokens minted or pending; mint end, if set,
     * after the start. Emits {MintConfigSet}.
     */
    function setMintConfig(MintConfig calldata config, uint16 walletLimit) external onlyOwner {
        _setMintConfig(config, walletLimit);
    }

    /// @notice Sets the ERC-2981 royalty for all tokens. Requirements: caller is the owner; bps ≤ 10,000.
    function setDefaultRoyalty(address receiver, uint96 bps) external onlyOwner {
        _setDefaultRoyalty(receiver, bps);
    }

    /// @notice Stops new requests (not fulfilment, rejection, refunds or withdrawals). Requirements: owner.
    function pause() external onlyOwner {
        _pause();
    }

    /// @notice Allows new requests again. Requirements: owner.
    function unpause() external onlyOwner {
        _unpause();
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Current mint settings and per-wallet limit (0 = none).
    function mintConfig() external view returns (MintConfig memory config, uint16 walletLimit) {
        return (_config, _walletLimit);
    }

    /// @notice The latest request id (0 before the first) and the number of open or minted requests.
    function requestCounts() external view returns (uint256 lastRequestId, uint256 reserved) {
        return (_lastRequestId, _reserved);
    }

    /// @notice Requests counted against `recipient`'s wallet limit (only tracked while a limit is set).
    function requestsOf(address recipient) external view returns (uint256) {
        return _requestsOf[recipient];
    }

    /// @notice A signer's kind, unwithdrawn earnings and attestation hash.
    function signerInfo(address signer) external view returns (SignerKind kind, uint256 earnings, bytes32 attestation) {
        Signer storage s = _signers[signer];
        return (s.kind, s.earnings, _attestations[signer]);
    }

    /// @notice True while `requestId` is pending with exactly this preimage.
    function isPending(uint256 requestId, Request calldata request) external view returns (bool) {
        return _slots[requestId] == _requestKey(request);
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

    /// @notice The EIP-712 digest a signer signs to authorise a fulfilment.
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

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(IERC165, ERC721Upgradeable, ERC2981Upgradeable)
        returns (bool)
    {
        return interfaceId == type(IERC7007).interfaceId || interfaceId == bytes4(0x49064906)
            || super.supportsInterface(interfaceId);
    }

    // ─── Internals ───────────────────────────────────────────────────────────────────────────────────────────────

    function _request(address recipient, bytes calldata prompt) private returns (uint256 requestId) {
        MintConfig memory c = _config;
        if (msg.value != c.price) revert AIGCWrongPayment(msg.value, c.price);
        if (prompt.length == 0 || prompt.length > c.maxPromptBytes) {
            revert AIGCPromptLength(prompt.length, c.maxPromptBytes);
        }
        if (block.timestamp < c.mintStart) revert AIGCMintNotOpen(c.mintStart);
        if (c.mintEnd != 0 && block.timestamp >= c.mintEnd) revert AIGCMintClosed(c.mintEnd);
        if (_reserved >= c.maxSupply) revert AIGCSoldOut(c.maxSupply);
        uint16 limit = _walletLimit;
        if (limit != 0) {
            uint256 count = ++_requestsOf[recipient];
            if (count > limit) revert AIGCWalletLimit(recipient, limit);
        }
        unchecked {
            requestId = ++_lastRequestId;
            ++_reserved;
        }
        bytes32 seed = keccak256(abi.encode(block.prevrandao, block.chainid, address(this), requestId, msg.sender));
        Request memory r = Request({
            requester: msg.sender,
            paid: uint96(msg.value),
            recipient: recipient,
            requestedAt: uint64(block.timestamp),
            seed: seed,
            promptHash: keccak256(prompt)
        });
        _slots[requestId] = keccak256(abi.encode(r));
        emit MintRequested(requestId, msg.sender, recipient, msg.value, r.requestedAt, seed, r.promptHash, prompt);
    }

    /// @dev Returns a zero error and the signer when `f` may be minted; else the error selector (and signer if known).
    function _validate(Fulfillment calldata f) private view returns (bytes4 err, address signer) {
        if (_slots[f.requestId] != _requestKey(f.request)) return (AIGCUnknownRequest.selector, address(0));
        if (f.manifestId == bytes32(0)) return (AIGCInvalidManifest.selector, address(0));
        bytes32 digest = fulfillmentDigest(
            f.requestId, f.request.promptHash, f.request.seed, f.imageSha256, f.manifestId, f.modelHash
        );
        ECDSA.RecoverError e;
        (signer, e,) = ECDSA.tryRecover(digest, f.signature);
        if (e != ECDSA.RecoverError.NoError) return (AIGCInvalidSignature.selector, address(0));
        if (_signers[signer].kind == SignerKind.NONE) return (AIGCUnauthorizedSigner.selector, signer);
        return (bytes4(0), signer);
    }

    function _revertWith(bytes4 err, uint256 requestId, address signer) private pure {
        if (err == AIGCUnknownRequest.selector) revert AIGCUnknownRequest(requestId);
        if (err == AIGCUnauthorizedSigner.selector) revert AIGCUnauthorizedSigner(signer);
        if (err == AIGCInvalidSignature.selector) revert AIGCInvalidSignature();
        revert AIGCInvalidManifest();
    }

    /// @dev Effects of a valid fulfilment, except the signer's earnings (credited by the caller).
    function _mintFulfilled(Fulfillment calldata f, address signer) private {
        uint256 id = f.requestId;
        _slots[id] = f.manifestId;
        _mint(f.request.recipient, id);
        emit MintFulfilled(id, f.request.recipient, signer, f.manifestId, f.imageSha256, f.modelHash);
        // ERC-7007 AigcData(tokenId, prompt, aigcData, proof): an indexed `bytes` topic is keccak256 of the value,
        // which is the promptHash already checked, so the log is emitted directly without the prompt in calldata.
        bytes memory data = abi.encode(
            abi.encode(id, f.request.seed, f.modelHash, f.imageSha256, f.manifestId), f.signature
        );
        bytes32 topic0 = IERC7007.AigcData.selector;
        bytes32 promptHash = f.request.promptHash;
        assembly ("memory-safe") {
            log3(add(data, 0x20), mload(data), topic0, id, promptHash)
        }
        emit MetadataUpdate(id);
    }

    function _credit(address signer, uint256 amount) private {
        if (amount == 0) return;
        unchecked {
            _signers[signer].earnings += uint128(amount);
        }
    }

    function _requestKey(Request calldata request) private pure returns (bytes32) {
        return keccak256(abi.encode(request));
    }

    function _checkPending(uint256 requestId, Request calldata request) private view {
        if (_slots[requestId] != _requestKey(request)) revert AIGCUnknownRequest(requestId);
    }

    /// @dev Clears a pending request and frees its place in the supply and in the recipient's limit.
    function _close(uint256 requestId, Request calldata request) private {
        delete _slots[requestId];
        unchecked {
            --_reserved;
            if (_walletLimit != 0) --_requestsOf[request.recipient];
        }
    }

    function _setSigner(address signer, SignerKind kind, bytes32 attestationHash) private {
        _signers[signer].kind = kind;
        if (_attestations[signer] != attestationHash) _attestations[signer] = attestationHash;
        emit SignerSet(signer, kind, attestationHash);
    }

    function _setMintConfig(MintConfig calldata c, uint16 walletLimit) private {
        if (c.maxPromptBytes == 0 || c.maxSupply < _reserved || (c.mintEnd != 0 && c.mintEnd <= c.mintStart)) {
            revert AIGCInvalidConfig();
        }
        _config = c;
        _walletLimit = walletLimit;
        emit MintConfigSet(c, walletLimit);
    }

    function _send(address to, uint256 amount) private {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert AIGCTransferFailed(to, amount);
    }
}
