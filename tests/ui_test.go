package tests

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/edgenome/edgenome/internal/testenv"
)

// TestUI drives the page in headless Chromium against a real host: the
// catalogue, a streamed wgsim run, FASTQ QC in chunks checked against the
// API's answer for the whole file, error display and shareable links.
// Screenshots go to .cache/artifacts/ui/.
func TestUI(t *testing.T) {
	chrome := testenv.Tool(t, "chromium")
	h := startHost(t, "", "plugins/wgsim", "plugins/fastqc", "plugins/kmer", testkit)
	browser := newBrowser(t, chrome)
	shots := filepath.Join(testenv.RepoRoot(t), ".cache", "artifacts", "ui")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("WgsimStreams", func(t *testing.T) {
		p := openPage(t, browser, shots)
		p.do(chromedp.Navigate(h.base + "/"))
		p.do(chromedp.WaitVisible(chromedp.CSS(`#plugin-wgsim a[data-export="simulate"]`)))
		for _, name := range []string{"wgsim", "fastqc", "kmer"} {
			if n := p.eval(fmt.Sprintf(`document.querySelectorAll('#plugin-%s li').length`, name)); n == "0" {
				t.Errorf("catalogue has no export of %s", name)
			}
		}
		if txt := p.text("body"); strings.Contains(txt, "[object") || strings.Contains(txt, "undefined") {
			t.Errorf("home page shows a JavaScript value: %.300s", txt)
		}
		if txt := p.text("#home-refs"); !strings.Contains(txt, "chr1 (500,000 bp)") {
			t.Errorf("references = %q", txt)
		}
		p.shot("catalogue")
		p.do(chromedp.Click(chromedp.CSS(`#plugin-wgsim a[data-export="simulate"]`)))
		p.do(chromedp.WaitVisible(chromedp.CSS(`form.params input[name="region"]`)))
		if got := p.value(`select[name="ref"]`); got != "demo" {
			t.Errorf("reference picker = %q, want demo preselected", got)
		}
		p.set(`input[name="region"]`, "chr1:1000-2000")
		p.set(`input[name="n"]`, "50")
		p.set(`input[name="seed"]`, "7")
		if note := p.text(`.region-status`); !strings.Contains(note, "1,001 bp of 500,000") {
			t.Errorf("region note = %q, want the length checked against chr1", note)
		}
		p.do(chromedp.Click(chromedp.ID("run")))
		if st := p.waitState("#status"); st != "done" {
			t.Fatalf("run ended %q: %s", st, p.text("#error"))
		}
		if got := p.attr("#count-records", "data-value"); got != "100" {
			t.Errorf("record counter = %s, want 100 (50 interleaved pairs)", got)
		}
		_, want, _ := h.get("/plugin/wgsim/simulate?ref=demo&region=chr1:1000-2000&n=50&seed=7")
		if got := p.eval(`document.getElementById('output').textContent`); got != strings.TrimSuffix(want, "\n") {
			t.Errorf("page output differs from the API's: %s", testenv.FirstDiff(want, got+"\n"))
		}
		if got, want := p.attr("#count-bytes", "data-value"), strconv.Itoa(len(want)); got != want {
			t.Errorf("byte counter = %s, want %s", got, want)
		}
		p.shot("wgsim")

		// Download saves every byte received.
		dl := t.TempDir()
		if _, err := chromedp.Call(p.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl}); err != nil {
			t.Fatal(err)
		}
		p.do(chromedp.Click(chromedp.ID("download")))
		file := filepath.Join(dl, "wgsim-simulate.fq")
		var got []byte
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if b, err := os.ReadFile(file); err == nil && len(b) == len(want) {
				got = b
				break
			}
		}
		if string(got) != want {
			entries, _ := os.ReadDir(dl)
			t.Errorf("download %s: %d bytes, want the API's %d (folder: %v)", file, len(got), len(want), entries)
		}
	})

	t.Run("ModuleFunctions", func(t *testing.T) {
		p := openPage(t, browser, shots)
		p.do(chromedp.Navigate(h.base + "/"))
		p.do(chromedp.WaitVisible(chromedp.CSS(`#plugin-wgsim`)))
		// Region checks against a sequence map, as the form runs them.
		for _, c := range []struct{ region, want string }{
			{"chr1", "ok chr1:1-500,000"},
			{"chr1:1,000-2,000", "ok chr1:1,000-2,000 · 1,001 bp"},
			{"chr1:1000", "ok chr1:1,000-500,000"},
			{"chr1:-500", "ok chr1:1-500"},
			{"chr1:1k-2k", "ok chr1:1,000-2,000"},
			{"chr1:400000-600000", "ok (end clipped"},
			{"{chr1}:5-6", "ok chr1:5-6"},
			{"chr1:2000-1000", "error start 2,000 is after end 1,000"},
			{"chr1:abc", `error "abc" is not a position`},
			{"chr1:600000", "error start 600,000 is past the end of chr1 (500,000 bp)"},
			{"chr9:1-10", `error no sequence "chr9"`},
			{"{chr1", "error mismatching braces"},
			{"weird:name", "ok weird:name:1-10"},
			{"  ", "error empty region"},
		} {
			r, _ := json.Marshal(c.region)
			got := p.evalAsync(fmt.Sprintf(`import('/ui/form.js').then(m => {
				const r = m.checkRegion(%s, new Map([['chr1', 500000], ['weird:name', 10]]));
				return r.error ? 'error ' + r.error : 'ok ' + r.note; })`, r))
			kind, text, _ := strings.Cut(c.want, " ")
			if !strings.HasPrefix(got, kind+" ") || !strings.Contains(got, text) {
				t.Errorf("checkRegion(%q) = %q, want %q", c.region, got, c.want)
			}
		}
		// QC chunks are whole 4-line records whatever the pieces the file
		// stream delivers, also when quality lines start with '@'.
		got := p.evalAsync(`import('/ui/qc.js').then(async m => {
			const text = Array.from({length: 40}, (_, i) =>
				'@r' + i + '\n' + 'ACGT'.repeat(1 + i % 5) + '\n+\n' + (i % 3 ? 'I' : '@').repeat(4 * (1 + i % 5)) + '\n').join('');
			const bytes = new TextEncoder().encode(text);
			const out = [];
			for (const piece of [1, 3, 7, 16, 64, 100000]) {
				const stream = new ReadableStream({ start(c) {
					for (let i = 0; i < bytes.length; i += piece) c.enqueue(bytes.slice(i, i + piece));
					c.close(); } });
				const chunks = [];
				for await (const ch of m.chunksOf(stream, 50)) chunks.push(new TextDecoder().decode(ch));
				const whole = chunks.every(c => c.startsWith('@r') && c.split('\n').length % 4 === 1);
				out.push(chunks.join('') === text && whole && chunks.length >= 10 ? 'ok' : 'bad:' + piece + ':' + chunks.length);
			}
			return out.join(' ');
		})`)
		if got != "ok ok ok ok ok ok" {
			t.Errorf("chunksOf: %s", got)
		}

		// Nearest-rank quartiles as plugins/fastqc defines them.
		for _, c := range []struct{ hist, want string }{
			{"[0,0,4]", "2,2,2"},
			{"[1,1,1,1]", "0,1,2"},
			{"[1,0,0,3]", "0,3,3"},
			{"[]", "0,0,0"},
		} {
			got := p.evalAsync(fmt.Sprintf(`import('/ui/qc.js').then(m => m.summarise(%s).quartiles.join(','))`, c.hist))
			if got != c.want {
				t.Errorf("summarise(%s) quartiles = %s, want %s", c.hist, got, c.want)
			}
		}
	})

	t.Run("StopAndCutOff", func(t *testing.T) {
		p := openPage(t, browser, shots)
		p.do(chromedp.Navigate(h.base + "/#/run/wgsim/simulate?ref=demo&region=chr1&n=5000000&seed=3"))
		p.do(chromedp.WaitVisible(chromedp.ID("run")))
		p.do(chromedp.Click(chromedp.ID("run")))
		p.poll(`Number(document.getElementById('count-records').dataset.value || 0) > 2000`)
		p.do(chromedp.Click(chromedp.ID("stop")))
		if st := p.waitState("#status"); st != "stopped" {
			t.Fatalf("state %q, want stopped: %s", st, p.text("#error"))
		}
		lines := p.eval(`document.getElementById('output').textContent.split('\n').length`)
		if n, _ := strconv.Atoi(lines); n == 0 || n > 2000 {
			t.Errorf("%s lines kept in the page, want at most 2000", lines)
		}
		if note := p.text("#output-note"); !strings.Contains(note, "Showing the last 2,000 of") {
			t.Errorf("note = %q", note)
		}
		if d := p.eval(`document.getElementById('download').disabled`); d != "false" {
			t.Errorf("download disabled after a stopped run")
		}
		p.shot("stopped")

		// A plugin failing after the host committed the response.
		p.eval(`location.hash = '#/run/testkit/late?n=512'`)
		p.do(chromedp.WaitVisible(chromedp.CSS(`input[name="n"]`)))
		p.do(chromedp.Click(chromedp.ID("run")))
		if st := p.waitState("#status"); st != "error" {
			t.Fatalf("state %q, want error", st)
		}
		if got := p.text("#error"); !strings.Contains(got, "stream cut off") {
			t.Errorf("error = %q, want it to say the stream was cut off", got)
		}
		p.shot("cut-off")
	})

	t.Run("KmerSpectrum", func(t *testing.T) {
		p := openPage(t, browser, shots)
		p.do(chromedp.Navigate(h.base + "/#/run/kmer/histo?k=5&ref=demo&region=chrM"))
		p.do(chromedp.WaitVisible(chromedp.CSS(`form.params input[name="k"]`)))
		p.do(chromedp.Click(chromedp.ID("run")))
		if st := p.waitState("#status"); st != "done" {
			t.Fatalf("run ended %q: %s", st, p.text("#error"))
		}
		_, want, _ := h.get("/plugin/kmer/histo?k=5&ref=demo&region=chrM")
		if got, want := p.attr("#count-records", "data-value"), strconv.Itoa(strings.Count(want, "\n")); got != want {
			t.Errorf("histo lines = %s, want %s", got, want)
		}
		if n := p.eval(`document.querySelectorAll('#kmer-chart path').length`); n == "0" {
			t.Error("no spectrum drawn")
		}
		p.shot("kmer-log")
		p.do(chromedp.Click(chromedp.ID("log-y")))
		p.shot("kmer-linear")
	})

	t.Run("QCChunksMatchWholeFile", func(t *testing.T) {
		dir := t.TempDir()
		data := syntheticFastq(3000)
		plain := filepath.Join(dir, "reads.fq")
		if err := os.WriteFile(plain, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		gzPath := filepath.Join(dir, "reads.fq.gz")
		if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		st, body, _ := h.post("/plugin/fastqc", "text/plain", bytes.NewReader(data))
		if st != 200 {
			t.Fatalf("whole file: %d %.300s", st, body)
		}
		var whole struct {
			Reads  int64 `json:"reads"`
			Bases  int64 `json:"bases"`
			Length struct {
				Min, Max int
				Mean     float64
			} `json:"length"`
			GC      struct{ Mean float64 } `json:"gc"`
			NRate   float64                `json:"n_rate"`
			Quality struct {
				Mean      float64 `json:"mean"`
				Quartiles [3]int  `json:"quartiles"`
			} `json:"quality"`
		}
		if err := json.Unmarshal([]byte(body), &whole); err != nil {
			t.Fatal(err)
		}
		p := openPage(t, browser, shots)
		p.do(chromedp.Navigate(h.base + "/#/qc"))
		p.do(chromedp.WaitVisible(chromedp.ID("qc-file")))
		for _, file := range []string{plain, gzPath} {
			p.do(chromedp.SetValue(chromedp.ID("qc-chunk"), "64KiB"))
			p.do(chromedp.SetUploadFiles(chromedp.ID("qc-file"), []string{file}))
			p.do(chromedp.Click(chromedp.ID("qc-run")))
			if st := p.waitState("#qc-status"); st != "done" {
				t.Fatalf("%s: QC ended %q: %s", filepath.Base(file), st, p.text("#qc-error"))
			}
			p.do(chromedp.WaitVisible(chromedp.ID("qc-verified")))
			p.do(chromedp.WaitVisible(chromedp.ID("qc-json")))
			if c := p.attr("#qc-status", "data-chunks"); c == "" || c == "1" {
				t.Errorf("%s: %s chunks, want several", filepath.Base(file), c)
			}
			if cls := p.attr("#qc-verified", "class"); cls != "ok" {
				t.Errorf("%s: page merge disagrees with /plugin/fastqc/merge: %s", filepath.Base(file), p.text("#qc-status"))
			}
			num := func(id string) float64 {
				v, err := strconv.ParseFloat(p.attr("#"+id, "data-value"), 64)
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				return v
			}
			for _, c := range []struct {
				id   string
				want float64
			}{
				{"qc-reads", float64(whole.Reads)}, {"qc-bases", float64(whole.Bases)},
				{"qc-mean-length", whole.Length.Mean}, {"qc-min-length", float64(whole.Length.Min)},
				{"qc-max-length", float64(whole.Length.Max)}, {"qc-gc-mean", whole.GC.Mean},
				{"qc-n-rate", whole.NRate}, {"qc-mean-quality", whole.Quality.Mean},
			} {
				if got := num(c.id); got != c.want {
					t.Errorf("%s: %s = %v on the page, the API says %v for the whole file", filepath.Base(file), c.id, got, c.want)
				}
			}
			q := whole.Quality.Quartiles
			if got, want := p.attr("#qc-quartiles", "data-value"), fmt.Sprintf("%d,%d,%d", q[0], q[1], q[2]); got != want {
				t.Errorf("%s: quartiles %s, want %s", filepath.Base(file), got, want)
			}
			for _, id := range []string{"qc-quality", "qc-composition", "qc-length", "qc-gc"} {
				if n := p.eval(fmt.Sprintf(`document.querySelectorAll('#%s path, #%s rect').length`, id, id)); n == "0" {
					t.Errorf("%s: chart %s is empty", filepath.Base(file), id)
				}
			}
		}
		p.shot("qc")
	})

	t.Run("ErrorsAsTheAPIWordsThem", func(t *testing.T) {
		p := openPage(t, browser, shots)
		// Above the manifest's maximum: the host's message, verbatim.
		p.do(chromedp.Navigate(h.base + "/#/run/wgsim/simulate?ref=demo&region=chr1:1000-2000&n=2000000000"))
		p.do(chromedp.WaitVisible(chromedp.ID("run")))
		p.do(chromedp.Click(chromedp.ID("run")))
		if st := p.waitState("#status"); st != "error" {
			t.Fatalf("state %q, want error", st)
		}
		_, body, _ := h.get("/plugin/wgsim/simulate?ref=demo&region=chr1:1000-2000&n=2000000000")
		var e apiError
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" {
			t.Fatalf("API answer %q: %v", body, err)
		}
		if got := p.text("#error .message"); got != e.Error.Message {
			t.Errorf("shown %q, the API said %q", got, e.Error.Message)
		}
		if got := p.text("#error strong"); !strings.Contains(got, "400 bad_param") {
			t.Errorf("shown status %q, want 400 bad_param", got)
		}
		p.shot("error-api")

		// A region past the end of its sequence is caught before sending.
		p.set(`input[name="region"]`, "chr1:600,000-700,000")
		p.set(`input[name="n"]`, "5")
		p.do(chromedp.Click(chromedp.ID("run")))
		if got := p.text("#error"); !strings.Contains(got, "past the end of chr1 (500,000 bp)") {
			t.Errorf("region error = %q", got)
		}
		p.shot("error-region")

		// A plugin's own bad_input for a body that is not FASTQ.
		bad := filepath.Join(t.TempDir(), "notes.txt")
		os.WriteFile(bad, []byte("hello\n"), 0o644)
		p.eval(`location.hash = '#/run/fastqc/qc'`) // same document: no load to wait for
		p.do(chromedp.WaitVisible(chromedp.CSS(`input[type=file]`)))
		p.do(chromedp.SetUploadFiles(chromedp.CSS(`input[type=file]`), []string{bad}))
		p.do(chromedp.Click(chromedp.ID("run")))
		if st := p.waitState("#status"); st != "error" {
			t.Fatalf("state %q, want error", st)
		}
		_, body, _ = h.post("/plugin/fastqc/qc", "application/octet-stream", strings.NewReader("hello\n"))
		json.Unmarshal([]byte(body), &e)
		if got := p.text("#error .message"); got != e.Error.Message || e.Error.Code != "bad_input" {
			t.Errorf("shown %q, the API said %s %q", got, e.Error.Code, e.Error.Message)
		}
	})

	t.Run("ShareLinkRestoresParameters", func(t *testing.T) {
		p := openPage(t, browser, shots)
		p.do(chromedp.Navigate(h.base + "/#/run/wgsim/simulate"))
		p.do(chromedp.WaitVisible(chromedp.CSS(`input[name="region"]`)))
		p.set(`input[name="region"]`, "chr2:5,000-9,000")
		p.do(chromedp.Click(chromedp.CSS(`.type-region button.add`)))
		p.eval(`document.querySelectorAll('input[name="region"]')[1].value = 'chrM'`)
		p.set(`input[name="n"]`, "25")
		p.set(`input[name="error"]`, "0.01")
		p.set(`select[name="output"]`, "read2")
		p.do(chromedp.Click(chromedp.CSS(`input[name="haplotype"]`)))
		p.do(chromedp.Click(chromedp.ID("share")))
		link := p.value("#share-url")
		u, err := url.Parse(link)
		if err != nil || !strings.HasPrefix(u.Fragment, "/run/wgsim/simulate?") {
			t.Fatalf("share link %q", link)
		}

		q := openPage(t, browser, shots)
		q.do(chromedp.Navigate(link))
		q.do(chromedp.WaitVisible(chromedp.CSS(`input[name="region"]`)))
		regions := q.eval(`[...document.querySelectorAll('input[name="region"]')].map(e => e.value).join(' ')`)
		got := []string{q.value(`select[name="ref"]`), regions, q.value(`input[name="n"]`), q.value(`input[name="error"]`),
			q.value(`select[name="output"]`), q.eval(`String(document.querySelector('input[name="haplotype"]').checked)`),
			q.value(`input[name="seed"]`)}
		want := []string{"demo", "chr2:5,000-9,000 chrM", "25", "0.01", "read2", "true", "0"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("restored %q\nwant     %q\n(link %s)", got, want, link)
		}
		q.shot("share-restored")
	})
}

// syntheticFastq returns n reads of varied lengths (30-150), qualities and
// GC, with a few Ns: enough variety that a wrong merge shows.
func syntheticFastq(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for i := range n {
		l := 30 + r.IntN(121)
		gc := r.Float64()
		seq := make([]byte, l)
		qual := make([]byte, l)
		for j := range seq {
			switch x := r.Float64(); {
			case x < 0.005:
				seq[j] = 'N'
			case x < gc/2:
				seq[j] = 'G'
			case x < gc:
				seq[j] = 'C'
			case x < (1+gc)/2:
				seq[j] = 'A'
			default:
				seq[j] = 'T'
			}
			q := 40 - j/6 - r.IntN(12)
			qual[j] = byte(33 + max(2, q))
		}
		fmt.Fprintf(&b, "@read%d\n%s\n+\n%s\n", i+1, seq, qual)
	}
	return b.Bytes()
}

// newBrowser starts headless Chromium for the test, offline-safe: no
// background networking, no QUIC, a fresh profile.
func newBrowser(t *testing.T, chrome string) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chrome, err)
	}
	return ctx
}

// page is one browser tab; JavaScript exceptions, console errors and
// security reports (CSP) fail the test.
type page struct {
	t     *testing.T
	ctx   context.Context
	shots string
	mu    sync.Mutex
	errs  []string
}

func openPage(t *testing.T, browser context.Context, shots string) *page {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	p := &page{t: t, ctx: tab, shots: shots}
	if err := chromedp.Listen(tab, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *cdpruntime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *cdpruntime.EventConsoleAPICalled:
			if ev.Type == cdpruntime.ConsoleAPICalledTypeError {
				msg = "console.error"
				for _, a := range ev.Args {
					msg += " " + string(a.Value) + a.Description
				}
			}
		case *cdplog.EventEntryAdded:
			// Network entries are the 4xx answers the tests ask for.
			if ev.Entry.Source != cdplog.EntrySourceNetwork && ev.Entry.Level == cdplog.EntryLevelError {
				msg = fmt.Sprintf("%s: %s", ev.Entry.Source, ev.Entry.Text)
			}
		}
		if msg != "" {
			p.mu.Lock()
			p.errs = append(p.errs, msg)
			p.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		for _, e := range p.errs {
			t.Errorf("page: %s", e)
		}
		p.mu.Unlock()
		cancel()
	})
	return p
}

func (p *page) do(a chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, a); err != nil {
		p.shot("failure-" + strings.ReplaceAll(p.t.Name(), "/", "-"))
		p.t.Fatal(err)
	}
}

// eval returns a JavaScript expression's value as text.
func (p *page) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// evalAsync awaits a promise and returns its value as text.
func (p *page) evalAsync(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	return fmt.Sprint(v)
}

// set sets a field's value as typing would, firing input and change.
func (p *page) set(sel, v string) {
	p.t.Helper()
	b, _ := json.Marshal(v)
	s, _ := json.Marshal(sel)
	p.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = %s;
		e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return e.value; })()`, s, b))
}

func (p *page) value(sel string) string {
	p.t.Helper()
	s, _ := json.Marshal(sel)
	return p.eval(fmt.Sprintf(`document.querySelector(%s).value`, s))
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, _ := json.Marshal(sel)
	return p.eval(fmt.Sprintf(`document.querySelector(%s)?.textContent ?? ''`, s))
}

func (p *page) attr(sel, name string) string {
	p.t.Helper()
	s, _ := json.Marshal(sel)
	n, _ := json.Marshal(name)
	return p.eval(fmt.Sprintf(`document.querySelector(%s)?.getAttribute(%s) ?? ''`, s, n))
}

// waitState waits for a run's status element to report how it ended.
func (p *page) waitState(sel string) string {
	p.t.Helper()
	s, _ := json.Marshal(sel)
	v, err := chromedp.Run(p.ctx, chromedp.Poll[string](fmt.Sprintf(`document.querySelector(%s)?.dataset.state`, s),
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		p.shot("failure-" + strings.ReplaceAll(p.t.Name(), "/", "-"))
		p.t.Fatalf("waiting for %s: %v", sel, err)
	}
	return v
}

// poll waits for a JavaScript expression to be true.
func (p *page) poll(expr string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		p.shot("failure-" + strings.ReplaceAll(p.t.Name(), "/", "-"))
		p.t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// shot saves a full-page PNG (quality 100 means PNG).
func (p *page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(p.shots, name+".png"), buf, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
	}
}
