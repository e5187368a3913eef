//go:build wasip1

package guest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/extism/go-pdk"
)

//go:wasmimport edgenome source_open
func hostSourceOpen(url uint64) uint64

//go:wasmimport edgenome range_read
func hostRangeRead(url uint64, offset int64, length int64) uint64

//go:wasmimport edgenome io_error
func hostIOError() uint64

//go:wasmimport edgenome set_header
func hostSetHeader(name uint64, value uint64) uint64

//go:wasmexport edgenome_abi
func edgenomeABI() int32 { return abi.Version }

// outBufSize is large because each stdout write is one host crossing and
// the host flushes every write to the client.
const outBufSize = 256 << 10

// Call is one invocation of an export.
type Call struct {
	// Out is the response body (stdout, buffered). Run flushes it.
	Out *bufio.Writer
	// In is the request body (stdin); empty when there is none.
	In io.Reader

	sources []*Source
}

// MemoryLimit is the plugin's memory limit in bytes (0 if unknown).
func MemoryLimit() int64 {
	n, _ := strconv.ParseInt(os.Getenv(abi.EnvMemoryLimit), 10, 64)
	return n
}

func init() {
	// Collect garbage harder as the heap nears the limit, rather than
	// growing memory that Wasm can never give back.
	if n := MemoryLimit(); n > 0 {
		debug.SetMemoryLimit(n * 3 / 4)
	}
}

// Context returns a context for algorithm packages that take one. The host
// enforces deadlines at every ABI crossing, so it is never cancelled here.
func (c *Call) Context() context.Context { return context.Background() }

// Run decodes the export's parameters into a P, runs h, flushes the output
// and turns a returned error into the ABI's error envelope. Use it as the
// whole body of an export.
func Run[P any](h func(c *Call, p *P) error) int32 {
	var p P
	in := pdk.Input()
	if len(in) > 0 {
		if err := json.Unmarshal(in, &p); err != nil {
			return fail(&abi.Envelope{Code: abi.CodeBadParam, Message: "cannot decode parameters: " + err.Error()})
		}
	}
	c := &Call{Out: bufio.NewWriterSize(os.Stdout, outBufSize), In: os.Stdin}
	err := h(c, &p)
	if err == nil {
		err = c.Out.Flush()
		if err != nil {
			err = dataError(err)
		}
	}
	for _, s := range c.sources {
		s.f.Close()
	}
	if err != nil {
		return fail(envelopeOf(err))
	}
	return 0
}

func fail(e *abi.Envelope) int32 {
	pdk.SetErrorString(string(e.Encode()))
	return 1
}

// codedError attaches an ABI code to an error.
type codedError struct {
	code abi.Code
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// Errorf returns an error that reaches the client with the given code.
func Errorf(code abi.Code, format string, args ...any) error {
	return &codedError{code: code, err: fmt.Errorf(format, args...)}
}

// WithCode attaches a code to err (nil stays nil).
func WithCode(code abi.Code, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// DataError is a failure of the data plane (a source read or an output
// write) with the host's explanation.
type DataError struct{ Message string }

func (e *DataError) Error() string { return e.Message }

func envelopeOf(err error) *abi.Envelope {
	var env *abi.Envelope
	if errors.As(err, &env) {
		return env
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return &abi.Envelope{Code: ce.code, Message: err.Error()}
	}
	var de *DataError
	if errors.As(err, &de) {
		return &abi.Envelope{Code: abi.CodeSource, Message: err.Error()}
	}
	return &abi.Envelope{Code: abi.CodeInternal, Message: err.Error()}
}

// dataError replaces a bare EIO from WASI with the host's message.
func dataError(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	if msg := IOError(); msg != "" {
		return &DataError{Message: msg}
	}
	return err
}

// IOError returns the host's message for the last data-plane failure.
func IOError() string {
	b, err := callFrame(hostIOError())
	if err != nil {
		return ""
	}
	return string(b)
}

func callFrame(ret uint64) ([]byte, error) {
	mem := pdk.FindMemory(ret)
	b := mem.ReadBytes()
	mem.Free()
	return abi.ParseFrame(b)
}

// Source is a read-only remote or configured file. Reads are range reads
// through the host's block cache.
type Source struct {
	f    *os.File
	size int64
	name string
	path string
	c    *Call
}

// ReadAt implements io.ReaderAt.
func (s *Source) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.f.ReadAt(p, off)
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("%s: %w", s.name, dataError(err))
	}
	return n, err
}

// Size is the object's length in bytes.
func (s *Source) Size() int64 { return s.size }

// Path is the source's file under abi.MountDir, for a helper module that
// opens it itself.
func (s *Source) Path() string { return s.path }

// Name is how the source is named in messages (its URL or reference).
func (s *Source) Name() string { return s.name }

// BGZF opens the source's inflated view (see host/abi): ReadAt at a BGZF
// block's offset returns the block inflated and CRC-checked by the host.
func (s *Source) BGZF() (*Source, error) {
	return s.c.open(s.path+".bgzf", s.name)
}

func (c *Call) open(path, name string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, dataError(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", name, dataError(err))
	}
	s := &Source{f: f, size: st.Size(), name: name, path: path, c: c}
	c.sources = append(c.sources, s)
	return s, nil
}

// OpenURL opens a URL as a Source. The host checks it against the
// operator's allowlist.
func (c *Call) OpenURL(url string) (*Source, error) {
	m := pdk.AllocateString(url)
	defer m.Free()
	path, err := callFrame(hostSourceOpen(m.Offset()))
	if err != nil {
		return nil, frameError(url, err)
	}
	return c.open(string(path), url)
}

// OpenReference opens a configured reference's FASTA and its index.
func (c *Call) OpenReference(r abi.ReferenceParam) (fasta, fai *Source, err error) {
	if fasta, err = c.open(r.Fasta, r.Name); err != nil {
		return nil, nil, err
	}
	if fai, err = c.open(r.Fai, r.Name+".fai"); err != nil {
		return nil, nil, err
	}
	return fasta, fai, nil
}

// OpenFASTA opens an indexed FASTA: the configured reference ref, or the
// URL url with its index at faiURL (default: url's path + ".fai"). Exactly
// one of ref and url must be given.
func (c *Call) OpenFASTA(ref *abi.ReferenceParam, url, faiURL string) (fasta, fai *Source, err error) {
	switch {
	case ref != nil && url != "":
		return nil, nil, Errorf(abi.CodeBadParam, "give ref or fasta, not both")
	case ref != nil:
		return c.OpenReference(*ref)
	case url == "":
		return nil, nil, Errorf(abi.CodeBadParam, "give ref (a configured reference) or fasta (a URL)")
	}
	if faiURL == "" {
		faiURL = WithSuffix(url, ".fai")
	}
	if fasta, err = c.OpenURL(url); err != nil {
		return nil, nil, err
	}
	if fai, err = c.OpenURL(faiURL); err != nil {
		return nil, nil, err
	}
	return fasta, fai, nil
}

// RangeRead reads length bytes at offset of a URL through the Extism byte
// path. Prefer OpenURL: this path is ~40x slower per byte.
func RangeRead(url string, offset, length int64) ([]byte, error) {
	m := pdk.AllocateString(url)
	defer m.Free()
	b, err := callFrame(hostRangeRead(m.Offset(), offset, length))
	if err != nil {
		return nil, frameError(url, err)
	}
	return b, nil
}

// SetHeader sets an X- response header; call it before writing output.
func SetHeader(name, value string) error {
	n, v := pdk.AllocateString(name), pdk.AllocateString(value)
	defer n.Free()
	defer v.Free()
	_, err := callFrame(hostSetHeader(n.Offset(), v.Offset()))
	return err
}

func frameError(what string, err error) error {
	var fe *abi.FrameError
	if !errors.As(err, &fe) {
		return err
	}
	// A source failure is reported as such: the host knows its precise
	// cause (denied, not found, changed, a limit) and answers with that.
	code := abi.CodeSource
	if fe.Status == abi.StatusArgument {
		code = abi.CodeBadParam
	}
	msg := fe.Message
	if !strings.Contains(msg, what) {
		msg = what + ": " + msg
	}
	return &codedError{code: code, err: errors.New(msg)}
}
