package hostfn

import (
	"context"

	"github.com/edgenome/edgenome/host/abi"
	extism "github.com/extism/go-sdk"
)

// setHeader sets an X- response header before any output is sent.
//
// Parameters: name_ptr (i64), value_ptr (i64).
// Result: frame_ptr (i64): StatusOK with no payload.
// Errors: StatusArgument (name not X-, or CR/LF), StatusState (output
// already sent).
func setHeader() extism.HostFunction {
	return extism.NewHostFunctionWithStack(abi.FnSetHeader,
		func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			s := services(ctx)
			name, err1 := p.ReadString(stack[0])
			value, err2 := p.ReadString(stack[1])
			if err1 != nil || err2 != nil {
				reply(p, stack, abi.StatusArgument, []byte("set_header: unreadable arguments"))
				return
			}
			if s == nil {
				replyErr(p, stack, errNoCall)
				return
			}
			if err := s.SetHeader(name, value); err != nil {
				replyErr(p, stack, err)
				return
			}
			reply(p, stack, abi.StatusOK, nil)
		},
		[]extism.ValueType{extism.ValueTypePTR, extism.ValueTypePTR},
		[]extism.ValueType{extism.ValueTypePTR})
}
