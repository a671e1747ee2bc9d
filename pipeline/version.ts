import fs from 'node:fs';
import path from 'node:path';

/** The name written into every Arweave upload's `App-Name` tag. */
export const APP_NAME = 'aigc-nft';

/** This package's version (`App-Version` tag), read from the nearest package.json named aigc-nft. */
export const APP_VERSION = findVersion(__dirname);

function findVersion(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === APP_NAME && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}
