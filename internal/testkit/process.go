package testkit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
)

// Process is a program a test started: what it wrote on stdout and stderr is in Logs,
// and Exited closes once it ended.
type Process struct {
	Logs   *SyncBuffer
	Exited <-chan struct{}
	cmd    *exec.Cmd
}

// StartProcess starts cmd, keeping its stdout and stderr in Logs. onLine, when not
// nil, also sees each line of stdout as it comes (a program that prints the address
// it listens on).
func StartProcess(cmd *exec.Cmd, onLine func(line string)) (*Process, error) {
	logs := &SyncBuffer{}
	cmd.Stderr = logs
	var out io.ReadCloser
	if onLine == nil {
		cmd.Stdout = logs
	} else {
		var err error
		if out, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		if out != nil {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				_, _ = logs.Write([]byte(sc.Text() + "\n"))
				onLine(sc.Text())
			}
			_, _ = io.Copy(io.Discard, out)
		}
		_ = cmd.Wait()
	}()
	return &Process{Logs: logs, Exited: exited, cmd: cmd}, nil
}

// Stop kills the process and waits until it ended.
func (p *Process) Stop() {
	_ = p.cmd.Process.Kill()
	<-p.Exited
}

// FreeLoopbackAddr returns 127.0.0.1:<port> with a port the system just handed out
// and that is free again: a program started on it may find it taken meanwhile, so
// callers try again on a new one.
func FreeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
