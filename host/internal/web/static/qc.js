// FASTQ QC of a local file: split at record boundaries, POST the chunks in
// parallel to /plugin/fastqc, merge the raw counts as they come back (the
// rule of plugins/fastqc: add counts element-wise), redraw after each.
import { el, errorFrom, showError, fmtInt, fmtBytes, APIError } from './api.js';
import { chart, PALETTE } from './charts.js';

const PARALLEL = 4;

// emptyResult is the merge identity: raw counts only.
export function emptyResult() {
  return { reads: 0, bases: 0, lengths: new Map(), gc: new Array(101).fill(0), gcUndefined: 0, positions: [] };
}

// addResult adds the raw counts of one fastqc JSON result into acc.
export function addResult(acc, r) {
  acc.reads += r.reads;
  acc.bases += r.bases;
  for (const [len, n] of r.length.histogram) acc.lengths.set(len, (acc.lengths.get(len) || 0) + n);
  r.gc.histogram.forEach((n, i) => { acc.gc[i] += n; });
  acc.gcUndefined += r.gc.undefined;
  r.positions.forEach((p, i) => {
    let a = acc.positions[i];
    if (!a) a = acc.positions[i] = { bases: [0, 0, 0, 0, 0], quality: [] };
    for (let b = 0; b < 5; b++) a.bases[b] += p.bases[b];
    p.quality.forEach((n, q) => { a.quality[q] = (a.quality[q] || 0) + n; });
  });
}

// summarise gives the mean and nearest-rank quartiles of a histogram, as
// the plugin defines them (k-th quartile: smallest Q whose cumulative count
// reaches ceil(k*n/4)).
export function summarise(h) {
  let n = 0, sum = 0;
  h.forEach((k, q) => { k = k || 0; n += k; sum += q * k; });
  if (n === 0) return { mean: 0, quartiles: [0, 0, 0] };
  const quartiles = [1, 2, 3].map((j) => {
    const rank = Math.ceil(j * n / 4);
    let c = 0;
    for (let q = 0; q < h.length; q++) { c += h[q] || 0; if (c >= rank) return q; }
    return h.length - 1;
  });
  return { mean: sum / n, quartiles };
}

// derive computes the reported numbers from merged raw counts.
export function derive(acc) {
  const lens = [...acc.lengths.keys()].sort((a, b) => a - b);
  let gcSum = 0, gcN = 0;
  acc.gc.forEach((n, pct) => { gcSum += pct * n; gcN += n; });
  const comp = [0, 0, 0, 0, 0];
  const all = [];
  const pos = acc.positions.map((p) => {
    p.bases.forEach((n, b) => { comp[b] += n; });
    p.quality.forEach((n, q) => { all[q] = (all[q] || 0) + (n || 0); });
    return { bases: p.bases, ...summarise(p.quality) };
  });
  const q = summarise(all);
  return {
    reads: acc.reads, bases: acc.bases,
    minLength: lens.length ? lens[0] : 0, maxLength: lens.length ? lens[lens.length - 1] : 0,
    meanLength: acc.reads ? acc.bases / acc.reads : 0,
    gcMean: gcN ? gcSum / gcN : 0, gcUndefined: acc.gcUndefined,
    composition: comp, nRate: acc.bases ? comp[4] / acc.bases : 0,
    meanQuality: q.mean, quartiles: q.quartiles, positions: pos,
  };
}

// toRaw gives the merged counts in the plugin's JSON shape, for
// /plugin/fastqc/merge.
function toRaw(acc) {
  return {
    version: 1, reads: acc.reads, bases: acc.bases,
    length: { histogram: [...acc.lengths.entries()].sort((a, b) => a[0] - b[0]) },
    gc: { histogram: acc.gc, undefined: acc.gcUndefined },
    positions: acc.positions.map((p) => ({ bases: p.bases, quality: Array.from(p.quality, (n) => n || 0) })),
  };
}

// chunksOf yields pieces of a byte stream of at least size bytes, cut
// after every 4th line where the next line starts with '@' (a record
// boundary of 4-line FASTQ). Input that is not 4-line FASTQ is never cut
// where the phase is wrong, so the plugin sees whole records or reports
// what is wrong. Pieces are joined once per chunk, never re-copied.
export async function* chunksOf(stream, size) {
  const reader = stream.getReader();
  let parts = [], have = 0, lines = 0, atBoundary = false;
  const take = () => {
    const out = new Uint8Array(have);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    parts = []; have = 0; lines = 0;
    return out;
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    let v = value;
    if (!v || !v.length) continue;
    if (atBoundary) {
      atBoundary = false;
      if (v[0] === 0x40) yield take();
    }
    let pos = 0;
    for (;;) {
      const nl = v.indexOf(10, pos);
      if (nl < 0) break;
      lines++;
      pos = nl + 1;
      if (lines % 4 !== 0 || have + pos < size) continue;
      if (pos === v.length) { atBoundary = true; break; }
      if (v[pos] !== 0x40) continue;
      parts.push(v.subarray(0, pos)); have += pos;
      yield take();
      v = v.subarray(pos); pos = 0;
    }
    parts.push(v); have += v.length;
  }
  if (have) yield take();
}

async function isGzip(file) {
  const b = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  return b[0] === 0x1f && b[1] === 0x8b;
}

export function renderQC(root) {
  root.replaceChildren();
  const file = el('input', { type: 'file', id: 'qc-file', accept: '.fq,.fastq,.gz,.txt', 'aria-describedby': 'qc-file-desc' });
  const size = el('select', { id: 'qc-chunk', 'aria-label': 'Chunk size' },
    ['auto', '64KiB', '256KiB', '1MiB', '4MiB', '16MiB'].map((v) => el('option', { value: v, text: v })));
  const go = el('button', { type: 'submit', class: 'primary', id: 'qc-run', text: 'Run QC' });
  const stop = el('button', { type: 'button', id: 'qc-stop', text: 'Stop', disabled: true });
  const status = el('div', { id: 'qc-status', role: 'status', 'aria-live': 'polite' });
  const errBox = el('div', { id: 'qc-error', role: 'alert', hidden: true });
  const bar = el('progress', { id: 'qc-progress', max: '1', value: '0', 'aria-label': 'Chunks done' });
  const stats = el('dl', { class: 'stats', id: 'qc-stats' });
  const svgs = {};
  const fig = (id, caption) => {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.id = id;
    svgs[id] = svg;
    return el('figure', { class: 'chart' }, svg, el('figcaption', { text: caption }));
  };
  const form = el('form', { class: 'params qc', novalidate: true, 'aria-label': 'FASTQ QC' },
    el('div', { class: 'field' }, el('label', { for: 'qc-file', class: 'pname', text: 'FASTQ file' }), file,
      el('div', { class: 'pdesc', id: 'qc-file-desc', text: 'Plain or gzip (decompressed in the browser, then split at record boundaries). Nothing leaves this machine except to this server.' })),
    el('div', { class: 'field' }, el('label', { for: 'qc-chunk', class: 'pname', text: 'chunk size' }), size,
      el('div', { class: 'pdesc', text: `chunks go to /plugin/fastqc ${PARALLEL} at a time` })),
    el('div', { class: 'actions' }, go, stop));
  root.append(el('h1', { text: 'FASTQ quality control' }),
    el('p', { class: 'summary', text: 'Counts of each chunk are merged here as they return; the plots redraw after every chunk.' }),
    form, errBox, status, bar, stats,
    el('div', { class: 'charts' },
      fig('qc-quality', 'Quality per position: mean, with the band from Q1 to Q3'),
      fig('qc-composition', 'Base composition per position (%)'),
      fig('qc-length', 'Read length distribution'),
      fig('qc-gc', 'GC content per read (%)')));

  const stat = (id, label, value, shown) => [el('div', {}, el('dt', { text: label }), el('dd', { id, 'data-value': String(value), text: shown }))];
  const draw = (acc, d) => {
    stats.replaceChildren(
      ...stat('qc-reads', 'reads', d.reads, fmtInt(d.reads)),
      ...stat('qc-bases', 'bases', d.bases, fmtInt(d.bases)),
      ...stat('qc-mean-length', 'mean length', d.meanLength, d.meanLength.toFixed(2)),
      ...stat('qc-min-length', 'min length', d.minLength, fmtInt(d.minLength)),
      ...stat('qc-max-length', 'max length', d.maxLength, fmtInt(d.maxLength)),
      ...stat('qc-gc-mean', 'mean GC %', d.gcMean, d.gcMean.toFixed(2)),
      ...stat('qc-n-rate', 'N rate', d.nRate, `${(d.nRate * 100).toFixed(3)} %`),
      ...stat('qc-mean-quality', 'mean quality', d.meanQuality, d.meanQuality.toFixed(2)),
      ...stat('qc-quartiles', 'quality Q1 / median / Q3', d.quartiles.join(','), d.quartiles.join(' / ')));
    const P = d.positions;
    chart(svgs['qc-quality'], { title: 'Quality per position', xLabel: 'position in read', yLabel: 'Phred quality',
      series: [{ name: 'mean', color: '#1565c0', points: P.map((p, i) => [i + 1, p.mean]) }],
      bands: [{ color: '#1565c0', lo: P.map((p, i) => [i + 1, p.quartiles[0]]), hi: P.map((p, i) => [i + 1, p.quartiles[2]]) }] });
    chart(svgs['qc-composition'], { title: 'Base composition per position', xLabel: 'position in read', yLabel: '% of bases', yMax: 100,
      series: ['A', 'C', 'G', 'T', 'N'].map((b, j) => ({ name: b, color: PALETTE[b],
        points: P.map((p, i) => { const t = p.bases.reduce((a, c) => a + c, 0); return [i + 1, t ? 100 * p.bases[j] / t : 0]; }) })) });
    const lens = [...acc.lengths.entries()].sort((a, b) => a[0] - b[0]);
    chart(svgs['qc-length'], { title: 'Read lengths', xLabel: 'read length', yLabel: 'reads',
      series: [{ name: 'reads', color: '#6a1b9a', kind: lens.length <= 300 ? 'bar' : 'line', points: lens }] });
    chart(svgs['qc-gc'], { title: 'GC content', xLabel: 'GC %', yLabel: 'reads', xMin: 0, xMax: 100,
      series: [{ name: 'reads', color: '#2e7d32', kind: 'line', points: acc.gc.map((n, i) => [i, n]) }] });
  };
  draw(emptyResult(), derive(emptyResult()));

  let ctl = null;
  stop.addEventListener('click', () => ctl && ctl.abort());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (ctl) return;
    const f = file.files[0];
    errBox.hidden = true;
    delete status.dataset.state;
    if (!f) { showError(errBox, new Error('choose a FASTQ file first'), 'not sent'); return; }
    ctl = new AbortController();
    go.disabled = true; stop.disabled = false;
    const started = performance.now();
    const acc = emptyResult();
    let sent = 0, done = 0, sentBytes = 0, eof = false;
    const gz = await isGzip(f);
    const total = gz ? f.size * 3.5 : f.size; // an estimate for gzip
    const chosen = size.value;
    const chunkSize = chosen === 'auto' ? Math.min(16 << 20, Math.max(256 << 10, Math.ceil(total / 16)))
      : parseInt(chosen, 10) * (chosen.endsWith('MiB') ? 1 << 20 : 1 << 10);
    let stream = f.stream();
    if (gz) {
      if (typeof DecompressionStream === 'function') stream = stream.pipeThrough(new DecompressionStream('gzip'));
      else stream = null; // sent whole; the host decompresses it
    }
    const show = () => {
      bar.max = Math.max(1, eof ? sent : sent + 1);
      bar.value = done;
      status.textContent = `${fmtInt(done)} of ${eof ? fmtInt(sent) : fmtInt(sent) + '+'} chunks (${fmtBytes(sentBytes)} sent)` +
        (eof && done === sent ? ` in ${((performance.now() - started) / 1000).toFixed(2)} s` : '');
      status.dataset.chunks = String(done);
    };
    const post = async (body) => {
      const resp = await fetch('/plugin/fastqc/qc', { method: 'POST', body, signal: ctl.signal,
        headers: { 'Content-Type': 'application/octet-stream' } });
      if (!resp.ok) throw await errorFrom(resp);
      const r = await resp.json();
      addResult(acc, r);
      done++;
      draw(acc, derive(acc));
      show();
    };
    const running = new Set();
    try {
      const source = stream ? chunksOf(stream, chunkSize) : (async function* () { yield f; })();
      for await (const chunk of source) {
        while (running.size >= PARALLEL) await Promise.race(running);
        if (ctl.signal.aborted) throw new DOMException('stopped', 'AbortError');
        sent++;
        sentBytes += chunk.size ?? chunk.length;
        const p = post(chunk).finally(() => running.delete(p));
        running.add(p);
        p.catch(() => {});
        show();
      }
      eof = true;
      show();
      await Promise.all(running);
      status.dataset.state = 'done';
      // The plugin's merge recomputes every derived number from the same
      // counts: a cross-check of this page's arithmetic.
      const resp = await fetch('/plugin/fastqc/merge', { method: 'POST', body: JSON.stringify([toRaw(acc)]),
        headers: { 'Content-Type': 'application/json' }, signal: ctl.signal });
      if (!resp.ok) throw await errorFrom(resp);
      const mText = await resp.text(); // saved as the plugin wrote it
      const m = JSON.parse(mText);
      const d = derive(acc);
      const same = m.reads === d.reads && m.bases === d.bases && m.length.mean === d.meanLength &&
        m.gc.mean === d.gcMean && m.quality.mean === d.meanQuality && m.n_rate === d.nRate;
      status.append(el('span', { class: same ? 'ok' : 'invalid', id: 'qc-verified',
        text: same ? ' · checked against /plugin/fastqc/merge' : ' · differs from /plugin/fastqc/merge!' }));
      const href = URL.createObjectURL(new Blob([mText], { type: 'application/json' }));
      status.append(' · ', el('a', { href, download: f.name.replace(/(\.gz)?$/, '') + '.qc.json', id: 'qc-json', text: 'merged result (JSON)' }));
    } catch (e) {
      if (ctl.signal.aborted) { status.textContent = `Stopped after ${done} chunks; the numbers above cover those only.`; status.dataset.state = 'stopped'; }
      else { ctl.abort(); showError(errBox, e, e instanceof APIError ? 'API error' : 'failed'); status.dataset.state = 'error'; }
    } finally {
      ctl = null;
      go.disabled = false; stop.disabled = true;
    }
  });
}
