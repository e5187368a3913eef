package registry

import (
	"strings"
	"testing"
)

const sha = "0000000000000000000000000000000000000000000000000000000000000000"

func TestParseManifest(t *testing.T) {
	good := `name: wgsim
version: 1.0.0
abi: 1
summary: reads
sha256: ` + sha + `
limits: {timeout: 120s}
exports:
  - name: simulate
    content_type: text/x-fastq
    params:
      - {name: n, type: int, default: 1000, min: 1, max: 1000000}
      - {name: error, type: float, default: 0.02, min: 0, max: 1}
      - {name: output, type: enum, values: [interleaved, read1], default: interleaved}
      - {name: region, type: region, repeatable: true}
  - name: mutations
    default: true
`
	m, err := ParseManifest([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	withHelper := strings.Replace(good, "limits: {timeout: 120s}", "modules:\n  - {name: samfmt, wasm: samfmt.wasm, sha256: "+sha+"}", 1)
	if h, err := ParseManifest([]byte(withHelper)); err != nil || len(h.Modules) != 1 || h.Modules[0].Name != "samfmt" {
		t.Errorf("helper module: %v %+v", err, h)
	}
	if e, _ := m.Export(""); e.Name != "mutations" {
		t.Errorf("default export = %s", e.Name)
	}
	if e, _ := m.Export("mutations"); e.ContentType != "application/octet-stream" {
		t.Errorf("default content type = %q", e.ContentType)
	}
	if _, ok := m.Export("nope"); ok {
		t.Error("unknown export found")
	}
	if m.Limits.Timeout.D().Seconds() != 120 {
		t.Errorf("limits not parsed: %+v", m.Limits)
	}

	bad := []struct{ edit, repl, msg string }{
		{"name: wgsim", "name: WGSIM", "name:"},
		{"abi: 1", "abi: 2", "built for ABI 2"},
		{"sha256: " + sha, "sha256: abc", "sha256: required"},
		{"summary: reads", "summary: reads\ncolour: red", "colour"},
		{"type: int, default: 1000", "type: int, default: ten", "default: ten is not an integer"},
		{"default: 1000, min: 1", "default: 0, min: 1", "below min"},
		{"type: enum, values: [interleaved, read1], default: interleaved", "type: enum, values: [a], default: b", "not one of"},
		{"type: region", "type: chromosome", "not one of"},
		{"name: mutations", "name: simulate", "declared twice"},
		{"  - name: mutations\n    default: true", "  - name: mutations\n    default: true\n  - name: other\n    default: true", "more than one"},
		{"name: simulate", "name: edgenome_abi", "not a valid export name"},
		{"limits: {timeout: 120s}", "limits: {memory: 1KiB}", "limits.memory"},
		{"limits: {timeout: 120s}", "modules: [{name: edgenome, wasm: h.wasm, sha256: " + sha + "}]", "modules[0].name"},
		{"limits: {timeout: 120s}", "modules: [{name: wasi_snapshot_preview1, wasm: h.wasm, sha256: " + sha + "}]", "modules[0].name"},
		{"limits: {timeout: 120s}", "modules: [{name: h, wasm: ../h.wasm, sha256: " + sha + "}]", "modules[0].wasm"},
		{"limits: {timeout: 120s}", "modules: [{name: h, wasm: h.wasm}]", "modules[0].sha256"},
		{"limits: {timeout: 120s}", "modules: [{name: h, wasm: h.wasm, sha256: " + sha + "}, {name: h, wasm: i.wasm, sha256: " + sha + "}]", "declared twice"},
	}
	for _, b := range bad {
		y := strings.Replace(good, b.edit, b.repl, 1)
		if y == good {
			t.Fatalf("edit %q did not apply", b.edit)
		}
		_, err := ParseManifest([]byte(y))
		if err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("manifest with %q: error %v, want it to mention %q", b.repl, err, b.msg)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add("name: x\nabi: 1\nsha256: " + sha + "\nexports: [{name: a}]\n")
	f.Add("exports: [{name: a, params: [{name: p, type: int, default: 3, min: 4}]}]")
	f.Fuzz(func(t *testing.T, y string) {
		m, err := ParseManifest([]byte(y))
		if err == nil {
			if len(m.Exports) == 0 {
				t.Fatal("accepted a manifest without exports")
			}
			if _, ok := m.Export(""); !ok {
				t.Fatal("no default export")
			}
		}
	})
}
