package rangefetch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestAdvise(t *testing.T) {
	const bs, cache = 64 << 10, 512 << 20
	type step struct {
		first, last int64
		from, to    int64 // to < from: nothing fetched ahead
	}
	none := func(first, last int64) step { return step{first, last, 0, -1} }
	tests := []struct {
		name    string
		nblocks int64
		cache   int64
		steps   []step
	}{
		{"read and trailing reads", 100, cache, []step{
			none(0, 0), none(0, 0), none(1, 1), none(2, 2), none(3, 3), none(4, 4), none(5, 5), none(6, 6), none(7, 7),
			{8, 8, 9, 12}, // ninth block in order: 4 blocks (256 KiB) ahead
			none(9, 9),    // 3 ahead: at least half the window
			none(10, 10),
			none(7, 7), // a trailing reader changes nothing
			none(8, 9),
			{11, 11, 13, 19}, // under half ahead: the window doubles to 8
		}},
		{"a jump starts over", 100, cache, []step{
			none(0, 0), none(1, 1), none(2, 2), none(3, 3), none(4, 4), none(5, 5), none(6, 6), none(7, 7), {8, 8, 9, 12},
			none(50, 50), none(51, 51), none(52, 52), none(53, 53), none(54, 54), none(55, 55), none(56, 56), none(57, 57), {58, 58, 59, 62},
		}},
		{"a query over eight blocks fetches nothing ahead", 100, cache, []step{
			none(0, 0), none(99, 99), none(40, 40), none(41, 41), none(42, 42), none(43, 43), none(44, 44), none(45, 45), none(46, 46), none(47, 47), none(0, 0),
		}},
		{"never past the end", 100, cache, []step{
			none(91, 91), none(92, 92), none(93, 93), none(94, 94), none(95, 95), none(96, 96), none(97, 97), none(98, 98), none(99, 99),
		}},
		{"no read-ahead in a cache under 8 blocks", 100, 4 * bs, []step{
			none(0, 0), none(1, 1), none(2, 2), none(3, 3), none(4, 4),
		}},
	}
	// A scan reading one block at a time: the window doubles at every refill
	// up to 4 MiB (64 blocks), and each refill asks for what it lacks.
	scan := []step{{0, 0, 0, -1}}
	fetches := map[int64][2]int64{8: {9, 12}, 11: {13, 19}, 16: {20, 32}, 25: {33, 57}, 42: {58, 106}, 75: {107, 139}, 108: {140, 172}}
	for i := int64(1); i <= 120; i++ {
		if ft, ok := fetches[i]; ok {
			scan = append(scan, step{i, i, ft[0], ft[1]})
		} else {
			scan = append(scan, none(i, i))
		}
	}
	tests = append(tests, struct {
		name    string
		nblocks int64
		cache   int64
		steps   []step
	}{"scan", 1000, cache, scan})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r readahead
			for i, st := range tc.steps {
				from, to := r.advise(st.first, st.last, tc.nblocks, bs, tc.cache)
				if to < from && st.to < st.from {
					continue
				}
				if from != st.from || to != st.to {
					t.Fatalf("step %d: read [%d,%d] fetched ahead [%d,%d], want [%d,%d]", i, st.first, st.last, from, to, st.from, st.to)
				}
			}
		})
	}
}

// raBlock is the default block size: read-ahead's thresholds are in bytes.
const raBlock = 64 << 10

// openRA opens o's object, in blocks of raBlock, in a session with the
// given fetch budget that the test's cleanup closes.
func openRA(t *testing.T, o *testOrigin, budget int64) (*Fetcher, *Session, *Object) {
	t.Helper()
	f := newTestFetcher(t, Config{BlockSize: raBlock, MaxBytes: 64 << 20}, o)
	s := f.NewSession(context.Background(), budget)
	t.Cleanup(func() { s.Close() })
	obj, err := s.Open(context.Background(), o.url("/obj"), false)
	if err != nil {
		t.Fatal(err)
	}
	return f, s, obj
}

// A scan in block-sized reads makes a few large requests, not one per block,
// and fetches every byte exactly once.
func TestReadAheadScan(t *testing.T) {
	const blocks = 256
	data := testData(blocks*raBlock+77, 21)
	f, s, obj := openRA(t, newOrigin(t, data), 0)
	if got := readAll(t, obj, raBlock); !bytes.Equal(got, data) {
		t.Fatal("wrong bytes")
	}
	st := f.Stats()
	if st.ReadAheads == 0 || st.OriginRequests > blocks/8 {
		t.Errorf("%d requests, %d read-aheads for %d blocks: read-ahead did not batch the scan", st.OriginRequests, st.ReadAheads, blocks+1)
	}
	if s.Fetched() != int64(len(data)) {
		t.Errorf("fetched %d bytes of a %d-byte object", s.Fetched(), len(data))
	}
}

// A query that reads the header and eight neighbouring blocks elsewhere
// fetches exactly those blocks.
func TestReadAheadNotForQueries(t *testing.T) {
	data := testData(100*raBlock, 22)
	f, s, obj := openRA(t, newOrigin(t, data), 0)
	p := make([]byte, 100)
	offs := []int64{0, 200, 99*raBlock + 10}
	for b := int64(40); b < 48; b++ {
		offs = append(offs, b*raBlock+5, b*raBlock+900)
	}
	for _, off := range offs {
		if _, err := obj.ReadAt(p, off); err != nil {
			t.Fatal(err)
		}
	}
	if st := f.Stats(); st.ReadAheads != 0 || s.Fetched() != 10*raBlock {
		t.Errorf("fetched %d bytes (%d read-aheads), want the 10 blocks read", s.Fetched(), st.ReadAheads)
	}
}

// Read-ahead leaves half of the fetch budget to the reader: a scan that
// stops two blocks short of its budget still succeeds.
func TestReadAheadKeepsBudget(t *testing.T) {
	data := testData(100*raBlock, 23)
	const read = 20
	f, _, obj := openRA(t, newOrigin(t, data), (read+2)*raBlock)
	p := make([]byte, raBlock)
	for i := int64(0); i < read; i++ {
		if _, err := obj.ReadAt(p, i*raBlock); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if !bytes.Equal(p, data[i*raBlock:(i+1)*raBlock]) {
			t.Fatalf("block %d: wrong bytes", i)
		}
	}
	if f.Stats().ReadAheads == 0 {
		t.Error("no read-ahead: the test does not test the budget split")
	}
}

// Close cancels read-ahead in flight and waits for it, so nothing is cached
// for an object scoped to the session after Close dropped its blocks.
func TestCloseWaitsForReadAhead(t *testing.T) {
	data := testData(64*raBlock, 24)
	o := newOrigin(t, data)
	o.set(data, "", time.Time{}) // no validator: blocks scoped to the session
	f := newTestFetcher(t, Config{BlockSize: raBlock, MaxBytes: 64 << 20}, o)
	gate := make(chan struct{})
	started := make(chan struct{}, 16)
	o.setFault(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		var a, b int64
		if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &a, &b); err == nil && b-a+1 > raBlock {
			started <- struct{}{} // a read-ahead run: hold it
			<-gate
		}
		return false
	})
	s := f.NewSession(context.Background(), 0)
	obj, err := s.Open(context.Background(), o.url("/c"), false)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, raBlock)
	for i := int64(1); i <= 9; i++ {
		if _, err := obj.ReadAt(p, i*raBlock); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no read-ahead after nine blocks read in order")
	}
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		close(gate)
		t.Fatal("Close did not cancel the read-ahead in flight")
	}
	close(gate)
	time.Sleep(50 * time.Millisecond) // what an uncancelled run would need to land
	if st := f.Stats(); st.CachedBlocks != 0 {
		t.Errorf("%d blocks cached after Close of a session-scoped object", st.CachedBlocks)
	}
}

// Blocks already cached inside a read-ahead range split it into runs, each
// block landing where it belongs.
func TestReadAheadAroundCachedBlocks(t *testing.T) {
	data := testData(64*raBlock, 25)
	f, _, obj := openRA(t, newOrigin(t, data), 0)
	p := make([]byte, 10)
	for _, b := range []int64{14, 20, 21, 30} { // cached before the scan reaches them
		if _, err := obj.ReadAt(p, b*raBlock); err != nil {
			t.Fatal(err)
		}
	}
	if got := readAll(t, obj, raBlock); !bytes.Equal(got, data) {
		t.Fatal("wrong bytes")
	}
	if f.Stats().ReadAheads == 0 {
		t.Error("no read-ahead: the test does not test the gaps")
	}
}
