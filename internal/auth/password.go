package auth

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkgraph/inkgraph/models"
)

const (
	minPasswordBytes = 8
	// bcrypt ignores every byte after the 72nd, so a longer password would be
	// silently truncated: refuse it instead.
	maxPasswordBytes = 72
	maxEmailBytes    = 254
)

// NormalizeEmail trims and lowercases an email address and checks that it is one.
func NormalizeEmail(raw string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" {
		return "", models.InvalidInput("email", "email is required")
	}
	if len(email) > maxEmailBytes {
		return "", models.InvalidInput("email", "email must be at most %d bytes", maxEmailBytes)
	}
	addr, err := mail.ParseAddress(email)
	// ParseAddress also accepts "Name <a@b.c>"; only a bare address is an email here.
	if err != nil || addr.Address != email {
		return "", models.InvalidInput("email", "%q is not an email address", raw)
	}
	at := strings.LastIndexByte(email, '@')
	if domain := email[at+1:]; !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", models.InvalidInput("email", "%q is not an email address: the domain needs a dot, as in example.com", raw)
	}
	return email, nil
}

// ValidatePassword checks a new password's length in bytes.
func ValidatePassword(pw string) error {
	switch {
	case len(pw) < minPasswordBytes:
		return models.InvalidInput("password", "password must be at least %d bytes", minPasswordBytes)
	case len(pw) > maxPasswordBytes:
		return models.InvalidInput("password", "password must be at most %d bytes (bcrypt ignores the rest)", maxPasswordBytes)
	}
	return nil
}

// hasher hashes and checks passwords with bcrypt at a configured cost.
type hasher struct {
	cost int
	// dummy is compared against when an email is unknown, so that a wrong email
	// costs as long as a wrong password and timing does not reveal accounts.
	dummy []byte
}

// dummySaltAndDigest is the salt and digest of a bcrypt hash (of
// "inkgraph-timing-equaliser"). What the comparison costs is set by the cost field in
// front of it alone: bcrypt runs 2^cost rounds over the salt before it looks at the
// digest, whichever password is given. So the dummy is written at the configured
// cost rather than hashed at start, which took a cost-12 bcrypt (about 200 ms of CPU)
// before the server could answer.
const dummySaltAndDigest = "Fuca92u4fUXGDt5MV.3d..oE0425/MdQbqd.e7u/5drhQ1IaPgMpK"

func newHasher(cost int) (*hasher, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d: want %d to %d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	return &hasher{cost: cost, dummy: fmt.Appendf(nil, "$2a$%02d$%s", cost, dummySaltAndDigest)}, nil
}

func (h *hasher) hash(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), h.cost)
	return string(b), err
}

// matches reports whether pw is the password of hash; an empty hash (no such user)
// spends the same time and reports false.
func (h *hasher) matches(hash, pw string) (bool, error) {
	target := []byte(hash)
	if hash == "" {
		target = h.dummy
	}
	err := bcrypt.CompareHashAndPassword(target, []byte(pw))
	switch {
	case err == nil:
		return hash != "", nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword), errors.Is(err, bcrypt.ErrPasswordTooLong):
		return false, nil
	default:
		return false, err
	}
}
