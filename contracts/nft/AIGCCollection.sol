// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "solady/src/tokens/ERC721.sol";
import {EIP712} from "solady/src/utils/EIP712.sol";
import {ECDSA} from "solady/src/utils/ECDSA.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC7007} from "./interfaces/IERC7007.sol";

/**
 * @title AIGCCollection
 * @notice An ERC-721 collection of AI-generated images. A collector pays for a mint with a prompt; this contract fixes
 * a request seed; an operator renders off chain with a render seed = keccak256(abi.encode(request seed, hash of the
 * request's block)) — unknown to the requester when its transaction runs, so it cannot grind for a seed — stores image
 * and metadata (which records the block hash and render seed) on Arweave, and calls `fulfill` with an EIP-712
 * signature over (requestId, promptHash, seed, imageSha256, manifestId, modelHash) by an authorised signer. The
 * contract cannot check the block-hash mix itself (BLOCKHASH reaches 256 blocks back, and on some rollups it is not
 * the rollup block's hash); the signed manifest id binds the manifest that states it, and `aigc verify` recomputes it. The token (id = request id) goes to the request's recipient; the escrow is credited to the signer
 * and paid out to the signer's payee. A signer may `reject` a request (refund now); from its deadline on, anyone may
 * `refund` it. Every request ends exactly once, and fulfilment and refund never overlap: fulfil only before the
 * deadline, refund only from it.
 *
 * Money: the contract's balance is always the escrow of open requests + signers' unpaid earnings + unclaimed credits.
 * Escrow leaves only to the request's signer (as earnings, by a valid fulfilment) or to its requester (reject,
 * refund). A payment that the receiver refuses becomes a credit it can `claim` (pull), so no receiver can block the
 * end of a request or a withdrawal.
 *
 * Storage layout, chosen for gas:
 * - A pending request is ONE slot, `keccak256(abi.encode(Request))`. The values travel in `MintRequested` and
 *   callers pass them back; the contract checks the hash. Once minted, the same slot holds the Arweave manifest id.
 *   A slot that holds a manifest id is never read as a pending request: every pending check also requires that no
 *   token exists (a signer could otherwise choose a manifest id equal to the hash of a forged request).
 * - The token's owner slot (Solady ERC721) keeps 96 spare bits: they hold a commitment to what was signed and who
 *   signed it, so `verify` is true only for the minted values, written with the owner at no extra storage cost.
 * - The wallet-limit count of an account lives in the spare bits of its ERC-721 balance slot; a request records whose
 *   count it was added to, so its end takes it off that count and no other.
 * - Mint settings fill one slot; owner, request counters, wallet limit and flags share another.
 * - `tokenURI` and `contractURI` are derived from bytes32 Arweave ids (`ar://` + base64url).
 *
 * Deployed as ERC-1167 clones by {CollectionFactory}; the implementation itself cannot be initialised. Needs a chain
 * with EIP-1153 (transient storage, Cancun) for its reentrancy guard. Tokens cannot be burned: a burned token would
 * leave a manifest id in its slot with no token beside it.
 */
contract AIGCCollection is ERC721, EIP712, ReentrancyGuardTransient, IERC7007 {
    /// @notice What a signer key is. NONE: not authorised (a retired key: its past tokens still verify).
    /// COMPROMISED: not authorised, and every token it signed fails `verify`.
    enum SignerKind {
        NONE,
        OPERATOR,
        TEE,
        COMPROMISED
    }

    /// @notice Whose wallet-limit count a request was added to (a limit counts the requests made while it is set).
    enum Counted {
        NONE,
        REQUESTER,
        RECIPIENT
    }

    /// @notice Preimage of a pending request's slot, as emitted in {MintRequested}.
    /// @dev `requester` paid and is refunded; `recipient` receives the token. `deadline`: fulfil before it, refund from
    /// it (fixed at request time). `counted`: whose wallet-limit count holds this request, so ending it takes it off
    /// exactly that count. `seed`: the request seed.
    struct Request {
        address requester;
        uint96 paid;
        address recipient;
        uint64 deadline;
        Counted counted;
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

    /// @notice Mint settings. `mintEnd` 0 means no end. `refundDelay`: seconds from a request to its deadline.
    struct MintConfig {
        uint96 price;
        uint32 maxSupply;
        uint16 maxPromptBytes;
        uint32 refundDelay;
        uint40 mintStart;
        uint40 mintEnd;
    }

    /// @notice Everything a clone is initialised with. `walletLimit` 0: no limit; `signer` 0: none yet; `payee` 0: the
    /// signer itself; `contractManifest` 0: no ERC-7572 metadata yet; `royaltyReceiver` 0 with `royaltyBps` 0: none.
    struct InitParams {
        string name;
        string symbol;
        address owner;
        MintConfig mint;
        uint16 walletLimit;
        address royaltyReceiver;
        uint16 royaltyBps;
        address signer;
        address payee;
        bytes32 contractManifest;
    }

    /// @dev Owner, counters and flags: one slot, read by every request and every admin call.
    struct State {
        address owner;
        uint40 lastRequestId;
        uint32 reserved; // open requests + minted tokens, checked against maxSupply
        uint16 walletLimit;
        uint8 flags;
    }

    struct Signer {
        SignerKind kind;
        uint128 earnings;
    }

    bytes32 public constant FULFILLMENT_TYPEHASH = keccak256(
        "Fulfillment(uint256 requestId,bytes32 promptHash,bytes32 seed,bytes32 imageSha256,bytes32 manifestId,bytes32 modelHash)"
    );
    /// @notice Highest royalty a collection can set: 10 %.
    uint16 public constant MAX_ROYALTY_BPS = 1_000;
    /// @notice Bounds of `refundDelay`: long enough to render and mint, short enough not to lock a collector's money.
    uint32 public constant MIN_REFUND_DELAY = 60;
    uint32 public constant MAX_REFUND_DELAY = 30 days;
    /// @dev Gas a refund or payout push may use; a receiver that needs more (or refuses) is credited instead.
    uint256 private constant PUSH_GAS = 50_000;
    uint8 private constant INITIALIZED = 1;
    uint8 private constant PAUSED = 2;

    MintConfig private _config;
    State private _state;
    address private _royaltyReceiver;
    uint16 private _royaltyBps;
    address private _pendingOwner;
    bytes32 private _contractManifest;
    string private _name;
    string private _symbol;

    mapping(uint256 requestId => bytes32) private _slots;
    mapping(address signer => Signer) private _signers;
    mapping(address signer => address) private _payees;
    mapping(address signer => bytes32) private _attestations;
    mapping(address account => uint256) private _credits;

    /// @notice A collector asked for a mint; carries everything an indexer or operator needs. The request's
    /// `promptHash` is keccak256(prompt).
    event MintRequested(
        uint256 indexed requestId,
        address indexed requester,
        address indexed recipient,
        uint256 paid,
        uint64 deadline,
        Counted counted,
        bytes32 seed,
        bytes prompt
    );
    /// @notice Request `requestId` was minted as token `requestId` (its recipient is in {Transfer}). With
    /// {MintRequested} and {AigcData}, it gives every value of the ERC-7007 `aigcData` and `proof`.
    event MintFulfilled(
        uint256 indexed requestId,
        address indexed signer,
        bytes32 manifestId,
        bytes32 imageSha256,
        bytes32 modelHash
    );
    /// @notice An item of {fulfillBatch} was skipped; `reason` is the selector of the error a single fulfil would raise.
    event FulfillSkipped(uint256 indexed requestId, bytes4 reason);
    /// @notice A signer rejected a request; its requester was refunded.
    event MintRejected(
        uint256 indexed requestId, address indexed requester, address indexed recipient, uint256 refunded, uint8 reason
    );
    /// @notice A request past its deadline was refunded to its requester.
    event MintRefunded(uint256 indexed requestId, address indexed requester, address indexed recipient, uint256 refunded);
    /// @notice A signer was authorised, changed or revoked. `payee` receives its earnings (0: the signer itself).
    event SignerSet(address indexed signer, SignerKind kind, bytes32 attestationHash, address payee);
    /// @notice A signer's earnings were paid to its payee.
    event EarningsWithdrawn(address indexed signer, address indexed payee, uint256 amount);
    /// @notice A payment to `account` failed (or its payee changed); `amount` waits for {claim}.
    event CreditAdded(address indexed account, uint256 amount);
    /// @notice `account` claimed its credit, paid to `to`.
    event CreditClaimed(address indexed account, address indexed to, uint256 amount);
    /// @notice Mint settings were set.
    event MintConfigSet(MintConfig config, uint16 walletLimit);
    /// @notice The ERC-2981 royalty was set.
    event RoyaltySet(address indexed receiver, uint16 bps);
    /// @notice ERC-7572: the contract-level metadata changed.
    event ContractURIUpdated();
    /// @notice ERC-4906. Token metadata is fixed at mint, so these are declared for the interface and not emitted.
    event MetadataUpdate(uint256 _tokenId);
    event BatchMetadataUpdate(uint256 _fromTokenId, uint256 _toTokenId);
    event Paused(address account);
    event Unpaused(address account);
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error AIGCWrongPayment(uint256 sent, uint256 price);
    error AIGCPromptLength(uint256 length, uint256 max);
    error AIGCSoldOut(uint256 maxSupply);
    error AIGCMintNotOpen(uint256 opensAt);
    error AIGCMintClosed(uint256 closedAt);
    error AIGCPaused();
    error AIGCWalletLimit(address account, uint256 limit);
    error AIGCInvalidRecipient();
    error AIGCUnknownRequest(uint256 requestId);
    error AIGCRequestExpired(uint256 requestId, uint256 deadline);
    error AIGCUnauthorizedSigner(address signer);
    error AIGCInvalidSigner();
    error AIGCInvalidSignature();
    error AIGCInvalidManifest();
    error AIGCInvalidAigcData();
    error AIGCInvalidConfig();
    error AIGCInvalidRoyalty(address receiver, uint256 bps);
    error AIGCRefundTooEarly(uint256 requestId, uint256 availableAt);
    error AIGCNothingToWithdraw(address signer);
    error AIGCNothingToClaim(address account);
    error AIGCTransferFailed(address to, uint256 amount);
    error AIGCNotEnoughGas();
    error AIGCAlreadyInitialized();
    error AIGCUnexpectedValue();
    error AIGCInvalidClaimTarget();
    error OwnableUnauthorizedAccount(address account);
    error OwnableInvalidOwner(address owner);

    modifier onlyOwner() {
        if (msg.sender != _state.owner) revert OwnableUnauthorizedAccount(msg.sender);
        _;
    }

    /// @dev The implementation is only a template for clones: mark it initialised so nobody can take it.
    constructor() {
        _state.flags = INITIALIZED;
    }

    /**
     * @notice Initialises a clone. Called once, by {CollectionFactory}, in the clone's creation transaction.
     *
     * Requirements: not initialised before; non-zero owner; valid config (see {setMintConfig}) and royalty (see
     * {setRoyalty}).
     * Emits {OwnershipTransferred}, {MintConfigSet}, and {RoyaltySet}, {SignerSet}, {ContractURIUpdated} when set.
     */
    function initialize(InitParams calldata p) external {
        if (_state.flags & INITIALIZED != 0) revert AIGCAlreadyInitialized();
        if (p.owner == address(0)) revert OwnableInvalidOwner(address(0));
        _state.owner = p.owner;
        _state.flags = INITIALIZED;
        emit OwnershipTransferred(address(0), p.owner);
        _name = p.name;
        _symbol = p.symbol;
        _setMintConfig(p.mint, p.walletLimit);
        if (p.royaltyReceiver != address(0) || p.royaltyBps != 0) _setRoyalty(p.royaltyReceiver, p.royaltyBps);
        if (p.signer != address(0)) _setSigner(p.signer, SignerKind.OPERATOR, bytes32(0), p.payee);
        if (p.contractManifest != bytes32(0)) {
            _contractManifest = p.contractManifest;
            emit ContractURIUpdated();
        }
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
    function requestMint(bytes calldata prompt) external payable returns (uint256 requestId) {
        return _request(msg.sender, false, prompt);
    }

    /**
     * @notice Like {requestMint}, but the token goes to `to`. A refund goes to the caller, who paid. While a wallet
     * limit is set, the request counts against the caller's limit, except when the caller is an authorised signer (an
     * operator's sponsored mint for a user without a wallet): then against `to`'s. So nobody can use up another's
     * limit.
     *
     * Requirements: as {requestMint}; `to` non-zero; the counted account under the per-wallet limit.
     * Emits {MintRequested}.
     */
    function requestMintFor(address to, bytes calldata prompt) external payable returns (uint256 requestId) {
        if (to == address(0)) revert AIGCInvalidRecipient();
        return _request(to, _isActive(_signers[msg.sender].kind), prompt);
    }

    // ─── Fulfilment ──────────────────────────────────────────────────────────────────────────────────────────────

    /**
     * @notice Mints a request with its Arweave manifest. Anyone may submit it: the signature, not the sender,
     * authorises the mint, and the escrow is credited to the signer.
     *
     * Requirements: the request is pending with exactly this preimage and before its deadline; non-zero manifest id;
     * the signature is by an authorised signer over these values under this contract's EIP-712 domain.
     * Emits {Transfer}, {MintFulfilled} and {AigcData}.
     */
    function fulfill(Fulfillment calldata f) external {
        (bytes4 err, address signer) = _validate(f);
        if (err != 0) _revertWith(err, f, signer);
        _mintFulfilled(f, signer);
        _signers[signer].earnings += f.request.paid;
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
            earned += f.request.paid;
            ++minted;
        }
        _credit(lastSigner, earned);
    }

    /**
     * @notice Ends a pending request without a mint and refunds the requester at once (moderation, or a backend
     * that failed for good). `reason` is an operator-defined code, emitted.
     *
     * Requirements: caller is an authorised signer; the request is pending with this preimage.
     * Emits {MintRejected} (and {CreditAdded} if the requester refuses the refund).
     */
    function reject(uint256 requestId, Request calldata request, uint8 reason) external nonReentrant {
        if (!_isActive(_signers[msg.sender].kind)) revert AIGCUnauthorizedSigner(msg.sender);
        _checkPending(requestId, request);
        _close(requestId, request);
        emit MintRejected(requestId, request.requester, request.recipient, request.paid, reason);
        _pay(request.requester, request.paid);
    }

    /**
     * @notice Refunds a request that was not minted before its deadline. Anyone may call it; the money always goes
     * to the requester.
     *
     * Requirements: the request is pending with this preimage; its deadline has come.
     * Emits {MintRefunded} (and {CreditAdded} if the requester refuses the refund).
     */
    function refund(uint256 requestId, Request calldata request) external nonReentrant {
        _checkPending(requestId, request);
        if (block.timestamp < request.deadline) revert AIGCRefundTooEarly(requestId, request.deadline);
        _close(requestId, request);
        emit MintRefunded(requestId, request.requester, request.recipient, request.paid);
        _pay(request.requester, request.paid);
    }

    /**
     * @notice Pays `signer`'s earnings (escrow of the requests it signed) to its payee. Anyone may call it; the money
     * always goes to the payee, so earnings of a key that no longer exists (a TEE key made anew at every start) are
     * never lost. Revoked signers keep what they earned.
     *
     * Requirements: non-zero earnings. Emits {EarningsWithdrawn} (and {CreditAdded} if the payee refuses).
     */
    function withdraw(address signer) external nonReentrant {
        Signer storage s = _signers[signer];
        uint256 amount = s.earnings;
        if (amount == 0) revert AIGCNothingToWithdraw(signer);
        s.earnings = 0;
        address payee = payeeOf(signer);
        emit EarningsWithdrawn(signer, payee, amount);
        _pay(payee, amount);
    }

    /**
     * @notice Sends the caller's credit (payments it refused, or earnings moved when its signer's payee changed)
     * to `to`.
     *
     * Requirements: non-zero credit; `to` non-zero and accepts the payment. Emits {CreditClaimed}.
     */
    function claim(address to) external nonReentrant {
        if (to == address(0)) revert AIGCInvalidClaimTarget();
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert AIGCNothingToClaim(msg.sender);
        _credits[msg.sender] = 0;
        emit CreditClaimed(msg.sender, to, amount);
        bool ok;
        assembly ("memory-safe") {
            ok := call(gas(), to, amount, 0, 0, 0, 0)
        }
        if (!ok) revert AIGCTransferFailed(to, amount);
    }

    // ─── ERC-721 ─────────────────────────────────────────────────────────────────────────────────────────────────

    // Solady makes these payable for gas; ether sent with them could never leave this contract (it is not escrow,
    // earnings or credit), so it is refused.

    /// @inheritdoc ERC721
    function approve(address account, uint256 id) public payable override {
        if (msg.value != 0) revert AIGCUnexpectedValue();
        super.approve(account, id);
    }

    /// @inheritdoc ERC721
    function transferFrom(address from, address to, uint256 id) public payable override {
        if (msg.value != 0) revert AIGCUnexpectedValue();
        super.transferFrom(from, to, id);
    }

    /// @inheritdoc ERC721
    function safeTransferFrom(address from, address to, uint256 id) public payable override {
        if (msg.value != 0) revert AIGCUnexpectedValue();
        super.safeTransferFrom(from, to, id);
    }

    /// @inheritdoc ERC721
    function safeTransferFrom(address from, address to, uint256 id, bytes calldata data) public payable override {
        if (msg.value != 0) revert AIGCUnexpectedValue();
        super.safeTransferFrom(from, to, id, data);
    }

    // ─── ERC-7007 ────────────────────────────────────────────────────────────────────────────────────────────────

    /**
     * @notice ERC-7007 check. `aigcData` = abi.encode(tokenId, seed, modelHash, imageSha256, manifestId) and
     * `proof` = the fulfilment signature. True iff the token was minted with exactly these values, this prompt and a
     * signature by the key that minted it, and that key was not later marked COMPROMISED. A routine key retirement
     * (kind NONE) does not change the answer for tokens already minted.
     */
    function verify(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        public
        view
        returns (bool success)
    {
        if (aigcData.length != 160) return false;
        (uint256 tokenId, bytes32 seed, bytes32 modelHash, bytes32 imageSha256, bytes32 manifestId) =
            abi.decode(aigcData, (uint256, bytes32, bytes32, bytes32, bytes32));
        if (!_exists(tokenId) || _slots[tokenId] != manifestId) return false;
        bytes32 promptHash = keccak256(prompt);
        bytes32 digest = fulfillmentDigest(tokenId, promptHash, seed, imageSha256, manifestId, modelHash);
        address signer = ECDSA.tryRecoverCalldata(digest, proof);
        if (signer == address(0) || _signers[signer].kind == SignerKind.COMPROMISED) return false;
        return _getExtraData(tokenId) == _commitment(promptHash, seed, imageSha256, modelHash, signer);
    }

    /**
     * @notice Re-emits {AigcData} for a minted token (for indexers that want it again). AIGC data itself is fixed at
     * fulfilment and cannot be changed.
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
     * @notice Authorises, changes or revokes a provenance signer, and names who is paid its earnings.
     * @param kind OPERATOR or TEE to authorise; NONE to retire the key (its tokens keep verifying); COMPROMISED to
     * revoke it and make every token it signed fail `verify`.
     * @param attestationHash For TEE keys, the hash of the attestation document that binds the key; zero otherwise.
     * @param payee Receives the signer's earnings; zero means the signer itself. If it changes, earnings accrued so
     * far are credited to the previous payee, so a change never redirects money already earned.
     *
     * Requirements: caller is the owner; non-zero signer. Emits {SignerSet}.
     */
    function setSigner(address signer, SignerKind kind, bytes32 attestationHash, address payee) external onlyOwner {
        _setSigner(signer, kind, attestationHash, payee);
    }

    /**
     * @notice Changes the mint settings. Requests already made keep their price paid and their deadline.
     *
     * Requirements: caller is the owner; prompt cap ≥ 1; max supply ≥ tokens minted or pending; mint end, if set,
     * after the start; MIN_REFUND_DELAY ≤ refund delay ≤ MAX_REFUND_DELAY. Emits {MintConfigSet}.
     */
    function setMintConfig(MintConfig calldata config, uint16 walletLimit) external onlyOwner {
        _setMintConfig(config, walletLimit);
    }

    /// @notice Sets the ERC-2981 royalty for all tokens. Requirements: owner; bps ≤ MAX_ROYALTY_BPS; a receiver iff
    /// bps > 0. Emits {RoyaltySet}.
    function setRoyalty(address receiver, uint16 bps) external onlyOwner {
        _setRoyalty(receiver, bps);
    }

    /// @notice Sets the ERC-7572 collection manifest (an Arweave id). Requirements: owner. Emits {ContractURIUpdated}.
    function setContractURI(bytes32 manifestId) external onlyOwner {
        _contractManifest = manifestId;
        emit ContractURIUpdated();
    }

    /// @notice Stops new requests (not fulfilment, rejection, refunds, withdrawals or claims). Requirements: owner.
    function pause() external onlyOwner {
        _state.flags |= PAUSED;
        emit Paused(msg.sender);
    }

    /// @notice Allows new requests again. Requirements: owner.
    function unpause() external onlyOwner {
        _state.flags &= ~PAUSED;
        emit Unpaused(msg.sender);
    }

    /// @notice Starts handing ownership to `newOwner`, who must {acceptOwnership}. Requirements: owner.
    function transferOwnership(address newOwner) external onlyOwner {
        _pendingOwner = newOwner;
        emit OwnershipTransferStarted(msg.sender, newOwner);
    }

    /// @notice Completes a handover started by {transferOwnership}. Requirements: caller is the pending owner.
    function acceptOwnership() external {
        if (msg.sender != _pendingOwner || msg.sender == address(0)) revert OwnableUnauthorizedAccount(msg.sender);
        delete _pendingOwner;
        emit OwnershipTransferred(_state.owner, msg.sender);
        _state.owner = msg.sender;
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────────────────────────

    function name() public view override returns (string memory) {
        return _name;
    }

    function symbol() public view override returns (string memory) {
        return _symbol;
    }

    function owner() external view returns (address) {
        return _state.owner;
    }

    function pendingOwner() external view returns (address) {
        return _pendingOwner;
    }

    function paused() external view returns (bool) {
        return _state.flags & PAUSED != 0;
    }

    /// @notice Current mint settings and per-wallet limit (0 = none).
    function mintConfig() external view returns (MintConfig memory config, uint16 walletLimit) {
        return (_config, _state.walletLimit);
    }

    /// @notice The latest request id (0 before the first) and the number of open or minted requests.
    function requestCounts() external view returns (uint256 lastRequestId, uint256 reserved) {
        return (_state.lastRequestId, _state.reserved);
    }

    /// @notice Requests (open or minted) counted against `account`'s wallet limit: those made while a limit was set.
    function requestsOf(address account) external view returns (uint256) {
        return _getAux(account);
    }

    /// @notice A signer's kind, unwithdrawn earnings, attestation hash and payee.
    function signerInfo(address signer)
        external
        view
        returns (SignerKind kind, uint256 earnings, bytes32 attestation, address payee)
    {
        Signer storage s = _signers[signer];
        return (s.kind, s.earnings, _attestations[signer], payeeOf(signer));
    }

    /// @notice Who receives `signer`'s earnings.
    function payeeOf(address signer) public view returns (address) {
        address payee = _payees[signer];
        return payee == address(0) ? signer : payee;
    }

    /// @notice Money waiting for `account` to {claim}.
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @notice True while `requestId` is pending with exactly this preimage.
    function isPending(uint256 requestId, Request calldata request) external view returns (bool) {
        return !_exists(requestId) && _slots[requestId] == _requestKey(request);
    }

    /// @notice The Arweave manifest id of a minted token. Reverts for tokens that do not exist.
    function manifestOf(uint256 tokenId) public view returns (bytes32) {
        if (!_exists(tokenId)) revert TokenDoesNotExist();
        return _slots[tokenId];
    }

    /// @notice `ar://` followed by the base64url Arweave id of the token's metadata manifest.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        return _arUri(manifestOf(tokenId));
    }

    /// @notice ERC-7572: `ar://` URI of the collection manifest (name, description, image, banner, links,
    /// royalty), or "" before one is set.
    function contractURI() external view returns (string memory) {
        bytes32 id = _contractManifest;
        return id == bytes32(0) ? "" : _arUri(id);
    }

    /// @notice ERC-2981.
    function royaltyInfo(uint256, uint256 salePrice) external view returns (address receiver, uint256 amount) {
        return (_royaltyReceiver, salePrice * _royaltyBps / 10_000);
    }

    /// @notice The EIP-712 digest a signer signs to authorise a fulfilment (`seed` is the request seed).
    function fulfillmentDigest(
        uint256 requestId,
        bytes32 promptHash,
        bytes32 seed,
        bytes32 imageSha256,
        bytes32 manifestId,
        bytes32 modelHash
    ) public view returns (bytes32) {
        bytes32 typeHash = FULFILLMENT_TYPEHASH;
        bytes32 structHash;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), requestId)
            mstore(add(m, 0x40), promptHash)
            mstore(add(m, 0x60), seed)
            mstore(add(m, 0x80), imageSha256)
            mstore(add(m, 0xa0), manifestId)
            mstore(add(m, 0xc0), modelHash)
            structHash := keccak256(m, 0xe0)
        }
        return _hashTypedData(structHash);
    }

    /// @notice ERC-165: ERC-721 and its metadata, ERC-2981, ERC-4906, ERC-7007.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == 0x2a55205a || interfaceId == 0x49064906 || interfaceId == type(IERC7007).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ─── Internals ───────────────────────────────────────────────────────────────────────────────────────────────

    /// @dev EIP-712 domain: name and version (version 2: the v2 request preimage and events).
    function _domainNameAndVersion() internal pure override returns (string memory, string memory) {
        return ("AIGCCollection", "2");
    }

    function _request(address recipient, bool sponsored, bytes calldata prompt) private returns (uint256 requestId) {
        MintConfig memory c = _config;
        State memory s = _state;
        if (s.flags & PAUSED != 0) revert AIGCPaused();
        if (msg.value != c.price) revert AIGCWrongPayment(msg.value, c.price);
        if (prompt.length == 0 || prompt.length > c.maxPromptBytes) {
            revert AIGCPromptLength(prompt.length, c.maxPromptBytes);
        }
        if (block.timestamp < c.mintStart) revert AIGCMintNotOpen(c.mintStart);
        if (c.mintEnd != 0 && block.timestamp >= c.mintEnd) revert AIGCMintClosed(c.mintEnd);
        if (s.reserved >= c.maxSupply) revert AIGCSoldOut(c.maxSupply);
        Counted counted = s.walletLimit == 0 ? Counted.NONE : sponsored ? Counted.RECIPIENT : Counted.REQUESTER;
        if (counted != Counted.NONE) _count(sponsored ? recipient : msg.sender, s.walletLimit);
        requestId = uint256(s.lastRequestId) + 1;
        _state.lastRequestId = uint40(requestId);
        _state.reserved = s.reserved + 1;
        Request memory r = Request({
            requester: msg.sender,
            paid: uint96(msg.value),
            recipient: recipient,
            deadline: uint64(block.timestamp + c.refundDelay),
            counted: counted,
            seed: keccak256(abi.encode(block.prevrandao, block.chainid, address(this), requestId, msg.sender)),
            promptHash: keccak256(prompt)
        });
        _slots[requestId] = keccak256(abi.encode(r));
        emit MintRequested(requestId, msg.sender, recipient, msg.value, r.deadline, counted, r.seed, prompt);
    }

    /// @dev Adds a request to `account`'s count (kept in its ERC-721 balance slot's spare bits), under `limit`.
    function _count(address account, uint16 limit) private {
        uint256 count = uint256(_getAux(account)) + 1;
        if (count > limit) revert AIGCWalletLimit(account, limit);
        _setAux(account, uint224(count));
    }

    /// @dev Returns a zero error and the signer when `f` may be minted; else the error selector (and signer if known).
    function _validate(Fulfillment calldata f) private view returns (bytes4 err, address signer) {
        if (!_isPending(f.requestId, f.request)) return (AIGCUnknownRequest.selector, address(0));
        if (f.manifestId == bytes32(0)) return (AIGCInvalidManifest.selector, address(0));
        if (block.timestamp >= f.request.deadline) return (AIGCRequestExpired.selector, address(0));
        bytes32 digest = fulfillmentDigest(
            f.requestId, f.request.promptHash, f.request.seed, f.imageSha256, f.manifestId, f.modelHash
        );
        signer = ECDSA.tryRecoverCalldata(digest, f.signature);
        if (signer == address(0)) return (AIGCInvalidSignature.selector, address(0));
        if (!_isActive(_signers[signer].kind)) return (AIGCUnauthorizedSigner.selector, signer);
        return (bytes4(0), signer);
    }

    function _revertWith(bytes4 err, Fulfillment calldata f, address signer) private pure {
        if (err == AIGCUnknownRequest.selector) revert AIGCUnknownRequest(f.requestId);
        if (err == AIGCRequestExpired.selector) revert AIGCRequestExpired(f.requestId, f.request.deadline);
        if (err == AIGCUnauthorizedSigner.selector) revert AIGCUnauthorizedSigner(signer);
        if (err == AIGCInvalidSignature.selector) revert AIGCInvalidSignature();
        revert AIGCInvalidManifest();
    }

    /// @dev Effects of a valid fulfilment, except the signer's earnings (credited by the caller).
    function _mintFulfilled(Fulfillment calldata f, address signer) private {
        uint256 id = f.requestId;
        _slots[id] = f.manifestId;
        // `_validate` established that the token does not exist.
        _mintAndSetExtraDataUnchecked(
            f.request.recipient, id, _commitment(f.request.promptHash, f.request.seed, f.imageSha256, f.modelHash, signer)
        );
        emit MintFulfilled(id, signer, f.manifestId, f.imageSha256, f.modelHash);
        // ERC-7007 AigcData(tokenId, prompt, aigcData, proof): indexed `bytes` topics are keccak256 of the values.
        // The prompt's is the promptHash already checked, so the log is written directly without the prompt in
        // calldata; aigcData's is hashed here; the data is abi.encode(proof).
        bytes32 topic0 = IERC7007.AigcData.selector;
        bytes32 promptHash = f.request.promptHash;
        bytes32 seed = f.request.seed;
        bytes32 modelHash = f.modelHash;
        bytes32 imageSha256 = f.imageSha256;
        bytes32 manifestId = f.manifestId;
        bytes calldata proof = f.signature;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, id)
            mstore(add(m, 0x20), seed)
            mstore(add(m, 0x40), modelHash)
            mstore(add(m, 0x60), imageSha256)
            mstore(add(m, 0x80), manifestId)
            let dataHash := keccak256(m, 0xa0)
            // Log data: abi.encode(proof) = offset, length, bytes padded to a word.
            mstore(m, 0x20)
            mstore(add(m, 0x20), proof.length)
            let padded := and(add(proof.length, 0x1f), not(0x1f))
            mstore(add(add(m, 0x40), sub(padded, 0x20)), 0)
            calldatacopy(add(m, 0x40), proof.offset, proof.length)
            log4(m, add(0x40, padded), topic0, id, promptHash, dataHash)
        }
    }

    /// @dev 96 bits bound to the signed values and the signing key, kept in the token's owner slot.
    function _commitment(bytes32 promptHash, bytes32 seed, bytes32 imageSha256, bytes32 modelHash, address signer)
        private
        pure
        returns (uint96)
    {
        bytes32 h;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, promptHash)
            mstore(add(m, 0x20), seed)
            mstore(add(m, 0x40), imageSha256)
            mstore(add(m, 0x60), modelHash)
            mstore(add(m, 0x80), signer)
            h := keccak256(m, 0xa0)
        }
        return uint96(uint256(h));
    }

    function _credit(address signer, uint256 amount) private {
        if (amount != 0) _signers[signer].earnings += uint128(amount);
    }

    function _isActive(SignerKind kind) private pure returns (bool) {
        return kind == SignerKind.OPERATOR || kind == SignerKind.TEE;
    }

    /// @dev keccak256(abi.encode(request)), hashed from calldata (a static struct's words are contiguous there).
    /// A word with dirty high bits hashes differently from the stored key, so it can only fail the match.
    function _requestKey(Request calldata request) private pure returns (bytes32 key) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, request, 0xe0)
            key := keccak256(m, 0xe0)
        }
    }

    /// @dev A minted token's slot holds a manifest id that a signer chose: it must never pass as a pending request.
    function _isPending(uint256 requestId, Request calldata request) private view returns (bool) {
        return _slots[requestId] == _requestKey(request) && !_exists(requestId);
    }

    function _checkPending(uint256 requestId, Request calldata request) private view {
        if (!_isPending(requestId, request)) revert AIGCUnknownRequest(requestId);
    }

    /// @dev Clears a pending request and frees its place in the supply and in the counted account's limit.
    function _close(uint256 requestId, Request calldata request) private {
        delete _slots[requestId];
        --_state.reserved;
        // Only what was counted is taken off, so turning a limit on or off with requests open never underflows.
        if (request.counted != Counted.NONE) {
            address account = request.counted == Counted.RECIPIENT ? request.recipient : request.requester;
            _setAux(account, _getAux(account) - 1);
        }
    }

    /// @dev Pushes `amount` to `to` with bounded gas and no return data copied; if `to` refuses, credits it instead.
    function _pay(address to, uint256 amount) private {
        // Without enough gas left the push could fail for the caller's sake, not the receiver's.
        if (gasleft() < PUSH_GAS + PUSH_GAS / 63 + 30_000) revert AIGCNotEnoughGas();
        bool ok;
        assembly ("memory-safe") {
            ok := call(PUSH_GAS, to, amount, 0, 0, 0, 0)
        }
        if (!ok) {
            _credits[to] += amount;
            emit CreditAdded(to, amount);
        }
    }

    function _setSigner(address signer, SignerKind kind, bytes32 attestationHash, address payee) private {
        if (signer == address(0)) revert AIGCInvalidSigner();
        Signer storage s = _signers[signer];
        s.kind = kind;
        if (_attestations[signer] != attestationHash) _attestations[signer] = attestationHash;
        address previous = payeeOf(signer);
        if (previous != (payee == address(0) ? signer : payee)) {
            uint256 earned = s.earnings;
            if (earned != 0) {
                // Money earned so far belongs to the payee it was earned for.
                s.earnings = 0;
                _credits[previous] += earned;
                emit CreditAdded(previous, earned);
            }
        }
        if (_payees[signer] != payee) _payees[signer] = payee;
        emit SignerSet(signer, kind, attestationHash, payee);
    }

    function _setMintConfig(MintConfig calldata c, uint16 walletLimit) private {
        if (
            c.maxPromptBytes == 0 || c.maxSupply < _state.reserved || (c.mintEnd != 0 && c.mintEnd <= c.mintStart)
                || c.refundDelay < MIN_REFUND_DELAY || c.refundDelay > MAX_REFUND_DELAY
        ) revert AIGCInvalidConfig();
        _config = c;
        _state.walletLimit = walletLimit;
        emit MintConfigSet(c, walletLimit);
    }

    function _setRoyalty(address receiver, uint16 bps) private {
        if (bps > MAX_ROYALTY_BPS || (receiver == address(0)) != (bps == 0)) revert AIGCInvalidRoyalty(receiver, bps);
        (_royaltyReceiver, _royaltyBps) = (receiver, bps);
        emit RoyaltySet(receiver, bps);
    }

    function _arUri(bytes32 arweaveId) private pure returns (string memory) {
        return string.concat("ar://", Base64.encodeURL(abi.encodePacked(arweaveId)));
    }
}
