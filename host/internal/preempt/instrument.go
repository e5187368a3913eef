package preempt

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
)

// Names the instrumented module imports. The host must provide ImportModule.ImportName with type
// () -> (); HostFunction builds it for Extism.
const (
	ImportModule = "edgenome"
	ImportName   = "preempt_check"

	// MarkerSection names the custom section appended to every instrumented module. Its payload is
	// FormatVersion (1 byte), the interval (u32 LEB128) and the sha256 of the original module (32 bytes).
	// It is informational: Instrument never trusts it (see ErrReserved).
	MarkerSection = "edgenome.preempt"

	// FormatVersion changes whenever the rewriting changes, so cached outputs of older versions are not reused.
	FormatVersion = 1

	// DefaultInterval is the number of loop iterations and calling-function entries between two host
	// checks. A check costs about a microsecond; an iteration of the tightest loop about a nanosecond,
	// so the slow path adds well under 1% while a check still happens every few hundred microseconds.
	DefaultInterval = 1 << 16
)

// Options tune Instrument. The zero value is valid.
type Options struct {
	// Interval is the number of counted events (loop iterations, entries of functions that call) between
	// host checks; 0 means DefaultInterval. Must be below 1<<31.
	Interval uint32
}

func (o Options) withDefaults() (Options, error) {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Interval >= 1<<31 {
		return o, fmt.Errorf("preempt: interval %d out of range [1, 2^31)", o.Interval)
	}
	return o, nil
}

var wasmHeader = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// Section ids and their position in the mandated order (custom sections may appear anywhere).
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secDataCount = 12
)

var sectionRank = [13]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 7, 7: 8, 8: 9, 9: 10, 10: 12, 11: 13, 12: 11}

// module holds what the rewriting of later sections needs to know about earlier ones.
type module struct {
	funcImports   uint32 // defined functions and our import start here
	globalImports uint32
	globals       uint32 // defined globals
	emptyType     uint32 // index of the () -> () type
	haveType      bool   // the type section was seen (or synthesised)
	haveImport    bool
	haveGlobal    bool
	snippet       []byte // the counter check placed at loop headers and function entries
	opt           Options
}

// remap maps a function index of the original module to the instrumented one: our import is appended
// after the existing function imports, so every defined function moves up by one.
func (m *module) remap(i uint32) uint32 {
	if i >= m.funcImports {
		return i + 1
	}
	return i
}

func (m *module) counter() uint32 { return m.globalImports + m.globals }

// buildSnippet encodes, with G our global, F our import and N the interval:
//
//	global.get G; i32.const 1; i32.sub; global.set G
//	global.get G; i32.eqz; if; i32.const N; global.set G; call F; end
//
// It is stack-neutral and holds no branch, so it is valid at any loop header or function entry
// (including loops with parameters and unreachable code) and shifts no label depth.
func (m *module) buildSnippet() {
	g := appendU32(nil, m.counter())
	s := append([]byte{0x23}, g...)
	s = append(s, 0x41, 0x01, 0x6B, 0x24)
	s = append(s, g...)
	s = append(s, 0x23)
	s = append(s, g...)
	s = append(s, 0x45, 0x04, 0x40, 0x41)
	s = appendS32(s, int32(m.opt.Interval))
	s = append(s, 0x24)
	s = append(s, g...)
	s = append(s, 0x10)
	s = appendU32(s, m.funcImports)
	m.snippet = append(s, 0x0B)
}

// Instrument rewrites a Wasm module so that every loop header and the entry of every function that
// contains a call decrement a per-instance counter and, every opt.Interval times, call the host
// function ImportModule.ImportName, which may stop the call (see Check). The result imports one more
// function, defines one more (internal) global, and ends with a MarkerSection custom section. DWARF
// (".debug_*") and source-map sections are dropped because code offsets change; the name section is
// renumbered (its label names are dropped). The input is not modified.
//
// Instrument does not validate the module: if wazero compiles the input, it compiles the output, and
// otherwise the output is undefined (but Instrument does not panic).
func Instrument(wasm []byte, opt Options) ([]byte, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(wasm, wasmHeader) {
		return nil, fmt.Errorf("%w: not a wasm 1.0 binary module", ErrMalformed)
	}
	m := &module{opt: opt}
	out := make([]byte, 0, len(wasm)+len(wasm)/8+256)
	out = append(out, wasmHeader...)
	r := &reader{b: wasm, p: len(wasmHeader)}
	var buf []byte // reused payload buffer
	for !r.eof() {
		id := r.byte()
		payload := r.bytes(r.u32())
		if r.err != nil {
			return nil, r.err
		}
		if id != secCustom && int(id) < len(sectionRank) {
			out = m.addMissing(out, sectionRank[id])
		}
		var keep bool
		buf, keep, err = m.section(id, payload, buf[:0])
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		if keep {
			out = append(out, id)
			out = appendU32(out, uint32(len(buf)))
			out = append(out, buf...)
		}
	}
	out = m.addMissing(out, 1<<30)
	sum := sha256.Sum256(wasm)
	p := appendName(nil, MarkerSection)
	p = append(p, FormatVersion)
	p = appendU32(p, opt.Interval)
	p = append(p, sum[:]...)
	out = append(out, secCustom)
	out = appendU32(out, uint32(len(p)))
	return append(out, p...), nil
}

// addMissing emits the type, import and global sections we need when the module has none, as soon as
// the next section would come after them.
func (m *module) addMissing(out []byte, rank int) []byte {
	emit := func(id byte, payload []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(payload)))
		out = append(out, payload...)
	}
	if !m.haveType && rank > sectionRank[secType] {
		m.haveType, m.emptyType = true, 0
		emit(secType, []byte{1, 0x60, 0, 0})
	}
	if !m.haveImport && rank > sectionRank[secImport] {
		m.haveImport = true
		emit(secImport, m.appendImport([]byte{1}))
	}
	if !m.haveGlobal && rank > sectionRank[secGlobal] {
		m.haveGlobal = true
		emit(secGlobal, m.appendGlobal([]byte{1}))
	}
	return out
}

func (m *module) appendImport(b []byte) []byte {
	b = appendName(b, ImportModule)
	b = appendName(b, ImportName)
	b = append(b, 0x00)
	return appendU32(b, m.emptyType)
}

func (m *module) appendGlobal(b []byte) []byte {
	b = append(b, 0x7F, 0x01, 0x41)
	b = appendS32(b, int32(m.opt.Interval))
	b = append(b, 0x0B)
	m.buildSnippet()
	return b
}

// section rewrites one section's payload into buf; keep=false drops the section.
func (m *module) section(id byte, payload []byte, buf []byte) (_ []byte, keep bool, err error) {
	r := &reader{b: payload}
	switch id {
	case secType:
		buf = m.typeSection(r, buf)
	case secImport:
		buf = m.importSection(r, buf)
	case secFunction, 4, 5, 11, secDataCount: // function, table, memory, data: no function indices
		return append(buf, payload...), true, nil
	case secGlobal:
		buf = m.globalSection(r, buf)
	case secExport:
		buf = m.exportSection(r, buf)
	case secStart:
		buf = appendU32(buf, m.remap(r.u32()))
	case secElement:
		buf = m.elementSection(r, buf)
	case secCode:
		buf = m.codeSection(r, buf)
	case secCustom:
		return m.customSection(r, buf)
	default:
		return buf, false, fmt.Errorf("%w: section id %d", ErrUnsupported, id)
	}
	return buf, true, r.err
}

func (m *module) typeSection(r *reader, buf []byte) []byte {
	n := r.u32()
	afterCount := r.p
	m.haveType = true
	found := false
	for i := uint32(0); i < n && r.err == nil; i++ {
		if form := r.byte(); form != 0x60 {
			r.fail(ErrUnsupported, "type form 0x%02x", form)
			break
		}
		params := r.u32()
		r.skip(int(params))
		results := r.u32()
		r.skip(int(results))
		if params == 0 && results == 0 && !found {
			found, m.emptyType = true, i
		}
	}
	if found {
		return append(buf, r.b...)
	}
	m.emptyType = n
	buf = appendU32(buf, n+1)
	buf = append(buf, r.b[afterCount:]...)
	return append(buf, 0x60, 0, 0)
}

func (m *module) importSection(r *reader, buf []byte) []byte {
	n := r.u32()
	start := r.p
	m.haveImport = true
	for i := uint32(0); i < n && r.err == nil; i++ {
		mod, name := r.name(), r.name()
		if string(mod) == ImportModule && string(name) == ImportName {
			r.fail(ErrReserved, "import %d", i)
			break
		}
		switch kind := r.byte(); kind {
		case 0x00: // function
			r.skipLEB()
			m.funcImports++
		case 0x01: // table: reftype limits
			r.skip(1)
			r.limits()
		case 0x02: // memory
			r.limits()
		case 0x03: // global: valtype mut
			r.skip(2)
			m.globalImports++
		default:
			r.fail(ErrUnsupported, "import kind 0x%02x", kind)
		}
	}
	buf = appendU32(buf, n+1)
	buf = append(buf, r.b[start:]...)
	return m.appendImport(buf)
}

func (r *reader) limits() {
	flags := r.byte()
	r.skipLEB()
	if flags&1 != 0 {
		r.skipLEB()
	}
}

func (m *module) globalSection(r *reader, buf []byte) []byte {
	n := r.u32()
	m.haveGlobal = true
	m.globals = n
	buf = appendU32(buf, n+1)
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.p
		r.skip(2) // valtype mut
		buf = append(buf, r.b[start:r.p]...)
		buf, _, _ = m.instrs(r, buf, true)
	}
	return m.appendGlobal(buf)
}

func (m *module) exportSection(r *reader, buf []byte) []byte {
	n := r.u32()
	buf = appendU32(buf, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.p
		r.name()
		kind := r.byte()
		buf = append(buf, r.b[start:r.p]...)
		if kind == 0x00 {
			buf = appendU32(buf, m.remap(r.u32()))
		} else {
			buf = appendU32(buf, r.u32())
		}
	}
	return buf
}

func (m *module) elementSection(r *reader, buf []byte) []byte {
	n := r.u32()
	buf = appendU32(buf, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		flags := r.u32()
		buf = appendU32(buf, flags)
		if flags > 7 {
			r.fail(ErrUnsupported, "element segment flags %d", flags)
			break
		}
		if flags == 2 || flags == 6 { // explicit table index
			buf = appendU32(buf, r.u32())
		}
		if flags&1 == 0 { // active: offset expression
			buf, _, _ = m.instrs(r, buf, true)
		}
		if flags&3 != 0 { // elemkind or reftype byte
			buf = append(buf, r.byte())
		}
		count := r.u32()
		buf = appendU32(buf, count)
		for j := uint32(0); j < count && r.err == nil; j++ {
			if flags&4 == 0 {
				buf = appendU32(buf, m.remap(r.u32()))
			} else {
				buf, _, _ = m.instrs(r, buf, true)
			}
		}
	}
	return buf
}

func (m *module) codeSection(r *reader, buf []byte) []byte {
	if m.snippet == nil { // no global section before the code section: emitted by addMissing already
		m.buildSnippet()
	}
	n := r.u32()
	buf = appendU32(buf, n)
	var fbuf []byte
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := r.u32()
		body := &reader{b: r.bytes(size)}
		if r.err != nil {
			break
		}
		locals := body.u32()
		for j := uint32(0); j < locals && body.err == nil; j++ {
			body.skipLEB() // count
			body.skipLEB() // valtype
		}
		fbuf = append(fbuf[:0], body.b[:body.p]...)
		entry := len(fbuf)
		var sawCall, startsLoop bool
		fbuf, sawCall, startsLoop = m.instrs(body, fbuf, false)
		if body.err != nil {
			r.err = fmt.Errorf("function %d: %w", i, body.err)
			break
		}
		// A call cycle (recursion) may contain no loop; counting the entries of every function that
		// calls bounds it. A body that opens with a loop already counts on entry.
		if sawCall && !startsLoop {
			fbuf = slices.Insert(fbuf, entry, m.snippet...)
		}
		buf = appendU32(buf, uint32(len(fbuf)))
		buf = append(buf, fbuf...)
	}
	return buf
}

// customSection keeps custom sections whose content does not depend on code offsets or function
// indices, renumbers the name section and drops what it cannot fix.
func (m *module) customSection(r *reader, buf []byte) ([]byte, bool, error) {
	name := string(r.name())
	if r.err != nil {
		return buf, false, r.err
	}
	switch {
	case name == "name":
		start := len(buf)
		buf = appendName(buf, name)
		if b, ok := m.nameSection(r, buf); ok {
			return b, true, nil
		}
		return buf[:start], false, nil // malformed names are not worth failing for
	case strings.HasPrefix(name, ".debug_"), name == "sourceMappingURL", name == "external_debug_info",
		name == MarkerSection:
		return buf, false, nil
	}
	return append(buf, r.b...), true, nil
}

func (m *module) nameSection(r *reader, buf []byte) ([]byte, bool) {
	for !r.eof() {
		id := r.byte()
		sub := &reader{b: r.bytes(r.u32())}
		if r.err != nil {
			return buf, false
		}
		var content []byte
		switch id {
		case 1: // function names: namemap
			n := sub.u32()
			content = appendU32(content, n)
			for i := uint32(0); i < n && sub.err == nil; i++ {
				content = appendU32(content, m.remap(sub.u32()))
				content = appendName(content, string(sub.name()))
			}
		case 2: // local names: indirect namemap keyed by function
			n := sub.u32()
			content = appendU32(content, n)
			for i := uint32(0); i < n && sub.err == nil; i++ {
				content = appendU32(content, m.remap(sub.u32()))
				start := sub.p
				k := sub.u32()
				for j := uint32(0); j < k && sub.err == nil; j++ {
					sub.u32()
					sub.name()
				}
				content = append(content, sub.b[start:sub.p]...)
			}
		case 3: // label names: our inserted if blocks shift label numbering
			continue
		default:
			content = sub.b
		}
		if sub.err != nil {
			return buf, false
		}
		buf = append(buf, id)
		buf = appendU32(buf, uint32(len(content)))
		buf = append(buf, content...)
	}
	return buf, true
}
