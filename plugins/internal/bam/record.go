package bam

import (
	"encoding/binary"
	"fmt"
)

// Flag bits used by the filters and the decoder.
const (
	FlagPaired   = 0x1
	FlagUnmapped = 0x4
)

// cigarType holds, per CIGAR operation, bit 1 when it consumes the query and
// bit 2 when it consumes the reference (SAMv1 table of operations).
var cigarType = [16]uint8{3, 1, 2, 2, 1, 0, 0, 3, 3, 0}

const cigarChars = "MIDNSHP=XB??????"

// Record is one decoded alignment. Data holds the whole record after its
// block_size field (32 bytes of core fields, then name, CIGAR, sequence,
// qualities and tags).
type Record struct {
	VOffset uint64 // virtual offset of the record in the file
	Data    []byte

	RefID, Pos               int32
	MateRefID, MatePos, TLen int32
	MapQ                     uint8
	Flag                     uint16
	NCigar, LSeq             int
	nameLen                  int // bytes of name printed (without NUL)
	cigarOff, seqOff, auxOff int
	End                      int64 // htslib's bam_endpos: pos + reference length (at least 1)

	scratch []byte
}

// Name returns the read name.
func (r *Record) Name() []byte { return r.Data[32 : 32+r.nameLen] }

func (r *Record) decode(data []byte) error {
	r.Data = data
	r.RefID = int32(binary.LittleEndian.Uint32(data[0:]))
	r.Pos = int32(binary.LittleEndian.Uint32(data[4:]))
	lName := int(data[8])
	r.MapQ = data[9]
	r.NCigar = int(binary.LittleEndian.Uint16(data[12:]))
	r.Flag = binary.LittleEndian.Uint16(data[14:])
	lSeq := int32(binary.LittleEndian.Uint32(data[16:]))
	r.MateRefID = int32(binary.LittleEndian.Uint32(data[20:]))
	r.MatePos = int32(binary.LittleEndian.Uint32(data[24:]))
	r.TLen = int32(binary.LittleEndian.Uint32(data[28:]))
	if lName < 1 {
		return fmt.Errorf("%w: read name length 0", ErrCorrupt)
	}
	if lSeq < 0 {
		return fmt.Errorf("%w: negative sequence length %d", ErrCorrupt, lSeq)
	}
	r.LSeq = int(lSeq)
	need := 32 + lName + 4*r.NCigar + (r.LSeq+1)/2 + r.LSeq
	if need > len(data) {
		return fmt.Errorf("%w: fields need %d bytes, record has %d", ErrCorrupt, need, len(data))
	}
	r.nameLen = lName
	if data[32+lName-1] == 0 {
		r.nameLen = lName - 1
	}
	r.cigarOff = 32 + lName
	r.seqOff = r.cigarOff + 4*r.NCigar
	r.auxOff = r.seqOff + (r.LSeq+1)/2 + r.LSeq
	if r.NCigar > 0 && r.RefID >= 0 && r.Pos >= 0 {
		if err := r.moveCG(); err != nil {
			return err
		}
	}
	var rlen int64
	if r.NCigar > 0 {
		var qlen int64
		cig := r.Data[r.cigarOff:r.seqOff]
		for i := 0; i < len(cig); i += 4 {
			c := binary.LittleEndian.Uint32(cig[i:])
			t := cigarType[c&0xf]
			if t&1 != 0 {
				qlen += int64(c >> 4)
			}
			if t&2 != 0 {
				rlen += int64(c >> 4)
			}
		}
		if r.LSeq > 0 && r.Flag&FlagUnmapped == 0 && qlen != int64(r.LSeq) {
			return fmt.Errorf("%w: CIGAR and query sequence lengths differ for %q", ErrCorrupt, r.Name())
		}
	}
	if r.Flag&FlagUnmapped != 0 || rlen == 0 {
		rlen = 1
	}
	r.End = int64(r.Pos) + rlen
	return nil
}

// moveCG restores a CIGAR longer than 65535 operations that a writer stored
// in the CG:B,I tag, leaving a placeholder kSmN CIGAR in the record, as
// htslib's bam_read1 does.
func (r *Record) moveCG() error {
	c0 := binary.LittleEndian.Uint32(r.Data[r.cigarOff:])
	if c0&0xf != 4 || int(c0>>4) != r.LSeq {
		return nil
	}
	aux := r.Data[r.auxOff:]
	p := 0
	for p+3 <= len(aux) {
		if aux[p] == 'C' && aux[p+1] == 'G' {
			break
		}
		n, ok := skipAux(aux[p+2:])
		if !ok {
			return fmt.Errorf("%w: corrupted aux data for read %q", ErrCorrupt, r.Name())
		}
		p += 2 + n
	}
	if p+3 > len(aux) {
		return nil
	}
	t := aux[p+2:]
	if len(t) < 6 || t[0] != 'B' || (t[1] != 'I' && t[1] != 'i') {
		return nil
	}
	n := binary.LittleEndian.Uint32(t[2:])
	if n < uint32(r.NCigar) || n >= 1<<29 {
		return nil
	}
	if int(n)*4 > len(t)-6 {
		return fmt.Errorf("%w: CG tag longer than the record for read %q", ErrCorrupt, r.Name())
	}
	real := t[6 : 6+4*int(n)]
	tagStart := r.auxOff + p
	tagEnd := tagStart + 8 + 4*int(n)
	s := r.scratch[:0]
	s = append(s, r.Data[:r.cigarOff]...)
	s = append(s, real...)
	s = append(s, r.Data[r.seqOff:tagStart]...)
	s = append(s, r.Data[tagEnd:]...)
	binary.LittleEndian.PutUint16(s[12:], 0)
	r.scratch = s
	shift := 4*int(n) - 4*r.NCigar
	r.Data = s
	r.NCigar = int(n)
	r.seqOff += shift
	r.auxOff += shift
	return nil
}

// skipAux returns the size of one tag's type and value (after the two tag
// characters), or false when the data is malformed.
func skipAux(b []byte) (int, bool) {
	if len(b) < 1 {
		return 0, false
	}
	switch b[0] {
	case 'A', 'c', 'C':
		return 2, len(b) >= 2
	case 's', 'S':
		return 3, len(b) >= 3
	case 'i', 'I', 'f':
		return 5, len(b) >= 5
	case 'd':
		return 9, len(b) >= 9
	case 'Z', 'H':
		for i := 1; i < len(b); i++ {
			if b[i] == 0 {
				return i + 1, true
			}
		}
		return 0, false
	case 'B':
		if len(b) < 6 {
			return 0, false
		}
		var sz int
		switch b[1] {
		case 'c', 'C', 'A':
			sz = 1
		case 's', 'S':
			sz = 2
		case 'i', 'I', 'f':
			sz = 4
		default:
			return 0, false
		}
		n := uint64(binary.LittleEndian.Uint32(b[2:]))
		if n*uint64(sz) > uint64(len(b)-6) {
			return 0, false
		}
		return 6 + int(n)*sz, true
	}
	return 0, false
}
