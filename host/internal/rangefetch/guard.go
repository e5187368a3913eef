package rangefetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"code.dny.dev/ssrf"
)

// hostPattern is one parsed Config.AllowedHosts entry.
type hostPattern struct {
	host   string // exact host, or the suffix ".example.com" when wildcard
	any    bool   // "*": every host
	suffix bool   // "*.example.com": every subdomain
	port   string // "" for 80 and 443, "*" for any, else one port
}

func parsePattern(s string) (hostPattern, error) {
	var p hostPattern
	s = strings.ToLower(strings.TrimSpace(s))
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return p, fmt.Errorf("allowed host %q: missing ]", s)
		}
		host, port = s[1:i], s[i+1:]
		if port != "" {
			if port[0] != ':' {
				return p, fmt.Errorf("allowed host %q: junk after ]", s)
			}
			port = port[1:]
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return p, fmt.Errorf("allowed host %q: bad IPv6 literal", s)
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if strings.Count(s, ":") > 1 {
			return p, fmt.Errorf("allowed host %q: write IPv6 literals in brackets", s)
		}
		host, port = s[:i], s[i+1:]
	}
	if port != "" && port != "*" {
		if _, err := parsePort(port); err != nil {
			return p, fmt.Errorf("allowed host %q: %v", s, err)
		}
	}
	p.port = port
	if host != "*." {
		host = strings.TrimSuffix(host, ".")
	}
	switch {
	case host == "":
		return p, fmt.Errorf("allowed host %q: empty host", s)
	case host == "*":
		p.any = true
	case strings.HasPrefix(host, "*."):
		p.suffix, p.host = true, host[1:]
		if strings.Contains(p.host, "*") || len(p.host) < 2 || strings.HasSuffix(p.host, "..") {
			return p, fmt.Errorf("allowed host %q: only a leading \"*.\" wildcard is supported", s)
		}
	case strings.Contains(host, "*"):
		return p, fmt.Errorf("allowed host %q: only a leading \"*.\" wildcard is supported", s)
	default:
		if a, err := netip.ParseAddr(host); err == nil {
			host = a.String()
		}
		p.host = host
	}
	return p, nil
}

func (p hostPattern) explicit() bool { return !p.any && !p.suffix }

func (p hostPattern) match(host, port string) bool {
	switch p.port {
	case "*":
	case "":
		if port != "80" && port != "443" {
			return false
		}
	default:
		if port != p.port {
			return false
		}
	}
	switch {
	case p.any:
		return true
	case p.suffix:
		return strings.HasSuffix(host, p.host) && len(host) > len(p.host)
	default:
		return host == p.host
	}
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || s[0] == '0' || s[0] == '+' {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return n, nil
}

// target is the normalised origin of a URL.
type target struct {
	host     string // lower case, no trailing dot; canonical form for IP literals
	port     string // always set (scheme default filled in)
	hostport string // net.JoinHostPort(host, port)
	ip       netip.Addr
}

// parseTarget checks the parts of a URL that do not depend on policy.
func parseTarget(u *url.URL) (target, error) {
	var t target
	if u.Scheme != "http" && u.Scheme != "https" {
		return t, fmt.Errorf("%w: scheme %q (only http and https)", ErrDenied, u.Scheme)
	}
	if u.User != nil {
		return t, fmt.Errorf("%w: user info in URLs is not accepted", ErrBadURL)
	}
	if u.Opaque != "" {
		return t, fmt.Errorf("%w: opaque URL", ErrBadURL)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return t, fmt.Errorf("%w: no host", ErrBadURL)
	}
	port := u.Port()
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return t, fmt.Errorf("%w: empty port", ErrBadURL)
		}
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	} else if _, err := parsePort(port); err != nil {
		return t, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return t, fmt.Errorf("%w: IPv6 zones are not accepted", ErrDenied)
		}
		t.ip = a
		host = a.String()
	} else if numericHost(host) {
		// WHATWG parsers and some resolvers read "127.1" or "0x7f000001" as
		// IPv4; refuse them rather than guess what the resolver will do.
		return t, fmt.Errorf("%w: numeric host name %q is not a valid IP address", ErrDenied, host)
	}
	t.host, t.port = host, port
	t.hostport = net.JoinHostPort(host, port)
	return t, nil
}

func numericHost(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if strings.HasPrefix(last, "0x") {
		return true
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return last != ""
}

// allowed reports whether untrusted code may reach t, and whether t is
// listed explicitly (which lifts the address guard for it).
func (f *Fetcher) allowed(t target) (ok, explicit bool) {
	for _, p := range f.patterns {
		if p.match(t.host, t.port) {
			ok = true
			if p.explicit() {
				explicit = true
			}
		}
	}
	return ok, explicit
}

// CheckURL validates an untrusted URL without any network access: scheme
// http or https, no user info, host and port allowed by Config.AllowedHosts,
// and an IP-literal host outside the guarded ranges unless listed exactly.
// It returns an error wrapping ErrBadURL or ErrDenied.
func (f *Fetcher) CheckURL(raw string) error {
	_, _, err := f.checkURL(raw)
	return err
}

func (f *Fetcher) checkURL(raw string) (*url.URL, target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, target{}, fmt.Errorf("%w: %q: %v", ErrBadURL, raw, errors.Unwrap(err))
	}
	t, err := parseTarget(u)
	if err != nil {
		return nil, t, fmt.Errorf("%s: %w", redact(u), err)
	}
	ok, explicit := f.allowed(t)
	if !ok {
		return nil, t, fmt.Errorf("%s: %w: host %s is not in fetch.allowed_hosts", redact(u), ErrDenied, t.hostport)
	}
	if t.ip.IsValid() && !explicit {
		if err := f.guard.SafeAddr(t.ip); err != nil {
			return nil, t, fmt.Errorf("%s: %w: address %s is private or reserved", redact(u), ErrDenied, t.ip)
		}
	}
	return u, t, nil
}

// policyKey carries, in a request context, the host:port of a trusted
// source, which may be dialled even on a private address.
type policyKey struct{}

func withTrusted(ctx context.Context, hostport string) context.Context {
	return context.WithValue(ctx, policyKey{}, hostport)
}

func trustedHost(ctx context.Context) string {
	s, _ := ctx.Value(policyKey{}).(string)
	return s
}

// checkRedirect re-applies the policy to every hop: scheme, no downgrade
// from https, host allowed (or the trusted source's own host), hop count.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.cfg.MaxRedirects {
		return fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, f.cfg.MaxRedirects)
	}
	t, err := parseTarget(req.URL)
	if err != nil {
		return fmt.Errorf("redirect to %s: %w", redact(req.URL), err)
	}
	if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme == "http" {
		return fmt.Errorf("%w: redirect from https to http %s", ErrDenied, redact(req.URL))
	}
	explicit := t.hostport == trustedHost(req.Context())
	if !explicit {
		var ok bool
		ok, explicit = f.allowed(t)
		if !ok {
			return fmt.Errorf("%w: redirect to %s: host %s is not in fetch.allowed_hosts", ErrDenied, redact(req.URL), t.hostport)
		}
	}
	if t.ip.IsValid() && !explicit {
		if err := f.guard.SafeAddr(t.ip); err != nil {
			return fmt.Errorf("%w: redirect to %s: address %s is private or reserved", ErrDenied, redact(req.URL), t.ip)
		}
	}
	return nil
}

// dialContext resolves the host itself and dials the checked addresses as
// literals, so the address checked is the address connected to. A name
// with any guarded address fails closed.
func (f *Fetcher) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	hostport := net.JoinHostPort(host, port)
	explicit := hostport == trustedHost(ctx)
	if !explicit {
		_, explicit = f.allowed(target{host: host, port: port})
	}
	var ips []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{a}
	} else {
		lctx, cancel := context.WithTimeout(ctx, f.cfg.DNSTimeout)
		ips, err = f.lookup(lctx, host)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", host, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("resolving %s: no addresses", host)
		}
	}
	if !explicit {
		for _, ip := range ips {
			if err := f.guard.SafeAddr(ip); err != nil {
				return nil, fmt.Errorf("%w: %s resolves to %s, a private or reserved address", ErrDenied, host, ip)
			}
		}
	}
	d := net.Dialer{Timeout: f.cfg.Timeout, Control: f.control(explicit)}
	var last error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		if errors.Is(err, ErrDenied) || ctx.Err() != nil {
			return nil, err
		}
		last = err
	}
	return nil, last
}

// control re-checks the socket address just before connect(2).
func (f *Fetcher) control(explicit bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		if network != "tcp4" && network != "tcp6" {
			return fmt.Errorf("%w: network %s", ErrDenied, network)
		}
		if explicit {
			return nil
		}
		if err := f.guard.Safe(network, address, c); err != nil {
			return fmt.Errorf("%w: %v", ErrDenied, err)
		}
		return nil
	}
}

func defaultLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

func newGuard() *ssrf.Guardian {
	// Ports are policed by the allowlist, so the guard only judges addresses.
	return ssrf.New(ssrf.WithAnyPort())
}

// redact names a URL for error messages without its query, which may hold
// signatures (presigned URLs).
func redact(u *url.URL) string {
	v := *u
	v.User = nil
	v.Fragment = ""
	if v.RawQuery != "" {
		v.RawQuery = ""
		return v.String() + "?..."
	}
	return v.String()
}
