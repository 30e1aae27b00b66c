// Package manifest is the shape of the playground's assets/manifest.json, shared by
// the generator that writes it (playground/gen, which must build before any asset
// exists) and the playground that serves what it lists.
package manifest

// Manifest is assets/manifest.json.
type Manifest struct {
	Packages []Package `json:"packages"`
	Files    []File    `json:"files"`
}

// Package is an npm package the assets come from.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	License string `json:"license"`
	// Integrity is the tarball's, as package-lock.json pins it and `npm ci` checked it.
	Integrity string `json:"integrity"`
	// LicenseFile is the package's licence text, under assets/.
	LicenseFile string `json:"licenseFile"`
}

// File is one served file under assets/.
type File struct {
	Path    string `json:"path"`
	Package string `json:"package"`
	From    string `json:"from"`
	// SHA384 is the file's digest, base64 as in Subresource Integrity.
	SHA384 string `json:"sha384"`
}
