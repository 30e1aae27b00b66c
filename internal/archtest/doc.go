// Package archtest holds the test that keeps every import pointing down the layers
// written in docs/architecture.md. It has no code of its own.
package archtest
