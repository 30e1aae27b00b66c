// Command fieldsets rewrites gqlgen's generated executor to build its objects' field
// sets with graph's newFieldSet (graph/fieldset.go), which writes them to JSON with
// fewer allocations. It runs after gqlgen in go generate ./resolvers, and fails when
// gqlgen no longer writes what it rewrites, so that an upgrade is noticed.
//
//	go run ./graph/fieldsets graph/generated.go
package main

import (
	"bytes"
	"fmt"
	"os"
)

const (
	gqlgens = "out := graphql.NewFieldSet(fields)\n"
	ours    = "out := newFieldSet(fields)\n"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fieldsets:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: fieldsets <generated.go>")
	}
	src, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	n := bytes.Count(src, []byte(gqlgens))
	if n == 0 && bytes.Contains(src, []byte(ours)) {
		return nil // rewritten already
	}
	if n == 0 {
		return fmt.Errorf("%s builds no field set as %q: gqlgen changed, update graph/fieldset.go", args[0], gqlgens)
	}
	if rest := bytes.Count(src, []byte("graphql.NewFieldSet(")); rest != n {
		return fmt.Errorf("%s builds %d field sets otherwise than as %q: gqlgen changed", args[0], rest-n, gqlgens)
	}
	return os.WriteFile(args[0], bytes.ReplaceAll(src, []byte(gqlgens), []byte(ours)), 0o644)
}
