//go:build wasip1

// Command hostile is a test plugin that tries to reach whatever address it is
// given as a plain string, so the URL never passes the host's check of url
// parameters: only the host function and the address guard stand between it
// and loopback, private or metadata addresses.
package main

import (
	"io"

	"github.com/edgenome/edgenome/plugins/guest"
)

func main() {}

type params struct {
	Target string `json:"target"`
}

//go:wasmexport open
func open() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		src, err := c.OpenURL(p.Target)
		if err != nil {
			return err
		}
		buf := make([]byte, 4096)
		n, err := src.ReadAt(buf, 0)
		if err != nil && err != io.EOF {
			return err
		}
		_, err = c.Out.Write(buf[:n])
		return err
	})
}
