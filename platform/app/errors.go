package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/extension"
	"github.com/crmgen/crmgen/platform/process"
	"github.com/crmgen/crmgen/platform/report"
	"github.com/crmgen/crmgen/platform/requestid"
	"github.com/crmgen/crmgen/platform/workflow"
)

// How failures reach GraphQL clients. The platform's own errors (a refused permission, a violated rule,
// a workflow check, a throttled sign-in) are written for users and go out with a machine-readable code.
// Anything else a resolver returns — a database's or driver's error, a bug — has words for developers
// only, which may show SQL, table names or the database's host: it goes to the log with the request's
// id, and the client is told that the request failed, with that id, and code INTERNAL. What decides is
// the error's value (its type), never its text.

// internalError is an error with no words for the client (see above). Error never shows the cause;
// presentError logs it.
type internalError struct{ cause error }

func (e *internalError) Error() string { return "internal error" }

// hideInternalErrors is the outermost field middleware: an error a resolver (or an inner middleware)
// returns that presentable does not accept becomes an internalError. Errors of argument coercion are
// raised before field middleware runs and keep their words, which describe the client's own input.
func hideInternalErrors(ctx context.Context, next graphql.Resolver) (any, error) {
	v, err := next(ctx)
	if err != nil && !presentable(err) {
		return v, &internalError{cause: err}
	}
	return v, err
}

// presentable reports whether err's words are meant for the client: an error of the platform (explain
// knows it), or a GraphQL error made for the client (one that wraps no other error, or wraps a
// presentable one).
func presentable(err error) bool {
	if _, _, ok := explain(err); ok {
		return true
	}
	var gerr *gqlerror.Error
	if errors.As(err, &gerr) {
		return gerr.Err == nil || presentable(gerr.Err)
	}
	return false
}

// presentError maps the platform's errors to GraphQL errors whose extensions carry a machine-readable
// code, and for validation errors the entity, field and rule of each violation. An internalError is
// logged, with the request's id, and answered with a plain message that names the id.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	var ie *internalError
	if errors.As(err, &ie) {
		id := requestid.From(ctx)
		logger(ctx).ErrorContext(ctx, "graphql request failed", "path", gerr.Path.String(), "err", ie.cause)
		return &gqlerror.Error{Message: internalMessage(id), Path: gerr.Path, Locations: gerr.Locations,
			Extensions: map[string]any{"code": "INTERNAL", "requestId": id}}
	}
	if msg, ext, ok := explain(err); ok {
		gerr.Message, gerr.Extensions = msg, ext
	}
	return gerr
}

// internalMessage is what a client is told of a failure whose cause is in the log.
func internalMessage(id string) string {
	return fmt.Sprintf("the server could not complete the request; its log has the details under request %s", id)
}

// explain returns the message and extensions of the errors the platform has words for, and false for
// any other.
func explain(err error) (string, map[string]any, bool) {
	if ext, ok := processError(err); ok {
		msg := err.Error()
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) && gerr.Err != nil {
			msg = gerr.Err.Error() // without gqlgen's position and path, which the error carries apart
		}
		return msg, ext, true
	}
	var (
		ve *enforce.ValidationError
		ce *enforce.ConflictError
		re *enforce.RestrictError
		fe *enforce.ForbiddenError
		ne *enforce.NotFoundError
		te *auth.ThrottledError
		de *enforce.FieldDeniedError
		rp *report.Error
		le *enforce.LockedError
		xe *extension.FieldError
	)
	switch {
	case errors.As(err, &rp):
		ext := map[string]any{"code": rp.Code}
		if rp.Field != "" {
			ext["field"] = rp.Field
		}
		return rp.Msg, ext, true
	case errors.As(err, &de):
		return de.Error(), map[string]any{"code": "FORBIDDEN_FIELD", "field": de.Field}, true
	case errors.As(err, &fe):
		return fe.Error(), map[string]any{"code": "FORBIDDEN"}, true
	case errors.As(err, &ne):
		return ne.Error(), map[string]any{"code": "NOT_FOUND"}, true
	case errors.As(err, &te):
		secs := int(te.RetryAfter.Seconds() + 0.999)
		return fmt.Sprintf("too many wrong passwords; try again in %d seconds", secs),
			map[string]any{"code": "THROTTLED", "retryAfterSeconds": secs}, true
	case errors.Is(err, auth.ErrWeakPassword):
		return auth.ErrWeakPassword.Error(), map[string]any{"code": "VALIDATION", "field": "password", "rule": "minLen"}, true
	case errors.Is(err, auth.ErrTokenName):
		return auth.ErrTokenName.Error(), map[string]any{"code": "VALIDATION", "field": "name", "rule": "length"}, true
	case errors.Is(err, auth.ErrInteractiveRequired):
		return auth.ErrInteractiveRequired.Error(), map[string]any{"code": "FORBIDDEN"}, true
	case errors.Is(err, auth.ErrInvalidToken):
		return "sign in required", map[string]any{"code": "UNAUTHENTICATED"}, true
	case errors.Is(err, auth.ErrInvalidCredentials), errors.Is(err, auth.ErrInactive):
		return "invalid username or password", map[string]any{"code": "UNAUTHENTICATED"}, true
	case errors.Is(err, auth.ErrNotFound):
		return "not found", map[string]any{"code": "NOT_FOUND"}, true
	case errors.As(err, &ve):
		fields := make([]map[string]any, len(ve.Fields))
		for i, f := range ve.Fields {
			fields[i] = map[string]any{"entity": f.Entity, "field": f.Field, "rule": f.Rule, "message": f.Msg}
			if len(f.Messages) > 0 {
				fields[i]["messages"] = map[string]string(f.Messages) // the app's own words, per locale (platform/extension)
			}
		}
		ext := map[string]any{"code": "VALIDATION", "fields": fields}
		if len(ve.Fields) > 0 {
			ext["field"] = ve.Fields[0].Field
			ext["rule"] = ve.Fields[0].Rule
		}
		return ve.Error(), ext, true
	case errors.As(err, &xe):
		// A refusal by a field the app's extend package adds to the API (extend/*.graphql), about one of
		// its arguments (a hook's refusal is a ValidationError by now): presented like the platform's.
		msg := xe.Message["en"]
		if msg == "" {
			msg = xe.Rule
		}
		field := map[string]any{"field": xe.Field, "rule": xe.Rule, "message": msg}
		if len(xe.Message) > 0 {
			field["messages"] = map[string]string(xe.Message)
		}
		return xe.Error(), map[string]any{"code": "VALIDATION", "field": xe.Field, "rule": xe.Rule, "fields": []map[string]any{field}}, true
	case errors.As(err, &ce):
		return ce.Error(), map[string]any{"code": "CONFLICT"}, true
	case errors.As(err, &re):
		return re.Error(), map[string]any{"code": "RESTRICTED", "relations": re.Relations}, true
	case errors.As(err, &le):
		return le.Error(), map[string]any{"code": "LOCKED", "workflow": le.Workflow, "state": le.State}, true
	case enforce.IsNotFound(err):
		return "not found", map[string]any{"code": "NOT_FOUND"}, true
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the request took longer than %v and was stopped: ask for less at once", requestTimeout),
			map[string]any{"code": "TIMEOUT"}, true
	case errors.Is(err, context.Canceled):
		return "the request was canceled", map[string]any{"code": "CANCELED"}, true
	}
	return "", nil, false
}

// processError returns the extensions of a refused workflow transition or a process failure, and
// false for other errors. extensions.check names the failed check of a transition, in METAMODEL.md's
// order. An action that failed for a reason with no words for the client is no process error: it is
// internal as a whole, since the action's message would quote the reason.
func processError(err error) (map[string]any, bool) {
	var (
		se *workflow.StateError
		re *workflow.RoleError
		ne *workflow.NotFoundError
		qe *workflow.RequiresError
		ge *workflow.GuardError
		ce *workflow.CommentError
		sc *process.StateConflictError
		ut *process.UnknownTransitionError
		cy *process.CycleError
		ae *process.ActionError
	)
	switch {
	case errors.As(err, &ne):
		return map[string]any{"code": "NOT_FOUND", "check": "read"}, true
	case errors.As(err, &se):
		return map[string]any{"code": "CONFLICT", "check": "state", "state": se.Current, "from": se.From}, true
	case errors.As(err, &re):
		return map[string]any{"code": "FORBIDDEN", "check": "role", "roles": re.Roles}, true
	case errors.As(err, &qe):
		return map[string]any{"code": "VALIDATION", "check": "requires", "field": qe.Missing[0], "rule": enforce.RuleRequired,
			"fields": qe.Missing}, true
	case errors.As(err, &ge):
		ext := map[string]any{"code": "VALIDATION", "check": "guard", "rule": "guard", "guard": ge.Guard}
		if len(ge.Message) > 0 {
			ext["guardMessage"] = ge.Message
		}
		return ext, true
	case errors.As(err, &ce):
		return map[string]any{"code": "VALIDATION", "check": "comment", "field": "comment", "rule": enforce.RuleRequired}, true
	case errors.As(err, &sc):
		return map[string]any{"code": "CONFLICT", "check": "state"}, true
	case errors.As(err, &ut):
		return map[string]any{"code": "VALIDATION", "field": "transition", "rule": enforce.RuleEnum, "transitions": ut.Known}, true
	case errors.As(err, &cy):
		return map[string]any{"code": "AUTOMATION_CYCLE", "chain": cy.Chain}, true
	case errors.As(err, &ae):
		// The action's own error decides the code (a created record's validation, say); the message keeps
		// which automation or transition ran it.
		_, inner, ok := explain(ae.Err)
		if !ok {
			return nil, false
		}
		ext := map[string]any{}
		for k, v := range inner {
			ext[k] = v
		}
		ext["source"], ext["action"] = ae.Source, ae.Action
		return ext, true
	}
	return nil, false
}

// hidden logs err with the request's id and returns an error that says only that.
func hidden(ctx context.Context, what string, err error) error {
	logger(ctx).ErrorContext(ctx, what, "err", err)
	return errors.New(internalMessage(requestid.From(ctx)))
}
