import { writeFileSync } from 'node:fs';

export interface Bar {
  label: string;
  value: number;
  /** Bars of one group share a colour (e.g. "baseline" vs "this project"). */
  group: string;
}

const COLOURS = ['#8a8f98', '#2b7bb9', '#d9822b', '#3d9970', '#b10dc9'];

/**
 * Writes a dependency-free horizontal bar chart as SVG, so benchmark results
 * can be read at a glance in the docs and on GitHub.
 */
export function writeBarChart(file: string, title: string, unit: string, bars: Bar[]): void {
  const groups = [...new Set(bars.map((b) => b.group))];
  const max = Math.max(...bars.map((b) => b.value), 1);
  const rowH = 28;
  const left = 260;
  const width = 820;
  const plot = width - left - 110;
  const height = 60 + bars.length * rowH + 30;
  const rows = bars
    .map((b, i) => {
      const y = 50 + i * rowH;
      const w = Math.max(1, (b.value / max) * plot);
      const colour = COLOURS[groups.indexOf(b.group) % COLOURS.length];
      return [
        `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${escape(b.label)}</text>`,
        `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${colour}"/>`,
        `<text x="${left + w + 6}" y="${y + 17}">${format(b.value)} ${escape(unit)}</text>`,
      ].join('');
    })
    .join('\n');
  const legend = groups
    .map(
      (g, i) =>
        `<rect x="${left + i * 180}" y="${height - 22}" width="12" height="12" fill="${COLOURS[i % COLOURS.length]}"/>` +
        `<text x="${left + i * 180 + 18}" y="${height - 12}">${escape(g)}</text>`,
    )
    .join('');
  writeFileSync(
    file,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${escape(title)}</text>
${rows}
${legend}
</svg>
`,
  );
}

function format(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
