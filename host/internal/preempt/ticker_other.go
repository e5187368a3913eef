//go:build !cgo

package preempt

import "time"

// Ticking reports whether this build has the ticker thread that epoch mode needs. Without cgo it has
// not: a goroutine cannot do the job (see ticker_cgo.go), so ModeAuto falls back to ModeCounter.
func Ticking() bool { return false }

// SetTickPeriod does nothing without the ticker.
func SetTickPeriod(time.Duration) {}

func tickAdd(*uint32) int { return -1 }

func tickDel(int) {}
