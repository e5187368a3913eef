package hostfn

import (
	"context"

	"github.com/edgenome/edgenome/host/abi"
	extism "github.com/extism/go-sdk"
)

// ioError returns the message of the call's last data-plane failure, which
// WASI can only report to the guest as EIO.
//
// Parameters: none.
// Result: frame_ptr (i64): StatusOK with the message (empty if none).
func ioError() extism.HostFunction {
	return extism.NewHostFunctionWithStack(abi.FnIOError,
		func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			msg := ""
			if s := services(ctx); s != nil {
				msg = s.LastIOError()
			}
			reply(p, stack, abi.StatusOK, []byte(msg))
		},
		nil, []extism.ValueType{extism.ValueTypePTR})
}
