package wgsim

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzSimulate feeds arbitrary sequences and options through a whole run:
// it must never panic or hang (errors are fine). The conformance tests own
// correctness.
func FuzzSimulate(f *testing.F) {
	f.Add([]byte("ACGTACGTNNNNacgt-*RYacgtACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT"), uint8(10), uint8(5), uint8(20), uint8(30), uint8(50), uint8(200), false, int64(1))
	f.Add([]byte("NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN"), uint8(5), uint8(1), uint8(10), uint8(10), uint8(255), uint8(255), true, int64(7))
	f.Add([]byte("A"), uint8(0), uint8(0), uint8(1), uint8(1), uint8(0), uint8(0), false, int64(3))
	f.Fuzz(func(t *testing.T, body []byte, dist, std, len1, len2, mut, ext uint8, hap bool, seed int64) {
		seq := make([]byte, 0, len(body))
		for _, c := range body {
			if c > ' ' && c <= '~' && c != '>' {
				seq = append(seq, c)
			}
		}
		if len(seq) == 0 || len(seq) > 4096 {
			return
		}
		ref := memRef(t, genSeq{"s", string(seq)}, genSeq{"t", string(seq[:len(seq)/2+1])})
		o := DefaultOptions()
		o.Pairs = 40
		o.Distance, o.StdDev = int(dist), int(std)
		o.Len1, o.Len2 = int(len1), int(len2)
		o.MutRate, o.IndelFrac, o.IndelExtend = float64(mut)/255, 0.5, float64(ext)/256
		o.Haplotype = hap
		o.Seed = 1 + (seed&0x7fffffff)%0x7ffffffe
		cfg := Config{Options: o, Limits: Limits{maxPairTries: 1 << 12, ResidentBases: int64(len(seq) / 2)}}
		// A run that outlives this deadline is a hang: wgsim-like inputs
		// here finish in milliseconds.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, ivs := range [][]Interval{nil, {{Seq: "s", Beg: int64(len(seq) / 3), End: int64(len(seq))}}} {
			if _, err := Run(ctx, ref, ivs, cfg, io.Discard, io.Discard); errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("run did not finish: %v", err)
			}
		}
	})
}
