package lazyregexp_test

import (
	"testing"

	"github.com/inkgraph/inkgraph/internal/platform/lazyregexp"
)

func TestMatchesAsRegexp(t *testing.T) {
	re := lazyregexp.New(`(\d+)-(\d+)`)
	if !re.MatchString("a 12-34 b") || re.MatchString("a b") {
		t.Fatal("MatchString")
	}
	if got := re.ReplaceAllString("1-2 and 3-4", "$2-$1"); got != "2-1 and 4-3" {
		t.Fatalf("ReplaceAllString: %q", got)
	}
	if got := re.FindStringSubmatch("x 5-6"); len(got) != 3 || got[2] != "6" {
		t.Fatalf("FindStringSubmatch: %q", got)
	}
	if got := re.FindAllStringSubmatchIndex("1-2 3-4", -1); len(got) != 2 || got[1][0] != 4 {
		t.Fatalf("FindAllStringSubmatchIndex: %v", got)
	}
	if got := re.FindAllSubmatchIndex([]byte("1-2 3-4"), 1); len(got) != 1 {
		t.Fatalf("FindAllSubmatchIndex: %v", got)
	}
	if got := re.FindString("a 7-8"); got != "7-8" {
		t.Fatalf("FindString: %q", got)
	}
	if got := re.FindAllStringSubmatch("1-2 3-4", -1); len(got) != 2 || got[1][1] != "3" {
		t.Fatalf("FindAllStringSubmatch: %q", got)
	}
	if re.String() != `(\d+)-(\d+)` {
		t.Fatal("String")
	}
}
