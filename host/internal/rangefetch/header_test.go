package rangefetch

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in   string
		want contentRange
		bad  bool
	}{
		{in: "bytes 0-99/100", want: contentRange{0, 99, 100}},
		{in: "bytes 10-10/11", want: contentRange{10, 10, 11}},
		{in: "bytes 0-99/*", want: contentRange{0, 99, -1}},
		{in: "bytes */12345", want: contentRange{-1, -1, 12345}},
		{in: "bytes */0", want: contentRange{-1, -1, 0}},
		{in: "bytes 007-9/10", want: contentRange{7, 9, 10}},
		{in: "bytes 0-99/50", bad: true},
		{in: "bytes 0-100/100", bad: true},
		{in: "bytes 5-4/10", bad: true},
		{in: "bytes */*", bad: true},
		{in: "bytes 0-99", bad: true},
		{in: "bytes -1-5/10", bad: true},
		{in: "bytes 0--5/10", bad: true},
		{in: "bytes +1-5/10", bad: true},
		{in: "bytes 1-5/ 10", bad: true},
		{in: "bytes  1-5/10", bad: true},
		{in: "Bytes 1-5/10", bad: true},
		{in: "bits 1-5/10", bad: true},
		{in: "bytes=1-5/10", bad: true},
		{in: "bytes 1-5/10, 7-8/10", bad: true},
		{in: "bytes 99999999999999999999-1/2", bad: true},
		{in: "bytes 0-1/1e3", bad: true},
		{in: "", bad: true},
		{in: "bytes ", bad: true},
		{in: "bytes abc", bad: true},
	}
	for _, tc := range tests {
		got, err := parseContentRange(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("parseContentRange(%q) = %+v, %v; want bad=%v", tc.in, got, err, tc.bad)
			continue
		}
		if !tc.bad {
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(contentRange{})); diff != "" {
				t.Errorf("parseContentRange(%q) (-want +got):\n%s", tc.in, diff)
			}
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes */5", "bytes 0-99/*", "bytes 1-0/3", "bytes 0-0/0", "bytes */*", "bytes 18446744073709551615-1/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, err := parseContentRange(s)
		if err != nil {
			return
		}
		// Whatever parses describes a real range: what the cache relies on.
		switch {
		case cr.start == -1:
			if cr.end != -1 || cr.size < 0 {
				t.Fatalf("%q: bad unsatisfied form %+v", s, cr)
			}
		case cr.start < 0 || cr.end < cr.start || (cr.size >= 0 && cr.end >= cr.size) || cr.size < -1:
			t.Fatalf("%q: impossible range %+v", s, cr)
		}
		if !strings.HasPrefix(s, "bytes ") {
			t.Fatalf("%q accepted without the bytes unit", s)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"5", 5 * time.Second, true},
		{" 2 ", 2 * time.Second, true},
		{now.Add(3 * time.Second).Format(http.TimeFormat), 3 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Wed, 21 Oct 2015 07:28:00 GMT", "x", "999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := parseRetryAfter(s, now); ok && d < 0 {
			t.Fatalf("%q: negative delay %v", s, d)
		}
	})
}

func TestStrongETag(t *testing.T) {
	for in, want := range map[string]string{
		`"abc"`:       `"abc"`,
		` "abc" `:     `"abc"`,
		`""`:          `""`,
		`W/"abc"`:     "",
		`abc`:         "",
		`"a"b"`:       "",
		`"`:           "",
		"":            "",
		`"a` + "\n\"": "",
	} {
		h := http.Header{}
		if in != "" {
			h.Set("ETag", in)
		}
		if got := strongETag(h); got != want {
			t.Errorf("strongETag(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCheckURL: no URL panics the check, and whatever passes names an
// allowed host with http or https.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://data.example.org/ref.fa", "http://127.0.0.1:8080/x", "http://[::ffff:127.0.0.1]/",
		"https://a.s3.amazonaws.com/k?X-Amz-Signature=1", "file:///etc/passwd", "http://0x7f000001/",
		"https://u:p@data.example.org/", "http://data.example.org:99999/", "http://[fe80::1%25eth0]/",
	} {
		f.Add(s)
	}
	fe, err := New(Config{AllowedHosts: []string{"data.example.org", "*.s3.amazonaws.com", "10.1.2.3:9000"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, tg, err := fe.checkURL(s)
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("%q: scheme %q passed", s, u.Scheme)
		}
		if ok, _ := fe.allowed(tg); !ok {
			t.Fatalf("%q: host %q passed but is not allowed", s, tg.hostport)
		}
		if tg.ip.IsValid() && tg.hostport != "10.1.2.3:9000" && fe.guard.SafeAddr(tg.ip) != nil {
			t.Fatalf("%q: guarded address %v passed", s, tg.ip)
		}
	})
}
