// The run view: a generated form, a streamed run, counters, stop, download,
// a shareable link, and the k-mer spectrum plot for kmer histo.
import { el, errorFrom, showError, fmtInt, fmtBytes, APIError } from './api.js';
import { buildForm } from './form.js';
import { chart } from './charts.js';

const KEEP_LINES = 2000; // lines kept in the page; counters count them all
const MAX_LINE = 64 << 10; // characters of one line kept in the page
const KEEP_BYTES = 256 << 20; // output kept for Download; beyond it Download asks again

export function renderRun(root, plugin, exp, refs, params) {
  if (root.dispose) root.dispose(); // a run of the previous form stops
  root.replaceChildren();
  const f = buildForm(plugin, exp, refs);
  if (params) f.restore(params); else f.reset(true);

  const route = `#/run/${encodeURIComponent(plugin.name)}/${encodeURIComponent(exp.name)}`;
  const runBtn = el('button', { type: 'submit', class: 'primary', id: 'run', text: 'Run' });
  const stopBtn = el('button', { type: 'button', id: 'stop', text: 'Stop', disabled: true });
  const dlBtn = el('button', { type: 'button', id: 'download', text: 'Download', disabled: true });
  const linkBtn = el('button', { type: 'button', id: 'share', text: 'Share link' });
  const linkOut = el('input', { type: 'text', id: 'share-url', readonly: true, 'aria-label': 'Shareable link', hidden: true });
  const status = el('div', { id: 'status', role: 'status', 'aria-live': 'polite' });
  const errBox = el('div', { id: 'error', role: 'alert', hidden: true });
  const counters = el('dl', { class: 'counters', id: 'counters' });
  const cBytes = el('dd', { id: 'count-bytes', text: '0' });
  const cRecords = el('dd', { id: 'count-records', text: '0' });
  const cRecLabel = el('dt', { text: 'lines' });
  const cHeaders = el('dd', { id: 'run-headers', text: '—' });
  counters.append(el('div', {}, el('dt', { text: 'bytes' }), cBytes), el('div', {}, cRecLabel, cRecords),
    el('div', {}, el('dt', { text: 'info' }), cHeaders));
  const out = el('pre', { id: 'output', class: 'output', tabindex: '0', 'aria-label': 'Output (last lines)' });
  const note = el('p', { class: 'hint', id: 'output-note' });

  const isHisto = plugin.name === 'kmer' && exp.name === 'histo';
  let plot = null, logY = null, logX = null, histo = [];
  if (isHisto) {
    logY = el('input', { type: 'checkbox', id: 'log-y', checked: true });
    logX = el('input', { type: 'checkbox', id: 'log-x' });
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.id = 'kmer-chart';
    plot = el('figure', { class: 'chart' }, svg,
      el('figcaption', {}, 'k-mer spectrum: number of distinct k-mers (y) seen each number of times (x). ',
        el('label', {}, logY, ' log y'), ' ', el('label', {}, logX, ' log x')));
    const redraw = () => chart(svg, { title: 'k-mer spectrum', xLabel: 'count (multiplicity)', yLabel: 'distinct k-mers',
      logY: logY.checked, logX: logX.checked, series: [{ name: 'k-mers', color: '#1565c0', points: histo }] });
    logY.addEventListener('change', redraw);
    logX.addEventListener('change', redraw);
    plot.redraw = redraw;
    redraw();
  }

  f.form.append(el('div', { class: 'actions' }, runBtn, stopBtn, dlBtn, linkBtn), linkOut);
  root.append(
    el('h1', {}, plugin.name, ' ', el('span', { class: 'export', text: exp.name })),
    el('p', { class: 'summary', text: exp.summary || plugin.summary || '' }),
    el('p', { class: 'hint' }, `${exp.content_type} · `, el('code', { text: `/plugin/${plugin.name}/${exp.name}` })),
    f.form, errBox, status, counters, ...(plot ? [plot] : []), note, out);

  let ctl = null;
  let chunks = [];
  let dropped = false; // output was too big to keep: Download re-requests
  let lastURL = '';
  let lastType = exp.content_type || 'application/octet-stream';

  const shareURL = () => {
    const q = f.values().toString();
    return location.origin + location.pathname + route + (q ? '?' + q : '');
  };
  linkBtn.addEventListener('click', async () => {
    const u = shareURL();
    history.replaceState(null, '', u);
    linkOut.hidden = false;
    linkOut.value = u;
    linkOut.select();
    try { await navigator.clipboard.writeText(u); status.textContent = 'Link copied.'; } catch (_) { status.textContent = 'Link below.'; }
  });

  stopBtn.addEventListener('click', () => ctl && ctl.abort());
  dlBtn.addEventListener('click', () => {
    const ext = lastType.includes('json') ? 'json' : lastType.includes('tab-separated') ? 'tsv' :
      lastType.includes('fasta') ? 'fa' : firstByte === 0x40 ? 'fq' : 'txt';
    const name = `${plugin.name}-${exp.name}.${ext}`;
    // Too big to have kept: the browser saves a new GET of the same URL
    // (a random seed, seed=0, gives other reads then).
    const href = dropped ? lastURL : URL.createObjectURL(new Blob(chunks, { type: lastType }));
    const a = el('a', { href, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    if (!dropped) setTimeout(() => URL.revokeObjectURL(href), 10000);
  });

  let firstByte = -1;
  f.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (ctl) return;
    errBox.hidden = true;
    delete status.dataset.state;
    status.textContent = '';
    const bad = f.validate();
    if (bad) {
      showError(errBox, new Error(bad.message), 'not sent');
      bad.input.focus();
      return;
    }
    const q = f.values();
    history.replaceState(null, '', route + (q.toString() ? '?' + q : ''));
    const file = f.fileInput?.files[0];
    const url = `/plugin/${encodeURIComponent(plugin.name)}/${encodeURIComponent(exp.name)}` + (q.toString() ? '?' + q : '');
    ctl = new AbortController();
    runBtn.disabled = true; stopBtn.disabled = false; dlBtn.disabled = true;
    chunks = []; histo = []; firstByte = -1; dropped = false; lastURL = url;
    let bytes = 0, lines = 0, partial = '', longLines = false;
    const kept = [];
    let dirty = false;
    out.textContent = '';
    note.textContent = '';
    cBytes.textContent = '0'; cRecords.textContent = '0'; cHeaders.textContent = '—';
    const decoder = new TextDecoder();
    const render = () => {
      dirty = false;
      const shown = kept.slice(partial ? 1 - KEEP_LINES : -KEEP_LINES);
      out.textContent = shown.join('\n') + (partial ? (shown.length ? '\n' : '') + partial.slice(0, 10000) : '');
      out.scrollTop = out.scrollHeight;
      cBytes.textContent = fmtInt(bytes);
      cBytes.dataset.value = bytes;
      const fastq = firstByte === 0x40;
      cRecLabel.textContent = fastq ? 'FASTQ records' : 'lines';
      const recs = fastq ? Math.floor(lines / 4) : lines;
      cRecords.textContent = fmtInt(recs);
      cRecords.dataset.value = recs;
      const notes = [];
      if (lines > KEEP_LINES) notes.push(`Showing the last ${fmtInt(KEEP_LINES)} of ${fmtInt(lines)} lines`);
      if (longLines) notes.push(`lines longer than ${fmtInt(MAX_LINE)} characters are cut short here`);
      if (notes.length) note.textContent = notes.join('; ') + '; Download has everything.';
      if (plot) plot.redraw();
    };
    const schedule = () => { if (!dirty) { dirty = true; requestAnimationFrame(render); } };
    const started = performance.now();
    status.textContent = 'Running…';
    try {
      const init = { signal: ctl.signal, method: file ? 'POST' : 'GET' };
      if (file) { init.body = file; init.headers = { 'Content-Type': 'application/octet-stream' }; }
      const resp = await fetch(url, init);
      if (!resp.ok) throw await errorFrom(resp);
      lastType = resp.headers.get('Content-Type') || lastType;
      const info = [];
      if (resp.headers.get('X-Seed')) info.push(`seed ${resp.headers.get('X-Seed')}`);
      cHeaders.textContent = info.join(' · ') || lastType;
      const reader = resp.body.getReader();
      for (;;) {
        let r;
        try {
          r = await reader.read();
        } catch (e) {
          if (ctl.signal.aborted) throw e;
          const cut = new Error(`after ${fmtInt(bytes)} bytes (${e.message}); the output is incomplete`);
          cut.cut = true;
          throw cut;
        }
        if (r.done) break;
        const chunk = r.value;
        if (firstByte < 0 && chunk.length) firstByte = chunk[0];
        bytes += chunk.length;
        if (!dropped && bytes > KEEP_BYTES && !file) { dropped = true; chunks = []; }
        if (!dropped) chunks.push(chunk);
        const text = partial + decoder.decode(chunk, { stream: true });
        const parts = text.split('\n');
        partial = parts.pop();
        // The page shows the start of very long lines only (Download has
        // all), so a line without end cannot make each chunk cost more.
        if (partial.length > MAX_LINE) { partial = partial.slice(0, MAX_LINE); longLines = true; }
        lines += parts.length;
        for (const line of parts) {
          kept.push(line.length > MAX_LINE ? line.slice(0, MAX_LINE) + ' …' : line);
          if (isHisto) {
            const [a, b] = line.split(' ');
            if (b !== undefined) histo.push([Number(a), Number(b)]);
          }
        }
        if (kept.length > KEEP_LINES * 1.5) kept.splice(0, kept.length - KEEP_LINES);
        schedule();
      }
      partial += decoder.decode();
      if (partial) { lines++; kept.push(partial); partial = ''; }
      if (kept.length > KEEP_LINES) kept.splice(0, kept.length - KEEP_LINES);
      render();
      status.textContent = `Done in ${((performance.now() - started) / 1000).toFixed(2)} s: ${fmtBytes(bytes)}.`;
      status.dataset.state = 'done';
    } catch (e) {
      if (kept.length > KEEP_LINES) kept.splice(0, kept.length - KEEP_LINES);
      render();
      if (ctl.signal.aborted) {
        status.textContent = `Stopped after ${fmtBytes(bytes)}.`;
        status.dataset.state = 'stopped';
      } else {
        showError(errBox, e, e instanceof APIError ? 'API error' : e.cut ? 'stream cut off' : 'request failed');
        status.textContent = e.cut ? 'Stream cut off.' : 'Failed.';
        status.dataset.state = 'error';
      }
    } finally {
      ctl = null;
      runBtn.disabled = false; stopBtn.disabled = true; dlBtn.disabled = chunks.length === 0 && !dropped;
    }
  });
  root.dispose = () => ctl && ctl.abort();
  return { form: f };
}
