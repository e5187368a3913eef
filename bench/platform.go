package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// benchPlatform: a no-op plugin's latency and throughput, fresh instances
// (the default) vs reuse, at concurrency 1 and 32.
func benchPlatform(ctx context.Context, e *env) error {
	n1, n32 := 2000, 6000
	if e.quick {
		n1, n32 = 200, 600
	}
	fmt.Println("A no-op plugin call over HTTP (keep-alive client on loopback).")
	fmt.Println()
	fmt.Println("| instances | concurrency | requests | p50 | p99 | requests/s | target |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, mode := range []struct {
		name, cfg, target string
	}{
		{"fresh", "limits: {plugins: {testkit: {concurrency: 32, warm: 8}}}\n", "p50 < 3 ms"},
		{"reuse", "limits: {plugins: {testkit: {concurrency: 32, warm: 8, reuse: true}}}\n", "p50 < 1 ms, >= 3000 req/s"},
	} {
		h, err := e.startHost(mode.cfg, "tests/plugins/testkit")
		if err != nil {
			return err
		}
		url := h.base + "/plugin/testkit/noop"
		load(url, 4, 200) // warm up connections and the pool
		for _, c := range []int{1, 32} {
			n := n1
			if c > 1 {
				n = n32
			}
			lat, took, err := load(url, c, n)
			if err != nil {
				h.close()
				return err
			}
			fmt.Printf("| %s | %d | %d | %s | %s | %.0f | %s |\n", mode.name, c, n,
				ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)), float64(n)/took.Seconds(), mode.target)
		}
		h.close()
	}
	fmt.Println()
	return nil
}

// benchCache: a 64 KiB read through a plugin, served from the block cache
// vs fetched from a local origin; and a repeated request's origin bytes.
func benchCache(ctx context.Context, e *env) error {
	data := []byte(strings.Repeat("ACGTTGCA", 8<<20)) // 64 MiB object
	var fetched int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		http.ServeContent(cw, r, "obj", time.Unix(1700000000, 0), strings.NewReader(string(data)))
		fetched += cw.n
	}))
	defer origin.Close()
	host := strings.TrimPrefix(origin.URL, "http://")
	h, err := e.startHost(fmt.Sprintf("fetch: {allowed_hosts: [%q]}\nlimits: {plugins: {testkit: {reuse: true}}}\n", host), "tests/plugins/testkit")
	if err != nil {
		return err
	}
	defer h.close()
	n := 200
	if e.quick {
		n = 40
	}
	// Misses: each request reads 64 KiB at a new offset (a new block).
	var miss, hit []time.Duration
	for i := range n {
		url := fmt.Sprintf("%s/plugin/testkit/rangeread?n=65536&url=%s/obj%%3Fpart%%3D%d", h.base, origin.URL, i)
		t := time.Now()
		if _, err := get(url); err != nil {
			return err
		}
		miss = append(miss, time.Since(t))
	}
	before := fetched
	for i := range n {
		url := fmt.Sprintf("%s/plugin/testkit/rangeread?n=65536&url=%s/obj%%3Fpart%%3D%d", h.base, origin.URL, i)
		t := time.Now()
		if _, err := get(url); err != nil {
			return err
		}
		hit = append(hit, time.Since(t))
	}
	again := fetched - before
	fmt.Println("A request that reads 64 KiB of a 64 MiB object on a local origin (whole request, plugin included).")
	fmt.Println()
	fmt.Println("| | p50 | p99 |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| cache miss (block fetched from the origin) | %s | %s |\n", ms(percentile(miss, 0.5)), ms(percentile(miss, 0.99)))
	fmt.Printf("| cache hit | %s | %s |\n", ms(percentile(hit, 0.5)), ms(percentile(hit, 0.99)))
	fmt.Println()
	fmt.Printf("Bytes fetched from the origin by %d repeated requests: %d (target 0).\n\n", n, again)
	if again != 0 {
		return fmt.Errorf("repeated requests fetched %d bytes from the origin", again)
	}
	return nil
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.ResponseWriter.Write(p)
}
