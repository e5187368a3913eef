package tests

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCORS(t *testing.T) {
	h := startHost(t, "", testkit)
	req, _ := http.NewRequest(http.MethodOptions, h.base+"/plugin/testkit/echo", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 || resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest(http.MethodGet, h.base+"/plugin/testkit/header?msg=x", nil)
	req.Header.Set("Origin", "https://app.example")
	resp, err = h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") == "" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "*") {
		t.Errorf("CORS headers on GET: %v", resp.Header)
	}

	h = startHost(t, "server: {cors_origins: [\"https://only.example\"]}\n", testkit)
	req, _ = http.NewRequest(http.MethodGet, h.base+"/plugin/testkit/noop", nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err = h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("disallowed origin got Access-Control-Allow-Origin %q", got)
	}
}

func TestMetrics(t *testing.T) {
	h := startHost(t, "", testkit)
	h.get("/plugin/testkit/echo?msg=abc")
	h.get("/plugin/testkit/fail?code=bad_input")
	_, body, _ := h.get("/metrics")
	for _, want := range []string{
		`edgenome_requests_total{code="",export="echo",plugin="testkit",status="200"} 1`,
		`edgenome_requests_total{code="bad_input",export="fail",plugin="testkit",status="400"} 1`,
		`edgenome_response_bytes_total{plugin="testkit"} 3`,
		"edgenome_request_duration_seconds_bucket",
		"edgenome_cache_hits_total", "edgenome_cache_misses_total", "edgenome_origin_bytes_total",
		"edgenome_instances_live", "edgenome_instances_pooled",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestUnknownRoutesAreJSON(t *testing.T) {
	h := startHost(t, "", testkit)
	st, body, hdr := h.get("/nope")
	wantError(t, st, body, hdr, 404, "no_such_route", "")
	req, _ := http.NewRequest(http.MethodDelete, h.base+"/plugin/testkit", nil)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantError(t, resp.StatusCode, string(b), resp.Header, 405, "method_not_allowed", "")
}

// TestShutdownLetsCallsFinish: on shutdown the host stops accepting and a
// running call completes within the grace period.
func TestShutdownLetsCallsFinish(t *testing.T) {
	h := startHost(t, "", testkit)
	done := make(chan string, 1)
	go func() {
		resp, err := h.client.Get(h.base + "/plugin/testkit/stream?n=3&sleep_ms=200")
		if err != nil {
			done <- err.Error()
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			done <- err.Error()
			return
		}
		done <- string(b)
	}()
	time.Sleep(150 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.app.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
	if got := <-done; got != "line\nline\nline\n" {
		t.Errorf("call running at shutdown got %q", got)
	}
	if _, err := h.client.Get(h.base + "/healthz"); err == nil {
		t.Errorf("host still accepts after shutdown")
	}
}
