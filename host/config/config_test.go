package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		err  bool
	}{
		{"512MiB", 512 << 20, false},
		{"256KiB", 256 << 10, false},
		{"1GiB", 1 << 30, false},
		{"64MB", 64e6, false},
		{"1000", 1000, false},
		{"1.5KiB", 1536, false},
		{" 2 MiB ", 2 << 20, false},
		{"", 0, true},
		{"-1", 0, true},
		{"12XB", 0, true},
		{"lots", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Addr != "127.0.0.1:8080" || c.Cache.BlockSize != 64<<10 || c.Cache.MaxBytes != 512<<20 {
		t.Errorf("defaults not set: %+v", c)
	}
	l := c.For("wgsim", Limits{})
	if l.Memory != 128<<20 || l.Timeout.D() != 30*time.Second || *l.Queue != 32 || *l.Warm != 2 {
		t.Errorf("builtin limits wrong: %+v", l)
	}
}

func TestLimitPrecedence(t *testing.T) {
	c, err := Parse([]byte(`
limits:
  default: {memory: 64MiB, timeout: 10s}
  plugins:
    wgsim: {timeout: 120s, queue: 0}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	manifest := Limits{Timeout: Duration(60 * time.Second), MaxOutput: 5 << 30}
	l := c.For("wgsim", manifest)
	got := []any{l.Memory, l.Timeout.D(), l.MaxOutput, *l.Queue}
	want := []any{Size(64 << 20), 120 * time.Second, Size(5 << 30), 0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("wgsim limits (-want +got):\n%s", d)
	}
	if l := c.For("kmer", manifest); l.Timeout.D() != 60*time.Second {
		t.Errorf("kmer timeout = %v, want the manifest's 60s", l.Timeout.D())
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		yaml string
		want string
	}{
		{"server: {adress: x}", "adress"},
		{"cache: {block_size: 1KiB}", "cache.block_size"},
		{"cache: {block_size: huge}", "invalid size"},
		{"limits: {default: {timeout: soon}}", "invalid duration"},
		{"limits: {default: {memory: 8GiB}}", "limits.default.memory"},
		{"limits: {plugins: {Bad-Name: {}}}", "limits.plugins.Bad-Name"},
		{"limits: {plugins: {x: {preempt: magic}}}", "limits.plugins.x.preempt"},
		{"references: [{name: demo}]", "references[0].fasta"},
		{"references: [{name: a, fasta: a.fa}, {name: a, fasta: b.fa}]", "configured twice"},
		{"fetch: {allowed_hosts: ['http://x/']}", "fetch.allowed_hosts[0]"},
		{"unknown_top: 1", "unknown_top"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.yaml), "")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v; want it to mention %q", tt.yaml, err, tt.want)
		}
	}
}

func TestReferencePaths(t *testing.T) {
	c, err := Parse([]byte(`
references:
  - {name: demo, fasta: data/demo.fa}
  - {name: s3, fasta: "https://h.example/x.fa?sig=1"}
  - {name: own, fasta: /abs/x.fa, fai: idx/x.fai}
`), "/etc/edgenome")
	if err != nil {
		t.Fatal(err)
	}
	got := [][2]string{}
	for _, r := range c.References {
		got = append(got, [2]string{r.Fasta, r.Fai})
	}
	want := [][2]string{
		{"/etc/edgenome/data/demo.fa", "/etc/edgenome/data/demo.fa.fai"},
		{"https://h.example/x.fa?sig=1", "https://h.example/x.fa.fai?sig=1"},
		{"/abs/x.fa", "/etc/edgenome/idx/x.fai"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reference paths (-want +got):\n%s", d)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("cache: {block_size: 64KiB}\nlimits: {default: {timeout: 1s}}")
	f.Add("references: [{name: a, fasta: x}]")
	f.Fuzz(func(t *testing.T, y string) {
		c, err := Parse([]byte(y), "/base")
		if err == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("Parse accepted what Validate refuses: %v", err)
			}
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1KiB", "1.5GB", "0", "9e99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseSize(s); err == nil && v < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, v)
		}
	})
}
