package testkit

import (
	"context"
	"fmt"
	"time"
)

// WaitReady asks ask every interval until it answers nil, for a process the test
// started: it gives up with ask's last error when the process exits (exited closes)
// or timeout passes.
func WaitReady(exited <-chan struct{}, timeout, interval time.Duration, ask func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	retry := time.NewTicker(interval)
	defer retry.Stop()
	for {
		err := ask(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-retry.C:
		case <-exited:
			return fmt.Errorf("exited: %w", err)
		case <-ctx.Done():
			return err
		}
	}
}
