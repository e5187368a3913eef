package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgenome/edgenome/host/app"
)

// geomean is the geometric mean of durations.
func geomean(ds []time.Duration) time.Duration {
	l := 0.0
	for _, d := range ds {
		l += math.Log(float64(d))
	}
	return time.Duration(math.Exp(l / float64(len(ds))))
}

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
	// A loop's speed depends on where its machine code lands, by up to
	// 1.4x for the test loops, instrumented or not (see padding in
	// env.go). So every workload runs at several placements: the plugin as
	// built, and built with padding code before its own. Rows show
	// geometric means; the per-placement ratios follow the table. Padding
	// moves the Go main module only: samtools' C record path (a helper
	// module) stays where it is.
	placements := 4
	if e.quick {
		placements = 2
	}
	work := []struct {
		name, plugin, path string // path: {p} is the plugin's registry name
		body               []byte
	}{
		{"tight loop (LCG, Go)", "tests/plugins/testkit", fmt.Sprintf("/plugin/{p}/lcg?n=%d", 200_000_000/scale), nil},
		{"byte loop (Go)", "tests/plugins/testkit", fmt.Sprintf("/plugin/{p}/bytesum?n=%d", 200/scale), nil},
		{"wgsim 200k pairs", "plugins/wgsim", fmt.Sprintf("/plugin/{p}?ref=abacas&n=%d&seed=3", 200_000/scale), nil},
		{"kmer histo k=21", "plugins/kmer", "/plugin/{p}/histo?ref=abacas&k=21", nil},
		{"samtools view", "plugins/samtools", "/plugin/{p}/view?bam=" + origin.URL + "/sim.bam", nil},
		{"fastqc fqchk (gzip body)", "plugins/fastqc", "/plugin/{p}?format=fqchk", reads},
	}
	cfg := fmt.Sprintf("references: [{name: abacas, fasta: %q}]\nfetch: {allowed_hosts: [%q]}\nlimits: {default: {timeout: 600s, max_output: 8GiB%%s}, plugins: {testkit: {timeout: 600s}}}\n",
		fa, strings.TrimPrefix(origin.URL, "http://"))
	base := []string{"tests/plugins/testkit", "plugins/wgsim", "plugins/kmer", "plugins/samtools", "plugins/fastqc"}
	// variant is the source of plugin at placement v (env.plugin builds
	// "#padN" with padding).
	variant := func(plugin string, v int) string {
		if v == 0 {
			return plugin
		}
		return fmt.Sprintf("%s#pad%d", plugin, v)
	}
	var placed []string
	for _, p := range base {
		for v := range placements {
			placed = append(placed, variant(p, v))
		}
	}
	// at is w's path at placement v, with the name the hosts serve it under.
	at := func(path, plugin string, v int) string {
		_, name, _ := e.plugin(variant(plugin, v)) // built when the hosts started
		return strings.Replace(path, "{p}", name, 1)
	}
	modes := []struct {
		name    string
		opt     app.Options
		cfg     string
		plugins []string
	}{
		{"none", app.Options{UnsafeNoPreemption: true}, "", placed},
		{"instrument", app.Options{}, "", placed},
		{"wazero", app.Options{}, ", preempt: wazero", base}, // measured as built only
	}
	// All three hosts run at once and the two fast modes alternate call by
	// call, in ABBA order, so that drift in the machine's speed (it is a
	// shared VM: the same call varied 1.5x between runs minutes apart)
	// falls on both alike; the figure is each mode's best run.
	hosts := map[string]*host{}
	for _, m := range modes {
		h, err := e.startHostWith(m.opt, fmt.Sprintf(cfg, m.cfg), m.plugins...)
		if err != nil {
			return err
		}
		defer h.close()
		hosts[m.name] = h
	}
	// times[mode][workload][placement] is the best run.
	times := map[string]map[string][]time.Duration{}
	for _, m := range modes {
		times[m.name] = map[string][]time.Duration{}
	}
	rounds := 5 // at each placement
	if e.quick {
		rounds = 3
	}
	for _, w := range work {
		for _, m := range modes {
			times[m.name][w.name] = make([]time.Duration, placements)
		}
		run := func(mode string, v int) error {
			d, err := timed(1, func() error {
				if w.body != nil {
					return post(hosts[mode].base+at(w.path, w.plugin, v), w.body)
				}
				_, err := get(hosts[mode].base + at(w.path, w.plugin, v))
				return err
			})
			if err != nil {
				return fmt.Errorf("%s in mode %s: %w", w.name, mode, err)
			}
			if old := times[mode][w.name][v]; old == 0 || d < old {
				times[mode][w.name][v] = d
			}
			return nil
		}
		for v := range placements {
			for i := range rounds + 1 { // the first round warms up
				order := []string{"none", "instrument"}
				if i%2 == 1 {
					order[0], order[1] = order[1], order[0]
				}
				for _, mode := range order {
					if err := run(mode, v); err != nil {
						return err
					}
					if i == 0 {
						times[mode][w.name][v] = 0
					}
				}
			}
		}
		if err := run("wazero", 0); err != nil { // slow enough that one run says all
			return err
		}
	}
	fmt.Printf("Run time of one call over HTTP (best of %d, the two first modes alternating; wazero mode: 1 run) with each way of making plugins stoppable.\n", rounds)
	fmt.Println()
	fmt.Println("| workload | no preemption (unsafe) | instrument (default) | ratio | wazero WithCloseOnContextDone | ratio | target |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var notes []string
	for _, w := range work {
		none, ins := geomean(times["none"][w.name]), geomean(times["instrument"][w.name])
		wz := times["wazero"][w.name][0]
		var rs []string
		for v := range placements {
			rs = append(rs, fmt.Sprintf("%.2f", times["instrument"][w.name][v].Seconds()/times["none"][w.name][v].Seconds()))
		}
		notes = append(notes, fmt.Sprintf("%s: %s.", w.name, strings.Join(rs, ", ")))
		name := w.name
		fmt.Printf("| %s | %s | %s | %.2f | %s | %.2f | instrument <= 1.15 |\n", name, ms(none), ms(ins),
			ins.Seconds()/none.Seconds(), ms(wz), wz.Seconds()/times["none"][w.name][0].Seconds())
	}
	fmt.Println()
	fmt.Printf("No preemption and instrument: geometric means over %d placements of each plugin's code, the plugin as built and built with padding code before its own (bench/env.go, padding), since a loop's speed depends on where its machine code lands; the wazero column is the plugin as built. Instrument/none at each placement, as built first:\n", placements)
	fmt.Println()
	for _, n := range notes {
		fmt.Println("- " + n)
	}
	fmt.Println()
	return nil
}
