/** Formats rows as a plain-text table with a header rule, columns padded to their widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `value` cut in the middle to at most `max` characters. */
const fit = (value: string, max: number) =>
  value.length <= max ? value : `${value.slice(0, Math.ceil((max - 1) / 2))}…${value.slice(value.length - Math.floor((max - 1) / 2))}`;

/**
 * The table of `formatTable` when its lines fit in `width` columns; else one block per row, titled by its first
 * cell, with a `header  value` line per other cell (values cut in the middle when even that is too wide).
 */
export function formatFitting(headers: string[], rows: string[][], width: number): string {
  const table = formatTable(headers, rows);
  if (Math.max(...table.split('\n').map((l) => l.length)) <= width) return table;
  const label = Math.max(...headers.slice(1).map((h) => h.length));
  const room = Math.max(8, width - label - 4);
  return rows
    .map((row) =>
      [
        fit(`${headers[0]} ${row[0]}`, width),
        ...row.slice(1).map((cell, i) => `  ${headers[i + 1].padEnd(label)}  ${fit(cell, room)}`.trimEnd()),
      ].join('\n'),
    )
    .join('\n\n');
}

/** Columns of the terminal stdout writes to; else `COLUMNS`, else 80. */
export const terminalWidth = (): number => process.stdout.columns || Number(process.env.COLUMNS) || 80;
