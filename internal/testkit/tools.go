package testkit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// GoTool returns the path of the command pkg (a main package) at version, built with
// `go install` from the module proxy into the user's cache directory the first time.
// Concurrent callers, in this process or in other test binaries, build it once: the
// build holds a lock file, and the binary is moved into place whole, so nobody ever
// runs a half-written one.
func GoTool(pkg, version string, timeout time.Duration) (string, error) {
	name := filepath.Base(pkg)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "inkgraph-test-bin", name+"@"+version)
	bin := filepath.Join(dir, name+exeSuffix())
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	unlock, err := LockFile(filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if isExecutable(bin) { // built by whoever held the lock before
		return bin, nil
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build %s: %w", name, err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "install", pkg+"@"+version)
	// The test's own GOFLAGS (-race, -mod=vendor, …) and workspace have nothing to
	// do with a tool built at a pinned version.
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w\n%s", pkg, version, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, name+exeSuffix()), bin); err != nil {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	return bin, nil
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0)
}

// ModuleTool returns the path of the command that the module in tools/<name> pins as
// its tool of that name: `go tool -n <name>` there, which builds it into Go's build
// cache the first time (CI builds them before the tests) and answers from the cache
// after. The module is looked for above the working directory (a test runs in its
// package's directory).
func ModuleTool(name string, timeout time.Duration) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", name, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("tools/%s/go.mod not found above the working directory", name)
		}
		dir = parent
	}
	dir = filepath.Join(dir, "tools", name)
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "tool", "-n", name)
	cmd.Dir = dir
	// The test's own flags (-race, …) and workspace have nothing to do with a tool
	// built at a pinned version.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n %s in %s: %w\n%s", name, dir, err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}
