// Package buildinfo tells which build of Inkgraph is running, from what the Go
// toolchain recorded in the binary: the module version, the VCS revision and time, and
// the Go version.
package buildinfo

import (
	"runtime/debug"
	"sync"
)

// Info describes a build.
type Info struct {
	Version   string `json:"version"`            // module version, "(devel)" for a local build
	Revision  string `json:"revision,omitempty"` // VCS revision, when built from a checkout
	Time      string `json:"time,omitempty"`     // VCS commit time (RFC 3339)
	Modified  bool   `json:"modified,omitempty"` // the checkout had uncommitted changes
	GoVersion string `json:"goVersion"`
}

// Get returns this binary's build information (read once).
var Get = sync.OnceValue(func() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown"}
	}
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
})
