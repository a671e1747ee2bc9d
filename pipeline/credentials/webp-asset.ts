import type { Asset } from '@trustnxt/c2pa-ts/dist/asset';

/** One top-level chunk of the RIFF container: its FourCC, where its header starts and its payload length (unpadded). */
type RiffChunk = { fourcc: string; offset: number; size: number };

/**
 * A WebP image as a C2PA asset, for c2pa-ts (which has PNG, JPEG, BMFF and MP3 assets but no RIFF one): the manifest
 * store is the payload of a top-level RIFF chunk with FourCC `C2PA`, the last chunk of the file (C2PA specification,
 * "Embedding manifests into RIFF-based assets"), and the RIFF size field grows with it. The `c2pa.hash.data`
 * exclusion is that chunk's header and payload; its pad byte (present when the store's length is odd) is hashed, as
 * c2pa-rs does. A simple-format file (a lone `VP8 ` or `VP8L` chunk) first becomes extended format: the WebP container
 * allows chunks it does not know only after a `VP8X` header, so one is added, with the canvas size and alpha flag read
 * from the bitstream. The image chunks themselves are never touched, so the file decodes to the same pixels.
 *
 * The worker thread that signs gets this class as source text (`WebPAsset.toString()`), so it must stay
 * self-contained: no imports used at run time, no helpers outside the class.
 */
export class WebPAsset implements Asset {
  readonly mimeType = 'image/webp';
  private data: Uint8Array;
  /** Top-level chunks in file order. */
  private chunks: RiffChunk[] = [];
  /** Bytes after the RIFF chunk (not part of the image), kept where they are. */
  private trailing: Uint8Array;
  /** Index in `chunks` of the manifest store's chunk: the only `C2PA` chunk (none, or several, count as absent). */
  private manifestIndex: number | undefined;

  static canRead(buf: Uint8Array): boolean {
    const ascii = (at: number) => String.fromCharCode(...buf.subarray(at, at + 4));
    return buf.length >= 12 && ascii(0) === 'RIFF' && ascii(8) === 'WEBP';
  }

  constructor(data: Uint8Array) {
    if (!WebPAsset.canRead(data)) throw new Error('Not a WebP file (no RIFF/WEBP header)');
    this.data = data;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const riffEnd = 8 + view.getUint32(4, true);
    if (riffEnd > data.length) throw new Error(`Malformed WebP (RIFF size ${riffEnd - 8} exceeds the ${data.length}-byte file)`);
    let pos = 12;
    while (pos < riffEnd) {
      if (pos + 8 > riffEnd) throw new Error(`Malformed WebP (truncated chunk header at byte ${pos})`);
      const size = view.getUint32(pos + 4, true);
      const fourcc = String.fromCharCode(...data.subarray(pos, pos + 4));
      const next = pos + 8 + size + (size & 1);
      if (next > riffEnd) throw new Error(`Malformed WebP (chunk ${JSON.stringify(fourcc)} at byte ${pos} overruns the RIFF chunk)`);
      this.chunks.push({ fourcc, offset: pos, size });
      pos = next;
    }
    if (!['VP8 ', 'VP8L', 'VP8X'].includes(this.chunks[0]?.fourcc ?? ''))
      throw new Error('Malformed WebP (the first chunk is not VP8, VP8L or VP8X)');
    this.trailing = data.subarray(riffEnd);
    const manifests = this.chunks.flatMap((c, i) => (c.fourcc === 'C2PA' ? [i] : []));
    this.manifestIndex = manifests.length === 1 ? manifests[0] : undefined;
  }

  getDataLength(): number {
    return this.data.length;
  }

  async getDataRange(start?: number, length?: number): Promise<Uint8Array> {
    if (start === undefined) return this.data;
    return this.data.subarray(start, length === undefined ? undefined : start + length);
  }

  dumpInfo(): string {
    return ['WebP file:', ...this.chunks.map((c) => `Chunk ${c.fourcc} at ${c.offset} (payload length: ${c.size})`)].join('\n');
  }

  getManifestJUMBF(): Uint8Array | undefined {
    if (this.manifestIndex === undefined) return undefined;
    const chunk = this.chunks[this.manifestIndex];
    return this.data.subarray(chunk.offset + 8, chunk.offset + 8 + chunk.size);
  }

  /**
   * Rebuilds the file with an empty `C2PA` chunk of `length` bytes at the end of the RIFF chunk (replacing any there
   * was) and the RIFF size updated; a simple-format file gains a `VP8X` chunk first.
   */
  async ensureManifestSpace(length: number): Promise<void> {
    const last = this.chunks.length - 1;
    if (this.manifestIndex === last && this.chunks[last].size === length) return;
    const kept = this.chunks.filter((c) => c.fourcc !== 'C2PA');
    const parts: Uint8Array[] = [this.data.subarray(0, 12)];
    const chunks: RiffChunk[] = [];
    let pos = 12;
    const add = (fourcc: string, size: number, bytes: Uint8Array) => {
      chunks.push({ fourcc, offset: pos, size });
      parts.push(bytes);
      pos += bytes.length;
    };
    if (kept[0].fourcc !== 'VP8X') add('VP8X', 10, WebPAsset.extendedHeader(kept[0], this.data));
    for (const c of kept) add(c.fourcc, c.size, this.data.subarray(c.offset, c.offset + 8 + c.size + (c.size & 1)));
    const header = new Uint8Array(8 + length + (length & 1));
    header.set([0x43, 0x32, 0x50, 0x41]); // 'C2PA'
    new DataView(header.buffer).setUint32(4, length, true);
    add('C2PA', length, header);
    if (pos - 8 > 0xfffffff6) throw new Error('WebP too large for its RIFF size field with the manifest store');
    const out = new Uint8Array(pos + this.trailing.length);
    let at = 0;
    for (const part of [...parts, this.trailing]) {
      out.set(part, at);
      at += part.length;
    }
    new DataView(out.buffer).setUint32(4, pos - 8, true);
    this.trailing = out.subarray(pos);
    this.data = out;
    this.chunks = chunks;
    this.manifestIndex = chunks.length - 1;
  }

  getHashExclusionRange(): { start: number; length: number } {
    if (this.manifestIndex === undefined) throw new Error('No manifest storage reserved');
    const chunk = this.chunks[this.manifestIndex];
    return { start: chunk.offset, length: 8 + chunk.size };
  }

  async writeManifestJUMBF(jumbf: Uint8Array): Promise<void> {
    if (this.manifestIndex === undefined || this.chunks[this.manifestIndex].size !== jumbf.length)
      throw new Error('Wrong amount of space in asset');
    this.data.set(jumbf, this.chunks[this.manifestIndex].offset + 8);
  }

  /**
   * The `VP8X` chunk (header and 10-byte payload) that makes a simple-format file extended: canvas width and height
   * minus one (24 bits each) from the `VP8 ` key frame or `VP8L` header, and the alpha flag when a `VP8L` image says
   * it uses alpha (a simple lossy image has none).
   */
  private static extendedHeader(image: RiffChunk, data: Uint8Array): Uint8Array {
    const view = new DataView(data.buffer, data.byteOffset + image.offset + 8, image.size);
    let width: number;
    let height: number;
    let flags = 0;
    if (image.fourcc === 'VP8L') {
      if (image.size < 5 || view.getUint8(0) !== 0x2f) throw new Error('Malformed WebP (VP8L chunk without its signature)');
      const bits = view.getUint32(1, true);
      width = (bits & 0x3fff) + 1;
      height = ((bits >>> 14) & 0x3fff) + 1;
      if (bits & (1 << 28)) flags |= 0x10; // alpha
    } else {
      // A key frame: 3-byte frame tag (bit 0 clear), start code 9d 01 2a, then 14-bit width and height.
      if (
        image.size < 10 ||
        (view.getUint8(0) & 1) !== 0 ||
        view.getUint8(3) !== 0x9d ||
        view.getUint8(4) !== 0x01 ||
        view.getUint8(5) !== 0x2a
      )
        throw new Error('Malformed WebP (VP8 chunk without a key frame header)');
      width = view.getUint16(6, true) & 0x3fff;
      height = view.getUint16(8, true) & 0x3fff;
    }
    const chunk = new Uint8Array(18);
    const out = new DataView(chunk.buffer);
    chunk.set([0x56, 0x50, 0x38, 0x58]); // 'VP8X'
    out.setUint32(4, 10, true);
    out.setUint8(8, flags);
    const uint24 = (at: number, value: number) => chunk.set([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff], at);
    uint24(12, width - 1);
    uint24(15, height - 1);
    return chunk;
  }
}
