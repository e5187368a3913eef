// Catalogue and routing. Routes live in location.hash so links restore them.
import { el, getJSON, showError, fmtInt } from './api.js';
import { renderRun } from './run.js';
import { renderQC } from './qc.js';

const state = { plugins: [], refs: [], errors: {} };
const $ = (id) => document.getElementById(id);

async function loadCatalogue() {
  const cat = $('catalogue');
  cat.setAttribute('aria-busy', 'true');
  try {
    const [p, r] = await Promise.all([getJSON('/plugins'), getJSON('/references')]);
    state.plugins = p.plugins || [];
    state.errors = p.errors || {};
    state.refs = r.references || [];
  } catch (e) {
    showError(cat, e, 'catalogue');
    route();
    return;
  } finally {
    cat.removeAttribute('aria-busy');
  }
  cat.replaceChildren();
  cat.classList.remove('error');
  if (state.plugins.length === 0) cat.append(el('p', { class: 'hint', text: 'No plugin is loaded.' }));
  for (const p of state.plugins) {
    const list = el('ul', {});
    for (const x of p.exports) {
      list.append(el('li', {}, el('a', { href: `#/run/${encodeURIComponent(p.name)}/${encodeURIComponent(x.name)}`,
        'data-plugin': p.name, 'data-export': x.name, title: x.summary || '' }, x.name, x.default ? el('span', { class: 'badge', text: 'default' }) : null)));
    }
    cat.append(el('div', { class: 'plugin', id: `plugin-${p.name}` },
      el('h3', {}, p.name, ' ', el('span', { class: 'version', text: p.version })),
      el('p', { class: 'summary', text: p.summary }), list));
  }
  // Home: every export with its summary, and the references.
  const cards = $('home-cards');
  cards.replaceChildren(...state.plugins.map((p) => el('article', { class: 'card' },
    el('h2', {}, p.name, ' ', el('span', { class: 'version', text: p.version })),
    el('p', { class: 'summary', text: p.summary }),
    el('dl', {}, p.exports.flatMap((x) => [
      el('dt', {}, el('a', { href: `#/run/${encodeURIComponent(p.name)}/${encodeURIComponent(x.name)}`, text: x.name }),
        x.body ? el('span', { class: 'badge', text: 'accepts a file' }) : null),
      el('dd', { text: x.summary || '' })])))));
  $('home-refs').replaceChildren(...state.refs.map((r) => el('li', {}, el('strong', { text: r.name }), ': ',
    r.error ? el('span', { class: 'invalid', text: r.error })
      : r.sequences.map((q) => `${q.name} (${fmtInt(q.length)} bp)`).join(', '))));
  const errs = $('load-errors');
  errs.replaceChildren();
  const names = Object.keys(state.errors);
  if (names.length) {
    errs.append(el('h3', { text: 'Not loaded' }), el('ul', {}, names.map((n) => el('li', {}, el('strong', { text: n }), ': ', String(state.errors[n])))));
  }
  route();
}

function show(view) {
  for (const v of ['view-run', 'view-qc', 'view-home']) $(v).hidden = v !== view;
}

let current = '';
function route() {
  const h = location.hash || '#/';
  const q = h.indexOf('?');
  const path = q < 0 ? h.slice(1) : h.slice(1, q);
  const query = q < 0 ? undefined : h.slice(q + 1);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  for (const a of document.querySelectorAll('.catalogue a, nav a')) a.removeAttribute('aria-current');
  if (parts[0] === 'qc') {
    $('nav-qc').setAttribute('aria-current', 'page');
    if (!$('view-qc').hasChildNodes()) renderQC($('view-qc')); // keeps its results
    current = 'qc';
    show('view-qc');
    return;
  }
  if (parts[0] === 'run' && parts[1]) {
    const p = state.plugins.find((x) => x.name === parts[1]);
    if (!p) {
      if (state.plugins.length || Object.keys(state.errors).length) {
        show('view-run');
        showError($('view-run'), new Error(`no plugin named "${parts[1]}" is loaded`), 'not found');
      }
      return;
    }
    const x = parts[2] ? p.exports.find((e) => e.name === parts[2]) : p.exports.find((e) => e.default) || p.exports[0];
    if (!x) { show('view-run'); showError($('view-run'), new Error(`plugin ${p.name} has no export "${parts[2]}"`), 'not found'); return; }
    const key = `run/${p.name}/${x.name}?${query || ''}`;
    document.querySelector(`.catalogue a[data-plugin="${p.name}"][data-export="${x.name}"]`)?.setAttribute('aria-current', 'page');
    if (p.name === 'kmer' && x.name === 'histo') $('nav-kmer').setAttribute('aria-current', 'page');
    else $('nav-run').setAttribute('aria-current', 'page');
    // A run writes its parameters into the URL with replaceState (no
    // hashchange), so this re-renders only for a new route or a pasted link.
    if (current !== key) {
      renderRun($('view-run'), p, x, state.refs, query !== undefined ? new URLSearchParams(query) : null);
    }
    current = key;
    show('view-run');
    return;
  }
  $('nav-run').setAttribute('aria-current', 'page');
  current = '';
  show('view-home');
}

window.addEventListener('hashchange', route);
$('reload').addEventListener('click', loadCatalogue);
loadCatalogue();
getJSON('/healthz').then((h) => { $('health').textContent = `${h.plugins} plugins loaded`; }).catch(() => { $('health').textContent = 'host unreachable'; });
