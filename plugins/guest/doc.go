// Package guest is the plugin side of the edgenome ABI (see host/abi): the
// only code that imports go-pdk. A plugin's main package declares one
// //go:wasmexport function per endpoint and calls Run with plain Go code that
// reads sources as io.ReaderAt and writes its output to an io.Writer:
//
//	//go:wasmexport simulate
//	func simulate() int32 {
//		return guest.Run(func(c *guest.Call, p *Params) error {
//			fa, fai, err := c.OpenReference(p.Ref)
//			...
//			return mytool.Run(c.Context(), fa, c.Out)
//		})
//	}
//
// Importing the package also provides the edgenome_abi export.
//
// Files here need wasip1 (go-pdk has no build tags), so native builds and
// tests see only this documentation.
package guest
