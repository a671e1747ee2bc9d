import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where our fake reports put the 64 bytes of report data (the real formats' offsets, see pipeline/attest/quote.ts). */
export const FAKE_REPORT_DATA_OFFSET = { tdx_guest: 48 + 520, sev_guest: 0x50 } as const;

export type FakeTsmOptions = {
  provider?: keyof typeof FAKE_REPORT_DATA_OFFSET;
  /** For this many reports, another "process" writes the entry right after ours (generation moves by 2). */
  races?: number;
};

export type FakeTsm = {
  /** The report directory, to use as `signer.tsmPath`. */
  path: string;
  /** Names of the entries created in it so far. */
  entries: string[];
  stop(): void;
};

/** A report in the provider's layout with `reportData` where the real format has it; the rest is noise. */
function fakeReport(provider: keyof typeof FAKE_REPORT_DATA_OFFSET, reportData: Buffer): Buffer {
  const report = randomBytes(provider === 'tdx_guest' ? 48 + 584 + 256 : 1184);
  if (provider === 'tdx_guest') report.writeUInt16LE(4, 0); // quote version 4
  reportData.copy(report, FAKE_REPORT_DATA_OFFSET[provider]);
  return report;
}

/**
 * Plays the kernel's part of configfs-tsm in a temp directory: when an entry is created (mkdir) it adds the
 * attributes (`inblob`, `outblob`, `provider`, `auxblob`, `generation` last), and each write to `inblob` makes a
 * new `outblob` binding those bytes, then bumps `generation`. On real configfs this happens inside the write;
 * here it follows an inotify event, which the reader's bounded waits cover.
 */
export function startFakeTsm({ provider = 'tdx_guest', races = 0 }: FakeTsmOptions = {}): FakeTsm {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-tsm-')), 'report');
  fs.mkdirSync(dir);
  const entries: string[] = [];
  const watchers: fs.FSWatcher[] = [];
  let racesLeft = races;

  const setUp = (name: string) => {
    const entry = path.join(dir, name);
    if (entries.includes(name) || !fs.statSync(entry, { throwIfNoEntry: false })?.isDirectory()) return;
    entries.push(name);
    let generation = 0;
    let lastWrite = -1n;
    const onWrite = () => {
      const stat = fs.statSync(path.join(entry, 'inblob'), { bigint: true, throwIfNoEntry: false });
      if (!stat || stat.size === 0n || stat.mtimeNs === lastWrite) return;
      lastWrite = stat.mtimeNs;
      const inblob = fs.readFileSync(path.join(entry, 'inblob'));
      const racing = racesLeft > 0;
      if (racing) racesLeft--;
      const data = Buffer.alloc(64);
      (racing ? randomBytes(64) : inblob).copy(data);
      fs.writeFileSync(path.join(entry, 'outblob'), fakeReport(provider, data));
      generation += racing ? 2 : 1;
      fs.writeFileSync(path.join(entry, 'generation'), `${generation}\n`);
    };
    watchers.push(fs.watch(entry, (_event, file) => file === 'inblob' && onWrite()));
    fs.writeFileSync(path.join(entry, 'inblob'), '');
    fs.writeFileSync(path.join(entry, 'outblob'), '');
    fs.writeFileSync(path.join(entry, 'auxblob'), '');
    fs.writeFileSync(path.join(entry, 'provider'), `${provider}\n`);
    fs.writeFileSync(path.join(entry, 'generation'), '0\n');
  };
  watchers.push(fs.watch(dir, (_event, name) => name && setUp(name.toString())));

  return {
    path: dir,
    entries,
    stop: () => watchers.forEach((w) => w.close()),
  };
}
