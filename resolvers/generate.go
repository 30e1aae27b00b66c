package resolvers

// gqlgen resolves gqlgen.yml's paths from the working directory, so run it from the root.
//go:generate sh -c "cd .. && go tool gqlgen generate"
// Then the schema it generated, printed whole to the committed schema.graphql.
//go:generate go run ../graph/sdl/printschema ../schema.graphql
// Then the executor's field sets (graph/fieldset.go) and plain leaf fields
// (graph/leaf.go) are graph's.
//go:generate go run ../graph/rewrite ../graph/generated.go
