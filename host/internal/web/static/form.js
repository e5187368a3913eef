// Forms generated from an export's declared parameters.
import { el, fmtInt } from './api.js';

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

// parseNum reads a position as samtools does: digits with optional
// thousands commas, and an optional k/M/G suffix.
function parseNum(s) {
  const m = /^([0-9][0-9,]*)(?:\.([0-9]+))?([kKmMgG]?)$/.exec(s);
  if (!m) return null;
  let v = Number(m[1].replaceAll(',', '') + (m[2] ? '.' + m[2] : ''));
  const mult = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 }[m[3]];
  v = Math.floor(v * mult);
  return Number.isSafeInteger(v) ? v : null;
}

// checkRegion validates a region string against the sequences of a
// reference (a Map name -> length; null when unknown, then only the syntax
// is checked). It returns {error} or {ok, note}.
export function checkRegion(s, seqs) {
  s = s.trim();
  if (s === '') return { error: 'empty region (want e.g. chr1, chr1:1000-2000)' };
  let name = s, range = null;
  if (s.startsWith('{')) {
    const close = s.indexOf('}');
    if (close < 0) return { error: 'mismatching braces' };
    name = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return { error: `unexpected "${rest}" after the braced name` };
      range = rest.slice(1);
    }
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0 && !(seqs && seqs.has(s))) {
      name = s.slice(0, colon);
      range = s.slice(colon + 1);
    }
  }
  if (name === '') return { error: 'missing sequence name' };
  const len = seqs ? seqs.get(name) : undefined;
  if (seqs && len === undefined) {
    return { error: `no sequence "${name}" in this reference` };
  }
  let beg = 1, end = null;
  if (range !== null && range !== '') {
    const m = /^([^-]*)(?:-(.*))?$/.exec(range);
    if (m[1] !== '') {
      beg = parseNum(m[1]);
      if (beg === null) return { error: `"${m[1]}" is not a position` };
      if (beg === 0) beg = 1;
    }
    if (m[2] !== undefined && m[2] !== '') {
      end = parseNum(m[2]);
      if (end === null) return { error: `"${m[2]}" is not a position` };
      if (end === 0) end = null;
    }
    if (end !== null && beg > end) return { error: `start ${fmtInt(beg)} is after end ${fmtInt(end)}` };
  }
  if (len === undefined) return { ok: true, note: '' };
  if (beg > len) return { error: `start ${fmtInt(beg)} is past the end of ${name} (${fmtInt(len)} bp)` };
  const e = end === null ? len : Math.min(end, len);
  let note = `${name}:${fmtInt(beg)}-${fmtInt(e)} · ${fmtInt(e - beg + 1)} bp of ${fmtInt(len)}`;
  if (end !== null && end > len) note += ' (end clipped to the sequence)';
  return { ok: true, note };
}

const describeDefault = (p) => {
  if (p.default === undefined) return '';
  if (p.type === 'bool') return p.default ? 'default: on' : 'default: off';
  return `default: ${p.default}`;
};

// buildForm returns {form, values(), restore(params), validate()} for an
// export. refs is the /references list.
export function buildForm(plugin, exp, refs) {
  const refMap = new Map(refs.filter((r) => !r.error).map((r) => [r.name,
    new Map(r.sequences.map((s) => [s.name, s.length]))]));
  const fields = [];
  const form = el('form', { class: 'params', novalidate: true, 'aria-label': `Parameters of ${plugin.name} ${exp.name}` });

  // The reference chosen in this form decides which sequences regions pick from.
  const currentRef = () => {
    const f = fields.find((f) => f.p.type === 'reference');
    if (!f) return ''; // e.g. a BAM's regions: only the syntax is checked
    return f.rows[0]?.input.value || '';
  };
  const seqsOf = () => refMap.get(currentRef()) || null;

  function makeInput(p, id) {
    const common = { id, name: p.name, 'aria-describedby': `${id}-desc` };
    switch (p.type) {
      case 'int':
      case 'float':
        return el('input', { ...common, type: 'number', inputmode: p.type === 'int' ? 'numeric' : 'decimal',
          step: p.type === 'int' ? '1' : 'any', min: p.min ?? undefined, max: p.max ?? undefined });
      case 'bool':
        return el('input', { ...common, type: 'checkbox' });
      case 'enum': {
        const s = el('select', common);
        if (!p.required && p.default === undefined) s.append(el('option', { value: '', text: '(none)' }));
        for (const v of p.values || []) s.append(el('option', { value: v, text: v }));
        return s;
      }
      case 'reference': {
        const s = el('select', common);
        if (!p.required) s.append(el('option', { value: '', text: '(none)' }));
        for (const r of refs) {
          const n = r.error ? 0 : r.sequences.length;
          s.append(el('option', { value: r.name, text: r.error ? `${r.name} (unavailable)` : `${r.name} (${n} sequence${n === 1 ? '' : 's'})` }));
        }
        return s;
      }
      case 'url':
        return el('input', { ...common, type: 'url', placeholder: 'https://…', autocomplete: 'off', spellcheck: 'false' });
      case 'region':
        return el('input', { ...common, type: 'text', placeholder: 'chr1:1,000-2,000', autocomplete: 'off', spellcheck: 'false' });
      default:
        return el('input', { ...common, type: 'text', autocomplete: 'off', spellcheck: 'false' });
    }
  }

  function setValue(input, p, v) {
    if (p.type === 'bool') input.checked = v === true || v === 'true' || v === '1' || v === '' || v === 'on' || v === 'yes';
    else input.value = v === undefined || v === null ? '' : String(v);
  }

  function regionPicker(input, status) {
    const pick = el('select', { class: 'picker', 'aria-label': `Pick a sequence for ${input.name}` });
    const fill = () => {
      const seqs = seqsOf();
      pick.replaceChildren(el('option', { value: '', text: seqs ? 'sequence…' : '(choose a reference)' }));
      if (seqs) for (const [n, len] of seqs) pick.append(el('option', { value: n, text: `${n} (${fmtInt(len)} bp)` }));
      pick.disabled = !seqs;
    };
    pick.addEventListener('change', () => {
      if (pick.value) { input.value = pick.value; input.dispatchEvent(new Event('input', { bubbles: true })); }
      pick.value = '';
    });
    const check = () => {
      const v = input.value;
      status.textContent = '';
      status.className = 'region-status';
      input.removeAttribute('aria-invalid');
      if (v.trim() === '') return true;
      const r = checkRegion(v, seqsOf());
      if (r.error) {
        status.textContent = r.error;
        status.classList.add('invalid');
        input.setAttribute('aria-invalid', 'true');
        return false;
      }
      status.textContent = r.note;
      return true;
    };
    input.addEventListener('input', check);
    return { pick, fill, check };
  }

  for (const p of exp.params || []) {
    const id = nextId(`p-${p.name}`);
    const f = { p, rows: [], list: el('div', { class: 'rows' }) };
    const addRow = (value) => {
      const rid = f.rows.length === 0 ? id : nextId(`p-${p.name}`);
      const input = makeInput(p, rid);
      if (f.rows.length > 0) input.setAttribute('aria-label', `${p.name} (${f.rows.length + 1})`);
      setValue(input, p, value);
      const row = { input, node: el('div', { class: 'row' }, input) };
      if (p.type === 'region') {
        const status = el('span', { class: 'region-status', 'aria-live': 'polite' });
        const rp = regionPicker(input, status);
        Object.assign(row, rp);
        row.node.append(rp.pick, status);
        row.status = status;
        rp.fill();
        rp.check();
      }
      if (p.repeatable) {
        const rm = el('button', { type: 'button', class: 'small', 'aria-label': `Remove this ${p.name}`, text: '−' });
        rm.addEventListener('click', () => {
          if (f.rows.length === 1) { setValue(input, p, ''); input.dispatchEvent(new Event('input')); return; }
          f.rows.splice(f.rows.indexOf(row), 1);
          row.node.remove();
        });
        row.node.insertBefore(rm, row.status || null);
      }
      f.rows.push(row);
      f.list.append(row.node);
      return row;
    };
    f.addRow = addRow;
    const label = el('label', { for: id, class: 'pname' }, p.name, p.required ? el('span', { class: 'req', title: 'required', text: ' *' }) : null);
    const meta = [p.type + (p.repeatable ? ', repeatable' : ''), describeDefault(p),
      p.min !== undefined ? `min ${p.min}` : '', p.max !== undefined ? `max ${p.max}` : ''].filter(Boolean).join(' · ');
    const desc = el('div', { id: `${id}-desc`, class: 'pdesc' }, p.description ? el('span', { text: p.description }) : null,
      el('span', { class: 'meta', text: meta }));
    const box = el('div', { class: `field type-${p.type}` }, label, f.list, desc);
    if (p.repeatable) {
      box.insertBefore(el('button', { type: 'button', class: 'small add', text: `+ add ${p.name}`,
        onclick: () => addRow('').input.focus() }), desc);
    }
    addRow(p.default);
    fields.push(f);
    form.append(box);
  }

  let fileInput = null;
  if (exp.body) {
    const id = nextId('body');
    fileInput = el('input', { type: 'file', id, name: '_body', 'aria-describedby': `${id}-desc` });
    form.append(el('div', { class: 'field type-body' },
      el('label', { for: id, class: 'pname', text: 'input file' }), fileInput,
      el('div', { id: `${id}-desc`, class: 'pdesc', text: 'sent as the request body (POST); without a file the request is a GET' })));
  }

  // Regions follow the chosen reference.
  const refField = fields.find((f) => f.p.type === 'reference');
  refField?.rows[0].input.addEventListener('change', () => {
    for (const f of fields) for (const r of f.rows) if (r.fill) { r.fill(); r.check(); }
  });

  // reset puts declared defaults in; convenient picks (the first reference)
  // only when not restoring a link, so a link restores exactly.
  function reset(convenience) {
    for (const f of fields) {
      while (f.rows.length > 1) f.rows.pop().node.remove();
      if (f.rows.length === 0) f.addRow(f.p.default);
      else setValue(f.rows[0].input, f.p, f.p.default);
      if (convenience && f.p.type === 'reference' && f.p.default === undefined && refs.length > 0) {
        f.rows[0].input.value = refs[0].name;
      }
    }
    for (const f of fields) for (const r of f.rows) if (r.fill) { r.fill(); r.check(); }
  }

  return {
    form,
    fileInput,
    reset,
    // values returns the parameters to send: everything set that differs
    // from the declared default (the host fills defaults in).
    values() {
      const out = new URLSearchParams();
      for (const f of fields) {
        for (const r of f.rows) {
          let v;
          if (f.p.type === 'bool') {
            v = r.input.checked ? 'true' : 'false';
            if (f.p.default !== undefined && (f.p.default === true) === r.input.checked) continue;
            if (f.p.default === undefined && !r.input.checked) continue;
          } else {
            v = r.input.value.trim();
            if (v === '') continue;
            if (!f.p.repeatable && f.p.default !== undefined && String(f.p.default) === v) continue;
          }
          out.append(f.p.name, v);
        }
      }
      return out;
    },
    restore(params) {
      reset(false);
      for (const f of fields) {
        const vs = params.getAll(f.p.name);
        if (vs.length === 0) continue;
        vs.forEach((v, i) => {
          const row = i < f.rows.length ? f.rows[i] : f.addRow('');
          setValue(row.input, f.p, v);
        });
      }
      for (const f of fields) for (const r of f.rows) if (r.fill) { r.fill(); r.check(); }
    },
    // validate checks what the browser knows before sending: region syntax
    // and bounds, and numbers it could not parse (bounds of numbers are left
    // to the API, whose message is then shown). Returns {input, message}.
    validate() {
      for (const f of fields) {
        for (const r of f.rows) {
          if (r.check && !r.check()) return { input: r.input, message: `${f.p.name}: ${r.status.textContent}` };
          if (r.input.validity && r.input.validity.badInput) {
            return { input: r.input, message: `${f.p.name}: not a ${f.p.type === 'int' ? 'whole ' : ''}number` };
          }
        }
      }
      return null;
    },
  };
}
