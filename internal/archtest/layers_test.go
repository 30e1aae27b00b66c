package archtest

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/inkgraph/inkgraph"

// layer is one row of the layer table in docs/architecture.md.
type layer struct {
	name     string
	rank     int      // higher rows may import lower ones
	patterns []string // "dir" or "dir/..." relative to the module root
	// isolated: each pattern is its own area, and one area may not import another.
	isolated bool
	// testOnly: only _test.go files may import these packages.
	testOnly bool
}

// readLayers parses the fenced block marked "layers" in docs/architecture.md:
// one row a layer, top to bottom, "name pattern pattern …", with the flags
// "(isolated)" and "(tests only)" where they apply.
func readLayers(t *testing.T, root string) []layer {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "docs", "architecture.md"))
	require.NoError(t, err)
	defer f.Close()
	var rows []layer
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```layers":
			in = true
			continue
		case in && line == "```":
			in = false
			continue
		case !in || line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		fields := strings.Fields(line)
		l := layer{name: fields[0]}
		for _, f := range fields[1:] {
			switch f {
			case "(isolated)":
				l.isolated = true
			case "(tests-only)":
				l.testOnly = true
			default:
				l.patterns = append(l.patterns, f)
			}
		}
		rows = append(rows, l)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows, "docs/architecture.md has no ```layers block")
	for i := range rows {
		rows[i].rank = len(rows) - i
	}
	return rows
}

func match(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// place finds pkg's layer and, in an isolated layer, its area (the pattern it matched).
func place(layers []layer, pkg string) (layer, string, bool) {
	for _, l := range layers {
		for _, p := range l.patterns {
			if match(p, pkg) {
				return l, p, true
			}
		}
	}
	return layer{}, "", false
}

// imports lists, per package directory, the module's packages its non-test files
// import, and separately those its test files import.
func imports(t *testing.T, root string) (code, tests map[string][]string) {
	t.Helper()
	code, tests = map[string][]string{}, map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "tools") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		into := code
		if strings.HasSuffix(path, "_test.go") {
			into = tests
		}
		if _, ok := into[pkg]; !ok {
			into[pkg] = nil
		}
		for _, imp := range file.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if p == module {
				p = "."
			} else if after, ok := strings.CutPrefix(p, module+"/"); ok {
				p = after
			} else {
				continue
			}
			if !slices.Contains(into[pkg], p) {
				into[pkg] = append(into[pkg], p)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return code, tests
}

// TestImportsPointDown fails when a package imports a layer above its own, another
// area of its own layer, or a test-only package outside tests, and when a package is
// in no layer at all (a new package gets a row, or joins one, in the doc).
func TestImportsPointDown(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	layers := readLayers(t, root)
	code, tests := imports(t, root)

	var problems []string
	for pkg := range code {
		if _, _, ok := place(layers, pkg); !ok {
			problems = append(problems, fmt.Sprintf("%s is in no layer of docs/architecture.md", pkg))
		}
	}
	for pkg, imps := range code {
		from, fromArea, ok := place(layers, pkg)
		if !ok {
			continue
		}
		for _, imp := range imps {
			to, toArea, ok := place(layers, imp)
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s imports %s, which is in no layer", pkg, imp))
			case from.testOnly:
				// The test kit stands beside the layers: it builds databases and
				// peers for any test, so it may use what lies below the areas.
				if !to.testOnly && to.rank > rankOf(layers, "libraries") {
					problems = append(problems, fmt.Sprintf("%s (test kit) imports %s from the layer %s", pkg, imp, to.name))
				}
			case to.testOnly:
				problems = append(problems, fmt.Sprintf("%s imports %s, which only tests may import", pkg, imp))
			case to.rank > from.rank:
				problems = append(problems, fmt.Sprintf("%s (%s) imports %s from the higher layer %s", pkg, from.name, imp, to.name))
			case to.rank == from.rank && from.isolated && fromArea != toArea:
				problems = append(problems, fmt.Sprintf("%s imports %s: areas call each other through interfaces they declare, wired in internal/app", pkg, imp))
			}
		}
	}
	// Tests may import the test kit and whatever they exercise, but no test below
	// the server may pull the server or the command in.
	for pkg, imps := range tests {
		from, _, ok := place(layers, pkg)
		if !ok {
			continue
		}
		for _, imp := range imps {
			to, _, ok := place(layers, imp)
			if ok && to.rank > from.rank && !to.testOnly && to.rank >= rankOf(layers, "api") && from.rank < rankOf(layers, "api") {
				problems = append(problems, fmt.Sprintf("a test of %s imports %s", pkg, imp))
			}
		}
	}
	slices.Sort(problems)
	require.Empty(t, problems, "imports against docs/architecture.md:\n%s", strings.Join(problems, "\n"))
}

func rankOf(layers []layer, name string) int {
	for _, l := range layers {
		if l.name == name {
			return l.rank
		}
	}
	return 0
}

// TestTheLayerTableIsRead guards the test above against a doc it cannot read: a
// table that lost its rows would let every import pass.
func TestTheLayerTableIsRead(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	layers := readLayers(t, root)
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.name
	}
	require.Equal(t, []string{"cmd", "api", "adapters", "areas", "libraries", "platform", "leaf", "testkit"}, names)
	areas, _, _ := place(layers, "internal/chat")
	require.True(t, areas.isolated, "areas are isolated from each other")
	kit, _, _ := place(layers, "internal/testkit/fakellm")
	require.True(t, kit.testOnly)
}
