// Package hostfn implements edgenome's Extism host functions, one file each,
// as documented in host/abi: each decodes its arguments, calls the call's
// Services (the data plane bound to this request) and encodes a result
// frame. The Services reach a host function through the call's context.
package hostfn
