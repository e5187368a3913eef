// Small SVG charts: lines, bars and bands with axes. No dependencies.
const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// niceTicks returns about n round values covering [lo, hi].
export function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => raw <= st) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

const fmtTick = (v) => {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(4)}`;
};

export const PALETTE = { A: '#2e7d32', C: '#1565c0', G: '#f9a825', T: '#c62828', N: '#616161' };

// chart draws into svg. opts: {series: [{name, color, points: [[x,y]],
// kind: 'line'|'bar'|'dots'}], bands: [{color, lo: [[x,y]], hi: [[x,y]]}],
// xLabel, yLabel, logX, logY, yMin, yMax, xMin, xMax, title}.
export function chart(svg, opts) {
  const W = 560, H = 260, m = { l: 58, r: 12, t: 12, b: 40 };
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  if (opts.title) svg.setAttribute('aria-label', opts.title);
  const series = opts.series || [];
  const bands = opts.bands || [];
  const all = [...series.flatMap((x) => x.points), ...bands.flatMap((b) => [...b.lo, ...b.hi])];
  const fx = opts.logX ? (v) => Math.log10(v) : (v) => v;
  const fy = opts.logY ? (v) => Math.log10(v) : (v) => v;
  const okPt = ([x, y]) => (!opts.logX || x > 0) && (!opts.logY || y > 0);
  const pts = all.filter(okPt);
  if (pts.length === 0) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'no data yet'));
    return;
  }
  let x0 = opts.xMin ?? Math.min(...pts.map((p) => fx(p[0])));
  let x1 = opts.xMax ?? Math.max(...pts.map((p) => fx(p[0])));
  let y0 = opts.yMin ?? Math.min(0, ...pts.map((p) => fy(p[1])));
  let y1 = opts.yMax ?? Math.max(...pts.map((p) => fy(p[1])));
  if (opts.logY && opts.yMin === undefined) y0 = Math.floor(Math.min(...pts.map((p) => fy(p[1]))));
  if (opts.logY && opts.yMax === undefined) y1 = Math.ceil(y1 + 1e-9);
  const hasBars = series.some((x) => x.kind === 'bar');
  if (hasBars) { x0 -= 0.5; x1 += 0.5; }
  if (x1 <= x0) { x1 = x0 + 1; }
  if (y1 <= y0) { y1 = y0 + 1; }
  const X = (v) => m.l + (fx(v) - x0) / (x1 - x0) * (W - m.l - m.r);
  const Xr = (v) => m.l + (v - x0) / (x1 - x0) * (W - m.l - m.r);
  const Y = (v) => H - m.b - (fy(v) - y0) / (y1 - y0) * (H - m.t - m.b);
  const Yr = (v) => H - m.b - (v - y0) / (y1 - y0) * (H - m.t - m.b);

  const axes = s('g', { class: 'axes' });
  const yt = opts.logY ? range(Math.ceil(y0), Math.floor(y1)) : niceTicks(y0, y1);
  for (const t of yt) {
    axes.append(s('line', { x1: m.l, x2: W - m.r, y1: Yr(t), y2: Yr(t), class: 'grid' }));
    axes.append(s('text', { x: m.l - 6, y: Yr(t) + 4, 'text-anchor': 'end' }, opts.logY ? fmtTick(10 ** t) : fmtTick(t)));
  }
  const xt = opts.logX ? range(Math.ceil(x0), Math.floor(x1)) : niceTicks(x0 + (hasBars ? 0.5 : 0), x1 - (hasBars ? 0.5 : 0), 8)
    .filter((t) => !hasBars || Number.isInteger(t));
  for (const t of xt) {
    axes.append(s('line', { x1: Xr(t), x2: Xr(t), y1: H - m.b, y2: H - m.b + 4, class: 'tick' }));
    axes.append(s('text', { x: Xr(t), y: H - m.b + 16, 'text-anchor': 'middle' }, opts.logX ? fmtTick(10 ** t) : fmtTick(t)));
  }
  axes.append(s('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis' }));
  axes.append(s('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, class: 'axis' }));
  if (opts.xLabel) axes.append(s('text', { x: (m.l + W - m.r) / 2, y: H - 6, 'text-anchor': 'middle', class: 'label' }, opts.xLabel));
  if (opts.yLabel) axes.append(s('text', { x: 14, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', class: 'label',
    transform: `rotate(-90 14 ${(m.t + H - m.b) / 2})` }, opts.yLabel));
  svg.append(axes);

  const clipY = (v) => Math.max(m.t, Math.min(H - m.b, v));
  for (const b of bands) {
    const lo = b.lo.filter(okPt), hi = b.hi.filter(okPt);
    if (!lo.length) continue;
    const d = [...hi.map((p) => [X(p[0]), clipY(Y(p[1]))]), ...lo.slice().reverse().map((p) => [X(p[0]), clipY(Y(p[1]))])];
    svg.append(s('path', { d: 'M' + d.map((p) => p.map((v) => v.toFixed(1)).join(',')).join('L') + 'Z',
      fill: b.color, 'fill-opacity': '0.25', stroke: 'none' }));
  }
  const legend = s('g', { class: 'legend' });
  let lx = m.l + 8;
  for (const ser of series) {
    const p = ser.points.filter(okPt);
    if (ser.kind === 'bar') {
      const w = Math.max(1, (W - m.l - m.r) / (x1 - x0) * 0.85);
      const g = s('g', { fill: ser.color });
      for (const [x, y] of p) {
        const top = clipY(Y(y)), base = opts.logY ? H - m.b : clipY(Y(0));
        g.append(s('rect', { x: (X(x) - w / 2).toFixed(1), y: top.toFixed(1), width: w.toFixed(1), height: Math.max(0, base - top).toFixed(1) }));
      }
      svg.append(g);
    } else if (p.length) {
      svg.append(s('path', { d: 'M' + p.map(([x, y]) => `${X(x).toFixed(1)},${clipY(Y(y)).toFixed(1)}`).join('L'),
        fill: 'none', stroke: ser.color, 'stroke-width': '1.6' }));
      if (ser.kind === 'dots' || p.length < 40) {
        const g = s('g', { fill: ser.color });
        for (const [x, y] of p) g.append(s('circle', { cx: X(x).toFixed(1), cy: clipY(Y(y)).toFixed(1), r: '2' }));
        svg.append(g);
      }
    }
    if (ser.name && series.length > 1) {
      legend.append(s('rect', { x: lx, y: m.t + 2, width: 10, height: 10, fill: ser.color }));
      legend.append(s('text', { x: lx + 14, y: m.t + 11 }, ser.name));
      lx += 22 + 7 * ser.name.length;
    }
  }
  svg.append(legend);
}

function range(a, b) {
  const out = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}
