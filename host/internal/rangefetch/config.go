package rangefetch

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"time"
)

// Defaults applied by [New] to zero fields of [Config].
const (
	DefaultBlockSize       = 64 << 10
	DefaultMaxBytes        = 512 << 20
	DefaultTimeout         = 30 * time.Second
	DefaultMaxRedirects    = 5
	DefaultDNSTimeout      = 5 * time.Second
	DefaultMaxConnsPerHost = 16
	DefaultRetries         = 2
	DefaultRetryBackoff    = 50 * time.Millisecond

	minBlockSize = 4 << 10
	maxBlockSize = 16 << 20
	// maxRunBytes caps one ranged request: a huge ReadAt is split so that
	// one request never holds more than this in flight.
	maxRunBytes = 16 << 20
	// maxRetryAfter is the longest Retry-After we wait for; a longer one
	// fails at once rather than holding the call.
	maxRetryAfter = 2 * time.Second
)

// Config configures a [Fetcher]. Zero fields take the defaults above.
type Config struct {
	// BlockSize is the cache block and the unit of every range request.
	BlockSize int64
	// MaxBytes bounds the cache, counting block bytes plus a fixed per-entry
	// overhead.
	MaxBytes int64
	// AllowedHosts lists the hosts untrusted URLs may name. An entry is
	// "host" (ports 80 and 443), "host:port", or "host:*" (any port). The
	// host may be "*" (any host) or start with "*." (any subdomain, not the
	// apex); IPv6 literals are written in brackets. Only entries without a
	// wildcard in the host lift the address guard for that host.
	AllowedHosts []string
	// Timeout bounds each origin attempt until its first response byte, and
	// each stall while reading a body.
	Timeout time.Duration
	// MaxRedirects is the number of redirect hops followed.
	MaxRedirects int
	// DNSTimeout bounds each name lookup.
	DNSTimeout time.Duration
	// MaxConnsPerHost bounds connections to one origin.
	MaxConnsPerHost int
	// Retries is how many times a transient failure (5xx, 429, reset,
	// truncated body) is retried; negative disables retries.
	Retries int
	// RetryBackoff is the wait before the first retry; it quadruples after.
	RetryBackoff time.Duration

	// LookupNetIP resolves host names; nil uses net.DefaultResolver. Tests
	// use it to point names at loopback.
	LookupNetIP func(ctx context.Context, host string) ([]netip.Addr, error)
	// TLSClientConfig is used for https origins; nil uses the system roots.
	TLSClientConfig *tls.Config
}

func (c *Config) setDefaults() {
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxRedirects == 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	if c.DNSTimeout == 0 {
		c.DNSTimeout = DefaultDNSTimeout
	}
	if c.MaxConnsPerHost == 0 {
		c.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	} else if c.Retries < 0 {
		c.Retries = 0
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
}

func (c *Config) validate() error {
	switch {
	case c.BlockSize < minBlockSize || c.BlockSize > maxBlockSize:
		return fmt.Errorf("rangefetch: block size %d out of range [%d, %d]", c.BlockSize, minBlockSize, maxBlockSize)
	case c.MaxBytes < 2*c.BlockSize:
		return fmt.Errorf("rangefetch: cache max bytes %d must hold at least two blocks of %d", c.MaxBytes, c.BlockSize)
	case c.Timeout < 0 || c.DNSTimeout < 0 || c.RetryBackoff < 0:
		return fmt.Errorf("rangefetch: negative timeout")
	case c.MaxRedirects < 0:
		return fmt.Errorf("rangefetch: negative max redirects")
	case c.MaxConnsPerHost < 0:
		return fmt.Errorf("rangefetch: negative max connections per host")
	}
	return nil
}
