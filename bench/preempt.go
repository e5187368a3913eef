package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgenome/edgenome/host/app"
)

// benchPreempt: what making plugins stoppable costs. Each workload runs
// with the module rewriting of host/internal/preempt (the default), with no
// preemption at all (unsafe: benchmarks only), and with wazero's
// WithCloseOnContextDone (preempt: wazero).
func benchPreempt(ctx context.Context, e *env) error {
	fa, err := e.abacas()
	if err != nil {
		return err
	}
	bam, err := e.simBAM(map[bool]int{true: 40_000, false: 460_000}[e.quick])
	if err != nil {
		return err
	}
	origin := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(bam))))
	defer origin.Close()
	scale := 1
	if e.quick {
		scale = 10
	}
	gz, err := e.data("gasic-examples", "usr/share/doc/gasic/examples/reads/SRR059298_subset.fastq.gz")
	if err != nil {
		return err
	}
	reads, err := os.ReadFile(gz)
	if err != nil {
		return err
	}
	work := []struct {
		name, plugin, path string
		body               []byte
	}{
		{"tight loop (LCG, Go)", "tests/plugins/testkit", fmt.Sprintf("/plugin/testkit/lcg?n=%d", 200_000_000/scale), nil},
		{"byte loop (Go)", "tests/plugins/testkit", fmt.Sprintf("/plugin/testkit/bytesum?n=%d", 200/scale), nil},
		{"wgsim 200k pairs", "plugins/wgsim", fmt.Sprintf("/plugin/wgsim?ref=abacas&n=%d&seed=3", 200_000/scale), nil},
		{"kmer histo k=21", "plugins/kmer", "/plugin/kmer/histo?ref=abacas&k=21", nil},
		{"samtools view", "plugins/samtools", "/plugin/samtools/view?bam=" + origin.URL + "/sim.bam", nil},
		{"fastqc fqchk (gzip body)", "plugins/fastqc", "/plugin/fastqc?format=fqchk", reads},
	}
	cfg := fmt.Sprintf("references: [{name: abacas, fasta: %q}]\nfetch: {allowed_hosts: [%q]}\nlimits: {default: {timeout: 600s, max_output: 8GiB%%s}, plugins: {testkit: {timeout: 600s}}}\n",
		fa, strings.TrimPrefix(origin.URL, "http://"))
	plugins := []string{"tests/plugins/testkit", "plugins/wgsim", "plugins/kmer", "plugins/samtools", "plugins/fastqc"}
	modes := []struct {
		name string
		opt  app.Options
		cfg  string
	}{
		{"none", app.Options{UnsafeNoPreemption: true}, ""},
		{"instrument", app.Options{}, ""},
		{"wazero", app.Options{}, ", preempt: wazero"},
	}
	// All three hosts run at once and the two fast modes alternate call by
	// call, in ABBA order, so that drift in the machine's speed (it is a
	// shared VM: the same call varied 1.5x between runs minutes apart)
	// falls on both alike; the figure is each mode's best run.
	hosts := map[string]*host{}
	for _, m := range modes {
		h, err := e.startHostWith(m.opt, fmt.Sprintf(cfg, m.cfg), plugins...)
		if err != nil {
			return err
		}
		defer h.close()
		hosts[m.name] = h
	}
	times := map[string]map[string]time.Duration{}
	for _, m := range modes {
		times[m.name] = map[string]time.Duration{}
	}
	rounds := 9
	if e.quick {
		rounds = 3
	}
	for _, w := range work {
		run := func(mode string) error {
			d, err := timed(1, func() error {
				if w.body != nil {
					return post(hosts[mode].base+w.path, w.body)
				}
				_, err := get(hosts[mode].base + w.path)
				return err
			})
			if err != nil {
				return fmt.Errorf("%s in mode %s: %w", w.name, mode, err)
			}
			if old, ok := times[mode][w.name]; !ok || d < old {
				times[mode][w.name] = d
			}
			return nil
		}
		for i := range rounds + 1 { // the first round warms up
			order := []string{"none", "instrument"}
			if i%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, mode := range order {
				if err := run(mode); err != nil {
					return err
				}
				if i == 0 {
					delete(times[mode], w.name)
				}
			}
		}
		if err := run("wazero"); err != nil { // slow enough that one run says all
			return err
		}
	}
	fmt.Printf("Run time of one call over HTTP (best of %d, the two first modes alternating; wazero mode: 1 run) with each way of making plugins stoppable.\n", rounds)
	fmt.Println()
	fmt.Println("| workload | no preemption (unsafe) | instrument (default) | ratio | wazero WithCloseOnContextDone | ratio | target |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, w := range work {
		none, ins, wz := times["none"][w.name], times["instrument"][w.name], times["wazero"][w.name]
		fmt.Printf("| %s | %s | %s | %.2f | %s | %.2f | instrument <= 1.15 |\n", w.name, ms(none), ms(ins),
			ins.Seconds()/none.Seconds(), ms(wz), wz.Seconds()/none.Seconds())
	}
	fmt.Println()
	return nil
}
