const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Ancillary chunks that carry metadata (text, XMP, EXIF, modification time); dropped on rewrite. */
const METADATA = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Width and height from a PNG's IHDR, or undefined when `image` is not a PNG. */
export function pngSize(image: Buffer): { width: number; height: number } | undefined {
  if (image.length < 33 || !image.subarray(0, 8).equals(SIGNATURE) || image.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: image.readUInt32BE(16), height: image.readUInt32BE(20) };
}

/**
 * Rewrites a PNG without re-encoding its pixels: metadata chunks dropped, `xmp` written as the standard
 * `iTXt` chunk with keyword `XML:com.adobe.xmp` right after IHDR. Throws on a malformed PNG.
 *
 * @example
 * const tagged = replacePngMetadata({ png, xmp: provenanceXmp(provenance) });
 */
export function replacePngMetadata({ png, xmp }: { png: Buffer; xmp: string }): Buffer {
  if (!pngSize(png)) throw new Error('not a PNG');
  const parts: Buffer[] = [SIGNATURE];
  let offset = 8;
  let ended = false;
  while (offset + 12 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > png.length) throw new Error('truncated PNG chunk');
    if (!METADATA.has(type)) parts.push(png.subarray(offset, end));
    if (type === 'IHDR')
      parts.push(chunk('iTXt', Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\0\0\0\0', 'latin1'), Buffer.from(xmp, 'utf8')])));
    offset = end;
    if (type === 'IEND') {
      ended = true;
      break;
    }
  }
  if (!ended) throw new Error('PNG has no IEND chunk');
  return Buffer.concat(parts);
}
