package tests

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/edgenome/edgenome"

// TestImportRules keeps the layers apart: plugins see only the ABI of the
// host, the ABI sees only the standard library, and the host never depends
// on a plugin.
func TestImportRules(t *testing.T) {
	deps := func(env []string, pkgs ...string) map[string][]string {
		args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}:{{join .Deps \" \"}}"}, pkgs...)
		cmd := exec.Command("go", args...)
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		m := map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			pkg, ds, _ := strings.Cut(line, ":")
			m[pkg] = strings.Fields(ds)
		}
		return m
	}
	wasm := []string{"GOOS=wasip1", "GOARCH=wasm"}
	for pkg, ds := range deps(wasm, module+"/plugins/...") {
		if !strings.HasPrefix(pkg, module+"/plugins") {
			continue
		}
		for _, d := range ds {
			if strings.HasPrefix(d, module+"/host/") && d != module+"/host/abi" {
				t.Errorf("%s imports %s: plugins may import only host/abi of the host", pkg, d)
			}
		}
	}
	for _, env := range [][]string{nil, wasm} {
		for _, d := range deps(env, module+"/host/abi")[module+"/host/abi"] {
			if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
				t.Errorf("host/abi imports %s: it must use the standard library only", d)
			}
		}
	}
	for pkg, ds := range deps(nil, module+"/host/...") {
		if !strings.HasPrefix(pkg, module+"/host") {
			continue
		}
		for _, d := range ds {
			if strings.HasPrefix(d, module+"/plugins") {
				t.Errorf("%s imports %s: the host never depends on a plugin", pkg, d)
			}
		}
	}
}
