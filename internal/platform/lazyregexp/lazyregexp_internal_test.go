package lazyregexp

import "testing"

// TestCompilesWhenFirstUsed: outside a test binary, an expression is compiled at its
// first use, not when declared (an invalid one panics only there).
func TestCompilesWhenFirstUsed(t *testing.T) {
	bad := newRegexp(`(`, false) // compiled here, it would panic
	defer func() {
		if recover() == nil {
			t.Fatal("an invalid expression did not panic at its first use")
		}
	}()
	bad.MatchString("x")
}

// TestCompilesWhenDeclaredInTests: in a test binary, which this is, New compiles at
// once, so an invalid expression fails the tests of the package declaring it.
func TestCompilesWhenDeclaredInTests(t *testing.T) {
	if !inTest {
		t.Skip("this test binary is not named *.test (go test -c -o): expressions stay lazy here")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New of an invalid expression did not panic in a test binary")
		}
	}()
	New(`(`)
}
