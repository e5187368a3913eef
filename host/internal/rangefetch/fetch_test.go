package rangefetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReadAt(t *testing.T) {
	size := 10*testBlock + 123
	data := testData(size, 1)
	o := newOrigin(t, data)
	f := newTestFetcher(t, Config{}, o)
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	obj, err := s.Open(context.Background(), o.url("/obj"), false)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size() != int64(size) {
		t.Fatalf("Size = %d, want %d", obj.Size(), size)
	}
	tests := []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantEOF bool
	}{
		{"start", 0, 100, 100, false},
		{"within a block", 5000, 10, 10, false},
		{"across two blocks", testBlock - 50, 100, 100, false},
		{"several blocks", 3*testBlock + 7, 4 * testBlock, 4 * testBlock, false},
		{"whole object", 0, size, size, false},
		{"exactly to the end", int64(size) - 10, 10, 10, false},
		{"past the end", int64(size) - 10, 100, 10, true},
		{"at the end", int64(size), 10, 0, true},
		{"beyond the end", int64(size) + 5, 1, 0, true},
		{"empty buffer", 10, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.n)
			n, err := obj.ReadAt(p, tc.off)
			if n != tc.wantN || (err == io.EOF) != tc.wantEOF || (err != nil && err != io.EOF) {
				t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d, EOF %v", tc.n, tc.off, n, err, tc.wantN, tc.wantEOF)
			}
			if n > 0 && !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
				t.Fatal("wrong bytes")
			}
		})
	}
	if _, err := obj.ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatal("negative offset accepted")
	}
}

// A second call reading the same bytes revalidates with one conditional
// request and moves no body bytes, for both kinds of validator.
func TestRepeatedReadFetchesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		etag string
		mod  time.Time
	}{
		{"etag", `"abc"`, time.Time{}},
		{"last-modified", "", time.Unix(1_700_000_000, 0)},
		{"both", `"abc"`, time.Unix(1_700_000_000, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := testData(5*testBlock+9, 2)
			o := newOrigin(t, data)
			o.set(data, tc.etag, tc.mod)
			f := newTestFetcher(t, Config{}, o)
			read := func() (*Session, []byte) {
				s := f.NewSession(context.Background(), 0)
				obj, err := s.Open(context.Background(), o.url("/x"), false)
				if err != nil {
					t.Fatal(err)
				}
				return s, readAll(t, obj, 1000)
			}
			s1, got := read()
			s1.Close()
			if !bytes.Equal(got, data) {
				t.Fatal("first read: wrong bytes")
			}
			if s1.Fetched() != int64(len(data)) {
				t.Errorf("first session fetched %d, want %d", s1.Fetched(), len(data))
			}
			sent, before := o.sent.Load(), f.Stats()
			s2, got := read()
			s2.Close()
			if !bytes.Equal(got, data) {
				t.Fatal("second read: wrong bytes")
			}
			after := f.Stats()
			if s2.Fetched() != 0 || after.BytesFetched != before.BytesFetched || o.sent.Load() != sent {
				t.Errorf("second call fetched %d (stats %d -> %d, origin sent %d more)", s2.Fetched(), before.BytesFetched, after.BytesFetched, o.sent.Load()-sent)
			}
			if n := after.OriginRequests - before.OriginRequests; n != 1 {
				t.Errorf("second call made %d origin requests, want 1 (the conditional open)", n)
			}
		})
	}
}

func TestAdjacentMissesOneRequest(t *testing.T) {
	data := testData(12*testBlock, 3)
	o := newOrigin(t, data)
	f := newTestFetcher(t, Config{}, o)
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	obj, err := s.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	o.takeRanges()
	read := func(off, n int) {
		t.Helper()
		p := make([]byte, n)
		if _, err := obj.ReadAt(p, int64(off)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p, data[off:off+n]) {
			t.Fatal("wrong bytes")
		}
	}
	// Blocks 2..6: one request.
	read(2*testBlock+10, 4*testBlock)
	want := []string{fmt.Sprintf("bytes=%d-%d", 2*testBlock, 7*testBlock-1)}
	if diff := cmp.Diff(want, o.takeRanges()); diff != "" {
		t.Errorf("ranges requested (-want +got):\n%s", diff)
	}
	// Blocks 1..9 with 2..6 cached: the two missing runs, one request each.
	read(testBlock, 9*testBlock)
	want = []string{
		fmt.Sprintf("bytes=%d-%d", testBlock, 2*testBlock-1),
		fmt.Sprintf("bytes=%d-%d", 7*testBlock, 10*testBlock-1),
	}
	if diff := cmp.Diff(want, o.takeRanges()); diff != "" {
		t.Errorf("ranges requested (-want +got):\n%s", diff)
	}
	// Everything cached now: no request.
	read(0, 10*testBlock)
	if r := o.takeRanges(); len(r) != 0 {
		t.Errorf("cached read requested %v", r)
	}
}

func TestConcurrentMissesOneRequest(t *testing.T) {
	const readers = 16
	data := testData(8*testBlock, 4)
	o := newOrigin(t, data)
	f := newTestFetcher(t, Config{}, o)
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	obj, err := s.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	o.takeRanges()
	gate := make(chan struct{})
	o.setGate(gate)
	var wg sync.WaitGroup
	errs := make([]error, readers)
	for i := range readers {
		wg.Go(func() {
			p := make([]byte, 100)
			_, errs[i] = obj.ReadAt(p, 5*testBlock+int64(i))
			if errs[i] == nil && !bytes.Equal(p, data[5*testBlock+i:5*testBlock+i+100]) {
				errs[i] = errors.New("wrong bytes")
			}
		})
	}
	waitFor(t, "readers to join the flight", func() bool {
		_, _, _, w := f.cache.stats()
		return w == readers-1
	})
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("reader %d: %v", i, err)
		}
	}
	if r := o.takeRanges(); len(r) != 1 {
		t.Errorf("origin got %d requests %v, want 1", len(r), r)
	}
}

// The reader that owns a flight is cancelled; readers waiting on it must
// not inherit its cancellation.
func TestCancelledLeaderDoesNotFailWaiters(t *testing.T) {
	data := testData(8*testBlock, 5)
	o := newOrigin(t, data)
	f := newTestFetcher(t, Config{}, o)
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	obj, err := s.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	o.setGate(gate)
	reqs := o.requests.Load()
	lctx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := obj.ReadAtContext(lctx, make([]byte, 10), 3*testBlock)
		leaderErr <- err
	}()
	waitFor(t, "the leader's request", func() bool { return o.requests.Load() > reqs })
	waiterErr := make(chan error, 1)
	p := make([]byte, 10)
	go func() {
		_, err := obj.ReadAt(p, 3*testBlock)
		waiterErr <- err
	}()
	waitFor(t, "the waiter to join", func() bool {
		_, _, _, w := f.cache.stats()
		return w == 1
	})
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want context.Canceled", err)
	}
	close(gate)
	if err := <-waiterErr; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if !bytes.Equal(p, data[3*testBlock:3*testBlock+10]) {
		t.Fatal("waiter: wrong bytes")
	}
}

func TestVersionPinning(t *testing.T) {
	const size = 8 * testBlock
	v1, v2 := testData(size, 6), testData(size, 7)
	mod1 := time.Unix(1_700_000_000, 0).UTC()
	mod2 := mod1.Add(time.Hour)
	tests := []struct {
		name   string
		etag1  string
		mod1   time.Time
		change func(o *testOrigin)
	}{
		{"etag, If-Match", `"v1"`, mod1, func(o *testOrigin) { o.set(v2, `"v2"`, mod2) }},
		{"last-modified, If-Unmodified-Since", "", mod1, func(o *testOrigin) { o.set(v2, "", mod2) }},
		{"origin ignores If-Match but sends the new etag", `"v1"`, mod1, func(o *testOrigin) {
			o.set(v2, `"v2"`, mod2)
			o.setFault(func(_ http.ResponseWriter, r *http.Request, _ []byte) bool {
				r.Header.Del("If-Match")
				return false
			})
		}},
		{"no validators, size changes", "", time.Time{}, func(o *testOrigin) { o.set(v2[:size-1], "", time.Time{}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, v1)
			o.set(v1, tc.etag1, tc.mod1)
			f := newTestFetcher(t, Config{}, o)
			s1 := f.NewSession(context.Background(), 0)
			defer s1.Close()
			obj, err := s1.Open(context.Background(), o.url("/x"), false)
			if err != nil {
				t.Fatal(err)
			}
			p := make([]byte, testBlock)
			if _, err := obj.ReadAt(p, testBlock); err != nil || !bytes.Equal(p, v1[testBlock:2*testBlock]) {
				t.Fatalf("read before the change: %v", err)
			}
			tc.change(o)
			cached := f.Stats().CachedBlocks
			if _, err := obj.ReadAt(p, 4*testBlock); !errors.Is(err, ErrChanged) {
				t.Fatalf("read after the change: %v, want ErrChanged", err)
			}
			if got := f.Stats().CachedBlocks; got != cached {
				t.Errorf("failed read cached %d blocks", got-cached)
			}
			// Blocks already cached still serve the pinned version.
			if _, err := obj.ReadAt(p, testBlock); err != nil || !bytes.Equal(p, v1[testBlock:2*testBlock]) {
				t.Fatalf("pinned cached read: %v", err)
			}
			o.setFault(nil)
			s2 := f.NewSession(context.Background(), 0)
			defer s2.Close()
			obj2, err := s2.Open(context.Background(), o.url("/x"), false)
			if err != nil {
				t.Fatal(err)
			}
			o.mu.Lock()
			want := o.data
			o.mu.Unlock()
			if got := readAll(t, obj2, 3000); !bytes.Equal(got, want) {
				t.Fatal("new call did not read the new version exactly")
			}
		})
	}
}

// Blocks cached for one version are never served for another, even when the
// new version has the same size.
func TestChangedObjectNotServedStale(t *testing.T) {
	const size = 6 * testBlock
	v1, v2 := testData(size, 8), testData(size, 9)
	o := newOrigin(t, v1)
	f := newTestFetcher(t, Config{}, o)
	s1 := f.NewSession(context.Background(), 0)
	obj, err := s1.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, obj, testBlock)
	s1.Close()
	o.set(v2, `"v2"`, time.Unix(1_800_000_000, 0))
	s2 := f.NewSession(context.Background(), 0)
	defer s2.Close()
	obj2, err := s2.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, obj2, 1500); !bytes.Equal(got, v2) {
		t.Fatal("served stale bytes")
	}
	if s2.Fetched() != size {
		t.Errorf("fetched %d, want %d", s2.Fetched(), size)
	}
}

// Objects without any validator are cached for one session only.
func TestUnvalidatedObjectScopedToSession(t *testing.T) {
	data := testData(3*testBlock, 10)
	o := newOrigin(t, data)
	o.set(data, "", time.Time{})
	f := newTestFetcher(t, Config{}, o)
	for i := range 2 {
		s := f.NewSession(context.Background(), 0)
		obj, err := s.Open(context.Background(), o.url("/x"), false)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, obj, 1000)
		readAll(t, obj, 1000)
		if s.Fetched() != int64(len(data)) {
			t.Errorf("session %d fetched %d, want %d (once per session)", i, s.Fetched(), len(data))
		}
		s.Close()
		if n := f.Stats().CachedBlocks; n != 0 {
			t.Errorf("session %d left %d blocks after Close", i, n)
		}
	}
}

func TestSmallObjectWithoutRangeSupport(t *testing.T) {
	data := testData(1000, 11)
	o := newOrigin(t, data)
	o.setFault(func(w http.ResponseWriter, r *http.Request, data []byte) bool {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data)
		return true
	})
	f := newTestFetcher(t, Config{}, o)
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	obj, err := s.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, obj, 77); !bytes.Equal(got, data) {
		t.Fatal("wrong bytes")
	}
}

func TestEmptyObject(t *testing.T) {
	o := newOrigin(t, []byte{})
	f := newTestFetcher(t, Config{}, o)
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	obj, err := s.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size() != 0 {
		t.Fatalf("size %d", obj.Size())
	}
	if n, err := obj.ReadAt(make([]byte, 5), 0); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
}

func TestFetchLimit(t *testing.T) {
	data := testData(8*testBlock, 12)
	o := newOrigin(t, data)
	f := newTestFetcher(t, Config{}, o)
	s := f.NewSession(context.Background(), 3*testBlock)
	defer s.Close()
	obj, err := s.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 2*testBlock)
	if _, err := obj.ReadAt(p, testBlock); err != nil {
		t.Fatalf("read within the budget: %v", err)
	}
	reqs := o.requests.Load()
	if _, err := obj.ReadAt(p[:1], 3*testBlock); !errors.Is(err, ErrFetchLimit) {
		t.Fatalf("read past the budget: %v, want ErrFetchLimit", err)
	}
	if o.requests.Load() != reqs {
		t.Error("the request that would pass the budget was sent")
	}
	if s.Fetched() != 3*testBlock {
		t.Errorf("Fetched = %d", s.Fetched())
	}
	// Cached bytes cost nothing.
	if _, err := obj.ReadAt(p, 0); err != nil {
		t.Fatalf("cached read: %v", err)
	}
	// A budget smaller than the first block fails before the body is read.
	s2 := f.NewSession(context.Background(), 100)
	defer s2.Close()
	if _, err := s2.Open(context.Background(), o.url("/other"), false); !errors.Is(err, ErrFetchLimit) {
		t.Fatalf("open past the budget: %v", err)
	}
	if s2.Fetched() != 0 {
		t.Errorf("Fetched = %d", s2.Fetched())
	}
}

func TestContextEnds(t *testing.T) {
	data := testData(4*testBlock, 13)
	o := newOrigin(t, data)
	f := newTestFetcher(t, Config{}, o)
	o.setFault(func(_ http.ResponseWriter, r *http.Request, _ []byte) bool {
		<-r.Context().Done()
		return true
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := f.NewSession(ctx, 0)
	if _, err := s.Open(context.Background(), o.url("/x"), false); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled session: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	s = f.NewSession(ctx, 0)
	_, err := s.Open(ctx, o.url("/x"), false)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Errorf("call deadline: %v, want context.DeadlineExceeded and not ErrTimeout", err)
	}
	// The session's deadline bounds Open even under another context, and
	// ReadAt.
	o.setFault(nil)
	ctx, cancel = context.WithCancel(context.Background())
	s = f.NewSession(ctx, 0)
	obj, err := s.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	o.setFault(func(_ http.ResponseWriter, r *http.Request, _ []byte) bool {
		<-r.Context().Done()
		return true
	})
	ctx2, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	s2 := f.NewSession(ctx2, 0)
	if _, err := s2.Open(context.Background(), o.url("/y"), false); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("session deadline under a background Open: %v", err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	if _, err := obj.ReadAt(make([]byte, 10), 2*testBlock); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAt after the call was cancelled: %v", err)
	}
}

func TestCacheBoundedByBytes(t *testing.T) {
	data := testData(20*testBlock, 14)
	o := newOrigin(t, data)
	max := int64(3 * (testBlock + entryOverhead))
	f := newTestFetcher(t, Config{MaxBytes: max}, o)
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	obj, err := s.Open(context.Background(), o.url("/x"), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, obj, 3*testBlock); !bytes.Equal(got, data) {
		t.Fatal("wrong bytes")
	}
	st := f.Stats()
	if st.CachedBytes > max || st.CachedBlocks != 3 || st.Evictions != 17 {
		t.Errorf("stats %+v: want <= %d bytes, 3 blocks, 17 evictions", st, max)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{BlockSize: 100},
		{BlockSize: 1 << 30},
		{BlockSize: 1 << 20, MaxBytes: 1 << 20},
		{AllowedHosts: []string{"a*b.com"}},
		{AllowedHosts: []string{"::1"}},
		{AllowedHosts: []string{"host:99999"}},
		{Timeout: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	f, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if f.BlockSize() != DefaultBlockSize || f.cfg.MaxBytes != DefaultMaxBytes || f.cfg.Timeout != DefaultTimeout {
		t.Errorf("defaults not applied: %+v", f.cfg)
	}
	f.Close()
	if _, err := f.NewSession(context.Background(), 0).Open(context.Background(), "https://example.org/x", true); !errors.Is(err, ErrClosed) {
		t.Errorf("open after Close: %v", err)
	}
}

// Concurrent Opens of one URL from several calls make one origin request,
// and a cancelled leader does not fail the others.
func TestConcurrentOpens(t *testing.T) {
	data := testData(3*testBlock, 15)
	t.Run("one request", func(t *testing.T) {
		const calls = 8
		o := newOrigin(t, data)
		f := newTestFetcher(t, Config{}, o)
		gate := make(chan struct{})
		o.setGate(gate)
		var wg sync.WaitGroup
		errs := make([]error, calls)
		for i := range calls {
			wg.Go(func() {
				s := f.NewSession(context.Background(), 0)
				defer s.Close()
				obj, err := s.Open(context.Background(), o.url("/x"), false)
				if err == nil {
					p := make([]byte, len(data))
					if _, err = obj.ReadAt(p, 0); err == nil && !bytes.Equal(p, data) {
						err = errors.New("wrong bytes")
					}
				}
				errs[i] = err
			})
		}
		waitFor(t, "all opens to join", func() bool { return f.probeJoins.Load() == calls })
		close(gate)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}
		opens := 0
		for _, r := range o.takeRanges() {
			if r == fmt.Sprintf("bytes=0-%d", testBlock-1) {
				opens++
			}
		}
		if opens != 1 {
			t.Errorf("%d opening requests, want 1", opens)
		}
	})
	t.Run("cancelled leader", func(t *testing.T) {
		o := newOrigin(t, data)
		f := newTestFetcher(t, Config{}, o)
		gate := make(chan struct{})
		o.setGate(gate)
		lctx, cancel := context.WithCancel(context.Background())
		leader := make(chan error, 1)
		go func() {
			s := f.NewSession(lctx, 0)
			defer s.Close()
			_, err := s.Open(lctx, o.url("/x"), false)
			leader <- err
		}()
		waitFor(t, "the leader's request", func() bool { return o.requests.Load() == 1 })
		waiter := make(chan error, 1)
		go func() {
			s := f.NewSession(context.Background(), 0)
			defer s.Close()
			_, err := s.Open(context.Background(), o.url("/x"), false)
			waiter <- err
		}()
		waitFor(t, "the waiter to join", func() bool { return f.probeJoins.Load() == 2 })
		cancel()
		if err := <-leader; !errors.Is(err, context.Canceled) {
			t.Fatalf("leader: %v", err)
		}
		close(gate)
		if err := <-waiter; err != nil {
			t.Fatalf("waiter: %v", err)
		}
	})
}
