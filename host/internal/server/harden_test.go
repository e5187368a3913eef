package server

import (
	"testing"
	"time"

	"github.com/edgenome/edgenome/host/config"
	"github.com/prometheus/client_golang/prometheus"
)

func TestRateLimiterBuckets(t *testing.T) {
	l := newRateLimiter(config.RateLimit{RequestsPerSecond: 2, Burst: 3}, prometheus.NewCounter(prometheus.CounterOpts{Name: "x"}))
	now := time.Unix(1000, 0)
	for i := range 3 {
		if d := l.wait("a", now); d != 0 {
			t.Fatalf("request %d within the burst waits %v", i+1, d)
		}
	}
	d := l.wait("a", now)
	if d <= 0 || d > 500*time.Millisecond {
		t.Errorf("past the burst: wait %v, want (0, 500ms] at 2/s", d)
	}
	// A refused request is not charged: hammering does not push the client
	// further out.
	for range 10 {
		l.wait("a", now)
	}
	if d := l.wait("a", now.Add(500*time.Millisecond)); d != 0 {
		t.Errorf("after 500 ms at 2/s the client waits %v; refused requests were charged", d)
	}
	if d := l.wait("b", now); d != 0 {
		t.Errorf("another client shares a's bucket: wait %v", d)
	}
	// Silent clients are forgotten.
	l.wait("c", now.Add(10*time.Minute))
	if _, ok := l.clients["a"]; ok {
		t.Errorf("client idle for 10 minutes still tracked")
	}
}
