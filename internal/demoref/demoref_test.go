package demoref

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/edgenome/edgenome/internal/testenv"
)

// The demo must be the same on every machine: its digest is pinned.
const wantSHA = "5c4aebae9b0aae8709a5af88411470f6b13e32db1d61a4359afc44c0bd9afc38"

func TestDemoIsDeterministicAndIndexed(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo.fa"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != wantSHA {
		t.Errorf("demo.fa sha256 = %s, want %s", got, wantSHA)
	}
	// samtools must agree with our .fai byte for byte.
	samtools := testenv.Tool(t, "samtools")
	fai, _ := os.ReadFile(filepath.Join(dir, "demo.fa.fai"))
	os.Remove(filepath.Join(dir, "demo.fa.fai"))
	if out, err := exec.Command(samtools, "faidx", filepath.Join(dir, "demo.fa")).CombinedOutput(); err != nil {
		t.Fatalf("samtools faidx: %v %s", err, out)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "demo.fa.fai"))
	if string(fai) != string(want) {
		t.Errorf("our .fai:\n%s\nsamtools:\n%s", fai, want)
	}
}
