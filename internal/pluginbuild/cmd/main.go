// Command pluginbuild builds plugins into a registry folder:
//
//	go run ./internal/pluginbuild/cmd -out registry plugins/wgsim plugins/kmer
//	go run ./internal/pluginbuild/cmd -out registry -all plugins
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/edgenome/edgenome/internal/pluginbuild"
)

func main() {
	out := flag.String("out", "registry", "registry folder")
	all := flag.String("all", "", "build every plugin folder under this one")
	flag.Parse()
	var srcs []pluginbuild.Source
	if *all != "" {
		s, err := pluginbuild.Sources(*all)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pluginbuild:", err)
			os.Exit(1)
		}
		srcs = s
	}
	for _, d := range flag.Args() {
		srcs = append(srcs, pluginbuild.Source{Dir: d})
	}
	for _, s := range srcs {
		name, err := pluginbuild.Build(context.Background(), s, *out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pluginbuild:", err)
			os.Exit(1)
		}
		fmt.Printf("built %s/%s\n", *out, name)
	}
}
