package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

//go:embed static
var static embed.FS

// csp keeps the page to its own origin: scripts, styles and requests.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Assets holds the embedded files, by path relative to static/.
type Assets struct {
	files map[string]asset
}

// Load reads the embedded files once; their ETags are content hashes, so a
// new binary invalidates what browsers cached.
func Load() (*Assets, error) {
	a := &Assets{files: map[string]asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		a.files[strings.TrimPrefix(p, "static/")] = asset{body: b, ctype: ct,
			etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return a, err
}

// Names lists the embedded files.
func (a *Assets) Names() []string {
	var out []string
	for n := range a.files {
		out = append(out, n)
	}
	return out
}

// Register adds GET / (the page) and GET /ui/* (its assets) to e.
func Register(e *echo.Echo) error {
	a, err := Load()
	if err != nil {
		return err
	}
	e.GET("/", func(c echo.Context) error { return a.serve(c, "index.html") })
	e.GET("/ui/*", func(c echo.Context) error { return a.serve(c, c.Param("*")) })
	return nil
}

func (a *Assets) serve(c echo.Context, name string) error {
	f, ok := a.files[name]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasSuffix(name, ".html") {
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
	}
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(f.body))
	return nil
}
