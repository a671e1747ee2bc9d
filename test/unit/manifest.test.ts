import { keccak256, toUtf8Bytes } from 'ethers';
import { buildManifest, serializeManifest, type AigcProvenance } from '../../pipeline/storage/manifest';

const HOSTILE_PROMPTS = [
  'she said "hello" and left',
  'back\\slash \\" escaped quote',
  'line one\nline two\r\nline three\ttabbed',
  '</script><script>alert(1)</script>',
  '{"name": "injected", "image": "ar://evil"}',
  'NUL \u0000 byte and bell \u0007',
  'right-to-left \u202Eoverride\u202C',
  'emoji 🦊🌙👩‍🚀 and flags 🇳🇱',
  'CJK 山の上の灯台, Arabic منارة, Hindi प्रकाशस्तंभ',
  'invalid bytes decoded as \uFFFD (U+FFFD)',
  "'; DROP TABLE tokens; --",
  '\u2028line separator\u2029paragraph separator',
  'x'.repeat(280),
];

function provenance(prompt: string): AigcProvenance {
  return {
    collection: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    chainId: 31337,
    requestId: '7',
    tokenId: '7',
    prompt,
    promptHash: keccak256(toUtf8Bytes(prompt)),
    renderedPrompt: `${prompt}, dreamlike`,
    negativePrompt: 'text',
    seed: `0x${'ab'.repeat(32)}`,
    requestBlockHash: `0x${'12'.repeat(32)}`,
    renderSeed: `0x${'34'.repeat(32)}`,
    backendSeed: '42',
    model: { backend: 'local', id: 'local-procedural', version: '1' },
    modelHash: `0x${'cd'.repeat(32)}`,
    params: { width: 512, height: 512 },
    image: { sha256: 'ef'.repeat(32), mime: 'image/png', width: 512, height: 512, bytes: 1000 },
    generatedAt: '2026-11-25T00:00:00.000Z',
    signer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    attestation: { type: 'operator' },
  };
}

describe('metadata manifest', () => {
  it.each(HOSTILE_PROMPTS.map((p) => [p]))('is valid JSON that keeps the prompt %#', (prompt) => {
    const manifest = buildManifest({
      collectionName: 'Genesis "Dreams"',
      description: 'd\nd',
      imageId: 'A'.repeat(43),
      provenance: provenance(prompt),
    });
    const bytes = serializeManifest(manifest);
    // Strict UTF-8: a manifest must decode without replacement characters being introduced.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const parsed = JSON.parse(text);
    expect(parsed.aigc.prompt).toBe(prompt);
    expect(parsed.image).toBe(`ar://${'A'.repeat(43)}`);
    expect(parsed.name).toBe('Genesis "Dreams" #7');
    expect(Object.keys(parsed)).toEqual([
      'name',
      'description',
      'image',
      'attributes',
      'prompt',
      'aigc_type',
      'aigc_data',
      'proof_type',
      'aigc',
    ]);
    // ERC-7007 metadata fields, beside the provenance block.
    expect([parsed.prompt, parsed.aigc_type, parsed.aigc_data, parsed.proof_type]).toEqual([
      prompt,
      'image',
      parsed.image,
      'eip712-signature',
    ]);
  });
});
