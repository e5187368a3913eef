package hostfn

import (
	"context"
	"errors"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/internal/dataplane"
	"github.com/edgenome/edgenome/host/internal/rangefetch"
	extism "github.com/extism/go-sdk"
)

// Services is what host functions need from the call they serve.
type Services interface {
	OpenURL(url string) (path string, err error)
	RangeRead(url string, off, n int64) ([]byte, error)
	LastIOError() string
	SetHeader(name, value string) error
}

var _ Services = (*dataplane.Call)(nil)

type ctxKey struct{}

// WithServices returns a context carrying s for the host functions.
func WithServices(ctx context.Context, s Services) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

func services(ctx context.Context) Services {
	s, _ := ctx.Value(ctxKey{}).(Services)
	return s
}

// Functions returns every host function, ready for extism.NewCompiledPlugin.
func Functions() []extism.HostFunction {
	fns := []extism.HostFunction{sourceOpen(), rangeRead(), ioError(), setHeader()}
	for i := range fns {
		fns[i].SetNamespace(abi.HostModule)
	}
	return fns
}

// reply writes a frame into Extism memory and returns its offset in stack[0].
// A failure to allocate means the instance is out of memory: panicking traps
// the guest, which is the only honest answer.
func reply(p *extism.CurrentPlugin, stack []uint64, s abi.Status, payload []byte) {
	off, err := p.WriteBytes(abi.Frame(s, payload))
	if err != nil {
		panic(err)
	}
	stack[0] = off
}

func replyErr(p *extism.CurrentPlugin, stack []uint64, err error) {
	reply(p, stack, Status(err), []byte(err.Error()))
}

// errNoCall answers host function calls made outside a request (e.g. while
// an instance initialises).
var errNoCall = errors.New("no request is bound to this instance")

// Status maps a data-plane error to the frame status the guest sees.
func Status(err error) abi.Status {
	switch {
	case err == nil:
		return abi.StatusOK
	case errors.Is(err, rangefetch.ErrDenied):
		return abi.StatusDenied
	case errors.Is(err, rangefetch.ErrNotFound):
		return abi.StatusNotFound
	case errors.Is(err, rangefetch.ErrChanged):
		return abi.StatusChanged
	case errors.Is(err, rangefetch.ErrFetchLimit), errors.Is(err, dataplane.ErrOutputLimit):
		return abi.StatusLimit
	case errors.Is(err, dataplane.ErrDeadline), errors.Is(err, dataplane.ErrClientGone),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return abi.StatusDeadline
	case errors.Is(err, dataplane.ErrHeaderLate):
		return abi.StatusState
	case errors.Is(err, dataplane.ErrBadHeader), errors.Is(err, errNoCall):
		return abi.StatusArgument
	}
	return abi.StatusOrigin
}
