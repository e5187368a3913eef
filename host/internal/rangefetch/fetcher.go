package rangefetch

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"code.dny.dev/ssrf"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// knownVersions bounds the table of the last version seen per URL, used to
// make Open conditional.
const knownVersions = 4096

// Fetcher owns the HTTP client, the block cache and the counters. One per
// process; safe for concurrent use.
type Fetcher struct {
	cfg       Config
	patterns  []hostPattern
	guard     *ssrf.Guardian
	lookup    func(ctx context.Context, host string) ([]netip.Addr, error)
	transport *http.Transport
	client    *http.Client
	cache     *cache
	known     *lru.Cache[string, *version]
	opens     singleflight.Group
	sessions  atomic.Uint64
	closed    atomic.Bool

	hits, misses, requests, fetched atomic.Int64
	readAheads                      atomic.Int64 // background runs started
	probeJoins                      atomic.Int64 // Opens registered with f.opens; tests watch it
}

// Stats are cumulative counters for metrics.
type Stats struct {
	Hits           int64 // blocks served from the cache
	Misses         int64 // blocks not in the cache when asked for
	OriginRequests int64 // HTTP requests sent to origins, retries included
	BytesFetched   int64 // body bytes received from origins
	CachedBytes    int64 // bytes held by the cache (blocks plus overhead)
	CachedBlocks   int64
	Evictions      int64 // blocks dropped to stay under MaxBytes
	ReadAheads     int64 // background fetches started for sequential readers
}

// New validates cfg, applies defaults and builds a Fetcher.
func New(cfg Config) (*Fetcher, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	f := &Fetcher{cfg: cfg, guard: newGuard(), lookup: cfg.LookupNetIP, cache: newCache(cfg.MaxBytes)}
	for _, s := range cfg.AllowedHosts {
		p, err := parsePattern(s)
		if err != nil {
			return nil, fmt.Errorf("rangefetch: %w", err)
		}
		f.patterns = append(f.patterns, p)
	}
	if f.lookup == nil {
		f.lookup = defaultLookup
	}
	f.known, _ = lru.New[string, *version](knownVersions)
	f.transport = &http.Transport{
		Proxy:                  nil, // a proxy would hide the real destination from the guard
		DialContext:            f.dialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        cfg.TLSClientConfig,
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout + time.Second, // backstop; the attempt watchdog fires first
		ExpectContinueTimeout:  time.Second,
		MaxConnsPerHost:        cfg.MaxConnsPerHost,
		MaxIdleConnsPerHost:    cfg.MaxConnsPerHost,
		MaxIdleConns:           256,
		IdleConnTimeout:        90 * time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	f.client = &http.Client{Transport: f.transport, CheckRedirect: f.checkRedirect}
	return f, nil
}

// Close drops idle connections and the cache. Sessions still open fail
// their next origin request with ErrClosed. Safe to call twice.
func (f *Fetcher) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	f.transport.CloseIdleConnections()
	f.cache.purge()
	return nil
}

// Stats returns the counters.
func (f *Fetcher) Stats() Stats {
	b, n, ev, _ := f.cache.stats()
	return Stats{
		Hits:           f.hits.Load(),
		Misses:         f.misses.Load(),
		OriginRequests: f.requests.Load(),
		BytesFetched:   f.fetched.Load(),
		CachedBytes:    b,
		CachedBlocks:   n,
		Evictions:      ev,
		ReadAheads:     f.readAheads.Load(),
	}
}

// BlockSize is the configured block size.
func (f *Fetcher) BlockSize() int64 { return f.cfg.BlockSize }
