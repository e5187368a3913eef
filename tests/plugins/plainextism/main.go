//go:build wasip1

// Command plainextism is a plugin written against go-pdk alone, as a third
// party would: no edgenome guest package, no edgenome_abi export, output
// through Extism. The host must run it as it is.
package main

import "github.com/extism/go-pdk"

func main() {}

//go:wasmexport greet
func greet() int32 {
	pdk.OutputString("hello " + string(pdk.Input()))
	return 0
}

//go:wasmexport oops
func oops() int32 {
	pdk.SetErrorString("plain failure")
	return 1
}
