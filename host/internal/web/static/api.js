// Fetch helpers; every API error is {"error": {"code", "message"}}.

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// errorFrom turns a non-2xx response into an APIError, keeping the API's own
// words; a body that is not the API's JSON is shown as text.
export async function errorFrom(resp) {
  const text = await resp.text().catch(() => '');
  try {
    const j = JSON.parse(text);
    if (j && j.error && typeof j.error.message === 'string') {
      return new APIError(resp.status, j.error.code || '', j.error.message);
    }
  } catch (_) { /* not JSON */ }
  return new APIError(resp.status, '', text.trim() || resp.statusText || `HTTP ${resp.status}`);
}

export async function getJSON(path, signal) {
  const resp = await fetch(path, { signal, headers: { Accept: 'application/json' } });
  if (!resp.ok) throw await errorFrom(resp);
  return resp.json();
}

// showError renders an error into el: the API's code and message verbatim.
export function showError(el, err, prefix) {
  el.replaceChildren();
  el.hidden = false;
  el.classList.add('error');
  const strong = document.createElement('strong');
  if (err instanceof APIError) {
    strong.textContent = `${prefix ? prefix + ': ' : ''}${err.status}${err.code ? ' ' + err.code : ''}`;
  } else {
    strong.textContent = prefix || 'error';
  }
  const msg = document.createElement('span');
  msg.className = 'message';
  msg.textContent = err.message;
  el.append(strong, ' ', msg);
}

export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

export const fmtInt = (n) => Number(n).toLocaleString('en-US');

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, i = -1;
  do { v /= 1024; i++; } while (v >= 1024 && i < u.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${u[i]}`;
}
