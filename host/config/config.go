package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the operator's file, config.yaml. Every key is optional; Load
// fills the defaults documented on each field and in the README.
type Config struct {
	Server     Server      `yaml:"server"`
	Registry   Registry    `yaml:"registry"`
	Cache      Cache       `yaml:"cache"`
	Fetch      Fetch       `yaml:"fetch"`
	References []Reference `yaml:"references"`
	Limits     LimitsSet   `yaml:"limits"`
}

// Server configures the HTTP listener.
type Server struct {
	Addr              string   `yaml:"addr"`                // default 127.0.0.1:8080
	CORSOrigins       []string `yaml:"cors_origins"`        // default ["*"]
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"` // default 10s
	IdleTimeout       Duration `yaml:"idle_timeout"`        // default 120s
	MaxHeaderBytes    Size     `yaml:"max_header_bytes"`    // default 64KiB
	ShutdownGrace     Duration `yaml:"shutdown_grace"`      // default 30s
	// MaxBody caps every request body as received (before any gzip
	// decoding; max_input bounds the decoded bytes a plugin reads); a larger
	// one is refused with 413 input_limit. Default 1GiB.
	MaxBody Size `yaml:"max_body"`
	// RateLimit bounds calls per client address; off unless
	// requests_per_second is set.
	RateLimit RateLimit `yaml:"rate_limit"`
	// TrustedProxies lists the proxies (IP or CIDR) whose X-Forwarded-For
	// names the client. Empty (the default): the client is the connection's
	// peer address and X-Forwarded-For is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// RateLimit is a token bucket per client address: requests_per_second
// refill, burst capacity. Past it, calls get 429 rate_limited with
// Retry-After. /healthz and /metrics are exempt.
type RateLimit struct {
	RequestsPerSecond float64 `yaml:"requests_per_second"` // default 0: no limit
	Burst             int     `yaml:"burst"`               // default 2 x requests_per_second (at least 1)
}

// Registry configures where plugins come from.
type Registry struct {
	Dir      string `yaml:"dir"`       // default "registry"
	CacheDir string `yaml:"cache_dir"` // compiled-module cache; default <user cache dir>/edgenome
	Watch    *bool  `yaml:"watch"`     // default true
}

// Cache configures the block cache in front of every remote source.
type Cache struct {
	BlockSize Size `yaml:"block_size"` // default 64KiB
	MaxBytes  Size `yaml:"max_bytes"`  // default 512MiB
}

// Fetch configures origin access.
type Fetch struct {
	AllowedHosts []string `yaml:"allowed_hosts"` // host or host:port patterns; default none
	Timeout      Duration `yaml:"timeout"`       // per origin request; default 30s
}

// Reference is a FASTA the operator makes available by name.
type Reference struct {
	Name  string `yaml:"name"`
	Fasta string `yaml:"fasta"` // path (relative to the config file) or http(s) URL
	Fai   string `yaml:"fai"`   // default <fasta>.fai
}

// Limits bound one plugin. A zero field is unset and inherits.
type Limits struct {
	Memory      Size     `yaml:"memory"`      // Wasm memory per instance; default 128MiB
	Timeout     Duration `yaml:"timeout"`     // per call; default 30s
	MaxOutput   Size     `yaml:"max_output"`  // response bytes per call; default 1GiB
	MaxFetch    Size     `yaml:"max_fetch"`   // origin bytes per call; default 2GiB
	MaxInput    Size     `yaml:"max_input"`   // request body bytes per call; default 1GiB
	Concurrency int      `yaml:"concurrency"` // calls running at once; default 8
	Queue       *int     `yaml:"queue"`       // calls waiting; default 32 (0: none)
	QueueWait   Duration `yaml:"queue_wait"`  // longest wait in the queue; default 5s
	Reuse       *bool    `yaml:"reuse"`       // reuse instances across calls; default false
	Warm        *int     `yaml:"warm"`        // instances prepared ahead; default min(concurrency, 2)
	Preempt     string   `yaml:"preempt"`     // how running code is stopped: "instrument" (default) or "wazero"
	// ParamMax tightens the manifest's max of numeric parameters, e.g.
	// {n: 10000000} caps wgsim's read pairs; the host answers 400 above it.
	ParamMax map[string]float64 `yaml:"param_max"`
}

// LimitsSet holds the defaults and the per-plugin overrides.
type LimitsSet struct {
	Default Limits            `yaml:"default"`
	Plugins map[string]Limits `yaml:"plugins"`
}

// Builtin are the limits used where nothing else sets one.
var Builtin = Limits{
	Memory:      128 << 20,
	Timeout:     Duration(30 * time.Second),
	MaxOutput:   1 << 30,
	MaxFetch:    2 << 30,
	MaxInput:    1 << 30,
	Concurrency: 8,
	Queue:       ptr(32),
	QueueWait:   Duration(5 * time.Second),
	Reuse:       ptr(false),
	Preempt:     PreemptInstrument,
}

// Preemption modes: how a running plugin is stopped at its deadline and
// kept from blocking the garbage collector.
const (
	// PreemptInstrument rewrites the module so loops and calls test a flag
	// the host sets every millisecond while the call runs, and check in
	// with the host when it is set (host/internal/preempt).
	PreemptInstrument = "instrument"
	// PreemptWazero uses wazero's WithCloseOnContextDone: a check on every
	// loop iteration, several times slower on tight loops.
	PreemptWazero = "wazero"
)

func ptr[T any](v T) *T { return &v }

// Over returns l with every field that o sets replaced by o's value.
func (l Limits) Over(o Limits) Limits {
	if o.Memory != 0 {
		l.Memory = o.Memory
	}
	if o.Timeout != 0 {
		l.Timeout = o.Timeout
	}
	if o.MaxOutput != 0 {
		l.MaxOutput = o.MaxOutput
	}
	if o.MaxFetch != 0 {
		l.MaxFetch = o.MaxFetch
	}
	if o.MaxInput != 0 {
		l.MaxInput = o.MaxInput
	}
	if o.Concurrency != 0 {
		l.Concurrency = o.Concurrency
	}
	if o.Queue != nil {
		l.Queue = o.Queue
	}
	if o.QueueWait != 0 {
		l.QueueWait = o.QueueWait
	}
	if o.Reuse != nil {
		l.Reuse = o.Reuse
	}
	if o.Warm != nil {
		l.Warm = o.Warm
	}
	if o.Preempt != "" {
		l.Preempt = o.Preempt
	}
	if len(o.ParamMax) > 0 {
		m := make(map[string]float64, len(l.ParamMax)+len(o.ParamMax))
		for k, v := range l.ParamMax {
			m[k] = v
		}
		for k, v := range o.ParamMax {
			m[k] = v
		}
		l.ParamMax = m
	}
	return l
}

// For returns the effective limits of a plugin: built-in defaults, then the
// operator's default, then the plugin manifest's own, then the operator's
// entry for that plugin.
func (c *Config) For(plugin string, manifest Limits) Limits {
	l := Builtin.Over(c.Limits.Default).Over(manifest).Over(c.Limits.Plugins[plugin])
	if l.Warm == nil {
		l.Warm = ptr(min(l.Concurrency, 2))
	}
	return l
}

// Validate checks limits for sense; path names the key in errors.
func (l Limits) Validate(path string) error {
	var errs []error
	if l.Memory != 0 && l.Memory < 2<<20 {
		errs = append(errs, fmt.Errorf("%s.memory: %s is below the 2MiB minimum", path, l.Memory))
	}
	if l.Memory > 4<<30 {
		errs = append(errs, fmt.Errorf("%s.memory: %s is above Wasm's 4GiB maximum", path, l.Memory))
	}
	if l.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("%s.concurrency: must be at least 1", path))
	}
	if l.Queue != nil && *l.Queue < 0 {
		errs = append(errs, fmt.Errorf("%s.queue: must not be negative", path))
	}
	if l.Warm != nil && *l.Warm < 0 {
		errs = append(errs, fmt.Errorf("%s.warm: must not be negative", path))
	}
	switch l.Preempt {
	case "", PreemptInstrument, PreemptWazero:
	default:
		errs = append(errs, fmt.Errorf("%s.preempt: unknown mode %q (want %q or %q)", path, l.Preempt, PreemptInstrument, PreemptWazero))
	}
	return errors.Join(errs...)
}

var (
	pluginName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	refName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// Validate checks the whole configuration after defaults are set. It has no
// side effects.
func (c *Config) Validate() error {
	var errs []error
	if c.Server.Addr == "" {
		errs = append(errs, errors.New("server.addr: must not be empty"))
	}
	if c.Server.MaxBody < 0 {
		errs = append(errs, errors.New("server.max_body: must not be negative"))
	}
	if c.Server.RateLimit.RequestsPerSecond < 0 || c.Server.RateLimit.Burst < 0 {
		errs = append(errs, errors.New("server.rate_limit: requests_per_second and burst must not be negative"))
	}
	for i, p := range c.Server.TrustedProxies {
		if _, err := ParseCIDR(p); err != nil {
			errs = append(errs, fmt.Errorf("server.trusted_proxies[%d]: %v", i, err))
		}
	}
	if c.Cache.BlockSize < 4<<10 || c.Cache.BlockSize > 64<<20 {
		errs = append(errs, fmt.Errorf("cache.block_size: %s is outside 4KiB..64MiB", c.Cache.BlockSize))
	}
	if c.Cache.MaxBytes < c.Cache.BlockSize {
		errs = append(errs, fmt.Errorf("cache.max_bytes: %s is smaller than one block (%s)", c.Cache.MaxBytes, c.Cache.BlockSize))
	}
	for i, h := range c.Fetch.AllowedHosts {
		if strings.TrimSpace(h) == "" || strings.Contains(h, "/") {
			errs = append(errs, fmt.Errorf("fetch.allowed_hosts[%d]: %q is not a host or host:port pattern", i, h))
		}
	}
	seen := map[string]bool{}
	for i, r := range c.References {
		key := fmt.Sprintf("references[%d]", i)
		if !refName.MatchString(r.Name) {
			errs = append(errs, fmt.Errorf("%s.name: %q must match %s", key, r.Name, refName))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is configured twice", key, r.Name))
		}
		seen[r.Name] = true
		if r.Fasta == "" {
			errs = append(errs, fmt.Errorf("%s.fasta: required", key))
		}
	}
	errs = append(errs, c.Limits.Default.Validate("limits.default"))
	for name, l := range c.Limits.Plugins {
		if !pluginName.MatchString(name) {
			errs = append(errs, fmt.Errorf("limits.plugins.%s: not a valid plugin name (%s)", name, pluginName))
		}
		errs = append(errs, l.Validate("limits.plugins."+name))
	}
	return errors.Join(errs...)
}

// Parse decodes a configuration, rejecting unknown keys, and sets defaults.
// baseDir resolves relative reference paths.
func Parse(data []byte, baseDir string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.setDefaults(baseDir)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &c, nil
}

// Load reads and parses a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, filepath.Dir(path))
}

func (c *Config) setDefaults(baseDir string) {
	if c.Server.Addr == "" {
		c.Server.Addr = "127.0.0.1:8080"
	}
	if c.Server.CORSOrigins == nil {
		c.Server.CORSOrigins = []string{"*"}
	}
	if c.Server.ReadHeaderTimeout == 0 {
		c.Server.ReadHeaderTimeout = Duration(10 * time.Second)
	}
	if c.Server.IdleTimeout == 0 {
		c.Server.IdleTimeout = Duration(120 * time.Second)
	}
	if c.Server.MaxHeaderBytes == 0 {
		c.Server.MaxHeaderBytes = 64 << 10
	}
	if c.Server.ShutdownGrace == 0 {
		c.Server.ShutdownGrace = Duration(30 * time.Second)
	}
	if c.Server.MaxBody == 0 {
		c.Server.MaxBody = 1 << 30
	}
	if rl := &c.Server.RateLimit; rl.RequestsPerSecond > 0 && rl.Burst == 0 {
		rl.Burst = max(1, int(math.Ceil(2*rl.RequestsPerSecond)))
	}
	if c.Registry.Dir == "" {
		c.Registry.Dir = "registry"
	}
	c.Registry.Dir = resolve(baseDir, c.Registry.Dir)
	if c.Registry.CacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			c.Registry.CacheDir = filepath.Join(d, "edgenome")
		} else {
			c.Registry.CacheDir = filepath.Join(os.TempDir(), "edgenome-cache")
		}
	} else {
		c.Registry.CacheDir = resolve(baseDir, c.Registry.CacheDir)
	}
	if c.Registry.Watch == nil {
		c.Registry.Watch = ptr(true)
	}
	if c.Cache.BlockSize == 0 {
		c.Cache.BlockSize = 64 << 10
	}
	if c.Cache.MaxBytes == 0 {
		c.Cache.MaxBytes = 512 << 20
	}
	if c.Fetch.Timeout == 0 {
		c.Fetch.Timeout = Duration(30 * time.Second)
	}
	for i := range c.References {
		r := &c.References[i]
		r.Fasta = resolve(baseDir, r.Fasta)
		if r.Fai == "" {
			r.Fai = IndexOf(r.Fasta)
		} else {
			r.Fai = resolve(baseDir, r.Fai)
		}
	}
}

// ParseCIDR reads an IP address (a single host) or a CIDR prefix.
func ParseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// IndexOf returns the default .fai location of a FASTA path or URL: the
// suffix goes before any query string, as a presigned URL needs.
func IndexOf(fasta string) string {
	if IsURL(fasta) {
		if i := strings.IndexByte(fasta, '?'); i >= 0 {
			return fasta[:i] + ".fai" + fasta[i:]
		}
	}
	return fasta + ".fai"
}

// IsURL reports whether s is an http(s) URL rather than a path.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func resolve(baseDir, p string) string {
	if IsURL(p) || filepath.IsAbs(p) || baseDir == "" {
		return p
	}
	return filepath.Join(baseDir, p)
}
