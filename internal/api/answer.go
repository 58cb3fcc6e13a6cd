package api

import (
	"context"
	"net/http"

	"github.com/carecircle/carecircle/internal/feature"
)

// A handler's last steps, shared: run the command or query on the
// resource the path names, and answer its result or return its error for
// handle to render.

// writeOK ends a handler that answers a command's or query's result: v as
// JSON with 200, or err (rendered by handle) when it failed.
func writeOK(w http.ResponseWriter, v any, err error) error {
	return writeStatus(w, http.StatusOK, v, err)
}

// writeCreated is writeOK for a command that made something: 201.
func writeCreated(w http.ResponseWriter, v any, err error) error {
	return writeStatus(w, http.StatusCreated, v, err)
}

// writeDeleted answers a DELETE as the existing API does: {"success":
// true}, or err (rendered by handle) when the command failed.
func writeDeleted(w http.ResponseWriter, err error) error {
	return writeOK(w, map[string]bool{"success": true}, err)
}

// answerByID runs a command or query on the resource the path parameter
// name identifies (400 when it is not a UUID) and answers its result with
// write (writeOK or writeCreated).
func answerByID[T any](w http.ResponseWriter, r *http.Request, p *Principal, name string,
	run func(context.Context, feature.Actor, string) (T, error), write func(http.ResponseWriter, any, error) error) error {
	id, err := pathID(r, name)
	if err != nil {
		return err
	}
	v, err := run(r.Context(), *p, id)
	return write(w, v, err)
}

// deleteByID runs the delete command on the resource the path parameter
// name identifies and answers as writeDeleted does.
func deleteByID(w http.ResponseWriter, r *http.Request, p *Principal, name string, del func(context.Context, feature.Actor, string) error) error {
	id, err := pathID(r, name)
	if err != nil {
		return err
	}
	return writeDeleted(w, del(r.Context(), *p, id))
}

// answerByIDs is answerByID for a resource named by two path parameters
// (its care recipient or family, and its own id), read by ids.
func answerByIDs[T any](w http.ResponseWriter, r *http.Request, p *Principal, ids func(*http.Request) (string, string, error),
	run func(context.Context, feature.Actor, string, string) (T, error), write func(http.ResponseWriter, any, error) error) error {
	owner, id, err := ids(r)
	if err != nil {
		return err
	}
	v, err := run(r.Context(), *p, owner, id)
	return write(w, v, err)
}

// deleteByIDs is deleteByID for a resource named by two path parameters,
// read by ids.
func deleteByIDs(w http.ResponseWriter, r *http.Request, p *Principal, ids func(*http.Request) (string, string, error),
	del func(context.Context, feature.Actor, string, string) error) error {
	owner, id, err := ids(r)
	if err != nil {
		return err
	}
	return writeDeleted(w, del(r.Context(), *p, owner, id))
}

// updateByID answers PATCH on the resource the path parameter name
// identifies: update runs with the request body decoded into patch (see
// patchInput), and its result is answered with 200.
func updateByID[T, R any](w http.ResponseWriter, r *http.Request, p *Principal, name string,
	update func(context.Context, feature.Actor, string, feature.Input[feature.Edit[T]]) (R, error), patch interface{ apply(*T) error }) error {
	id, err := pathID(r, name)
	if err != nil {
		return err
	}
	v, err := update(r.Context(), *p, id, patchInput(w, r, patch))
	return writeOK(w, v, err)
}

// updateByIDs is updateByID for a resource named by two path parameters,
// read by ids.
func updateByIDs[T, R any](w http.ResponseWriter, r *http.Request, p *Principal, ids func(*http.Request) (string, string, error),
	update func(context.Context, feature.Actor, string, string, feature.Input[feature.Edit[T]]) (R, error), patch interface{ apply(*T) error }) error {
	owner, id, err := ids(r)
	if err != nil {
		return err
	}
	v, err := update(r.Context(), *p, owner, id, patchInput(w, r, patch))
	return writeOK(w, v, err)
}

// createByID answers POST of a new resource under the one the path
// parameter name identifies: create runs with the request body decoded into
// b (see bodyInput), and its result is answered with 201.
func createByID[T, R any](w http.ResponseWriter, r *http.Request, p *Principal, name string,
	create func(context.Context, feature.Actor, string, feature.Input[T]) (R, error), b interface{ input() T }) error {
	id, err := pathID(r, name)
	if err != nil {
		return err
	}
	v, err := create(r.Context(), *p, id, bodyInput(w, r, b))
	return writeCreated(w, v, err)
}

// writeStatus writes v as JSON with status, or returns err when there is one.
func writeStatus(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, v)
	return nil
}
