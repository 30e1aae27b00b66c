package keyring_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/keyring"
)

// Offsets of the documented format, spelled out here rather than imported so
// the tests pin the layout other tools and stored data depend on.
const (
	versionAt = 1
	nonceAt   = 5
	bodyAt    = 17
	tagSize   = 16
	minSize   = bodyAt + tagSize
)

func newKey(t testing.TB) []byte {
	t.Helper()
	key, err := keyring.Generate()
	require.NoError(t, err)
	return key
}

func newRing(t testing.TB, keys map[int][]byte) *keyring.Ring {
	t.Helper()
	r, err := keyring.New(keys)
	require.NoError(t, err)
	return r
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	a, err := keyring.Generate()
	require.NoError(t, err)
	b, err := keyring.Generate()
	require.NoError(t, err)
	require.Len(t, a, keyring.KeySize)
	require.Len(t, b, keyring.KeySize)
	require.NotEqual(t, a, b)
}

func TestNew(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	tests := []struct {
		name        string
		keys        map[int][]byte
		wantErr     bool
		wantCurrent int
	}{
		{name: "one key", keys: map[int][]byte{1: key}, wantCurrent: 1},
		{name: "current is highest", keys: map[int][]byte{3: key, 1: key, 7: key}, wantCurrent: 7},
		{name: "nil map", keys: nil, wantErr: true},
		{name: "empty map", keys: map[int][]byte{}, wantErr: true},
		{name: "31-byte key", keys: map[int][]byte{1: key[:31]}, wantErr: true},
		{name: "33-byte key", keys: map[int][]byte{1: append(bytes.Clone(key), 0)}, wantErr: true},
		{name: "nil key", keys: map[int][]byte{1: nil}, wantErr: true},
		{name: "version 0", keys: map[int][]byte{0: key}, wantErr: true},
		{name: "negative version", keys: map[int][]byte{-1: key}, wantErr: true},
		{name: "version beyond int32", keys: map[int][]byte{1 << 31: key}, wantErr: true},
		{name: "one bad among good", keys: map[int][]byte{1: key, 2: key[:16]}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := keyring.New(tt.keys)
			if tt.wantErr {
				require.Error(t, err)
				require.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantCurrent, r.Current())
		})
	}
}

func TestNewDoesNotAliasCallerKeys(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	r := newRing(t, map[int][]byte{1: key})
	sealed, err := r.Seal([]byte("secret"))
	require.NoError(t, err)
	clear(key) // a caller wiping its copy must not break the ring
	got, err := r.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, []byte("secret"), got)
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	r := newRing(t, map[int][]byte{1: newKey(t), 2: newKey(t)})
	tests := []struct {
		name      string
		plaintext []byte
		aad       []string
	}{
		{name: "empty plaintext", plaintext: []byte{}},
		{name: "api key no aad", plaintext: []byte("sk-test-0123456789")},
		{name: "user and provider", plaintext: []byte("sk-test-0123456789"), aad: []string{"user-42", "openai"}},
		{name: "empty aad element", plaintext: []byte("x"), aad: []string{""}},
		{name: "binary plaintext", plaintext: []byte{0, 1, 2, 255, 0}},
		{name: "large plaintext", plaintext: bytes.Repeat([]byte("k"), 1<<16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sealed, err := r.Seal(tt.plaintext, tt.aad...)
			require.NoError(t, err)
			require.Len(t, sealed, minSize+len(tt.plaintext))
			require.Equal(t, byte(1), sealed[0], "format tag")

			v, err := keyring.Version(sealed)
			require.NoError(t, err)
			require.Equal(t, 2, v)
			require.Equal(t, uint32(2), binary.BigEndian.Uint32(sealed[versionAt:nonceAt]))

			got, err := r.Open(sealed, tt.aad...)
			require.NoError(t, err)
			require.Equal(t, tt.plaintext, got)
		})
	}
}

func TestOpenWrongAAD(t *testing.T) {
	t.Parallel()
	r := newRing(t, map[int][]byte{1: newKey(t)})
	tests := []struct {
		name     string
		sealAAD  []string
		openAAD  []string
		wantOpen bool
	}{
		{name: "same aad", sealAAD: []string{"u1", "openai"}, openAAD: []string{"u1", "openai"}, wantOpen: true},
		{name: "other user", sealAAD: []string{"u1", "openai"}, openAAD: []string{"u2", "openai"}},
		{name: "other provider", sealAAD: []string{"u1", "openai"}, openAAD: []string{"u1", "anthropic"}},
		{name: "swapped order", sealAAD: []string{"u1", "openai"}, openAAD: []string{"openai", "u1"}},
		{name: "swapped split", sealAAD: []string{"ab", "c"}, openAAD: []string{"a", "bc"}},
		{name: "joined", sealAAD: []string{"ab", "c"}, openAAD: []string{"abc"}},
		{name: "missing", sealAAD: []string{"u1"}, openAAD: nil},
		{name: "extra", sealAAD: nil, openAAD: []string{"u1"}},
		{name: "empty element vs none", sealAAD: []string{""}, openAAD: nil},
		{name: "trailing empty element", sealAAD: []string{"a"}, openAAD: []string{"a", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sealed, err := r.Seal([]byte("sk-secret"), tt.sealAAD...)
			require.NoError(t, err)
			got, err := r.Open(sealed, tt.openAAD...)
			if tt.wantOpen {
				require.NoError(t, err)
				require.Equal(t, []byte("sk-secret"), got)
				return
			}
			require.ErrorIs(t, err, keyring.ErrDecrypt)
			require.Nil(t, got)
		})
	}
}

func TestOpenWrongKey(t *testing.T) {
	t.Parallel()
	sealed, err := newRing(t, map[int][]byte{1: newKey(t)}).Seal([]byte("sk-secret"))
	require.NoError(t, err)
	got, err := newRing(t, map[int][]byte{1: newKey(t)}).Open(sealed)
	require.ErrorIs(t, err, keyring.ErrDecrypt)
	require.Nil(t, got)
}

func TestOpenTampered(t *testing.T) {
	t.Parallel()
	r := newRing(t, map[int][]byte{1: newKey(t)})
	plaintext := []byte("sk-secret-value")
	tests := []struct {
		name    string
		at      func(n int) int // byte to flip, given the sealed length
		wantErr error
	}{
		{name: "format tag", at: func(int) int { return 0 }, wantErr: keyring.ErrDecrypt},
		{name: "version high byte", at: func(int) int { return versionAt }, wantErr: keyring.ErrUnknownVersion},
		{name: "version low byte", at: func(int) int { return nonceAt - 1 }, wantErr: keyring.ErrUnknownVersion},
		{name: "nonce first byte", at: func(int) int { return nonceAt }, wantErr: keyring.ErrDecrypt},
		{name: "nonce last byte", at: func(int) int { return bodyAt - 1 }, wantErr: keyring.ErrDecrypt},
		{name: "body first byte", at: func(int) int { return bodyAt }, wantErr: keyring.ErrDecrypt},
		{name: "body last byte", at: func(n int) int { return n - tagSize - 1 }, wantErr: keyring.ErrDecrypt},
		{name: "tag first byte", at: func(n int) int { return n - tagSize }, wantErr: keyring.ErrDecrypt},
		{name: "tag last byte", at: func(n int) int { return n - 1 }, wantErr: keyring.ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sealed, err := r.Seal(plaintext, "u1")
			require.NoError(t, err)
			sealed[tt.at(len(sealed))] ^= 0x02
			got, err := r.Open(sealed, "u1")
			require.ErrorIs(t, err, tt.wantErr)
			require.Nil(t, got)
			require.NotContains(t, err.Error(), string(plaintext))
		})
	}
}

// With the same key under two versions only the authenticated header tells
// them apart, so this proves the version is bound and not merely a key hint.
func TestOpenRelabelledVersion(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	r := newRing(t, map[int][]byte{1: key, 2: key})
	sealed, err := r.Seal([]byte("sk-secret"))
	require.NoError(t, err)
	binary.BigEndian.PutUint32(sealed[versionAt:nonceAt], 1)
	v, err := keyring.Version(sealed)
	require.NoError(t, err)
	require.Equal(t, 1, v)
	got, err := r.Open(sealed)
	require.ErrorIs(t, err, keyring.ErrDecrypt)
	require.Nil(t, got)
}

func TestOpenTruncated(t *testing.T) {
	t.Parallel()
	r := newRing(t, map[int][]byte{1: newKey(t)})
	sealed, err := r.Seal([]byte("sk-secret"))
	require.NoError(t, err)
	tests := []struct {
		name string
		n    int
	}{
		{name: "empty", n: 0},
		{name: "tag only", n: 1},
		{name: "header only", n: nonceAt},
		{name: "header and nonce", n: bodyAt},
		{name: "one short of minimum", n: minSize - 1},
		{name: "minimum length", n: minSize},
		{name: "last byte cut", n: len(sealed) - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Open(bytes.Clone(sealed[:tt.n]))
			require.ErrorIs(t, err, keyring.ErrDecrypt)
			require.Nil(t, got)
		})
	}
	got, err := r.Open(nil)
	require.ErrorIs(t, err, keyring.ErrDecrypt)
	require.Nil(t, got)
}

func TestOpenUnknownVersion(t *testing.T) {
	t.Parallel()
	sealed, err := newRing(t, map[int][]byte{5: newKey(t)}).Seal([]byte("sk-secret"))
	require.NoError(t, err)
	got, err := newRing(t, map[int][]byte{1: newKey(t), 2: newKey(t)}).Open(sealed)
	require.ErrorIs(t, err, keyring.ErrUnknownVersion)
	require.NotErrorIs(t, err, keyring.ErrDecrypt)
	require.Nil(t, got)
}

func TestVersion(t *testing.T) {
	t.Parallel()
	valid, err := newRing(t, map[int][]byte{7: newKey(t)}).Seal([]byte("x"))
	require.NoError(t, err)
	withVersion := func(v uint32) []byte {
		b := bytes.Clone(valid)
		binary.BigEndian.PutUint32(b[versionAt:nonceAt], v)
		return b
	}
	withTag := func(tag byte) []byte {
		b := bytes.Clone(valid)
		b[0] = tag
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		want    int
		wantErr bool
	}{
		{name: "sealed value", in: valid, want: 7},
		{name: "large version", in: withVersion(1<<31 - 1), want: 1<<31 - 1},
		{name: "nil", in: nil, wantErr: true},
		{name: "too short", in: valid[:minSize-1], wantErr: true},
		{name: "unknown format tag", in: withTag(2), wantErr: true},
		{name: "zero tag", in: withTag(0), wantErr: true},
		{name: "version 0", in: withVersion(0), wantErr: true},
		{name: "version beyond int32", in: withVersion(1 << 31), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := keyring.Version(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, keyring.ErrMalformed)
				require.ErrorIs(t, err, keyring.ErrDecrypt)
				require.Zero(t, v)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, v)
		})
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	old := newRing(t, map[int][]byte{1: k1})
	both := newRing(t, map[int][]byte{1: k1, 2: k2})
	onlyNew := newRing(t, map[int][]byte{2: k2})
	plaintext := []byte("sk-rotate-me")
	aad := []string{"user-1", "openai"}

	sealed, err := old.Seal(plaintext, aad...)
	require.NoError(t, err)
	v, err := keyring.Version(sealed)
	require.NoError(t, err)
	require.Equal(t, 1, v)

	// Old data stays readable once the new key is added.
	got, err := both.Open(sealed, aad...)
	require.NoError(t, err)
	require.Equal(t, plaintext, got)

	// New data goes to the newest key.
	fresh, err := both.Seal(plaintext, aad...)
	require.NoError(t, err)
	v, err = keyring.Version(fresh)
	require.NoError(t, err)
	require.Equal(t, 2, v)

	resealed, err := both.Reseal(sealed, aad...)
	require.NoError(t, err)
	v, err = keyring.Version(resealed)
	require.NoError(t, err)
	require.Equal(t, 2, v)

	// After retiring key 1, resealed data opens and unresealed data does not.
	got, err = onlyNew.Open(resealed, aad...)
	require.NoError(t, err)
	require.Equal(t, plaintext, got)
	got, err = onlyNew.Open(sealed, aad...)
	require.ErrorIs(t, err, keyring.ErrUnknownVersion)
	require.Nil(t, got)

	// Resealing keeps the context binding.
	got, err = both.Open(resealed, "user-2", "openai")
	require.ErrorIs(t, err, keyring.ErrDecrypt)
	require.Nil(t, got)
}

func TestResealErrors(t *testing.T) {
	t.Parallel()
	r := newRing(t, map[int][]byte{1: newKey(t), 2: newKey(t)})
	sealed, err := r.Seal([]byte("sk-secret"), "u1")
	require.NoError(t, err)
	foreign, err := newRing(t, map[int][]byte{9: newKey(t)}).Seal([]byte("sk-secret"), "u1")
	require.NoError(t, err)
	tests := []struct {
		name    string
		in      []byte
		aad     []string
		wantErr error
	}{
		{name: "wrong aad", in: sealed, aad: []string{"u2"}, wantErr: keyring.ErrDecrypt},
		{name: "unknown version", in: foreign, aad: []string{"u1"}, wantErr: keyring.ErrUnknownVersion},
		{name: "garbage", in: []byte("not sealed"), aad: []string{"u1"}, wantErr: keyring.ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Reseal(tt.in, tt.aad...)
			require.ErrorIs(t, err, tt.wantErr)
			require.Nil(t, got)
		})
	}
}

func TestSealNoncesDiffer(t *testing.T) {
	t.Parallel()
	r := newRing(t, map[int][]byte{1: newKey(t)})
	a, err := r.Seal([]byte("same"), "u1")
	require.NoError(t, err)
	b, err := r.Seal([]byte("same"), "u1")
	require.NoError(t, err)
	require.NotEqual(t, a[nonceAt:bodyAt], b[nonceAt:bodyAt])
	require.NotEqual(t, a[bodyAt:], b[bodyAt:])
}

func TestParse(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	b1 := base64.StdEncoding.EncodeToString(k1)
	b2 := base64.StdEncoding.EncodeToString(k2)
	short := base64.StdEncoding.EncodeToString(k1[:31])
	tests := []struct {
		name         string
		spec         string
		wantVersions string // String() of the ring, when valid
		wantErr      bool
	}{
		{name: "one key", spec: "1:" + b1, wantVersions: "keyring(versions=1 current=1)"},
		{name: "two keys", spec: "1:" + b1 + ",2:" + b2, wantVersions: "keyring(versions=1,2 current=2)"},
		{name: "any order", spec: "2:" + b2 + ",1:" + b1, wantVersions: "keyring(versions=1,2 current=2)"},
		{name: "spaces around entries", spec: " 1 : " + b1 + " , 2:" + b2 + " ", wantVersions: "keyring(versions=1,2 current=2)"},
		{name: "empty", spec: "", wantErr: true},
		{name: "blank", spec: "   ", wantErr: true},
		{name: "bad base64", spec: "1:" + b1[:len(b1)-2] + "!!", wantErr: true},
		{name: "url base64", spec: "1:" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)), wantErr: true},
		{name: "31-byte key", spec: "1:" + short, wantErr: true},
		{name: "version 0", spec: "0:" + b1, wantErr: true},
		{name: "negative version", spec: "-1:" + b1, wantErr: true},
		{name: "duplicate version", spec: "1:" + b1 + ",1:" + b2, wantErr: true},
		{name: "missing colon", spec: b1, wantErr: true},
		{name: "missing version", spec: ":" + b1, wantErr: true},
		{name: "non-numeric version", spec: "v1:" + b1, wantErr: true},
		{name: "missing key", spec: "1:", wantErr: true},
		{name: "trailing comma", spec: "1:" + b1 + ",", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := keyring.Parse(tt.spec)
			if tt.wantErr {
				require.Error(t, err)
				require.Nil(t, r)
				// A bad config line may be a real key: never echo it.
				for _, secret := range []string{b1, b2, short} {
					require.NotContains(t, err.Error(), secret)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantVersions, r.String())
		})
	}
}

func TestParseKeysMatchVersions(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	spec := fmt.Sprintf("1:%s,2:%s",
		base64.StdEncoding.EncodeToString(k1), base64.StdEncoding.EncodeToString(k2))
	parsed, err := keyring.Parse(spec)
	require.NoError(t, err)

	sealed, err := newRing(t, map[int][]byte{1: k1}).Seal([]byte("v1 data"))
	require.NoError(t, err)
	got, err := parsed.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, []byte("v1 data"), got)

	sealed, err = parsed.Seal([]byte("v2 data"))
	require.NoError(t, err)
	got, err = newRing(t, map[int][]byte{2: k2}).Open(sealed)
	require.NoError(t, err)
	require.Equal(t, []byte("v2 data"), got)
}

func TestStringHidesKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	r := newRing(t, map[int][]byte{1: k1, 2: k2})
	require.Equal(t, "keyring(versions=1,2 current=2)", r.String())

	forbidden := []string{
		base64.StdEncoding.EncodeToString(k1), base64.StdEncoding.EncodeToString(k2),
		string(k1), string(k2),
		fmt.Sprintf("%x", k1), fmt.Sprintf("%x", k2),
		fmt.Sprintf("%d", k1), fmt.Sprintf("%d", k2), // the form Sprint gives a []byte
		"aead", "cipher",
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for name, arg := range map[string]any{"pointer": r, "value": *r} {
			out := fmt.Sprintf(format, arg)
			require.Contains(t, out, "keyring(versions=1,2 current=2)", "%s %s", format, name)
			for _, f := range forbidden {
				require.NotContains(t, out, f, "%s %s", format, name)
			}
		}
	}
}

func TestErrorsHidePlaintext(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	r := newRing(t, map[int][]byte{1: key})
	plaintext := []byte("sk-very-secret-api-key")
	sealed, err := r.Seal(plaintext, "u1")
	require.NoError(t, err)
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	foreign, err := newRing(t, map[int][]byte{4: newKey(t)}).Seal(plaintext, "u1")
	require.NoError(t, err)

	var errs []error
	_, err = r.Open(sealed, "u2")
	errs = append(errs, err)
	_, err = r.Open(tampered, "u1")
	errs = append(errs, err)
	_, err = r.Open(foreign, "u1")
	errs = append(errs, err)
	_, err = r.Reseal(sealed, "u2")
	errs = append(errs, err)
	_, err = r.Reseal(tampered, "u1")
	errs = append(errs, err)
	_, err = keyring.Version(sealed[:3])
	errs = append(errs, err)

	for i, err := range errs {
		require.Error(t, err, "case %d", i)
		msg := fmt.Sprintf("%v %+v %#v", err, err, err)
		require.NotContains(t, msg, string(plaintext), "case %d", i)
		require.NotContains(t, msg, base64.StdEncoding.EncodeToString(key), "case %d", i)
		require.NotContains(t, msg, string(key), "case %d", i)
		require.True(t, errors.Is(err, keyring.ErrDecrypt) || errors.Is(err, keyring.ErrUnknownVersion), "case %d: %v", i, err)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	r := newRing(t, map[int][]byte{1: newKey(t), 2: newKey(t)})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			aad := fmt.Sprintf("user-%d", i)
			want := []byte(strings.Repeat("k", i))
			sealed, err := r.Seal(want, aad)
			if err != nil {
				errs <- err
				return
			}
			got, err := r.Open(sealed, aad)
			if err == nil && !bytes.Equal(got, want) {
				err = fmt.Errorf("user %d: round trip mismatch", i)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func FuzzOpen(f *testing.F) {
	r, err := keyring.New(map[int][]byte{1: bytes.Repeat([]byte{1}, 32), 2: bytes.Repeat([]byte{2}, 32)})
	require.NoError(f, err)
	valid, err := r.Seal([]byte("sk-fuzz"), "u1")
	require.NoError(f, err)
	f.Add(valid, "u1")
	f.Add(valid, "u2")
	f.Add([]byte{}, "")
	f.Add([]byte{1}, "u1")
	f.Add(valid[:minSize], "u1")
	f.Add(append([]byte{1, 0, 0, 0, 9}, make([]byte, 40)...), "")
	f.Add(append([]byte{1, 0xff, 0xff, 0xff, 0xff}, make([]byte, 40)...), "")
	f.Fuzz(func(t *testing.T, data []byte, aad string) {
		got, err := r.Open(data, aad)
		if err != nil {
			require.Nil(t, got)
			require.True(t, errors.Is(err, keyring.ErrDecrypt) || errors.Is(err, keyring.ErrUnknownVersion), "unexpected error: %v", err)
			return
		}
		// Forging a valid value without the key is infeasible, so anything
		// that opens must be the seeded value itself.
		require.Equal(t, []byte("sk-fuzz"), got)
		v, err := keyring.Version(data)
		require.NoError(t, err)
		require.Equal(t, 2, v)
	})
}

func TestWithCurrentSealsWithTheChosenVersion(t *testing.T) {
	t.Parallel()
	k1, k2 := bytes.Repeat([]byte{1}, keyring.KeySize), bytes.Repeat([]byte{2}, keyring.KeySize)
	r, err := keyring.New(map[int][]byte{1: k1, 2: k2})
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := r.WithCurrent(1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Current() != 2 || pinned.Current() != 1 {
		t.Fatalf("current: ring %d, pinned %d", r.Current(), pinned.Current())
	}
	sealed, err := pinned.Seal([]byte("secret"), "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := keyring.Version(sealed); v != 1 {
		t.Fatalf("sealed with version %d, want 1", v)
	}
	if _, err := r.Open(sealed, "u", "p"); err != nil {
		t.Fatalf("the full ring opens it: %v", err)
	}
	if _, err := r.WithCurrent(3); err == nil {
		t.Fatal("a version outside the ring cannot be current")
	}
}

// BenchmarkOpen is what listing a user's provider keys costs per key: onboarding opens
// each one to show those it cannot open as UNREADABLE.
func BenchmarkOpen(b *testing.B) {
	r, err := keyring.New(map[int][]byte{1: bytes.Repeat([]byte{1}, keyring.KeySize)})
	require.NoError(b, err)
	sealed, err := r.Seal([]byte("sk-proj-0123456789abcdefghijklmnopqrstuvwxyz0123"), "user-id", "openai")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Open(sealed, "user-id", "openai"); err != nil {
			b.Fatal(err)
		}
	}
}
