package wstransport

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/api/incremental"
	"github.com/inkgraph/inkgraph/internal/api/wire"
	"github.com/inkgraph/inkgraph/internal/llm"
)

// CodeInternal is the extensions.code of the error sent for an operation
// that panicked.
const CodeInternal = "INTERNAL"

// startOperation runs op: made ready on a pooled goroutine, since that goes deep
// (parsing, validation, and for a subscription its resolver, which starts what it
// streams), then streamed on a goroutine of its own, which mostly waits (a chat's
// run may run on it: llm.Inline). The waiting goroutine's stack is what the
// streaming needs, not what making the operation ready needed, which collections
// would otherwise halve only one at a time (workers).
func (c *conn) startOperation(op *operation, params *graphql.RawParams) {
	pooled.Go(func() {
		streaming := false
		defer func() {
			if !streaming {
				op.cancel(errOperationDone)
				op.done()
			}
		}()
		defer c.recoverOperation(op)
		c.logOperation(op, "websocket operation started")
		defer func() {
			if !streaming {
				c.logOperation(op, "websocket operation ended")
			}
		}()
		responses, ctx, job := c.dispatch(op, params)
		if responses == nil {
			return
		}
		streaming = true
		go c.stream(op, responses, ctx, job)
	})
}

// stream runs the job of a run that adopted the operation (nil when none did), then
// sends op's results until the last or until op ends.
func (c *conn) stream(op *operation, responses graphql.ResponseHandler, ctx context.Context, job func()) {
	defer op.done()
	defer op.cancel(errOperationDone)
	defer c.recoverOperation(op)
	defer c.logOperation(op, "websocket operation ended")
	if job != nil {
		job()
	}
	for op.ctx.Err() == nil {
		var resp *graphql.Response
		if op.deferring {
			// The executor waits for deferred parts without watching ctx: complete
			// or a closed socket would otherwise leave this operation running.
			resp = incremental.Next(ctx, responses)
		} else {
			resp = responses(ctx)
		}
		if resp == nil {
			break
		}
		if err := c.sendResponse(op, resp); err != nil {
			break
		}
	}
	c.removeOperation(op)
	c.sendComplete(op)
}

// recoverOperation, deferred, ends an operation that panicked with an INTERNAL error.
func (c *conn) recoverOperation(op *operation) {
	if r := recover(); r != nil {
		c.logAttrs(op.ctx, slog.LevelError, "panic in websocket operation",
			slog.String("id", op.id),
			slog.String("panic", fmt.Sprint(r)),
			slog.String("stack", string(debug.Stack())),
		)
		c.removeOperation(op)
		c.sendError(op, gqlerror.List{{
			Message:    "internal server error",
			Extensions: map[string]any{"code": CodeInternal},
		}})
	}
}

// logOperation logs msg about op at debug level.
func (c *conn) logOperation(op *operation, msg string) {
	c.logAttrs(op.ctx, slog.LevelDebug, msg, slog.String("id", op.id))
}

// dispatch makes op ready to run: its responses and the context to read them with,
// and the job of a run that adopted the operation's streaming goroutine (nil when
// none did).
// It answers an operation that cannot run itself and returns no responses.
func (c *conn) dispatch(op *operation, params *graphql.RawParams) (graphql.ResponseHandler, context.Context, func()) {
	ctx := graphql.StartOperationTrace(op.ctx)
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if resp == nil {
			resp = &graphql.Response{Errors: errs}
		}
		c.removeOperation(op)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			// Parse and validation errors: the operation never ran.
			c.sendError(op, resp.Errors)
			return nil, nil, nil
		}
		// complete follows whether or not the response went out, as after the loop in stream.
		_ = c.sendResponse(op, resp)
		c.sendComplete(op)
		return nil, nil, nil
	}

	ctx = graphql.WithOperationContext(ctx, rc)
	op.opCtx = rc
	// A chat run started by the resolver may adopt the operation's streaming
	// goroutine (llm.Inline): it then runs there, as the job returned, and hands over
	// each event as it has it, rather than on a goroutine of its own beside it.
	inline := &llm.Inline{}
	inline.SetRelease(op.done) // before the run: it may release from any goroutine
	ctx = llm.WithInline(ctx, inline)
	inline.Open()
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	job := inline.Close()
	if job != nil {
		inline.SetDeliver(func() bool {
			resp := responses(ctx)
			if resp == nil {
				return false
			}
			if err := c.sendResponse(op, resp); err != nil {
				op.cancel(errOperationDone) // the run stops as when stream's loop breaks
				return false
			}
			return true
		})
	}
	return responses, ctx, job
}

// sendResponse sends one result: next (graphql-transport-ws) or data (legacy).
func (c *conn) sendResponse(op *operation, resp *graphql.Response) error {
	var b []byte
	var err error
	if resp.HasNext != nil {
		b, err = op.encodeIncremental(resp)
	} else {
		b, err = wire.Marshal(resp)
	}
	if err != nil {
		c.logAttrs(op.ctx, slog.LevelError, "websocket response encoding failed",
			slog.String("id", op.id), slog.String("error", err.Error()))
		return err
	}
	if op.nextPrefix == nil {
		typ := transportWSNext
		if c.protocol == SubprotocolLegacy {
			typ = legacyData
		}
		id, _ := json.Marshal(op.id) // a string always encodes
		op.nextPrefix = []byte(`{"id":` + string(id) + `,"type":"` + typ + `","payload":`)
	}
	// The envelope is written around the encoded response, as outMessage would
	// encode it, rather than by encoding the response a second time as a
	// json.RawMessage (which scans and compacts it again): a streamed chat sends one
	// such message a token.
	msg := make([]byte, 0, len(op.nextPrefix)+len(b)+1)
	msg = append(append(append(msg, op.nextPrefix...), b...), '}')
	return c.writeEncoded(op, false, msg)
}

// encodeIncremental encodes one result of an operation with @defer as the payload
// of the incremental delivery format (deferSpec=20220824) it is: the first result
// without the deferred fields, then one payload per deferred fragment, each its own
// next (data in the legacy protocol), the last with hasNext false; complete follows.
func (op *operation) encodeIncremental(resp *graphql.Response) ([]byte, error) {
	if !op.deferring {
		op.deferring = true
		// Data the executor wrote cannot fail to read; were it to, the placeholders stay.
		if trimmed, err := incremental.OmitPlaceholders(op.opCtx, resp); err == nil {
			resp = trimmed
		}
		return json.Marshal(incremental.Initial(resp))
	}
	return json.Marshal(incremental.Subsequent(resp))
}

// sendComplete tells the client the operation is over.
func (c *conn) sendComplete(op *operation) {
	_ = c.write(op, true, outMessage{ID: op.id, Type: msgComplete})
}

// sendError ends an operation with errors. In graphql-transport-ws an error
// message is final, with no complete after it; the legacy protocol's error
// carries a single error object and is followed by complete, which tells the
// client that no more messages will arrive for the id.
func (c *conn) sendError(op *operation, errs gqlerror.List) {
	if c.protocol != SubprotocolLegacy {
		_ = c.write(op, true, outMessage{ID: op.id, Type: msgError, Payload: errs})
		return
	}
	payload := legacyErrorPayload{Message: "unknown error"}
	if len(errs) > 0 {
		first := errs[0]
		payload = legacyErrorPayload{
			Message:    first.Message,
			Locations:  first.Locations,
			Path:       first.Path,
			Extensions: first.Extensions,
		}
		if len(errs) > 1 {
			payload.Errors = errs
		}
	}
	if c.write(op, true, outMessage{ID: op.id, Type: msgError, Payload: payload}) == nil {
		c.sendComplete(op)
	}
}
