package tests

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

const fastqcPlugin = "plugins/fastqc"

// TestConformanceFastqcHTTP: format=fqchk over HTTP equals native seqtk
// fqchk, for a gzip body (decoded by the host), a plain body and a URL.
func TestConformanceFastqcHTTP(t *testing.T) {
	gz := testenv.File(t, "gasic-examples", "usr/share/doc/gasic/examples/reads/SRR059298_subset.fastq.gz")
	seqtk := testenv.Tool(t, "seqtk")
	plain := filepath.Join(t.TempDir(), "reads.fq")
	data := testenv.Gunzip(t, gz, plain)
	gzData, _ := os.ReadFile(gz)
	o := newOriginHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "r", fixedTime, bytes.NewReader(gzData))
	}))
	h := startHost(t, fmt.Sprintf("fetch: {allowed_hosts: [%q]}\n", strings.TrimPrefix(o.URL, "http://")), fastqcPlugin)
	for _, q := range []int{20, 0, 30} {
		want, err := exec.Command(seqtk, "fqchk", "-q", fmt.Sprint(q), plain).Output()
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/plugin/fastqc?format=fqchk&quality_threshold=%d", q)
		st, got, _ := h.post(path, "application/gzip", bytes.NewReader(gzData))
		if st != 200 || got != string(want) {
			t.Errorf("q=%d gzip body: %d, %s", q, st, testenv.FirstDiff(string(want), got))
		}
		st, got, _ = h.post(path, "text/plain", bytes.NewReader(data))
		if st != 200 || got != string(want) {
			t.Errorf("q=%d plain body: %d, %s", q, st, testenv.FirstDiff(string(want), got))
		}
		st, got, _ = h.get(path + "&fastq=" + o.URL + "/reads.fq.gz")
		if st != 200 || got != string(want) {
			t.Errorf("q=%d URL: %d, %s", q, st, testenv.FirstDiff(string(want), got))
		}
	}
}

// TestFastqcChunksMergeExactly: the page's strategy (split at record
// boundaries, QC each chunk, merge) gives exactly the whole file's result.
func TestFastqcChunksMergeExactly(t *testing.T) {
	gz := testenv.File(t, "gasic-examples", "usr/share/doc/gasic/examples/reads/SRR059298_subset.fastq.gz")
	data := testenv.Gunzip(t, gz, filepath.Join(t.TempDir(), "r.fq"))
	h := startHost(t, "", fastqcPlugin)
	_, whole, _ := h.post("/plugin/fastqc", "text/plain", bytes.NewReader(data))
	lines := bytes.SplitAfter(data, []byte("\n"))
	for _, parts := range []int{2, 7, 31} {
		var results []json.RawMessage
		per := (len(lines)/4 + parts - 1) / parts * 4
		for i := 0; i < len(lines); i += per {
			chunk := bytes.Join(lines[i:min(i+per, len(lines))], nil)
			if len(bytes.TrimSpace(chunk)) == 0 {
				continue
			}
			st, body, _ := h.post("/plugin/fastqc", "text/plain", bytes.NewReader(chunk))
			if st != 200 {
				t.Fatalf("chunk: %d %.200s", st, body)
			}
			results = append(results, json.RawMessage(body))
		}
		arr, _ := json.Marshal(results)
		st, merged, _ := h.post("/plugin/fastqc/merge", "application/json", bytes.NewReader(arr))
		if st != 200 || merged != whole {
			t.Errorf("%d chunks merged: %d, %s", parts, st, testenv.FirstDiff(whole, merged))
		}
	}
}

func TestFastqcBadInput(t *testing.T) {
	h := startHost(t, "", fastqcPlugin)
	var trunc bytes.Buffer
	zw := gzip.NewWriter(&trunc)
	zw.Write(bytes.Repeat([]byte("@r\nACGT\n+\nIIII\n"), 20000))
	zw.Close()
	cases := []struct {
		name, body, msg string
	}{
		{"FASTA", ">s\nACGT\n", "FASTA"},
		{"empty", "", "empty"},
		{"binary", "\x00\x01\x02\x03", ""},
		{"truncated record", "@r1\nACGT\n+\nIIII\n@r2\nAC\n", "record 2"},
		{"length mismatch", "@r1\nACGT\n+\nIII\n", "record 1"},
		{"quality out of range", "@r1\nACGT\n+\nII\x7fI\n", "record 1"},
		{"truncated gzip", trunc.String()[:trunc.Len()/2], "gzip"},
	}
	for _, c := range cases {
		st, body, hdr := h.post("/plugin/fastqc", "application/octet-stream", strings.NewReader(c.body))
		t.Run(c.name, func(t *testing.T) { wantError(t, st, body, hdr, 400, "bad_input", c.msg) })
	}
	st, body, hdr := h.post("/plugin/fastqc/merge", "application/json", strings.NewReader(`[{"reads": -1}]`))
	wantError(t, st, body, hdr, 400, "bad_input", "")
}
