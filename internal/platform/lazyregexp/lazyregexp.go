// Package lazyregexp is a regular expression compiled on its first use rather than
// when its package is initialised, as the Go toolchain's own internal/lazyregexp:
// a package-level regexp.MustCompile runs at every start of the process, whether
// or not the path that matches with it ever runs, and a server's start is the sum
// of its packages' initialisation.
package lazyregexp

import (
	"os"
	"regexp"
	"strings"
	"sync"
)

// inTest is whether this process is a test binary. There every expression is
// compiled when it is declared, as regexp.MustCompile did: an invalid one fails the
// tests of any package that declares it, not the first request that reaches it.
var inTest = len(os.Args) > 0 && strings.HasSuffix(strings.TrimSuffix(os.Args[0], ".exe"), ".test")

// Regexp is a regexp.Regexp compiled on first use (when declared, in a test binary);
// an invalid expression panics there, as regexp.MustCompile would have at start.
type Regexp struct {
	expr     string
	compiled func() *regexp.Regexp
}

// New returns the Regexp of expr.
func New(expr string) *Regexp { return newRegexp(expr, inTest) }

func newRegexp(expr string, now bool) *Regexp {
	r := &Regexp{expr: expr, compiled: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
	if now {
		r.compiled()
	}
	return r
}

// String returns the expression.
func (r *Regexp) String() string { return r.expr }

// MatchString is regexp.Regexp's.
func (r *Regexp) MatchString(s string) bool { return r.compiled().MatchString(s) }

// ReplaceAllString is regexp.Regexp's.
func (r *Regexp) ReplaceAllString(src, repl string) string {
	return r.compiled().ReplaceAllString(src, repl)
}

// FindString is regexp.Regexp's.
func (r *Regexp) FindString(s string) string { return r.compiled().FindString(s) }

// FindStringSubmatch is regexp.Regexp's.
func (r *Regexp) FindStringSubmatch(s string) []string { return r.compiled().FindStringSubmatch(s) }

// FindAllStringSubmatch is regexp.Regexp's.
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.compiled().FindAllStringSubmatch(s, n)
}

// FindAllStringSubmatchIndex is regexp.Regexp's.
func (r *Regexp) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return r.compiled().FindAllStringSubmatchIndex(s, n)
}

// FindAllSubmatchIndex is regexp.Regexp's.
func (r *Regexp) FindAllSubmatchIndex(b []byte, n int) [][]int {
	return r.compiled().FindAllSubmatchIndex(b, n)
}
