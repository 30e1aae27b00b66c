// Package models is the leaf package every other package shares: the Bun table
// structs gqlgen binds to, the enums, the tier feature matrix and the one error type
// with its codes. It imports nothing of the application.
package models
