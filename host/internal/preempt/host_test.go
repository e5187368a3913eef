package preempt

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestCheck(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	if err := Check(ctx); err != nil {
		t.Fatalf("live context: %v", err)
	}
	errGone := errors.New("client went away")
	cancel(errGone)
	err := Check(ctx)
	if !errors.Is(err, ErrPreempted) || !errors.Is(err, errGone) || !IsPreempted(err) {
		t.Errorf("cancelled context: %v", err)
	}
	// go-sdk flattens initialisation errors with %v.
	if flat := fmt.Errorf("failed to initialize runtime: %v", err); !IsPreempted(flat) {
		t.Errorf("IsPreempted(%v) = false", flat)
	}
	if IsPreempted(nil) || IsPreempted(errGone) {
		t.Error("IsPreempted is true for an unrelated error")
	}
	if f := HostFunction(); f.Name != ImportName || f.Namespace != ImportModule || len(f.Params)+len(f.Returns) != 0 {
		t.Errorf("HostFunction: %+v", f)
	}
}
