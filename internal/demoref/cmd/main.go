// Command demoref writes the demo reference: go run ./internal/demoref/cmd DIR
package main

import (
	"fmt"
	"os"

	"github.com/edgenome/edgenome/internal/demoref"
)

func main() {
	dir := "data"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := demoref.Write(dir); err != nil {
		fmt.Fprintln(os.Stderr, "demoref:", err)
		os.Exit(1)
	}
}
