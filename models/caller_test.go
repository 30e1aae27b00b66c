package models_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/inkgraph/inkgraph/models"
)

func TestSignedInAgreesWithCallerFrom(t *testing.T) {
	t.Parallel()
	anonymous := context.Background()
	if _, ok := models.SignedIn(anonymous); ok {
		t.Fatal("no caller: not signed in")
	}
	if _, err := models.CallerFrom(anonymous); models.ErrorCode(err) != models.CodeUnauthenticated {
		t.Fatalf("CallerFrom without a caller: %v", err)
	}
	badToken := models.WithTokenError(anonymous, models.Errorf(models.CodeUnauthenticated, "expired"))
	if _, ok := models.SignedIn(badToken); ok {
		t.Fatal("a refused token: not signed in")
	}
	signed := models.WithCaller(anonymous, models.Caller{UserID: "u1"})
	c, ok := models.SignedIn(signed)
	if !ok || c.UserID != "u1" {
		t.Fatalf("SignedIn = %+v, %v", c, ok)
	}
	if c2, err := models.CallerFrom(signed); err != nil || !reflect.DeepEqual(c2, c) {
		t.Fatalf("CallerFrom = %+v, %v", c2, err)
	}
}
