package config

import (
	"strings"
	"testing"
)

func TestServerHardeningKeys(t *testing.T) {
	c, err := Parse(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.MaxBody != 1<<30 || c.Server.RateLimit.RequestsPerSecond != 0 || len(c.Server.TrustedProxies) != 0 {
		t.Errorf("defaults: max_body %v, rate_limit %+v, trusted_proxies %v", c.Server.MaxBody, c.Server.RateLimit, c.Server.TrustedProxies)
	}
	c, err = Parse([]byte("server: {rate_limit: {requests_per_second: 2.5}, trusted_proxies: [10.0.0.0/8, 192.0.2.7, \"::1\"], max_body: 4MiB}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.RateLimit.Burst != 5 || c.Server.MaxBody != 4<<20 {
		t.Errorf("burst %d (want 2 x rate = 5), max_body %v", c.Server.RateLimit.Burst, c.Server.MaxBody)
	}
	for _, bad := range []struct{ yaml, msg string }{
		{"server: {trusted_proxies: [lb.internal]}", "trusted_proxies[0]"},
		{"server: {trusted_proxies: [10.0.0.0/33]}", "trusted_proxies[0]"},
		{"server: {rate_limit: {requests_per_second: -1}}", "rate_limit"},
		{"server: {rate_limit: {rps: 5}}", "rps"},
	} {
		if _, err := Parse([]byte(bad.yaml), ""); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s: err = %v, want one naming %s", bad.yaml, err, bad.msg)
		}
	}
	for in, want := range map[string]string{"10.1.2.3/8": "10.0.0.0/8", "192.0.2.7": "192.0.2.7/32", "::ffff:192.0.2.7": "192.0.2.7/32"} {
		if p, err := ParseCIDR(in); err != nil || p.String() != want {
			t.Errorf("ParseCIDR(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
}
