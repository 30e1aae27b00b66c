// Package keyring owns encryption at rest of users' LLM-provider API keys: a
// versioned ring of AES-256-GCM keys, the sealed-value format, and the
// configuration encoding of the ring. Keys are rotated by adding a higher
// version: new values are sealed with the newest key while values sealed with
// older keys stay readable until they are resealed.
//
// A sealed value is laid out as
//
//	tag (1 byte) | version (4 bytes, big-endian) | nonce (12 bytes) | GCM ciphertext+tag
//
// The header (tag and version) is authenticated together with the caller's
// aad, so a value cannot be relabelled with another key version or moved to
// another context (user, provider) without Open failing.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// KeySize is the length of every key in a ring: AES-256.
const KeySize = 32

const (
	// formatTag leaves room for a different layout later without guessing
	// from lengths; it is authenticated, so it cannot be swapped either.
	formatTag  byte = 1
	headerSize      = 1 + 4
	nonceSize       = 12
	tagSize         = 16
	// minSealedSize is an empty plaintext: anything shorter cannot be ours.
	minSealedSize = headerSize + nonceSize + tagSize
)

var (
	// ErrDecrypt means a value could not be opened: it was tampered with,
	// sealed under other aad or with another key, or is not a sealed value.
	// It deliberately says no more, so nothing secret can leak through it.
	ErrDecrypt = errors.New("keyring: cannot decrypt")
	// ErrMalformed wraps ErrDecrypt so callers that only care whether a value
	// opened need one check, while Version can still say why it gave up.
	ErrMalformed = fmt.Errorf("%w: malformed sealed value", ErrDecrypt)
	// ErrUnknownVersion means the value names a key version the ring lacks,
	// typically because an old key was retired before its data was resealed.
	ErrUnknownVersion = errors.New("keyring: unknown key version")
)

// Ring holds the AES-256-GCM keys by version. It is immutable after New and
// safe for concurrent use.
type Ring struct {
	// Only the cipher is kept, not the raw key bytes, so a Ring holds no
	// copy of the caller's slices that could later be changed or printed.
	aeads    map[int]cipher.AEAD
	versions []int // ascending, for String
	current  int
}

// New builds a ring from keys by version. Every version must be in
// [1, MaxInt32] (it is stored as a uint32 and must fit an int everywhere) and
// every key exactly KeySize bytes. The highest version becomes current.
func New(keys map[int][]byte) (*Ring, error) {
	if len(keys) == 0 {
		return nil, errors.New("keyring: no keys")
	}
	r := &Ring{aeads: make(map[int]cipher.AEAD, len(keys))}
	for v, key := range keys {
		if v < 1 || v > math.MaxInt32 {
			return nil, fmt.Errorf("keyring: version %d out of range [1, %d]", v, math.MaxInt32)
		}
		if len(key) != KeySize {
			// The length is safe to report; the bytes are not.
			return nil, fmt.Errorf("keyring: version %d: key is %d bytes, want %d", v, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keyring: version %d: %w", v, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: version %d: %w", v, err)
		}
		r.aeads[v] = aead
		r.versions = append(r.versions, v)
	}
	slices.Sort(r.versions)
	r.current = r.versions[len(r.versions)-1]
	return r, nil
}

// Current returns the version new values are sealed with.
func (r *Ring) Current() int { return r.current }

// WithCurrent returns a copy of the ring that seals with version v instead of the
// highest. Rotation across several servers needs it: a new version is first rolled
// out decrypt-only (every server can open values sealed with it), and only then
// made current, so no server ever meets a value it cannot open.
func (r *Ring) WithCurrent(v int) (*Ring, error) {
	if _, ok := r.aeads[v]; !ok {
		return nil, fmt.Errorf("keyring: current version %d is not in the ring", v)
	}
	c := *r
	c.current = v
	return &c, nil
}

// Seal encrypts plaintext with the current key. aad binds the result to its
// context (for example user ID and provider): Open with different aad fails.
func (r *Ring) Seal(plaintext []byte, aad ...string) ([]byte, error) {
	out := make([]byte, headerSize+nonceSize, headerSize+nonceSize+len(plaintext)+tagSize)
	putHeader(out, r.current)
	nonce := out[headerSize:]
	// Random 96-bit nonces are safe for the small number of values one key
	// seals here (far below the ~2^32 limit), and need no counter state.
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keyring: nonce: %w", err)
	}
	return r.aeads[r.current].Seal(out, nonce, plaintext, additionalData(out[:headerSize], aad)), nil
}

// Open decrypts a value made by Seal with the same aad. It fails with
// ErrUnknownVersion if the ring lacks the value's key version and with
// ErrDecrypt otherwise; errors never contain plaintext or key bytes.
func (r *Ring) Open(ciphertext []byte, aad ...string) ([]byte, error) {
	v, err := Version(ciphertext)
	if err != nil {
		return nil, err
	}
	aead, ok := r.aeads[v]
	if !ok {
		return nil, fmt.Errorf("%w %d", ErrUnknownVersion, v)
	}
	header := ciphertext[:headerSize]
	nonce := ciphertext[headerSize : headerSize+nonceSize]
	body := ciphertext[headerSize+nonceSize:]
	// A sized, non-nil dst means an empty secret opens as []byte{}, never
	// as a nil that callers could mistake for "no value".
	dst := make([]byte, 0, len(body)-tagSize)
	plaintext, err := aead.Open(dst, nonce, body, additionalData(header, aad))
	if err != nil {
		// GCM's own error carries nothing useful; the sentinel is the contract.
		return nil, ErrDecrypt
	}
	return plaintext, nil
}

// Version returns the key version a value was sealed with, so callers can
// find values that still need resealing after a rotation. It does not
// authenticate the value; only Open does.
func Version(ciphertext []byte) (int, error) {
	if len(ciphertext) < minSealedSize || ciphertext[0] != formatTag {
		return 0, ErrMalformed
	}
	v := binary.BigEndian.Uint32(ciphertext[1:headerSize])
	// Seal never writes these, so they mark a forged or foreign value.
	if v == 0 || v > math.MaxInt32 {
		return 0, ErrMalformed
	}
	return int(v), nil
}

// Reseal opens a value sealed under any version in the ring and seals it
// again under the current one, with the same aad. Used by key rotation.
func (r *Ring) Reseal(ciphertext []byte, aad ...string) ([]byte, error) {
	plaintext, err := r.Open(ciphertext, aad...)
	if err != nil {
		return nil, err
	}
	defer clear(plaintext) // the API key should not outlive the reseal
	return r.Seal(plaintext, aad...)
}

// Parse reads a ring from its configuration form "1:base64key,2:base64key",
// each key standard base64 of KeySize bytes. Spaces around entries are
// ignored. Errors name the entry by position, never by content, because a
// malformed entry may well be a key.
func Parse(spec string) (*Ring, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("keyring: empty spec")
	}
	keys := make(map[int][]byte)
	for i, entry := range strings.Split(spec, ",") {
		n := i + 1
		versionText, keyText, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok {
			return nil, fmt.Errorf("keyring: entry %d: want version:base64key", n)
		}
		v, err := strconv.Atoi(strings.TrimSpace(versionText))
		if err != nil {
			return nil, fmt.Errorf("keyring: entry %d: version is not a number", n)
		}
		if _, dup := keys[v]; dup {
			return nil, fmt.Errorf("keyring: entry %d: duplicate version %d", n, v)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keyText))
		if err != nil {
			return nil, fmt.Errorf("keyring: entry %d (version %d): key is not valid base64", n, v)
		}
		keys[v] = key
	}
	return New(keys)
}

// String describes the ring without any key material, so a Ring can be
// logged or printed in a config dump safely. It and GoString have value
// receivers so that printing a dereferenced Ring with any verb also goes
// through them instead of dumping the ciphers' key schedules.
func (r Ring) String() string {
	vs := make([]string, len(r.versions))
	for i, v := range r.versions {
		vs[i] = strconv.Itoa(v)
	}
	return fmt.Sprintf("keyring(versions=%s current=%d)", strings.Join(vs, ","), r.current)
}

// GoString keeps %#v from printing the ciphers' internals.
func (r Ring) GoString() string { return r.String() }

// Generate returns a fresh random key for a new ring version.
func Generate() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("keyring: generate: %w", err)
	}
	return key, nil
}

func putHeader(dst []byte, version int) {
	dst[0] = formatTag
	binary.BigEndian.PutUint32(dst[1:headerSize], uint32(version))
}

// additionalData is the header followed by each aad element with a 4-byte
// length prefix; without the prefixes ("ab","c") and ("a","bc") would be
// the same bytes and one context could open another's values.
func additionalData(header []byte, aad []string) []byte {
	size := len(header)
	for _, a := range aad {
		size += 4 + len(a)
	}
	out := make([]byte, 0, size)
	out = append(out, header...)
	for _, a := range aad {
		out = binary.BigEndian.AppendUint32(out, uint32(len(a)))
		out = append(out, a...)
	}
	return out
}
