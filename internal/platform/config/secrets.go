package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/keyring"
)

// CheckSharedSecrets refuses PostgreSQL without the secrets instances must share: one
// generated per instance would sign tokens and seal keys the others cannot read. It
// reads nothing, so a command that needs secrets can fail before any side effect.
func (c *Config) CheckSharedSecrets() error {
	if !database.IsPostgres(c.Database.URL) {
		return nil
	}
	var missing []string
	if len(c.JWTSecret) == 0 {
		missing = append(missing, "INKGRAPH_JWT_SECRET")
	}
	if c.Keyring == "" {
		missing = append(missing, "INKGRAPH_KEYRING")
	}
	if c.BackupStore == BackupStoreLocal && len(c.BackupSigningKey) == 0 {
		missing = append(missing, "INKGRAPH_BACKUP_SIGNING_KEY")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s must be set with PostgreSQL: instances sharing a database must share secrets", joinAnd(missing))
	}
	return nil
}

// EnsureSecrets fills in the secrets embedded mode may generate: each is read from
// DATA_DIR/secrets, or created there with mode 0600 and a warning. Production never
// gets here without them (Load refuses), nor PostgreSQL (CheckSharedSecrets).
func (c *Config) EnsureSecrets(logger *slog.Logger) error {
	if err := c.CheckSharedSecrets(); err != nil {
		return err
	}
	if len(c.JWTSecret) == 0 {
		secret, err := loadOrCreateSecret(filepath.Join(c.DataDir, "secrets", "jwt.key"), logger)
		if err != nil {
			return err
		}
		c.JWTSecret = secret
	}
	if c.BackupStore == BackupStoreLocal && len(c.BackupSigningKey) == 0 {
		secret, err := loadOrCreateSecret(filepath.Join(c.DataDir, "secrets", "backup.key"), logger)
		if err != nil {
			return err
		}
		c.BackupSigningKey = secret
	}
	if c.Keyring == "" {
		path := filepath.Join(c.DataDir, "secrets", "keyring")
		spec, err := loadOrCreateKeyring(path, logger)
		if err != nil {
			return err
		}
		c.Keyring, c.KeyringFile = spec, path
	}
	return nil
}

func loadOrCreateKeyring(path string, logger *slog.Logger) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		spec := strings.TrimSpace(string(b))
		if _, err := keyring.Parse(spec); err != nil {
			return "", fmt.Errorf("key ring file %s is damaged (%w): provider keys encrypted with it cannot be read without it", path, err)
		}
		return spec, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read key ring: %w", err)
	}
	key, err := keyring.Generate()
	if err != nil {
		return "", err
	}
	spec := "1:" + base64.StdEncoding.EncodeToString(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("secret directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadOrCreateKeyring(path, logger)
	}
	if err != nil {
		return "", fmt.Errorf("create key ring: %w", err)
	}
	if _, err := f.WriteString(spec + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	logger.Warn("generated a key ring for embedded mode; set INKGRAPH_KEYRING in production", "path", path)
	return spec, nil
}

// Ring builds the key ring the configuration describes, sealing with KeyringCurrent
// when it is set.
func (c *Config) Ring() (*keyring.Ring, error) {
	ring, err := keyring.Parse(c.Keyring)
	if err != nil {
		return nil, err
	}
	if c.KeyringCurrent != 0 {
		return ring.WithCurrent(c.KeyringCurrent)
	}
	return ring, nil
}

// ReloadRing reads the key ring again from the data directory, where `keys rotate`
// may have added a version since this process started; nil when the ring comes from
// INKGRAPH_KEYRING (the operator rolls that out).
func (c *Config) ReloadRing() func() (*keyring.Ring, error) {
	if c.KeyringFile == "" {
		return nil
	}
	path := c.KeyringFile
	return func() (*keyring.Ring, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read key ring: %w", err)
		}
		return keyring.Parse(strings.TrimSpace(string(b)))
	}
}

// AddKeyringVersion generates a new key as the next version of a key ring kept in
// the data directory and writes the file back (old versions stay, so existing values
// can still be opened). A ring given in INKGRAPH_KEYRING is the operator's to extend.
func (c *Config) AddKeyringVersion() (int, error) {
	if c.KeyringFile == "" {
		return 0, errors.New("the key ring comes from INKGRAPH_KEYRING: add a new version there (version:base64key) and run keys rotate again")
	}
	ring, err := keyring.Parse(c.Keyring)
	if err != nil {
		return 0, err
	}
	key, err := keyring.Generate()
	if err != nil {
		return 0, err
	}
	next := ring.Current() + 1
	spec := c.Keyring + "," + strconv.Itoa(next) + ":" + base64.StdEncoding.EncodeToString(key)
	tmp := c.KeyringFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(spec+"\n"), 0o600); err != nil {
		return 0, fmt.Errorf("write key ring: %w", err)
	}
	if err := os.Rename(tmp, c.KeyringFile); err != nil {
		return 0, fmt.Errorf("replace key ring: %w", err)
	}
	c.Keyring = spec
	return next, nil
}

// joinAnd lists names as "a", "a and b" or "a, b and c".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func loadOrCreateSecret(path string, logger *slog.Logger) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(secret) < 32 {
			return nil, fmt.Errorf("secret file %s is damaged: delete it to generate a new one", path)
		}
		return secret, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secret directory: %w", err)
	}
	// O_EXCL: two processes starting at once must not each write a different key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadOrCreateSecret(path, logger)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(secret) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	logger.Warn("generated a secret for embedded mode; set it explicitly in production", "path", path)
	return secret, nil
}
