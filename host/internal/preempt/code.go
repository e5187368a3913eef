package preempt

// Immediate kinds of single-byte opcodes. Everything wazero 1.12 accepts (Wasm 2.0: multi-value, bulk
// memory, reference types, SIMD, sign extension, saturating conversions; plus threads and tail calls)
// is listed; any other opcode is ErrUnsupported.
const (
	immBad uint8 = iota
	immNone
	immBlock        // blocktype (s33)
	immLoop         // blocktype; the loop header is where the counter goes
	immIdx          // one LEB128
	immIdx2         // two LEB128s
	immCall         // funcidx, renumbered; counts as a call
	immCallIndirect // typeidx tableidx; counts as a call
	immRefFunc      // funcidx, renumbered
	immBrTable      // vec(labelidx) labelidx
	immMemarg       // align [memidx] offset
	immF32          // 4 bytes
	immF64          // 8 bytes
	immSelectT      // vec(valtype)
	immFC           // 0xFC prefix: saturating conversions, bulk memory, tables
	immFD           // 0xFD prefix: SIMD
	immFE           // 0xFE prefix: threads
)

var immediates = func() (t [256]uint8) {
	set := func(lo, hi int, k uint8) {
		for op := lo; op <= hi; op++ {
			t[op] = k
		}
	}
	set(0x00, 0x01, immNone)         // unreachable nop
	set(0x02, 0x02, immBlock)        // block
	set(0x03, 0x03, immLoop)         // loop
	set(0x04, 0x04, immBlock)        // if
	set(0x05, 0x05, immNone)         // else
	set(0x0B, 0x0B, immNone)         // end
	set(0x0C, 0x0D, immIdx)          // br br_if
	set(0x0E, 0x0E, immBrTable)      // br_table
	set(0x0F, 0x0F, immNone)         // return
	set(0x10, 0x10, immCall)         // call
	set(0x11, 0x11, immCallIndirect) // call_indirect
	set(0x12, 0x12, immCall)         // return_call
	set(0x13, 0x13, immCallIndirect) // return_call_indirect
	set(0x1A, 0x1B, immNone)         // drop select
	set(0x1C, 0x1C, immSelectT)      // select t*
	set(0x20, 0x24, immIdx)          // local.get/set/tee global.get/set
	set(0x25, 0x26, immIdx)          // table.get table.set
	set(0x28, 0x3E, immMemarg)       // loads and stores
	set(0x3F, 0x40, immIdx)          // memory.size memory.grow (memidx)
	set(0x41, 0x42, immIdx)          // i32.const i64.const (signed LEB128, skipped alike)
	set(0x43, 0x43, immF32)          // f32.const
	set(0x44, 0x44, immF64)          // f64.const
	set(0x45, 0xC4, immNone)         // numeric, including sign extension
	set(0xD0, 0xD0, immIdx)          // ref.null heaptype
	set(0xD1, 0xD1, immNone)         // ref.is_null
	set(0xD2, 0xD2, immRefFunc)      // ref.func
	set(0xFC, 0xFC, immFC)
	set(0xFD, 0xFD, immFD)
	set(0xFE, 0xFE, immFE)
	return t
}()

// loopFirst returns the offset of the first loop opcode in code if it comes before any call, branch
// or return (only block openings without parameters and local, global and constant instructions come
// first), and -1 otherwise. Go's Wasm backend opens every function that way (global.get SP;
// local.set; block; loop): the check at that loop's header then also bounds the function's entries,
// and an entry check would be redundant. It is not free either: it made a Go byte loop in the same
// function 1.15-1.35x slower.
func loopFirst(code []byte) int {
	r := &reader{b: code}
	for r.p < len(r.b) && r.err == nil {
		switch op := r.byte(); {
		case op == 0x03:
			return r.p - 1
		case op == 0x02:
			if r.p >= len(r.b) || r.b[r.p]&0xC0 != 0x40 { // only 0x40 or a value type
				return -1
			}
			r.p++
		case op == 0x01:
		case op >= 0x20 && op <= 0x24, op == 0x41, op == 0x42:
			r.skipLEB()
		default:
			return -1
		}
	}
	return -1
}

// dispatch describes the loop through which Go's Wasm backend runs all of a function's jumps: it opens
// the function (see loopFirst), and its body starts with N blocks and a br_table over the resume-PC
// local whose targets are those blocks:
//
//	loop; block; ...; block; local.get PC; br_table ...; end; segment 0; end; segment 1; ... end
//
// Every jump, forward as well as backward, is "i32.const K; local.set PC; br <the loop>", and the
// br_table sends K to segment targets[K]. Only a jump to a segment at or before the current one can
// close a cycle (falling through and branching to a block's end only move forward), so in epoch mode
// only those jumps test the flag, and so do jumps whose K is not a constant just before them; the
// loop header does not (see instrs). goDispatch finds those jumps back before the body is copied. For a Go function that is the difference between one test per
// call (on entry) and three (the entry's, the header's and the prologue's forward jump to its first
// block), plus one per forward jump.
type dispatch struct {
	on      bool     // this function has the shape, and the loop has not ended yet
	frame   int      // index in funcCode.frames of the dispatch loop, once open (-1 before)
	pc      uint32   // the resume-PC local
	targets []uint32 // label depths by K, the default last
	// backs holds the offsets in the body of the br opcodes that may jump back, in order, and next
	// the first that instrs has not reached. Without any the loop cannot cycle, and the function
	// needs its entry check alone: most small Go functions only jump forward.
	backs []int
	next  int
}

// back reports whether the loop has any jump back.
func (d *dispatch) back() bool { return len(d.backs) > 0 }

// segment is the segment (leading block) a jump with K in the PC local goes to; -1 for a negative K.
func (d *dispatch) segment(k int64) int {
	if k < 0 {
		return -1
	}
	i := len(d.targets) - 1
	if k < int64(i) {
		i = int(k)
	}
	return int(d.targets[i]) // goDispatch took only targets that are leading blocks
}

// goDispatch reports whether code (a function body after its locals) opens with a dispatch loop that
// only unconditional br instructions re-enter: a br_if or a br_table to it would need a header test
// after all, so such a loop is instrumented like any other. at is the offset of that loop (loopFirst).
// It fills d.backs.
func goDispatch(code []byte, at int, d *dispatch) bool {
	r := &reader{b: code}
	level := 0 // open blocks before the loop
	for r.p < at {
		op := r.byte()
		if op == 0x02 {
			level++
		}
		r.skipImm(op)
	}
	r.p++ // the loop
	if r.byte() != 0x40 {
		return false
	}
	level++
	loop := level
	n := 0
	for r.p+1 < len(r.b) && r.b[r.p] == 0x02 && r.b[r.p+1] == 0x40 {
		r.p += 2
		n++
	}
	if n == 0 || r.byte() != 0x20 {
		return false
	}
	d.pc = r.u32()
	if r.byte() != 0x0E {
		return false
	}
	count := r.u32()
	if r.err != nil || uint64(count) >= uint64(len(r.b)) {
		return false
	}
	d.targets = d.targets[:0]
	for i := uint64(0); i <= uint64(count) && r.err == nil; i++ {
		t := r.u32()
		if uint64(t) >= uint64(n) {
			return false
		}
		d.targets = append(d.targets, t)
	}
	level += n
	d.backs, d.next = d.backs[:0], 0
	closed := 0 // leading blocks closed: the code runs in segment closed-1
	// jump is 1 after an i32.const, 2 after an i32.const and a local.set of the PC, with that
	// constant in k; 0 after anything else.
	var jump int8
	var k int64
	for r.p < len(r.b) && r.err == nil {
		at := r.p
		op := r.byte()
		last := jump
		jump = 0
		switch op {
		case 0x02, 0x03, 0x04:
			level++
		case 0x0B:
			if closed < n && level == loop+n-closed { // the innermost leading block still open
				closed++
			}
			if level--; level < loop {
				return r.err == nil
			}
		case 0x0C:
			if t := r.u32(); uint64(t) < uint64(level) && level-int(t) == loop && (last != 2 || d.segment(k) <= closed-1) {
				d.backs = append(d.backs, at)
			}
			continue
		case 0x41:
			jump, k = 1, r.s64()
			continue
		case 0x21:
			if l := r.u32(); last == 1 && l == d.pc {
				jump = 2
			}
			continue
		case 0x0D:
			if k := r.u32(); uint64(k) < uint64(level) && level-int(k) == loop {
				return false
			}
			continue
		case 0x0E:
			count := r.u32()
			for i := uint64(0); i <= uint64(count) && r.err == nil; i++ {
				if k := r.u32(); uint64(k) < uint64(level) && level-int(k) == loop {
					return false
				}
			}
			continue
		}
		r.skipImm(op)
	}
	return false
}

// skipImm skips the immediates of op.
func (r *reader) skipImm(op byte) {
	switch immediates[op] {
	case immNone:
	case immBlock, immLoop, immIdx, immCall, immRefFunc:
		r.skipLEB()
	case immIdx2, immCallIndirect:
		r.skipLEB()
		r.skipLEB()
	case immBrTable:
		n := r.u32()
		for i := uint64(0); i <= uint64(n) && r.err == nil; i++ {
			r.skipLEB()
		}
	case immMemarg:
		r.memarg()
	case immF32:
		r.skip(4)
	case immF64:
		r.skip(8)
	case immSelectT:
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.skipLEB()
		}
	case immFC:
		switch sub := r.u32(); {
		case sub <= 7: // saturating truncations
		case sub == 8 || sub == 10 || sub == 12 || sub == 14: // memory.init memory.copy table.init table.copy
			r.skipLEB()
			r.skipLEB()
		case sub <= 17: // data.drop memory.fill elem.drop table.grow table.size table.fill
			r.skipLEB()
		default:
			r.fail(ErrUnsupported, "opcode 0xfc %d", sub)
		}
	case immFD:
		switch sub := r.u32(); {
		case sub <= 11 || sub == 92 || sub == 93: // loads and stores
			r.memarg()
		case sub == 12 || sub == 13: // v128.const i8x16.shuffle
			r.skip(16)
		case sub >= 21 && sub <= 34: // extract_lane replace_lane
			r.skip(1)
		case sub >= 84 && sub <= 91: // load_lane store_lane
			r.memarg()
			r.skip(1)
		case sub <= 255:
		default:
			r.fail(ErrUnsupported, "opcode 0xfd %d", sub)
		}
	case immFE:
		switch sub := r.u32(); {
		case sub == 3: // atomic.fence
			r.skip(1)
		case sub <= 2 || (sub >= 0x10 && sub <= 0x4E):
			r.memarg()
		default:
			r.fail(ErrUnsupported, "opcode 0xfe %d", sub)
		}
	default:
		r.fail(ErrUnsupported, "opcode 0x%02x", op)
	}
}

// blockParams reads a blocktype and reports whether it takes parameters (a type index with some).
func (m *module) blockParams(r *reader) bool {
	if r.p < len(r.b) && r.b[r.p]&0xC0 == 0x40 { // 0x40 or a value type: a negative one-byte s33
		r.p++
		return false
	}
	t := r.u32()
	return uint64(t) < uint64(len(m.typeParams)) && m.typeParams[t] > 0
}

func (r *reader) memarg() {
	if r.u32()&0x40 != 0 { // multi-memory: a memory index follows the alignment
		r.skipLEB()
	}
	r.skipLEB()
}

// Weights: the counter goes down by the static size of the code that runs until the next counting
// point, so a loop around a long straight-line body is checked as often as a tight one. A call counts
// leafMax+1 because a callee without loops or calls of at most leafMax instructions is not counted
// itself (its entry check would cost more than its body).
const (
	leafMax    = 32
	callWeight = leafMax + 1
	maxWeight  = 1 << 30
)

// funcCode accumulates, while one function body is copied, its control stack and the weights of its
// loops and of the code outside them. A weight is the longest path, in instructions, that one loop
// iteration (or one function entry, for the code outside loops) can run before the next counting
// point: forward branches are followed, a nested loop costs its header (its body is counted by
// itself), and every path ends at a back-edge, a fallthrough out of the loop or a return. Go's Wasm
// backend runs every loop through a dispatch loop over all of a function's basic blocks, so the sum
// of a body's instructions would overstate one iteration many times over.
type funcCode struct {
	control    []bool  // open blocks: true for a loop (which gained labels around it)
	nloops     []int   // nloops[i]: labels added around control[:i+1] (one per loop; see depth for the dispatch loop)
	frames     []frame // parallel to control
	levels     []level // levels[0]: the code outside loops; then one per open loop
	patches    []patch // one per loop: where its weight goes in the output
	targets    []uint32
	outside    uint64 // weight of the code outside any loop
	sawCall    bool
	startsLoop bool // a loop opens before any call or branch (loopFirst; Go functions: their resumption loop)
	disp       dispatch
	body       int // offset in the reader of the body's first instruction (dispatch.backs counts from it)
}

type frame struct {
	loop       bool
	isIf       bool
	hasElse    bool
	lvl        int   // the level the frame's label belongs to (for a loop: its own)
	start, end int64 // for block and if: distance at the start and longest distance to the end label
}

// level tracks the distance from the last counting point; d < 0 means unreachable.
type level struct {
	d, max int64
	patch  int // index into patches; -1 for the code outside loops
}

type patch struct {
	pos    int // of the 5-byte weight immediate in the output
	reset  int // of the 5-byte reset value (interval + weight) in the loop's wrapper check
	weight uint64
}

func (f *funcCode) reset() {
	*f = funcCode{control: f.control[:0], nloops: f.nloops[:0], frames: f.frames[:0],
		levels: append(f.levels[:0], level{patch: -1}), patches: f.patches[:0], targets: f.targets[:0],
		disp: dispatch{frame: -1, targets: f.disp.targets[:0]}}
}

func (f *funcCode) step(w int64) {
	if l := &f.levels[len(f.levels)-1]; l.d >= 0 {
		l.d += w
	}
}

func (f *funcCode) record(j int) { f.levels[j].max = max(f.levels[j].max, f.levels[j].d) }

func (f *funcCode) unreachable() { f.levels[len(f.levels)-1].d = -1 }

func (f *funcCode) push(loop, isIf bool) {
	n := 0
	if len(f.nloops) > 0 {
		n = f.nloops[len(f.nloops)-1]
	}
	fr := frame{loop: loop, isIf: isIf, lvl: len(f.levels) - 1, end: -1}
	if loop {
		switch d := &f.disp; {
		case !d.on || d.frame >= 0:
			n++ // the wrapper
		case d.back(): // the dispatch loop; see instrs
			n += 2 // $after outside it, $slow inside
		}
		fr.lvl = len(f.levels)
		f.levels = append(f.levels, level{patch: len(f.patches)})
	} else {
		fr.start = f.levels[fr.lvl].d
	}
	f.control = append(f.control, loop)
	f.nloops = append(f.nloops, n)
	f.frames = append(f.frames, fr)
}

func (f *funcCode) elseArm() {
	if n := len(f.frames); n > 0 && f.frames[n-1].isIf {
		fr := &f.frames[n-1]
		l := &f.levels[fr.lvl]
		fr.end, l.d, fr.hasElse = max(fr.end, l.d), fr.start, true
	}
}

// pop closes the innermost frame; it reports whether it was a loop, whose weight is then final.
func (f *funcCode) pop() (loop bool) {
	n := len(f.frames)
	if n == 0 { // the function's end
		f.record(0)
		return false
	}
	fr := f.frames[n-1]
	f.control, f.nloops, f.frames = f.control[:n-1], f.nloops[:n-1], f.frames[:n-1]
	if d := &f.disp; d.on && n-1 == d.frame {
		d.on = false
	}
	if fr.loop {
		f.record(len(f.levels) - 1)
		l := f.levels[len(f.levels)-1]
		f.levels = f.levels[:len(f.levels)-1]
		f.patches[l.patch].weight = uint64(max(l.max, 0))
		return true
	}
	l := &f.levels[fr.lvl]
	d := max(l.d, fr.end)
	if fr.isIf && !fr.hasElse {
		d = max(d, fr.start)
	}
	l.d = d
	return false
}

// branch records a branch to label depth k: the paths of the loops it leaves (and of the loop it
// targets) end here, and a block's end label is reached at this distance.
func (f *funcCode) branch(k uint32) {
	n := len(f.frames)
	if uint64(k) >= uint64(n) { // the function's label: a return
		for j := range f.levels {
			f.record(j)
		}
		return
	}
	t := &f.frames[n-1-int(k)]
	from := t.lvl + 1
	if t.loop {
		from = t.lvl
	} else {
		t.end = max(t.end, f.levels[t.lvl].d)
	}
	for j := from; j < len(f.levels); j++ {
		f.record(j)
	}
}

// depth maps a branch's label depth to the rewritten code, where every loop crossed on the way out
// (not the target itself) adds its wrapper label, and the dispatch loop its $after and $slow labels;
// $slow sits inside that loop, so a jump to the loop itself crosses it too. Depths past the
// function's label are left alone: they are invalid either way.
func (f *funcCode) depth(k uint32) uint32 {
	n := len(f.control)
	if uint64(k) > uint64(n) {
		return k
	}
	crossed := 0
	if n > 0 {
		crossed = f.nloops[n-1]
		if t := n - 1 - int(k); t >= 0 {
			crossed -= f.nloops[t]
			if d := &f.disp; d.on && d.back() && t == d.frame {
				crossed++
			}
		}
	}
	return k + uint32(crossed)
}

// putWeight writes w as a 5-byte (padded) signed LEB128, the fixed width reserved in the snippet.
func putWeight(b []byte, w uint64) {
	w = min(max(w, 1), maxWeight)
	for i := range 4 {
		b[i] = byte(w>>(7*i))&0x7f | 0x80
	}
	b[4] = byte(w>>28) & 0x7f
}

// instrs copies the instructions at r.p onward to out, renumbering function indices. With f == nil it
// copies a constant expression: it stops after the first end and refuses control instructions.
// Otherwise it copies a function body to the end of r.b, records the weights in f, publishes and
// reloads the counter around calls and returns, and rewrites each loop as
//
//	loop bt (wrapper); loopCheck (if the count ran out: call the host, reset to interval+weight)
//	  loop bt; decTest (take the weight; if the count ran out: br to the wrapper)
//	    body, its branch depths adjusted for the wrapper labels
//	  end
//	end
//
// The host call sits in the wrapper, outside the hot cycle: a call inside it made wazero's register
// allocator spill the loop's values (Go loops ran 1.6x slower). The reset adds the loop's weight so
// that the iteration that follows the check always runs, even when one iteration weighs more than the
// interval. For a loop without parameters the test is "if; br 2; end" rather than "br_if 1": a
// conditional branch to a loop header passes the loop's values as block arguments, and wazero then
// moves them on the hot path too (Go loops ran 2x slower).
func (m *module) instrs(r *reader, out []byte, f *funcCode) []byte {
	constExpr := f == nil
	mark := r.p
	if f != nil {
		at := loopFirst(r.b[r.p:])
		f.startsLoop = at >= 0
		f.disp.on = m.opt.Mode == ModeEpoch && f.startsLoop && goDispatch(r.b[r.p:], at, &f.disp)
		f.body = r.p
	}
	for r.p < len(r.b) {
		start := r.p
		op := r.b[r.p]
		r.p++
		if f != nil {
			switch op {
			case 0x10, 0x11, 0x12, 0x13:
				f.sawCall = true
				f.step(callWeight)
			default:
				f.step(1) // a loop counts outside: its header runs once per entry
			}
			switch op {
			case 0x0F, 0x10, 0x11, 0x12, 0x13: // return and calls: publish the count
				out = append(out, r.b[mark:start]...)
				out = append(out, m.sync...)
				mark = start
			}
			switch op {
			case 0x00: // unreachable: a trap ends the path
				f.unreachable()
			case 0x0F, 0x12, 0x13: // return return_call return_call_indirect
				f.branch(uint32(len(f.frames)))
				f.unreachable()
			case 0x02, 0x04: // block if
				f.push(false, op == 0x04)
			case 0x03:
				f.push(true, false)
			case 0x05:
				f.elseArm()
			case 0x0B:
				if n := len(f.control); n == 0 { // the function's end
					f.pop()
					out = append(out, r.b[mark:start]...)
					out = append(out, m.sync...)
					mark = start
				} else if d := &f.disp; d.on && n-1 == d.frame {
					f.pop()
					if d.back() {
						// br $after; end $slow; call F; br <the loop>; end (the loop); end $after
						out = append(out, r.b[mark:start]...)
						out = append(out, 0x0C, 0x02, 0x0B, 0x10)
						out = appendU32(out, m.funcImports)
						out = append(out, 0x0C, 0x00, 0x0B, 0x0B)
						mark = r.p
					}
				} else if f.pop() { // close the wrapper too
					out = append(out, r.b[mark:r.p]...)
					out = append(out, 0x0B)
					mark = r.p
				}
			case 0x0C, 0x0D: // br br_if
				out = append(out, r.b[mark:start]...)
				k := r.u32()
				if uint64(k) >= uint64(len(f.control)) { // leaves the function
					out = append(out, m.sync...)
				} else if d := &f.disp; d.on && d.next < len(d.backs) && d.backs[d.next] == start-f.body {
					d.next++
					// A jump back through the dispatch loop: if the flag is set, branch to $slow
					// (the label just inside the loop), which checks and re-enters the loop with the
					// PC this jump set.
					out = append(out, m.flagGet...)
					out = append(out, 0x0D)
					out = appendU32(out, f.depth(k)-1)
				}
				out = append(out, op)
				out = appendU32(out, f.depth(k))
				mark = r.p
				if r.err != nil {
					return out
				}
				f.branch(k)
				if op == 0x0C {
					f.unreachable()
				}
				continue
			case 0x0E: // br_table
				out = append(out, r.b[mark:start]...)
				n := r.u32()
				f.targets = f.targets[:0]
				leaves := false
				for i := uint64(0); i <= uint64(n) && r.err == nil; i++ {
					k := r.u32()
					f.targets = append(f.targets, k)
					leaves = leaves || uint64(k) >= uint64(len(f.control))
				}
				if r.err != nil {
					return out
				}
				if leaves { // publish the count; not otherwise, as Go dispatches every iteration this way
					out = append(out, m.sync...)
				}
				out = append(out, op)
				out = appendU32(out, n)
				for _, k := range f.targets {
					out = appendU32(out, f.depth(k))
					f.branch(k)
				}
				mark = r.p
				f.unreachable()
				continue
			}
		}
		switch immediates[op] {
		case immNone:
			if op == 0x0B && constExpr {
				return append(out, r.b[mark:r.p]...)
			}
		case immBlock:
			if constExpr {
				r.fail(ErrMalformed, "opcode 0x%02x in a constant expression", op)
			}
			r.skipLEB()
		case immLoop:
			if constExpr {
				r.fail(ErrMalformed, "loop in a constant expression")
				return out
			}
			params := m.blockParams(r)
			if r.err != nil {
				return out
			}
			header := r.b[start:r.p]
			out = append(out, r.b[mark:start]...)
			// The dispatch loop (see goDispatch) tests on entry and on its jumps back instead of at
			// its header (see br). A jump back leaves for $slow, a block inside the loop around its
			// whole body, when the flag is set:
			//
			//	check; block $after; loop (the original); block $slow
			//	  ...; i32.const K; local.set PC; global.get G; br_if $slow; br <the loop>; ...
			//	  br $after
			//	end; call F; br <the loop>; end; end
			//
			// so the call sits on a cold path of its own that re-enters the loop with the PC the
			// jump set, and the jump's values reach it through $slow's block parameters, which
			// wazero moves on the taken edge only. Measured against the alternatives (wgsim, 200k
			// pairs, instrumented/none; Go byte loop in BenchmarkOverhead):
			//   - the call inline at each jump back ("check; br <the loop>"): wgsim 1.03, byte loop
			//     1.38, as the values live across the call are spilled on the hot path;
			//   - a wrapper loop outside the dispatch loop ("loop $wrap; block $slow; ...; end; call
			//     F; br $wrap", format 3): byte loop 1.05 but wgsim 1.16-1.18; with wgsim's
			//     pairs() alone instrumented so, 1.18, and 1.28 with its jump tests removed: the
			//     extra loop level around a large loop with calls in it cost more than the tests;
			//   - this: wgsim 0.98, byte loop 1.07-1.10.
			// A dispatch loop without jumps back (see dispatch.backs) gets the entry check alone.
			d := &f.disp
			dispatchLoop := d.on && d.frame < 0
			f.patches = append(f.patches, patch{}) // counter mode's weight and reset; see push
			if dispatchLoop {
				out = append(out, m.check...)
				if d.back() {
					out = append(out, 0x02, 0x40) // $after
					out = append(out, header...)
					out = append(out, 0x02, 0x40) // $slow
				} else {
					out = append(out, header...)
				}
				d.frame = len(f.frames) - 1
				mark = r.p
				break
			}
			out = append(out, header...) // the wrapper
			f.patches[len(f.patches)-1].reset = len(out) + m.resetAt
			out = append(out, m.loopCheck...)
			out = append(out, header...) // the original loop
			f.patches[len(f.patches)-1].pos = len(out) + m.weightAt
			switch {
			case params:
				out = append(out, m.decTestP...)
			default:
				out = append(out, m.decTest...)
			}
			mark = r.p
		case immCall, immRefFunc:
			out = append(out, r.b[mark:r.p]...)
			out = appendU32(out, m.remap(r.u32()))
			if op == 0x10 { // the callee moved the counter: reload it
				out = append(out, m.reload...)
			}
			mark = r.p
		case immCallIndirect:
			r.skipLEB()
			r.skipLEB()
			if op == 0x11 {
				out = append(out, r.b[mark:r.p]...)
				out = append(out, m.reload...)
				mark = r.p
			}
		default:
			r.skipImm(op)
		}
		if r.err != nil {
			return out
		}
	}
	if constExpr {
		r.fail(ErrMalformed, "unterminated constant expression")
		return out
	}
	return append(out, r.b[mark:]...)
}
