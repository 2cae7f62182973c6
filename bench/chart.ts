/** One line of the chart: latency at each offered load. */
export interface Series {
  name: string;
  color: string;
  points: { rate: number; p50: number; p99: number; achieved: number }[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
}

/**
 * Latency against offered load as a plain SVG: p50 solid, p99 dashed, one
 * colour per gateway, offered requests per second along the bottom.
 */
export function latencyChart(title: string, series: Series[]): string {
  const W = 760;
  const H = 440;
  const m = { left: 64, right: 150, top: 40, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p.rate));
  const yRaw = Math.max(1, ...all.map((p) => p.p99).filter(Number.isFinite));
  const yStep = niceStep(yRaw, 6);
  const yMax = Math.ceil(yRaw / yStep) * yStep;
  const xStep = niceStep(xMax, 6);
  const x = (v: number) => m.left + (v / xMax) * pw;
  const y = (v: number) => m.top + ph - (Math.min(v, yMax) / yMax) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toFixed(2)}</text>`);
  }
  for (let v = 0; v <= xMax + 1e-9; v += xStep) {
    out.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#333"/>`);
    out.push(`<text x="${x(v)}" y="${m.top + ph + 18}" text-anchor="middle">${+v.toFixed(1)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">offered load (requests/s)</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">latency (ms)</text>`);
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.rate - b.rate);
    const path = (key: 'p50' | 'p99') =>
      pts
        .filter((p) => Number.isFinite(p[key]))
        .map((p) => `${x(p.rate).toFixed(1)},${y(p[key]).toFixed(1)}`)
        .join(' ');
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${path('p50')}"/>`);
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" stroke-dasharray="5 4" points="${path('p99')}"/>`);
    for (const p of pts) if (Number.isFinite(p.p50)) out.push(`<circle cx="${x(p.rate).toFixed(1)}" cy="${y(p.p50).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${m.left + pw + 16}" x2="${m.left + pw + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${m.left + pw + 46}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  const ly = m.top + 10 + series.length * 20 + 10;
  out.push(`<text x="${m.left + pw + 16}" y="${ly}" fill="#555">solid: p50</text>`);
  out.push(`<text x="${m.left + pw + 16}" y="${ly + 16}" fill="#555">dashed: p99</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
