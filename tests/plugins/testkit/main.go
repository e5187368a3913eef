//go:build wasip1

// Command testkit is a plugin with one export per behaviour the host must
// survive or serve: it echoes, floods, spins, hogs memory, traps, exits and
// reads sources, so the end-to-end tests can check each limit and error path.
package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/plugins/guest"
)

func main() {}

type params struct {
	Msg   string             `json:"msg"`
	N     int64              `json:"n"`
	URL   string             `json:"url"`
	Ref   abi.ReferenceParam `json:"ref"`
	Code  string             `json:"code"`
	Tags  []string           `json:"tag"`
	X     float64            `json:"x"`
	Flag  bool               `json:"flag"`
	Sleep int64              `json:"sleep_ms"`
}

//go:wasmexport noop
func noop() int32 { return guest.Run(func(c *guest.Call, p *params) error { return nil }) }

//go:wasmexport echo
func echo() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		c.Out.WriteString(p.Msg)
		for _, t := range p.Tags {
			c.Out.WriteString("," + t)
		}
		_, err := io.Copy(c.Out, c.In)
		return err
	})
}

// params returns the decoded parameters as the plugin saw them.
//
//go:wasmexport params
func paramsExport() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		c.Out.Write(pdkInput())
		return nil
	})
}

//go:wasmexport fail
func fail() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		c.Out.WriteString("partial")
		return guest.Errorf(abi.Code(p.Code), "failing as asked: %s", p.Msg)
	})
}

// late fails after enough output that the host has committed the response.
//
//go:wasmexport late
func late() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		line := bytes.Repeat([]byte("x"), 1023)
		line = append(line, '\n')
		for i := int64(0); i < p.N; i++ {
			c.Out.Write(line)
		}
		c.Out.Flush()
		return guest.Errorf(abi.CodeBadInput, "failed after %d KiB", p.N)
	})
}

//go:wasmexport flood
func flood() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		buf := bytes.Repeat([]byte("ACGT"), 16<<10)
		for {
			if _, err := c.Out.Write(buf); err != nil {
				return err
			}
		}
	})
}

// stream writes n lines slowly, flushing each, for streaming tests.
//
//go:wasmexport stream
func stream() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		for i := int64(0); i < p.N; i++ {
			c.Out.WriteString("line\n")
			if err := c.Out.Flush(); err != nil {
				return err
			}
			time.Sleep(time.Duration(p.Sleep) * time.Millisecond)
		}
		return nil
	})
}

var sink uint64

//go:wasmexport spin
func spin() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		x := uint64(1)
		for {
			x = x*6364136223846793005 + 1442695040888963407
			if x == 0 {
				break
			}
		}
		sink = x
		return nil
	})
}

var hoard [][]byte

//go:wasmexport memhog
func memhog() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		for {
			// Touch only the ends: a loop over every byte would measure the
			// preemption checks, not the memory limit.
			b := make([]byte, 4<<20)
			b[0], b[len(b)-1] = 1, 1
			hoard = append(hoard, b)
		}
	})
}

//go:wasmexport trap
func trap() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		var m map[string]int
		m["x"] = 1 // nil map write: a Go panic, i.e. a trap
		return nil
	})
}

//go:wasmexport exit
func exit() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		os.Exit(3)
		return nil
	})
}

// fetch opens url (or the reference) and streams it to the output, reading
// with positioned reads of n bytes (default 64 KiB).
//
//go:wasmexport fetch
func fetch() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		var src *guest.Source
		var err error
		if p.URL != "" {
			src, err = c.OpenURL(p.URL)
		} else {
			src, _, err = c.OpenReference(p.Ref)
		}
		if err != nil {
			return err
		}
		chunk := p.N
		if chunk <= 0 {
			chunk = 64 << 10
		}
		buf := make([]byte, chunk)
		for off := int64(0); off < src.Size(); {
			n, err := src.ReadAt(buf, off)
			c.Out.Write(buf[:n])
			off += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// rangeread reads the first n bytes of url through the Extism byte path.
//
//go:wasmexport rangeread
func rangeread() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		b, err := guest.RangeRead(p.URL, 0, p.N)
		if err != nil {
			return err
		}
		c.Out.Write(b)
		return nil
	})
}

//go:wasmexport header
func header() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		if err := guest.SetHeader("X-Testkit", strings.ToUpper(p.Msg)); err != nil {
			return err
		}
		c.Out.WriteString("ok")
		return nil
	})
}

// lcg runs n steps of a linear congruential generator: a tight integer
// loop, the worst case for preemption checks.
//
//go:wasmexport lcg
func lcg() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		x := uint64(1)
		for i := int64(0); i < p.N; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		c.Out.WriteString(strconv.FormatUint(x, 10))
		return nil
	})
}

// bytesum sums a 1 MiB buffer n times: a tight byte loop.
//
//go:wasmexport bytesum
func bytesum() int32 {
	return guest.Run(func(c *guest.Call, p *params) error {
		buf := make([]byte, 1<<20)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		var s uint64
		for r := int64(0); r < p.N; r++ {
			for _, b := range buf {
				s += uint64(b)
			}
		}
		c.Out.WriteString(strconv.FormatUint(s, 10))
		return nil
	})
}
