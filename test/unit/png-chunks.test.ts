import sharp from 'sharp';
import { pngSize, replacePngMetadata } from '../../services/diffusion-gateway/png-chunks';

describe('PNG metadata rewrite', () => {
  it('drops incoming text/EXIF chunks, writes XMP, keeps the pixels', async () => {
    const png = await sharp({ create: { width: 16, height: 8, channels: 3, background: '#c33' } })
      .withMetadata()
      .withExif({ IFD0: { Copyright: 'someone else' } })
      .png()
      .toBuffer();
    expect((await sharp(png).metadata()).exif).toBeDefined();
    const out = replacePngMetadata({ png, xmp: '<x:xmpmeta xmlns:x="adobe:ns:meta/">ours</x:xmpmeta>' });
    const meta = await sharp(out).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp!.toString()).toContain('ours');
    expect(pngSize(out)).toEqual({ width: 16, height: 8 });
    expect((await sharp(out).raw().toBuffer()).equals(await sharp(png).raw().toBuffer())).toBe(true);
  });

  it('refuses what is not a whole PNG', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    expect(() => replacePngMetadata({ png: Buffer.from('GIF89a'), xmp: '' })).toThrow(/not a PNG/);
    expect(() => replacePngMetadata({ png: png.subarray(0, png.length - 20), xmp: '' })).toThrow(/truncated|IEND/);
    expect(pngSize(Buffer.from('nope'))).toBeUndefined();
  });
});
