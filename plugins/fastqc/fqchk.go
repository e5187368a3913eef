package fastqc

import (
	"io"
	"math"
	"strconv"
)

// DefaultQualityThreshold is seqtk fqchk's default -q.
const DefaultQualityThreshold = 20

// perrBits are the error probabilities seqtk fqchk uses for each quality
// value: glibc's pow(10., -.1*Q) for Q >= 4 and 0.5 for Q 0..3, stored as bit
// patterns (produced by a C program linked against glibc) so that no libm
// difference can change a digit.
var perrBits = [MaxQual + 1]uint64{
	0x3fe0000000000000, // Q0
	0x3fe0000000000000, // Q1
	0x3fe0000000000000, // Q2
	0x3fe0000000000000, // Q3
	0x3fd97a967f7524b2, // Q4
	0x3fd43d136248490f, // Q5
	0x3fd0137987dd704b, // Q6
	0x3fc98a13577c93be, // Q7
	0x3fc44960c576b375, // Q8
	0x3fc01d3f2d9684d0, // Q9
	0x3fb999999999999a, // Q10
	0x3fb455b5a30b035c, // Q11
	0x3fb0270ac3f8a9f8, // Q12
	0x3fa9a9294b8536e9, // Q13
	0x3fa46211ff90ea27, // Q14
	0x3fa030dc4ea03a72, // Q15
	0x3f99b8c272fbe6de, // Q16
	0x3f946e75df96dc97, // Q17
	0x3f903ab3d12bc2c4, // Q18
	0x3f89c86515bda14a, // Q19
	0x3f847ae147ae147b, // Q20
	0x3f8044914f3c02b0, // Q21
	0x3f79d811398ddcc0, // Q22
	0x3f7487543c6a9251, // Q23
	0x3f704e74cc73ee83, // Q24
	0x3f69e7c6e43390b7, // Q25
	0x3f6493cec2631f18, // Q26
	0x3f60585e4c78b079, // Q27
	0x3f59f7861b79379c, // Q28
	0x3f54a050de314dd2, // Q29
	0x3f50624dd2f1a9fc, // Q30
	0x3f4a074ee52cd119, // Q31
	0x3f44acda94717d66, // Q32
	0x3f406c436388750e, // Q33
	0x3f3a1721471fe405, // Q34
	0x3f34b96be9c2da2c, // Q35
	0x3f30763f01e8e5ad, // Q36
	0x3f2a26fd472780c1, // Q37
	0x3f24c604e2c75fb0, // Q38
	0x3f208040b1c10b0e, // Q39
	0x3f1a36e2eb1c432d, // Q40
	0x3f14d2a58423da75, // Q41
	0x3f108a4876c1311e, // Q42
	0x3f0a46d238da54eb, // Q43
	0x3f04df4dd27fe99e, // Q44
	0x3f009456549be1bd, // Q45
	0x3efa56cb36416f74, // Q46
	0x3ef4ebfdd286009a, // Q47
	0x3ef09e6a4f05e621, // Q48
	0x3eea66cde934de7d, // Q49
	0x3ee4f8b588e368f1, // Q50
	0x3ee0a88469b6485d, // Q51
	0x3eda76da579b81ca, // Q52
	0x3ed50574fa4843e3, // Q53
	0x3ed0b2a4a866547e, // Q54
	0x3eca86f0875fcf94, // Q55
	0x3ec5123c2b678c5d, // Q56
	0x3ec0bccb0ed19a15, // Q57
	0x3eba97107e6fd69c, // Q58
	0x3eb51f0b20f71864, // Q59
	0x3eb0c6f7a0b5ed8d, // Q60
	0x3eaaa73a42bd4095, // Q61
	0x3ea52be1dfaf9b08, // Q62
	0x3ea0d12a61d36982, // Q63
	0x3e9ab76dda3d53fd, // Q64
	0x3e9538c06c4ca610, // Q65
	0x3e90db6355ec704a, // Q66
	0x3e8ac7ab4ae8f688, // Q67
	0x3e8545a6cb8cabb0, // Q68
	0x3e80e5a280c5ad1d, // Q69
	0x3e7ad7f29abcaf48, // Q70
	0x3e75529502310077, // Q71
	0x3e70efe7e62615a0, // Q72
	0x3e6ae843cfb8a8d0, // Q73
	0x3e655f8b14fddcca, // Q74
	0x3e60fa3389d6eb40, // Q75
	0x3e5af89eefe0b3aa, // Q76
	0x3e556c8908ba5ed3, // Q77
	0x3e5104856fa3bc8d, // Q78
	0x3e4b0904013c482e, // Q79
	0x3e45798ee2308c3a, // Q80
	0x3e410edd9b5a66d0, // Q81
	0x3e3b197309d688f1, // Q82
	0x3e35869ca62d53da, // Q83
	0x3e31193c10cb1708, // Q84
	0x3e2b29ec0fbe4534, // Q85
	0x3e2593b259808fc7, // Q86
	0x3e2123a0d3c84bd2, // Q87
	0x3e1b3a6f1905fa7b, // Q88
	0x3e15a0d000fd068c, // Q89
	0x3e112e0be826d695, // Q90
	0x3e0b4afc2bc3d7b3, // Q91
	0x3e05adf5a1786d8d, // Q92
	0x3e01387d51bddcae, // Q93
}

var perr = func() (p [MaxQual + 1]float64) {
	for i, b := range perrBits {
		p[i] = math.Float64frombits(b)
	}
	return p
}()

// WriteFqchk writes r as `seqtk fqchk -q qthres` (seqtk 1.3) prints it.
//
// Reads with an empty sequence are left out, as seqtk does. With no other
// reads the numbers are seqtk's (min_len 2147483647, "-nan"). The arithmetic
// mirrors seqtk's operation by operation in float64; errQ uses math.Log,
// which may differ from glibc's log in the last bit, and so could differ in
// the printed digit only for a value within ~1e-15 of a rounding boundary.
func WriteFqchk(w io.Writer, r *Result, qthres int) error {
	var (
		n, totLen int64
		minLen    int64 = 0x7fffffff
		all       [MaxQual + 1]int64
		allBases  [5]int64
	)
	for _, e := range r.Length.Histogram {
		if e[0] > 0 {
			n += e[1]
			totLen += e[0] * e[1]
			minLen = min(minLen, e[0])
		}
	}
	for i := range r.Positions {
		p := &r.Positions[i]
		for b, k := range p.Bases {
			allBases[b] += k
		}
		for q, k := range p.Quality {
			all[q] += k
		}
	}
	nDiff := 0
	for _, k := range all {
		if k > 0 {
			nDiff++
		}
	}
	b := make([]byte, 0, 64<<10)
	b = append(b, "min_len: "...)
	b = strconv.AppendInt(b, minLen, 10)
	b = append(b, "; max_len: "...)
	b = strconv.AppendInt(b, int64(len(r.Positions)), 10)
	b = append(b, "; avg_len: "...)
	b = appendFloat(b, float64(totLen)/float64(n), 2)
	b = append(b, "; "...)
	b = strconv.AppendInt(b, int64(nDiff), 10)
	b = append(b, " distinct quality values\nPOS\t#bases\t%A\t%C\t%G\t%T\t%N\tavgQ\terrQ"...)
	if qthres <= 0 {
		for q, k := range all {
			if k > 0 {
				b = append(b, "\t%Q"...)
				b = strconv.AppendInt(b, int64(q), 10)
			}
		}
	} else {
		b = append(b, "\t%low\t%high"...)
	}
	b = append(b, '\n')
	b = appendRow(b, 0, &allBases, all[:], &all, qthres)
	for i := range r.Positions {
		if len(b) > 60<<10 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
		p := &r.Positions[i]
		b = appendRow(b, i+1, &p.Bases, p.Quality, &all, qthres)
	}
	_, err := w.Write(b)
	return err
}

// appendRow appends one table row (pos 0 is the ALL row) like seqtk's fqc_aux.
func appendRow(b []byte, pos int, bases *[5]int64, qual []int64, all *[MaxQual + 1]int64, qthres int) []byte {
	if pos == 0 {
		b = append(b, "ALL"...)
	} else {
		b = strconv.AppendInt(b, int64(pos), 10)
	}
	var sum int64
	for _, k := range bases {
		sum += k
	}
	b = append(b, '\t')
	b = strconv.AppendInt(b, sum, 10)
	fsum := float64(sum)
	for _, k := range bases {
		b = append(b, '\t')
		b = appendFloat(b, 100*float64(k)/fsum, 1)
	}
	var qsum, low int64
	var psum float64
	for q, k := range qual {
		qsum += k * int64(q)
		// The explicit conversion forbids a fused multiply-add, which seqtk's
		// x86-64 build does not use either.
		psum += float64(float64(k) * perr[q])
		if q < qthres {
			low += k
		}
	}
	b = append(b, '\t')
	b = appendFloat(b, float64(qsum)/fsum, 1)
	b = append(b, '\t')
	b = appendFloat(b, -4.343*math.Log((psum+1e-6)/(fsum+1e-6)), 1)
	if qthres <= 0 {
		for q, k := range all {
			if k > 0 {
				var kq int64
				if q < len(qual) {
					kq = qual[q]
				}
				b = append(b, '\t')
				b = appendFloat(b, 100*float64(kq)/fsum, 2)
			}
		}
	} else {
		b = append(b, '\t')
		b = appendFloat(b, 100*float64(low)/fsum, 1)
		b = append(b, '\t')
		b = appendFloat(b, 100*float64(sum-low)/fsum, 1)
	}
	return append(b, '\n')
}

// appendFloat formats like C's printf("%.*f"): glibc also rounds the exact
// binary value half to even, and prints 0/0 on x86-64 as "-nan".
func appendFloat(b []byte, x float64, prec int) []byte {
	if math.IsNaN(x) {
		return append(b, "-nan"...)
	}
	return strconv.AppendFloat(b, x, 'f', prec, 64)
}
