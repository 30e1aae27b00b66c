// Command gen fills internal/api/playground/assets from npm: it runs `npm ci` in
// ../npm (the versions package-lock.json pins, checked against their integrity), copies
// the browser builds and the packages' licences into assets/, and writes
// assets/manifest.json with each file's SHA-384 and its package's npm integrity.
// `go generate` runs it in the playground package; its output depends on the lock file
// alone, so CI can regenerate and fail on a difference.
package main

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"

	"github.com/inkgraph/inkgraph/internal/api/playground/manifest"
)

// asset is one file the playground serves, taken from an installed package.
type asset struct {
	pkg, from, to string
}

// assets are the files copied, in the order the manifest lists them. GraphiQL's UMD
// build bundles graphql-js, graphql-ws (createFetcher's subscriptionUrl) and CodeMirror;
// React and ReactDOM are its externals, loaded before it as globals.
var assets = []asset{
	{"react", "umd/react.production.min.js", "react.production.min.js"},
	{"react-dom", "umd/react-dom.production.min.js", "react-dom.production.min.js"},
	{"graphiql", "graphiql.min.js", "graphiql.min.js"},
	{"graphiql", "graphiql.min.css", "graphiql.min.css"},
}

// Manifest is assets/manifest.json (package manifest).
type Manifest = manifest.Manifest

// Package is an npm package the assets come from.
type Package = manifest.Package

// File is one served file under assets/.
type File = manifest.File

func main() {
	if err := run("npm", "assets"); err != nil {
		fmt.Fprintln(os.Stderr, "playground/gen:", err)
		os.Exit(1)
	}
}

func run(npmDir, outDir string) error {
	npm, err := os.OpenRoot(npmDir)
	if err != nil {
		return err
	}
	defer npm.Close()
	lock, err := readLock(npm)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(context.Background(), "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=peer")
	cmd.Dir = npmDir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s (needs node and npm, and the npm registry): %w", npmDir, err)
	}
	if err := os.RemoveAll(outDir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(outDir, "licenses"), 0o750); err != nil {
		return err
	}
	out, err := os.OpenRoot(outDir)
	if err != nil {
		return err
	}
	defer out.Close()
	var m Manifest
	for _, a := range assets {
		if !slices.ContainsFunc(m.Packages, func(p Package) bool { return p.Name == a.pkg }) {
			p, err := describe(npm, lock, a.pkg)
			if err != nil {
				return err
			}
			p.LicenseFile = "licenses/" + a.pkg + ".txt"
			if err := copyLicense(npm, path.Join("node_modules", a.pkg), out, p.LicenseFile); err != nil {
				return err
			}
			m.Packages = append(m.Packages, p)
		}
		b, err := npm.ReadFile(path.Join("node_modules", a.pkg, a.from))
		if err != nil {
			return err
		}
		if err := out.WriteFile(a.to, b, 0o600); err != nil {
			return err
		}
		sum := sha512.Sum384(b)
		m.Files = append(m.Files, File{Path: a.to, Package: a.pkg, From: a.from, SHA384: base64.StdEncoding.EncodeToString(sum[:])})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return out.WriteFile("manifest.json", append(b, '\n'), 0o600)
}

// lockEntry is a package of package-lock.json (lockfileVersion 3).
type lockEntry struct {
	Version   string `json:"version"`
	Integrity string `json:"integrity"`
	License   string `json:"license"`
}

func readLock(npm *os.Root) (map[string]lockEntry, error) {
	const path = "package-lock.json"
	b, err := npm.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lock struct {
		LockfileVersion int                  `json:"lockfileVersion"`
		Packages        map[string]lockEntry `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if lock.LockfileVersion != 3 {
		return nil, fmt.Errorf("%s: lockfileVersion %d, want 3", path, lock.LockfileVersion)
	}
	return lock.Packages, nil
}

// describe is what the lock file pins of pkg, checked against what npm installed.
func describe(npm *os.Root, lock map[string]lockEntry, pkg string) (Package, error) {
	e, ok := lock["node_modules/"+pkg]
	if !ok || e.Integrity == "" {
		return Package{}, fmt.Errorf("package-lock.json pins no integrity for %s", pkg)
	}
	b, err := npm.ReadFile(path.Join("node_modules", pkg, "package.json"))
	if err != nil {
		return Package{}, err
	}
	var installed struct {
		Version string `json:"version"`
		License string `json:"license"`
	}
	if err := json.Unmarshal(b, &installed); err != nil {
		return Package{}, fmt.Errorf("%s's package.json: %w", pkg, err)
	}
	if installed.Version != e.Version {
		return Package{}, fmt.Errorf("%s: installed %s, locked %s", pkg, installed.Version, e.Version)
	}
	return Package{Name: pkg, Version: e.Version, License: installed.License, Integrity: e.Integrity}, nil
}

// copyLicense copies the package's LICENSE file (any of its usual spellings).
func copyLicense(npm *os.Root, pkgDir string, out *os.Root, to string) error {
	for _, name := range []string{"LICENSE", "LICENSE.md", "LICENSE.txt", "license"} {
		b, err := npm.ReadFile(path.Join(pkgDir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		return out.WriteFile(to, b, 0o600)
	}
	return fmt.Errorf("%s has no LICENSE file", pkgDir)
}
