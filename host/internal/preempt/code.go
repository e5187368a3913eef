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

func (r *reader) memarg() {
	if r.u32()&0x40 != 0 { // multi-memory: a memory index follows the alignment
		r.skipLEB()
	}
	r.skipLEB()
}

// instrs copies the instructions at r.p onward to out, renumbering function indices. With constExpr it
// stops after the first end and refuses control instructions; otherwise it runs to the end of r.b and
// appends the counter check after every loop header. It reports whether a call instruction was seen and
// whether the first instruction is a loop.
func (m *module) instrs(r *reader, out []byte, constExpr bool) (_ []byte, sawCall, startsLoop bool) {
	mark := r.p
	first := true
	for r.p < len(r.b) {
		op := r.b[r.p]
		r.p++
		if first {
			startsLoop, first = op == 0x03, false
		}
		switch immediates[op] {
		case immNone:
			if op == 0x0B && constExpr {
				return append(out, r.b[mark:r.p]...), false, false
			}
		case immBlock:
			if constExpr {
				r.fail(ErrMalformed, "opcode 0x%02x in a constant expression", op)
			}
			r.skipLEB()
		case immLoop:
			if constExpr {
				r.fail(ErrMalformed, "loop in a constant expression")
			}
			r.skipLEB()
			out = append(out, r.b[mark:r.p]...)
			out = append(out, m.snippet...)
			mark = r.p
		case immIdx:
			r.skipLEB()
		case immIdx2:
			r.skipLEB()
			r.skipLEB()
		case immCall, immRefFunc:
			sawCall = sawCall || op != 0xD2
			out = append(out, r.b[mark:r.p]...)
			out = appendU32(out, m.remap(r.u32()))
			mark = r.p
		case immCallIndirect:
			sawCall = true
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
		if r.err != nil {
			return out, false, false
		}
	}
	if constExpr {
		r.fail(ErrMalformed, "unterminated constant expression")
		return out, false, false
	}
	return append(out, r.b[mark:]...), sawCall, startsLoop
}
