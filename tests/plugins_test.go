package tests

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"testing"

	"github.com/edgenome/edgenome/internal/pluginbuild"
	"github.com/edgenome/edgenome/internal/testenv"
)

// TestEveryPluginLoads builds every plugin under plugins/ and checks the
// host loads it: a manifest mistake must fail here, not make a plugin
// silently absent from `make run`.
func TestEveryPluginLoads(t *testing.T) {
	srcs, err := pluginbuild.Sources(filepath.Join(testenv.RepoRoot(t), "plugins"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs, want []string
	for _, s := range srcs {
		rel, _ := filepath.Rel(testenv.RepoRoot(t), s.Dir)
		dirs = append(dirs, rel)
		name, _ := s.Name()
		want = append(want, name)
	}
	if len(dirs) < 4 {
		t.Fatalf("found only %v under plugins/", dirs)
	}
	h := startHost(t, "", dirs...)
	_, body, _ := h.get("/plugins")
	var got struct {
		Plugins []struct{ Name string } `json:"plugins"`
		Errors  map[string]string       `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got.Plugins {
		names = append(names, p.Name)
	}
	sort.Strings(want)
	if len(got.Errors) > 0 || len(names) != len(want) {
		t.Fatalf("loaded %v, want %v; errors: %v", names, want, got.Errors)
	}
}

// TestPlainExtismPlugin: a third-party plugin built with go-pdk alone (no
// edgenome_abi export, output through Extism's output) runs as it is.
func TestPlainExtismPlugin(t *testing.T) {
	h := startHost(t, "", "tests/plugins/plainextism")
	st, body, _ := h.get("/plugin/plainextism/greet?who=x")
	if st != 200 || body != `hello {"who":"x"}` {
		t.Fatalf("greet: %d %q", st, body)
	}
	st, body, hdr := h.get("/plugin/plainextism/oops")
	wantError(t, st, body, hdr, 500, "plugin_crashed", "plain failure")
}
