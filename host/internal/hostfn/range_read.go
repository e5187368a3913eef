package hostfn

import (
	"context"

	"github.com/edgenome/edgenome/host/abi"
	extism "github.com/extism/go-sdk"
)

// rangeRead reads bytes of a URL through the block cache and returns them
// through Extism memory.
//
// Parameters: url_ptr (i64), offset (i64), length (i64, at most
// abi.MaxRangeRead).
// Result: frame_ptr (i64): the bytes (short only at the end of the object).
// Errors: as source_open, plus StatusArgument for a bad offset or length.
func rangeRead() extism.HostFunction {
	return extism.NewHostFunctionWithStack(abi.FnRangeRead,
		func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			s := services(ctx)
			url, err := p.ReadString(stack[0])
			if err != nil {
				reply(p, stack, abi.StatusArgument, []byte("range_read: "+err.Error()))
				return
			}
			if s == nil {
				replyErr(p, stack, errNoCall)
				return
			}
			off, n := int64(stack[1]), int64(stack[2])
			if off < 0 || n < 0 || n > abi.MaxRangeRead {
				reply(p, stack, abi.StatusArgument, []byte("range_read: offset or length out of bounds"))
				return
			}
			b, err := s.RangeRead(url, off, n)
			if err != nil {
				replyErr(p, stack, err)
				return
			}
			reply(p, stack, abi.StatusOK, b)
		},
		[]extism.ValueType{extism.ValueTypePTR, extism.ValueTypeI64, extism.ValueTypeI64},
		[]extism.ValueType{extism.ValueTypePTR})
}
