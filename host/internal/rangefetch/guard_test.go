package rangefetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParsePattern(t *testing.T) {
	tests := []struct {
		in   string
		want hostPattern
		bad  bool
	}{
		{in: "example.com", want: hostPattern{host: "example.com"}},
		{in: "Example.COM.", want: hostPattern{host: "example.com"}},
		{in: "example.com:8443", want: hostPattern{host: "example.com", port: "8443"}},
		{in: "example.com:*", want: hostPattern{host: "example.com", port: "*"}},
		{in: "*.s3.amazonaws.com", want: hostPattern{host: ".s3.amazonaws.com", suffix: true}},
		{in: "*", want: hostPattern{any: true}},
		{in: "*:*", want: hostPattern{any: true, port: "*"}},
		{in: "127.0.0.1:8080", want: hostPattern{host: "127.0.0.1", port: "8080"}},
		{in: "[::1]:8080", want: hostPattern{host: "::1", port: "8080"}},
		{in: "[0:0::1]", want: hostPattern{host: "::1"}},
		{in: "", bad: true},
		{in: ":80", bad: true},
		{in: "a.*.com", bad: true},
		{in: "*.", bad: true},
		{in: "**.com", bad: true},
		{in: "::1", bad: true},
		{in: "[::1", bad: true},
		{in: "[nothost]:80", bad: true},
		{in: "host:0", bad: true},
		{in: "host:080", bad: true},
		{in: "host:65536", bad: true},
		{in: "host:x", bad: true},
	}
	for _, tc := range tests {
		got, err := parsePattern(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("parsePattern(%q) error %v, want bad=%v", tc.in, err, tc.bad)
			continue
		}
		if !tc.bad {
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(hostPattern{})); diff != "" {
				t.Errorf("parsePattern(%q) (-want +got):\n%s", tc.in, diff)
			}
		}
	}
}

func TestCheckURL(t *testing.T) {
	f, err := New(Config{AllowedHosts: []string{
		"data.example.org", "*.s3.amazonaws.com", "files.example.net:8443", "192.168.1.10:9000",
	}})
	if err != nil {
		t.Fatal(err)
	}
	any, err := New(Config{AllowedHosts: []string{"*:*"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    *Fetcher
		url  string
		want error
	}{
		{f, "https://data.example.org/ref.fa", nil},
		{f, "http://DATA.example.org./ref.fa", nil},
		{f, "https://data.example.org:443/ref.fa?x=1", nil},
		{f, "https://bucket.s3.amazonaws.com/k", nil},
		{f, "https://a.b.s3.amazonaws.com/k", nil},
		{f, "https://files.example.net:8443/k", nil},
		{f, "http://192.168.1.10:9000/k", nil}, // private, but listed exactly
		{f, "https://s3.amazonaws.com/k", ErrDenied},
		{f, "https://evil-s3.amazonaws.com/k", ErrDenied},
		{f, "https://data.example.org:8080/ref.fa", ErrDenied},
		{f, "https://files.example.net/k", ErrDenied},
		{f, "https://other.example.org/", ErrDenied},
		{f, "https://data.example.org.evil.com/", ErrDenied},
		{f, "file:///etc/passwd", ErrDenied},
		{f, "gopher://data.example.org/", ErrDenied},
		{f, "ftp://data.example.org/", ErrDenied},
		{f, "data:text/plain,hi", ErrDenied},
		{f, "//data.example.org/x", ErrDenied},
		{f, "data.example.org/x", ErrDenied},
		{f, "https://user:pw@data.example.org/", ErrBadURL},
		{f, "https:///nohost", ErrBadURL},
		{f, "https://data.example.org:/x", ErrBadURL},
		{f, "https://data.example.org:0/x", ErrBadURL},
		{f, "http://[::1", ErrBadURL},
		{f, "http://%zz/", ErrBadURL},
		{any, "http://8.8.8.8/x", nil},
		{any, "http://[2606:4700::1111]/x", nil},
		{any, "http://example.com:22/x", nil},
	}
	for _, h := range []string{
		"127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0.0.0.0", "[::]", "[::1]",
		"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "169.254.169.254", "[fd00:ec2::254]", "100.100.100.200",
		"10.0.0.5", "172.16.3.4", "192.168.0.1", "[fe80::1]", "[fe80::1%25eth0]", "224.0.0.1",
		"255.255.255.255", "[ff02::1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "[2001::1]", "[fc00::1]",
		"198.18.0.1", "192.0.0.170",
	} {
		tests = append(tests, struct {
			f    *Fetcher
			url  string
			want error
		}{any, "http://" + h + "/latest/meta-data/", ErrDenied})
	}
	for _, tc := range tests {
		err := tc.f.CheckURL(tc.url)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("CheckURL(%q) = %v, want %v", tc.url, err, tc.want)
		}
	}
}

// The guard acts on the address actually dialled: names that resolve to
// loopback are refused unless listed exactly, and the origin never sees a
// connection.
func TestDialGuard(t *testing.T) {
	data := testData(3*testBlock, 30)
	tests := []struct {
		name    string
		allowed func(o *testOrigin) []string
		url     func(o *testOrigin) string
		want    error
	}{
		{"exact name on loopback is allowed", func(o *testOrigin) []string { return []string{"localtest:" + o.port()} },
			func(o *testOrigin) string { return "http://localtest:" + o.port() + "/x" }, nil},
		{"exact name, any port", func(o *testOrigin) []string { return []string{"localtest:*"} },
			func(o *testOrigin) string { return "http://localtest:" + o.port() + "/x" }, nil},
		{"wildcard name resolving to loopback", func(o *testOrigin) []string { return []string{"*.localtest:*"} },
			func(o *testOrigin) string { return "http://a.localtest:" + o.port() + "/x" }, ErrDenied},
		{"any host resolving to loopback", func(o *testOrigin) []string { return []string{"*:*"} },
			func(o *testOrigin) string { return "http://localtest:" + o.port() + "/x" }, ErrDenied},
		{"any host, loopback literal", func(o *testOrigin) []string { return []string{"*:*"} },
			func(o *testOrigin) string { return o.url("/x") }, ErrDenied},
		{"one public and one loopback record", func(o *testOrigin) []string { return []string{"*:*"} },
			func(o *testOrigin) string { return "http://mixed.example:" + o.port() + "/x" }, ErrDenied},
		{"not listed", func(o *testOrigin) []string { return []string{"other:*"} },
			func(o *testOrigin) string { return "http://localtest:" + o.port() + "/x" }, ErrDenied},
		{"wrong port", func(o *testOrigin) []string { return []string{"localtest:1"} },
			func(o *testOrigin) string { return "http://localtest:" + o.port() + "/x" }, ErrDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, data)
			f := newTestFetcher(t, Config{AllowedHosts: tc.allowed(o)})
			s := f.NewSession(context.Background(), 0)
			defer s.Close()
			_, err := s.Open(context.Background(), tc.url(o), false)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
			if tc.want != nil && o.accepts.Load() != 0 {
				t.Errorf("origin accepted %d connections", o.accepts.Load())
			}
		})
	}
}

func TestRedirectGuard(t *testing.T) {
	data := testData(3*testBlock, 31)
	tests := []struct {
		name    string
		allowed func(a, b *testOrigin) []string
		trusted bool
		to      func(b *testOrigin) string
		want    error
	}{
		{"to an allowed origin", func(a, b *testOrigin) []string { return []string{a.hostport(), b.hostport()} }, false,
			func(b *testOrigin) string { return b.url("/y") }, nil},
		{"to loopback not listed", func(a, b *testOrigin) []string { return []string{a.hostport()} }, false,
			func(b *testOrigin) string { return b.url("/y") }, ErrDenied},
		{"to a wildcard name resolving to loopback", func(a, b *testOrigin) []string { return []string{a.hostport(), "*.localtest:*"} }, false,
			func(b *testOrigin) string { return "http://evil.localtest:" + b.port() + "/y" }, ErrDenied},
		{"to metadata", func(a, b *testOrigin) []string { return []string{a.hostport(), "*:*"} }, false,
			func(b *testOrigin) string { return "http://169.254.169.254/latest/meta-data/" }, ErrDenied},
		{"to another scheme", func(a, b *testOrigin) []string { return []string{a.hostport()} }, false,
			func(b *testOrigin) string { return "file:///etc/passwd" }, ErrDenied},
		{"trusted source, to its own host", func(a, b *testOrigin) []string { return nil }, true,
			func(b *testOrigin) string { return "/x2" }, nil},
		{"trusted source, to loopback not listed", func(a, b *testOrigin) []string { return nil }, true,
			func(b *testOrigin) string { return b.url("/y") }, ErrDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newOrigin(t, data), newOrigin(t, data)
			a.setFault(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
				if r.URL.Path == "/x2" {
					return false
				}
				http.Redirect(w, r, tc.to(b), http.StatusFound)
				return true
			})
			f := newTestFetcher(t, Config{AllowedHosts: tc.allowed(a, b)})
			s := f.NewSession(context.Background(), 0)
			defer s.Close()
			obj, err := s.Open(context.Background(), a.url("/x"), tc.trusted)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if b.accepts.Load() != 0 {
					t.Errorf("redirect target accepted %d connections", b.accepts.Load())
				}
				return
			}
			if got := readAll(t, obj, 1000); string(got) != string(data) {
				t.Error("wrong bytes through the redirect")
			}
		})
	}
}

func TestRedirectHTTPSDowngrade(t *testing.T) {
	data := testData(testBlock, 32)
	b := newOrigin(t, data)
	a := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, b.url("/y"), http.StatusFound)
	}))
	defer a.Close()
	pool := x509.NewCertPool()
	pool.AddCert(a.Certificate())
	f := newTestFetcher(t, Config{
		AllowedHosts:    []string{a.Listener.Addr().String()},
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}, b)
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	if _, err := s.Open(context.Background(), a.URL+"/x", false); !errors.Is(err, ErrDenied) {
		t.Fatalf("Open = %v, want ErrDenied", err)
	}
	if b.accepts.Load() != 0 {
		t.Errorf("http target accepted %d connections", b.accepts.Load())
	}
}

func TestTrustedSourceMayBePrivate(t *testing.T) {
	data := testData(2*testBlock, 33)
	o := newOrigin(t, data)
	f := newTestFetcher(t, Config{})
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	if _, err := s.Open(context.Background(), o.url("/x"), false); !errors.Is(err, ErrDenied) {
		t.Fatalf("untrusted Open = %v, want ErrDenied", err)
	}
	obj, err := s.Open(context.Background(), o.url("/x"), true)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, obj, 1000); string(got) != string(data) {
		t.Error("wrong bytes")
	}
}

// Proxy settings in the environment would hide the destination from the
// guard; the client must ignore them.
func TestProxyEnvironmentIgnored(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	t.Setenv("NO_PROXY", "")
	data := testData(testBlock, 34)
	o := newOrigin(t, data)
	f := newTestFetcher(t, Config{}, o)
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	if _, err := s.Open(context.Background(), o.url("/x"), false); err != nil {
		t.Fatal(err)
	}
	if o.accepts.Load() != 1 {
		t.Errorf("origin accepted %d connections, want 1", o.accepts.Load())
	}
}

// The allowlist is applied to every hop, also to public hosts that the
// address guard alone would let through.
func TestCheckRedirect(t *testing.T) {
	f, err := New(Config{AllowedHosts: []string{"a.example", "b.example"}, MaxRedirects: 2})
	if err != nil {
		t.Fatal(err)
	}
	req := func(ctx context.Context, u string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, u, nil)
		return r.WithContext(ctx)
	}
	bg := context.Background()
	trusted := withTrusted(bg, "ref.internal:9000")
	tests := []struct {
		name string
		to   *http.Request
		via  []string
		want error
	}{
		{"allowed host", req(bg, "https://b.example/x"), []string{"https://a.example/x"}, nil},
		{"host not listed", req(bg, "https://c.example/x"), []string{"https://a.example/x"}, ErrDenied},
		{"port not listed", req(bg, "https://b.example:8443/x"), []string{"https://a.example/x"}, ErrDenied},
		{"downgrade", req(bg, "http://b.example/x"), []string{"https://a.example/x"}, ErrDenied},
		{"http to https", req(bg, "https://b.example/x"), []string{"http://a.example/x"}, nil},
		{"user info", req(bg, "https://u:p@b.example/x"), []string{"https://a.example/x"}, ErrBadURL},
		{"too many hops", req(bg, "https://b.example/x"), []string{"https://a.example/1", "https://a.example/2", "https://a.example/3"}, ErrTooManyRedirects},
		{"trusted source's own host", req(trusted, "http://ref.internal:9000/y"), []string{"http://ref.internal:9000/x"}, nil},
		{"trusted source to another host", req(trusted, "http://other.internal:9000/y"), []string{"http://ref.internal:9000/x"}, ErrDenied},
	}
	for _, tc := range tests {
		var via []*http.Request
		for _, u := range tc.via {
			via = append(via, req(bg, u))
		}
		err := f.checkRedirect(tc.to, via)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: checkRedirect = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDNSTimeout(t *testing.T) {
	o := newOrigin(t, testData(100, 35))
	f := newTestFetcher(t, Config{
		AllowedHosts: []string{"slow.localtest:*"},
		DNSTimeout:   50 * time.Millisecond,
		LookupNetIP: func(ctx context.Context, host string) ([]netip.Addr, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	})
	s := f.NewSession(context.Background(), 0)
	defer s.Close()
	_, err := s.Open(context.Background(), "http://slow.localtest:"+o.port()+"/x", false)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "resolving slow.localtest") {
		t.Fatalf("Open = %v, want ErrTimeout naming the lookup", err)
	}
}
