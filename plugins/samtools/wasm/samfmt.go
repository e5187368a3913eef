//go:build wasip1 && !nohelpers

package main

import (
	"bufio"
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
// path through its inflated view itself and writes to stdout, around out's
// buffer: what View wrote there goes first.
func records(b *guest.Source, out *bufio.Writer) samtools.RecordPath {
	return func(p samtools.Plan) (uint64, error) {
		if err := out.Flush(); err != nil {
			return 0, err
		}
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
		return count, failure(binary.LittleEndian.Uint64(out[8:]), string(out[16:]))
	}
}

// failure turns samfmt.c's failure kind and message into the error the Go
// record path would have returned.
func failure(kind uint64, msg string) error {
	var sentinel error
	switch kind {
	case 0:
		return nil
	case 1:
		sentinel = bgzf.ErrNotBGZF
	case 2:
		sentinel = bgzf.ErrCorrupt
	case 3:
		sentinel = bgzf.ErrTruncated
	case 4:
		sentinel = bam.ErrCorrupt
	case 5:
		sentinel = bam.ErrTruncated
	case 6: // a WASI read or write failed: the host knows why
		if m := guest.IOError(); m != "" {
			return &guest.DataError{Message: m}
		}
		return errors.New(msg)
	default:
		return errors.New(msg)
	}
	return &cError{msg: msg, kind: sentinel}
}

// cError is a failure of the C path: its message, complete, and the Go
// sentinel it stands for.
type cError struct {
	msg  string
	kind error
}

func (e *cError) Error() string { return e.msg }
func (e *cError) Unwrap() error { return e.kind }

// pad fills b with zeros to a whole number of words.
func pad(b []byte) []byte {
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// encodePlan lays out a plan as samfmt.c's run reads it: little-endian
// 64-bit words.
func encodePlan(path string, p samtools.Plan) []byte {
	w := func(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
	var flags uint64
	if p.Count {
		flags |= 1
	}
	b := make([]byte, 0, 64+len(path)+64*len(p.Spans)+16*len(p.Header.Refs))
	b = w(b, flags)
	b = w(b, uint64(p.RequireFlags))
	b = w(b, uint64(p.ExcludeFlags))
	b = w(b, uint64(p.MinMapQ))
	b = w(b, uint64(len(path)))
	b = append(b, path...)
	b = pad(b)
	b = w(b, p.Start)
	// The reference names, each ended by a NUL (htslib cuts names at one).
	b = w(b, uint64(len(p.Header.Refs)))
	for _, r := range p.Header.Refs {
		b = append(append(b, r.Name...), 0)
	}
	b = pad(b)
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
