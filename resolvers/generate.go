package resolvers

// gqlgen resolves gqlgen.yml's paths from the working directory, so run it from the root.
//go:generate sh -c "cd .. && go tool gqlgen generate"
