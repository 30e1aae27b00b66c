// Command printschema writes the schema graph's executor runs, as sdl.Print prints
// it, to the file named by its one argument. resolvers/generate.go runs it after
// gqlgen.
package main

import (
	"fmt"
	"os"

	"github.com/inkgraph/inkgraph/graph"
	"github.com/inkgraph/inkgraph/graph/sdl"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: printschema FILE")
		os.Exit(2)
	}
	text := sdl.Print(graph.NewExecutableSchema(graph.Config{}).Schema())
	if err := os.WriteFile(os.Args[1], text, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
