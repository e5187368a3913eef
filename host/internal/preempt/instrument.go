package preempt

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// Names the instrumented module imports and exports. The host must provide ImportModule.ImportName
// with type () -> (); Install instantiates it as a host module in the plugin's runtime, so that the
// function sees the calling module. The whole ImportModule namespace and the export FlagExport are reserved.
const (
	ImportModule = "edgenome_preempt"
	ImportName   = "check"

	// FlagExport names the i32 global an epoch-mode module exports: the host sets it to ask for a
	// check, the check clears it. Nothing in the original code can refer to it (a module cannot import
	// its own exports), so a plugin cannot silence it.
	FlagExport = "edgenome_preempt_flag"

	// MarkerSection names the custom section appended to every instrumented module. Its payload is
	// FormatVersion (1 byte), the mode (1 byte), the interval (u32 LEB128) and the sha256 of the
	// original module (32 bytes). It is informational: Instrument never trusts it (see ErrReserved).
	MarkerSection = "edgenome.preempt"

	// FormatVersion changes whenever the rewriting changes, so cached outputs of older versions are not reused.
	FormatVersion = 4

	// DefaultInterval is the weight (about the number of Wasm instructions, see instrs) between two
	// host checks in counter mode. Weights are longest paths, so real code reaches them much sooner
	// than straight tight loops do: at 2^20, wgsim checked in ~30,000 times a second, and those checks
	// (each with a runtime.Gosched) made it 1.6x slower (1M pairs over HTTP: 4.7-5.0 s; 3.3-3.5 s at
	// 2^22, 2.8-3.5 s at 2^25). With 3 spinning plugins on 2 cores runtime.GC took 12-23 ms at 2^20,
	// 30-36 ms at 2^22 and 65 ms at 2^24; 2^23 keeps both a call's stop and a GC well under 100 ms.
	DefaultInterval = 1 << 23
)

// Mode selects what the inserted checks test.
type Mode uint8

const (
	// ModeAuto is ModeEpoch where it works (a cgo build, whose ticker thread can set flags, and a
	// wazero whose module context flagAddr understands) and ModeCounter elsewhere.
	ModeAuto Mode = iota
	// ModeCounter: every loop iteration and call-cycle step takes its weight from a counter in a
	// local, and the guest calls the host when the count runs out. Needs nothing from the host but the
	// check function; costs a decrement on every iteration, which wazero keeps in a stack slot in Go
	// code (a load and a store per iteration).
	ModeCounter
	// ModeEpoch: loops and call cycles test the exported flag global, which the host's ticker thread
	// sets every TickPeriod while a call runs. One load and a branch per iteration, no store.
	ModeEpoch
)

func (m Mode) String() string {
	switch m {
	case ModeCounter:
		return "counter"
	case ModeEpoch:
		return "epoch"
	}
	return "auto"
}

// Options tune Instrument. The zero value is valid.
type Options struct {
	// Interval is the weight of guest code between host checks in counter mode; 0 means
	// DefaultInterval. Must be below 1<<30.
	Interval uint32
	// Mode is ModeAuto unless set.
	Mode Mode
}

func (o Options) withDefaults() (Options, error) {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Interval >= 1<<30 {
		return o, fmt.Errorf("preempt: interval %d out of range [1, 2^30)", o.Interval)
	}
	switch o.Mode {
	case ModeAuto:
		o.Mode = ModeCounter
		if epochWorks() == nil {
			o.Mode = ModeEpoch
		}
	case ModeCounter, ModeEpoch:
	default:
		return o, fmt.Errorf("preempt: unknown mode %d", o.Mode)
	}
	if o.Mode == ModeEpoch {
		o.Interval = 0 // not used; keeps cache keys and markers canonical
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
	haveExport    bool
	typeParams    []uint32 // parameter count of each type
	funcTypes     []uint32 // type of each defined function
	opt           Options
	droppedNames  bool // the name section was malformed and left out
	// reserved: the module imports from ImportModule or exports FlagExport. The decoding goes on, so
	// that Validate still sees every count of such a module.
	reserved error

	// The snippets of the function being rewritten (they name its counter local); see buildSnippets.
	dec, check, loopCheck, decTest, decTestP, reload, sync []byte
	flagGet                                                []byte // epoch mode: global.get G
	// weightAt is the offset of the 5-byte weight immediate in dec, decTest and decTestP; resetAt the
	// offset of the 5-byte reset value in loopCheck.
	weightAt, resetAt int
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

// buildSnippets encodes, with L the function's counter local, G our global, W the weight of the code
// that follows and R = N+W (both patched per site), N the interval and F our import:
//
//	dec:       local.get L; i32.const W; i32.sub; local.set L
//	check:     local.get L; i32.const 0; i32.le_s; if; call F; i32.const N; local.set L; end
//	loopCheck: the same with R for N
//	decTest:   local.get L; i32.const W; i32.sub; local.tee L; i32.const 0; i32.le_s; if; br 2; end
//	decTestP:  the same with br_if 1 for if; br 2; end
//	reload:    global.get G; local.set L
//	sync:      local.get L; global.set G
//
// The count lives in a local rather than in G: a global is a load and a store per iteration, and made
// the C LCG loop 1.7x slower. It is published to G before calls and wherever the function returns
// (sync; before br_table only if a target leaves the function, since Go dispatches every loop
// iteration with one) and read back on entry and after calls (reload), so that it is never live
// across a call, which wazero's register allocator would answer with spills; for the same reason
// check calls F before it resets L. dec and check are stack-neutral and hold no branch out, so they
// are valid at any function entry (including unreachable code).
func (m *module) buildSnippets(local uint32) {
	g := appendU32(nil, m.counter())
	l := appendU32(nil, local)
	pad := []byte{0x81, 0x80, 0x80, 0x80, 0x00} // 1 as a 5-byte LEB128, patched later

	s := append(m.dec[:0], 0x20)
	s = append(s, l...)
	s = append(s, 0x41)
	m.weightAt = len(s)
	s = append(s, pad...)
	s = append(s, 0x6B, 0x21)
	m.dec = append(s, l...)

	s = append(m.decTest[:0], m.dec[:len(m.dec)-len(l)-1]...)
	s = append(s, 0x22)
	s = append(s, l...)
	s = append(s, 0x41, 0x00, 0x4C)
	m.decTestP = append(append(m.decTestP[:0], s...), 0x0D, 0x01)
	m.decTest = append(s, 0x04, 0x40, 0x0C, 0x02, 0x0B)

	check := func(s []byte, reset []byte) ([]byte, int) {
		s = append(s, 0x20)
		s = append(s, l...)
		s = append(s, 0x41, 0x00, 0x4C, 0x04, 0x40, 0x10)
		s = appendU32(s, m.funcImports)
		s = append(s, 0x41)
		at := len(s)
		s = append(s, reset...)
		s = append(s, 0x21)
		s = append(s, l...)
		return append(s, 0x0B), at
	}
	m.check, _ = check(m.check[:0], appendS32(nil, int32(m.opt.Interval)))
	m.loopCheck, m.resetAt = check(m.loopCheck[:0], pad)

	s = append(m.reload[:0], 0x23)
	s = append(s, g...)
	s = append(s, 0x21)
	m.reload = append(s, l...)
	s = append(m.sync[:0], 0x20)
	s = append(s, l...)
	s = append(s, 0x24)
	m.sync = append(s, g...)
}

// epochSnippets encodes the snippets of epoch mode, the same for every function, with G the flag
// global and F our import:
//
//	check, loopCheck: global.get G; i32.eqz; if; else; call F; end
//	decTest:          global.get G; if; br 2; end
//	decTestP:         global.get G; br_if 1
//
// and nothing for dec, reload and sync: there is no count to take or to publish, and so no local.
// The flag is a plain load with no store on the hot path, so it adds nothing to a loop's dependency
// chain (the counter's load-subtract-store did, as wazero keeps it in a stack slot in Go code).
//
// The call goes in the else arm because wazero's register allocator starts the block after an if
// from the state at the end of its first predecessor, the then arm: with the call there, every value
// live past the check started out of its register, and the code after it reloaded them. A check
// in that form before the dispatch loop of wgsim's pairs() alone, a function entered a few times
// per call, made the whole call 1.09x slower; in the else arm, 1.00x.
func (m *module) epochSnippets() {
	get := appendU32([]byte{0x23}, m.counter())
	m.check = append(append(m.check[:0], get...), 0x45, 0x04, 0x40, 0x05, 0x10)
	m.check = append(appendU32(m.check, m.funcImports), 0x0B)
	m.loopCheck = append(m.loopCheck[:0], m.check...)
	m.flagGet = append(m.flagGet[:0], get...)
	m.decTest = append(append(m.decTest[:0], get...), 0x04, 0x40, 0x0C, 0x02, 0x0B)
	m.decTestP = append(append(m.decTestP[:0], get...), 0x0D, 0x01)
	m.dec, m.reload, m.sync = m.dec[:0], m.reload[:0], m.sync[:0]
	m.weightAt, m.resetAt = -1, -1
}

// Instrument rewrites a Wasm module so that every loop iteration and every entry of a function that
// contains a call (unless a loop header runs first) call the host function ImportModule.ImportName
// when asked to: in epoch mode when the exported flag FlagExport is set, in counter mode when a
// per-instance count of opt.Interval is used up. The check may stop the call (see Check).
// The result imports one more function, defines one more global (in epoch mode exported as
// FlagExport, starting at 1; in counter mode internal, with one more local in each instrumented
// function), and ends with a MarkerSection custom section. DWARF
// (".debug_*") and source-map sections are dropped because code offsets change; the name section is
// renumbered (its label names are dropped). The input is not modified.
//
// Instrument does not validate the module: if wazero compiles the input, it compiles the output, and
// otherwise the output is undefined (but Instrument does not panic).
func Instrument(wasm []byte, opt Options) ([]byte, error) {
	out, _, err := instrument(wasm, opt)
	return out, err
}

func instrument(wasm []byte, opt Options) ([]byte, *module, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	if !bytes.HasPrefix(wasm, wasmHeader) {
		return nil, nil, fmt.Errorf("%w: not a wasm 1.0 binary module", ErrMalformed)
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
			return nil, nil, r.err
		}
		if id != secCustom && int(id) < len(sectionRank) {
			out = m.addMissing(out, sectionRank[id])
		}
		var keep bool
		buf, keep, err = m.section(id, payload, buf[:0])
		if err != nil {
			return nil, nil, fmt.Errorf("section %d: %w", id, err)
		}
		if keep {
			out = append(out, id)
			out = appendU32(out, uint32(len(buf)))
			out = append(out, buf...)
		}
	}
	if m.reserved != nil {
		return nil, m, m.reserved
	}
	out = m.addMissing(out, 1<<30)
	sum := sha256.Sum256(wasm)
	p := appendName(nil, MarkerSection)
	p = append(p, FormatVersion, byte(opt.Mode))
	p = appendU32(p, opt.Interval)
	p = append(p, sum[:]...)
	out = append(out, secCustom)
	out = appendU32(out, uint32(len(p)))
	return append(out, p...), m, nil
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
	if !m.haveExport && rank > sectionRank[secExport] {
		m.haveExport = true
		if m.opt.Mode == ModeEpoch {
			emit(secExport, m.appendExport([]byte{1}))
		}
	}
	return out
}

func (m *module) appendImport(b []byte) []byte {
	b = appendName(b, ImportModule)
	b = appendName(b, ImportName)
	b = append(b, 0x00)
	return appendU32(b, m.emptyType)
}

// appendGlobal defines our global: the counter, starting full, or the flag, starting set so that
// the first check comes at once (it arms the ticker for the call; see Guard).
func (m *module) appendGlobal(b []byte) []byte {
	b = append(b, 0x7F, 0x01, 0x41)
	if m.opt.Mode == ModeEpoch {
		b = appendS32(b, 1)
	} else {
		b = appendS32(b, int32(m.opt.Interval))
	}
	return append(b, 0x0B)
}

func (m *module) appendExport(b []byte) []byte {
	b = appendName(b, FlagExport)
	b = append(b, 0x03)
	return appendU32(b, m.counter())
}

// section rewrites one section's payload into buf; keep=false drops the section.
func (m *module) section(id byte, payload []byte, buf []byte) (_ []byte, keep bool, err error) {
	r := &reader{b: payload}
	switch id {
	case secType:
		buf = m.typeSection(r, buf)
	case secImport:
		buf = m.importSection(r, buf)
	case secFunction:
		n := r.count()
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.funcTypes = append(m.funcTypes, r.u32())
		}
		return append(buf, payload...), true, r.err
	case 4: // table: no function indices, but a size wazero allocates at instantiation
		m.tableSection(r)
		return append(buf, payload...), true, r.err
	case 5: // memory: bounded by the host's memory limit
		r.count()
		return append(buf, payload...), true, r.err
	case 11: // data: no function indices either, but lengths wazero allocates by
		m.dataSection(r)
		return append(buf, payload...), true, r.err
	case secDataCount:
		// wazero 1.12 reads the count past an empty section's end; at the end of a module it finds
		// nothing and takes the section as absent, so do the same rather than let it read our
		// sections that follow.
		return append(buf, payload...), len(payload) > 0, nil
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
	n := r.count()
	afterCount := r.p
	m.haveType = true
	found := false
	for i := uint32(0); i < n && r.err == nil; i++ {
		if form := r.byte(); form != 0x60 {
			r.fail(ErrUnsupported, "type form 0x%02x", form)
			break
		}
		params := r.count()
		m.typeParams = append(m.typeParams, params)
		r.skip(int(params))
		results := r.count()
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
	n := r.count()
	start := r.p
	m.haveImport = true
	for i := uint32(0); i < n && r.err == nil; i++ {
		mod, _ := r.name(), r.name()
		if string(mod) == ImportModule && m.reserved == nil {
			m.reserved = fmt.Errorf("%w: import %d", ErrReserved, i)
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
	n := r.count()
	m.haveGlobal = true
	m.globals = n
	buf = appendU32(buf, n+1)
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.p
		r.skip(2) // valtype mut
		buf = append(buf, r.b[start:r.p]...)
		buf = m.instrs(r, buf, nil)
	}
	return m.appendGlobal(buf)
}

func (m *module) exportSection(r *reader, buf []byte) []byte {
	n := r.count()
	m.haveExport = true
	epoch := m.opt.Mode == ModeEpoch
	if epoch {
		buf = appendU32(buf, n+1)
	} else {
		buf = appendU32(buf, n)
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.p
		if string(r.name()) == FlagExport && m.reserved == nil {
			m.reserved = fmt.Errorf("%w: export %d", ErrReserved, i)
		}
		kind := r.byte()
		buf = append(buf, r.b[start:r.p]...)
		if kind == 0x00 {
			buf = appendU32(buf, m.remap(r.u32()))
		} else {
			buf = appendU32(buf, r.u32())
		}
	}
	if epoch {
		buf = m.appendExport(buf)
	}
	return buf
}

// Limits on what wazero allocates by a declared size: the locals of a function (one byte each in its
// decoder, so 2^32 of them took 4 GiB: V8 and wasmtime refuse more than 50,000) and the initial size
// of a table (eight bytes per element at every instantiation; wazero allows 2^27, a GiB per instance,
// where a Go plugin's one table holds all its functions, a few thousand).
const (
	maxLocals    = 50_000
	maxTableSize = 1 << 20
)

// tableSection checks the initial size of each table.
func (m *module) tableSection(r *reader) {
	n := r.count()
	var scratch []byte
	for i := uint32(0); i < n && r.err == nil; i++ {
		init := false
		b := r.byte()
		if b == 0x40 { // a table with an initializer: 0x40 0x00 tabletype expr
			r.byte()
			init, b = true, r.byte()
		}
		if b == 0x63 || b == 0x64 { // (ref null? heaptype)
			r.skipLEB()
		}
		flags := r.byte()
		if min := r.u32(); min > maxTableSize {
			r.fail(errLength, "table %d of %d elements, more than %d", i, min, maxTableSize)
		}
		if flags&1 != 0 {
			r.skipLEB()
		}
		if init {
			scratch = m.instrs(r, scratch[:0], nil)
		}
	}
}

// dataSection checks the framing of the data segments.
func (m *module) dataSection(r *reader) {
	n := r.count()
	var scratch []byte
	for i := uint32(0); i < n && r.err == nil; i++ {
		switch flags := r.u32(); flags {
		case 0:
			scratch = m.instrs(r, scratch[:0], nil)
		case 1:
		case 2:
			r.skipLEB()
			scratch = m.instrs(r, scratch[:0], nil)
		default:
			r.fail(ErrMalformed, "data segment flags %d", flags)
		}
		r.bytes(r.u32())
	}
}

func (m *module) elementSection(r *reader, buf []byte) []byte {
	n := r.count()
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
			buf = m.instrs(r, buf, nil)
		}
		if flags&3 != 0 { // elemkind or reftype byte
			buf = append(buf, r.byte())
		}
		count := r.count()
		buf = appendU32(buf, count)
		for j := uint32(0); j < count && r.err == nil; j++ {
			if flags&4 == 0 {
				buf = appendU32(buf, m.remap(r.u32()))
			} else {
				buf = m.instrs(r, buf, nil)
			}
		}
	}
	return buf
}

func (m *module) codeSection(r *reader, buf []byte) []byte {
	n := r.count()
	if uint64(n) != uint64(len(m.funcTypes)) {
		r.fail(ErrMalformed, "%d function bodies for %d functions", n, len(m.funcTypes))
		return buf
	}
	buf = appendU32(buf, n)
	var fbuf, code []byte
	var fs funcCode
	epoch := m.opt.Mode == ModeEpoch
	if epoch {
		m.epochSnippets()
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := r.u32()
		body := &reader{b: r.bytes(size)}
		if r.err != nil {
			break
		}
		t := m.funcTypes[i]
		if uint64(t) >= uint64(len(m.typeParams)) {
			r.fail(ErrMalformed, "function %d has type %d of %d", i, t, len(m.typeParams))
			break
		}
		// The counter local goes after the parameters and the declared locals.
		locals := uint64(m.typeParams[t])
		groups := body.u32()
		afterCount := body.p
		for j := uint32(0); j < groups && body.err == nil; j++ {
			locals += uint64(body.u32())
			body.skipLEB() // valtype
		}
		if locals > maxLocals {
			body.fail(errLength, "%d locals, more than %d", locals, maxLocals)
		}
		localsEnd := body.p
		if !epoch {
			m.buildSnippets(uint32(locals))
		}
		f := &fs
		f.reset()
		code = m.instrs(body, code[:0], f)
		if body.err != nil {
			r.err = fmt.Errorf("function %d: %w", i, body.err)
			break
		}
		f.outside = uint64(max(f.levels[0].max, 0))
		fbuf = fbuf[:0]
		if epoch {
			// No local and no weights: loops got their checks while copying. Only a function that
			// calls can be part of a call cycle, and it needs no entry check if a loop header comes
			// first.
			fbuf = append(fbuf, body.b[:localsEnd]...)
			if f.sawCall && !f.startsLoop {
				fbuf = append(fbuf, m.check...)
			}
			fbuf = append(fbuf, code...)
		} else if len(f.patches) == 0 && !f.sawCall && f.outside <= leafMax {
			// A small leaf without loops: counted by its callers (callWeight). Copy it again without
			// publishing the count, as it has no counter local.
			sync := m.sync
			m.sync, body.p = nil, localsEnd
			f.reset()
			code = m.instrs(body, code[:0], f)
			m.sync = sync
			fbuf = append(fbuf, body.b[:localsEnd]...)
			fbuf = append(fbuf, code...)
		} else {
			fbuf = appendU32(fbuf, groups+1)
			fbuf = append(fbuf, body.b[afterCount:localsEnd]...)
			fbuf = append(fbuf, 1, 0x7F)     // the counter local
			fbuf = append(fbuf, m.reload...) // load it
			if f.startsLoop {
				// The opening loop runs on entry: it carries the code outside loops too.
				f.patches[0].weight += f.outside
			} else {
				// The code outside loops is counted on entry. Any function that calls needs this, as
				// a call cycle (recursion) may contain no loop.
				at := len(fbuf)
				fbuf = append(fbuf, m.dec...)
				fbuf = append(fbuf, m.check...)
				putWeight(fbuf[at+m.weightAt:], f.outside)
			}
			base := len(fbuf)
			fbuf = append(fbuf, code...)
			for _, p := range f.patches {
				putWeight(fbuf[base+p.pos:], p.weight)
				putWeight(fbuf[base+p.reset:], uint64(m.opt.Interval)+min(p.weight, maxWeight))
			}
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
		m.droppedNames = true
		return buf[:start], false, nil // malformed names are not worth failing for (see Validate)
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

// Validate decodes wasm the way Instrument does, without keeping the output, and returns Instrument's
// error for it (ErrReserved aside). Run it before handing a module that is not instrumented to
// wazero: wazero 1.12's decoder allocates vectors by their declared counts before reading them, and
// a few bytes claiming billions of exports run the process out of memory. Instrument refuses those
// counts, and so does Validate, which also refuses a malformed name section (Instrument drops it).
func Validate(wasm []byte) error {
	_, m, err := instrument(wasm, Options{Mode: ModeCounter})
	switch {
	case err != nil && !errors.Is(err, ErrReserved): // a reserved name comes after the whole decoding
		return err
	case m.droppedNames:
		// Instrument leaves a malformed name section out; wazero would decode it, and allocates
		// by its counts too.
		return fmt.Errorf("%w: malformed name section", errLength)
	}
	return nil
}
