//go:build wasip1 && !nohelpers

package main

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/edgenome/edgenome/plugins/guest"
	"github.com/edgenome/edgenome/plugins/internal/bam"
	"github.com/edgenome/edgenome/plugins/internal/bgzf"
	"github.com/edgenome/edgenome/plugins/samtools"
	"github.com/extism/go-pdk"
)

// samfmtView is the record path in C (../samfmt/samfmt.c), linked as the
// helper module samfmt: it takes a plan in Extism memory and returns the
// Extism offset of its result.
//
//go:wasmimport samfmt view
func samfmtView(plan uint64) uint64

// records runs View's record path in the C module, which reads the BAM at
// path through its inflated view itself and writes to stdout.
func records(b *guest.Source) samtools.RecordPath {
	return func(p samtools.Plan) (uint64, error) {
		mem := pdk.AllocateBytes(encodePlan(b.Path(), p))
		ret := samfmtView(mem.Offset())
		mem.Free()
		res := pdk.FindMemory(ret)
		out := res.ReadBytes()
		res.Free()
		if len(out) < 16 {
			return 0, errors.New("samfmt: short result")
		}
		count := binary.LittleEndian.Uint64(out)
		kind := binary.LittleEndian.Uint64(out[8:])
		msg := string(out[16:])
		if kind == 0 {
			return count, nil
		}
		if int(kind) < len(kinds) && kinds[kind] != nil {
			return count, &cError{msg: msg, kind: kinds[kind]}
		}
		if kind == kindIO {
			if m := guest.IOError(); m != "" {
				return count, &guest.DataError{Message: m}
			}
		}
		return count, errors.New(msg)
	}
}

// The failure kinds of samfmt.c, by number.
const kindIO = 6

var kinds = []error{1: bgzf.ErrNotBGZF, 2: bgzf.ErrCorrupt, 3: bgzf.ErrTruncated, 4: bam.ErrCorrupt, 5: bam.ErrTruncated, kindIO: nil}

// cError is a failure of the C path: its message, complete, and the Go
// sentinel it stands for.
type cError struct {
	msg  string
	kind error
}

func (e *cError) Error() string { return e.msg }
func (e *cError) Unwrap() error { return e.kind }

// encodePlan lays out a plan as samfmt.c's run reads it: little-endian
// 64-bit words.
func encodePlan(path string, p samtools.Plan) []byte {
	w := func(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
	var flags uint64
	if p.Count {
		flags |= 1
	}
	b := make([]byte, 0, 64+len(path)+64*len(p.Spans))
	b = w(b, flags)
	b = w(b, uint64(p.RequireFlags))
	b = w(b, uint64(p.ExcludeFlags))
	b = w(b, uint64(p.MinMapQ))
	b = w(b, uint64(len(path)))
	b = append(b, path...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	if p.Spans == nil {
		return w(b, math.MaxUint64)
	}
	b = w(b, uint64(len(p.Spans)))
	for _, s := range p.Spans {
		b = w(b, uint64(s.Special))
		b = w(b, uint64(s.Tid))
		b = w(b, uint64(s.Beg))
		b = w(b, uint64(s.End))
		b = w(b, s.Seek)
		b = w(b, uint64(len(s.Chunks)))
		for _, c := range s.Chunks {
			b = w(b, c.Beg)
			b = w(b, c.End)
		}
	}
	return b
}
