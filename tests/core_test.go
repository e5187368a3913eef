package tests

import (
	"encoding/json"
	"strings"
	"testing"
)

const testkit = "tests/plugins/testkit"

func TestCatalogAndNoop(t *testing.T) {
	h := startHost(t, "", testkit)
	if st, body, _ := h.get("/healthz"); st != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz: %d %s", st, body)
	}
	st, body, _ := h.get("/plugins")
	if st != 200 || !strings.Contains(body, `"name":"testkit"`) {
		t.Fatalf("/plugins: %d %s", st, body)
	}
	st, body, hdr := h.get("/plugin/testkit")
	if st != 200 || body != "" || hdr.Get("Content-Type") != "text/plain" {
		t.Fatalf("noop: %d %q %v", st, body, hdr)
	}
	st, body, hdr = h.get("/plugin/testkit/echo?msg=hello&tag=a&tag=b")
	if st != 200 || body != "hello,a,b" {
		t.Fatalf("echo: %d %q", st, body)
	}
	st, body, hdr = h.get("/plugin/nope")
	wantError(t, st, body, hdr, 404, "no_such_plugin", "testkit")
	st, body, hdr = h.get("/plugin/testkit/nope")
	wantError(t, st, body, hdr, 404, "no_such_export", "echo")
}

func TestParameters(t *testing.T) {
	h := startHost(t, "", testkit)
	st, body, _ := h.get("/plugin/testkit/params?need=x&n=1,0&x=0.5&flag&region=chr1:1-2&region=chr2&ref=demo")
	if st != 200 {
		t.Fatalf("params: %d %s", st, body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"need": "x", "n": 10.0, "x": 0.5, "flag": true, "msg": "a",
		"region": []any{"chr1:1-2", "chr2"},
		"ref":    map[string]any{"name": "demo", "fasta": "/sources/ref/demo", "fai": "/sources/ref/demo.fai"}}
	for k, v := range want {
		gb, _ := json.Marshal(got[k])
		wb, _ := json.Marshal(v)
		if string(gb) != string(wb) {
			t.Errorf("param %s = %s, want %s", k, gb, wb)
		}
	}
	bad := []struct{ query, msg string }{
		{"", `missing parameter "need"`},
		{"need=x&bogus=1", `unknown parameter "bogus"`},
		{"need=x&n=0", "below the minimum 1"},
		{"need=x&n=101", "above the maximum 100"},
		{"need=x&n=ten", "not an integer"},
		{"need=x&n=1&n=2", "given 2 times"},
		{"need=x&x=NaN", "not a number"},
		{"need=x&flag=maybe", "not true or false"},
		{"need=x&msg=c", "not one of a, b"},
		{"need=x&ref=hg19", `unknown reference "hg19" (configured: demo)`},
		{"need=x&region=", "empty region"},
		{"need=%ff", "not printable UTF-8"},
	}
	for _, b := range bad {
		st, body, hdr := h.get("/plugin/testkit/params?" + b.query)
		wantError(t, st, body, hdr, 400, "bad_param", b.msg)
	}
	st, body, hdr := h.get("/plugin/testkit/params?need=x&url=http://169.254.169.254/latest")
	wantError(t, st, body, hdr, 403, "source_denied", "169.254.169.254")
}

func TestBodyIsStdin(t *testing.T) {
	h := startHost(t, "", testkit)
	big := strings.Repeat("ACGT", 1<<18) // 1 MiB, streamed through stdin
	st, body, _ := h.post("/plugin/testkit/echo?msg=>", "application/octet-stream", strings.NewReader(big))
	if st != 200 || body != ">"+big {
		t.Fatalf("echo body: %d, %d bytes", st, len(body))
	}
	st, body, _ = h.post("/plugin/testkit/echo", "application/x-www-form-urlencoded", strings.NewReader("msg=form&tag=t"))
	if st != 200 || body != "form,t" {
		t.Fatalf("form: %d %q", st, body)
	}
	st, body, hdr := h.post("/plugin/testkit/noop", "text/plain", strings.NewReader("data"))
	wantError(t, st, body, hdr, 400, "bad_param", "takes no request body")
}

func TestPluginErrors(t *testing.T) {
	h := startHost(t, "", testkit)
	cases := []struct {
		path   string
		status int
		code   string
		msg    string
	}{
		{"/plugin/testkit/fail?code=bad_input&msg=boom", 400, "bad_input", "failing as asked: boom"},
		{"/plugin/testkit/fail?code=too_large", 422, "too_large", "failing as asked"},
		{"/plugin/testkit/fail?code=weird_code", 500, "internal", "failing as asked"},
		{"/plugin/testkit/trap", 500, "plugin_crashed", ""},
		{"/plugin/testkit/exit", 500, "plugin_crashed", "exit code 3"},
	}
	for _, c := range cases {
		st, body, hdr := h.get(c.path)
		wantError(t, st, body, hdr, c.status, c.code, c.msg)
	}
	// The host keeps serving after crashes.
	if st, _, _ := h.get("/plugin/testkit/echo?msg=alive"); st != 200 {
		t.Fatalf("after crashes: %d", st)
	}
}

func TestHeaderFromPlugin(t *testing.T) {
	h := startHost(t, "", testkit)
	st, body, hdr := h.get("/plugin/testkit/header?msg=seed42")
	if st != 200 || body != "ok" || hdr.Get("X-Testkit") != "SEED42" {
		t.Fatalf("header: %d %q %v", st, body, hdr)
	}
}
