package httptransport_test

import (
	"context"
	"encoding/json"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"

	"github.com/inkgraph/inkgraph/internal/api/httptransport"
)

// testSchema is small on purpose: a query with arguments, a mutation, a subscription
// and a field that always fails, enough to reach every branch of the transports.
const testSchema = `
	type Query {
		name: String!
		echo(text: String!): String!
		fail: String!
	}
	type Mutation {
		rename(name: String!): String!
	}
	type Subscription {
		ticks: Int!
	}
`

// newHandler builds a gqlgen server without codegen, the way gqlgen's own
// handler/testserver does, with only the two transports of this package.
func newHandler() *handler.Server {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: testSchema})
	srv := handler.New(&graphql.ExecutableSchemaMock{
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			return execute(ctx, schema)
		},
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 1, true
		},
	})
	srv.AddTransport(httptransport.POST{})
	srv.AddTransport(httptransport.GET{})
	return srv
}

// execute stands in for generated code: it resolves the root fields of the operation
// once, and a failing field nulls the whole data (its fields are non-null).
func execute(ctx context.Context, schema *ast.Schema) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	root := schema.Query
	switch opCtx.Operation.Operation {
	case ast.Mutation:
		root = schema.Mutation
	case ast.Subscription:
		return graphql.OneShot(graphql.ErrorResponse(ctx, "the mock does not stream"))
	}
	done := false
	return func(ctx context.Context) *graphql.Response {
		if done {
			return nil
		}
		done = true
		data := map[string]any{}
		for _, field := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{root.Name}) {
			value, err := resolve(schema, root, field, opCtx.Variables)
			if err != nil {
				graphql.AddError(ctx, err)
				return &graphql.Response{Data: json.RawMessage("null")}
			}
			data[field.Alias] = value
		}
		body, err := json.Marshal(data)
		if err != nil {
			panic(err)
		}
		return &graphql.Response{Data: body}
	}
}

func resolve(schema *ast.Schema, root *ast.Definition, field graphql.CollectedField, vars map[string]any) (any, error) {
	args := field.ArgumentMap(vars)
	switch field.Name {
	case "__typename":
		return root.Name, nil
	case "__type":
		name, _ := args["name"].(string)
		if def := schema.Types[name]; def != nil {
			return map[string]any{"name": def.Name}, nil
		}
		return json.RawMessage("null"), nil
	case "name":
		return "test", nil
	case "echo":
		return args["text"], nil
	case "rename":
		return args["name"], nil
	default: // fail
		return nil, &gqlerror.Error{Message: "resolver failed", Extensions: map[string]any{"code": "INTERNAL_SERVER_ERROR"}}
	}
}
