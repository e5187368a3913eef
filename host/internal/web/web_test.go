package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func newEcho(t *testing.T) *echo.Echo {
	t.Helper()
	e := echo.New()
	if err := Register(e); err != nil {
		t.Fatal(err)
	}
	return e
}

func get(e *echo.Echo, path string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestIndex(t *testing.T) {
	e := newEcho(t)
	rec := get(e, "/", nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	if !strings.Contains(rec.Body.String(), `src="/ui/app.js"`) {
		t.Error("page does not load /ui/app.js")
	}
	// Revalidation by content hash.
	etag := rec.Header().Get("ETag")
	if rec := get(e, "/", map[string]string{"If-None-Match": etag}); etag == "" || rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d, want 304", etag, rec.Code)
	}
	if rec := get(e, "/ui/nope.js", nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown asset: %d", rec.Code)
	}
}

// Every module import and every /ui/ reference resolves to an embedded file
// served with a type browsers accept for it (modules need a JavaScript type).
func TestAssetsResolve(t *testing.T) {
	a, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	e := newEcho(t)
	ref := regexp.MustCompile(`(?:from\s+|import\()'\./([^']+)'|"/ui/([^"]+)"`)
	want := map[string]string{".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
	for _, name := range a.Names() {
		rec := get(e, "/ui/"+name, nil)
		ext := name[strings.LastIndexByte(name, '.'):]
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), want[ext]) {
			t.Errorf("/ui/%s: %d %q", name, rec.Code, rec.Header().Get("Content-Type"))
		}
		for _, m := range ref.FindAllStringSubmatch(rec.Body.String(), -1) {
			target := m[1] + m[2]
			if _, ok := a.files[target]; !ok {
				t.Errorf("%s refers to %s, which is not embedded", name, target)
			}
		}
	}
	if len(a.Names()) < 7 {
		t.Errorf("only %d files embedded", len(a.Names()))
	}
}
