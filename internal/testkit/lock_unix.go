//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package testkit

import (
	"fmt"
	"os"
	"syscall"
)

// LockFile takes an exclusive lock on path, waiting for other holders (other test
// binaries building the same tool at the same time), and returns its release.
func LockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open build lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("take build lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
