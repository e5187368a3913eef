package hostfn

import (
	"context"

	"github.com/edgenome/edgenome/host/abi"
	extism "github.com/extism/go-sdk"
)

// sourceOpen opens a URL as a read-only file under the guest's mount.
//
// Parameters: url_ptr (i64): Extism memory holding the URL.
// Result: frame_ptr (i64): the guest path, or an error status and message.
// Errors: StatusDenied (not allowed), StatusNotFound, StatusOrigin,
// StatusDeadline, StatusLimit (fetch budget).
func sourceOpen() extism.HostFunction {
	return extism.NewHostFunctionWithStack(abi.FnSourceOpen,
		func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			s := services(ctx)
			url, err := p.ReadString(stack[0])
			if err != nil {
				reply(p, stack, abi.StatusArgument, []byte("source_open: "+err.Error()))
				return
			}
			if s == nil {
				replyErr(p, stack, errNoCall)
				return
			}
			path, err := s.OpenURL(url)
			if err != nil {
				replyErr(p, stack, err)
				return
			}
			reply(p, stack, abi.StatusOK, []byte(path))
		},
		[]extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR})
}
