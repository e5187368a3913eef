//go:build wasip1 && nohelpers

package main

import (
	"bufio"

	"github.com/edgenome/edgenome/plugins/guest"
	"github.com/edgenome/edgenome/plugins/samtools"
)

// records is nil without the C module (built without clang-14): View uses
// the Go record path, about 4x slower for whole files.
func records(*guest.Source, *bufio.Writer) samtools.RecordPath { return nil }
