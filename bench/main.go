// Command bench measures edgenome against itself and against the native
// tools, in one run on this machine, and prints the figures as tables
// (`make bench`). Ratios are always taken against a native run measured in
// the same invocation.
//
//	go run ./bench [-only platform,wgsim,...] [-quick]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"
)

type suite struct {
	name string
	run  func(ctx context.Context, env *env) error
}

var suites = []suite{
	{"platform", benchPlatform},
	{"cache", benchCache},
	{"wgsim", benchWgsim},
	{"chromosome", benchChromosome},
	{"kmer", benchKmer},
	{"fastqc", benchFastqc},
	{"samtools", benchSamtools},
	{"preempt", benchPreempt},
}

func main() {
	only := flag.String("only", "", "comma-separated suites to run (default all)")
	quick := flag.Bool("quick", false, "smaller workloads (a smoke test of the benchmark itself)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (host included) to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	e, err := newEnv(*quick)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	defer e.close()
	fmt.Printf("# edgenome benchmark, %s, %s\n\n", time.Now().UTC().Format(time.RFC3339), e.machine())
	failed := false
	for _, s := range suites {
		if *only != "" && !strings.Contains(","+*only+",", ","+s.name+",") {
			continue
		}
		fmt.Printf("## %s\n\n", s.name)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		err := s.run(ctx, e)
		cancel()
		if err != nil {
			fmt.Printf("FAILED: %v\n\n", err)
			failed = true
		}
	}
	if failed {
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
