package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/carecircle/carecircle/internal/feature"
	"github.com/google/uuid"
)

// maxBodyBytes bounds every JSON request body.
const maxBodyBytes = 1 << 20

// validator is implemented by request bodies that check themselves.
type validator interface {
	Validate(p Problems)
}

// decode reads a JSON body into dst: unknown fields, trailing data, wrong
// types and bodies over 1 MiB are refused; then dst validates itself.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	return decodeAndValidate(w, r, dst, false)
}

// wholeNumber reads an optional whole-number parameter v within [lo, hi]:
// def when absent or wrong (wrong is recorded against field).
func (p Problems) wholeNumber(field, v string, def, lo, hi int) int {
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.Add(field, "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		return def
	}
	return n
}

// queryWholeNumber reads the optional whole-number query parameter name
// within [lo, hi], def when absent; 400 against name when it is not one.
func queryWholeNumber(r *http.Request, name string, def, lo, hi int) (int, error) {
	p := Problems{}
	n := p.wholeNumber(name, r.URL.Query().Get(name), def, lo, hi)
	if err := p.Err(); err != nil {
		return 0, err
	}
	return n, nil
}

// bodyInput is the input of a create command: it decodes the request body
// into b (checking it as decode does) and gives what b describes.
func bodyInput[T any](w http.ResponseWriter, r *http.Request, b interface{ input() T }) feature.Input[T] {
	return func() (T, error) {
		err := decode(w, r, b)
		return b.input(), err
	}
}

// patchInput is the input of an edit command: it decodes the request body
// into b (checking it as decode does), whose apply is the edit to make.
func patchInput[T any](w http.ResponseWriter, r *http.Request, b interface{ apply(*T) error }) feature.Input[feature.Edit[T]] {
	return func() (feature.Edit[T], error) {
		err := decode(w, r, b)
		return b.apply, err
	}
}

// decodeOptional is decode for bodies that may be absent altogether.
func decodeOptional(w http.ResponseWriter, r *http.Request, dst any) error {
	return decodeAndValidate(w, r, dst, true)
}

func decodeAndValidate(w http.ResponseWriter, r *http.Request, dst any, optional bool) error {
	err := decodeBody(w, r, dst, optional)
	var fields *Error
	if err != nil && (!errors.As(err, &fields) || len(fields.Fields) == 0) {
		return err
	}
	v, ok := dst.(validator)
	if !ok {
		return err
	}
	// A body with unknown or mistyped fields is still checked as a whole,
	// so that one answer names every problem; a mistyped field keeps only
	// its own reason.
	p := Problems{}
	v.Validate(p)
	if fields != nil {
		for f := range p {
			if _, bad := fields.Fields[f]; bad {
				delete(p, f)
			}
		}
		for f, reasons := range fields.Fields {
			p[f] = reasons
		}
	}
	return p.Err()
}

func decodeBody(w http.ResponseWriter, r *http.Request, dst any, optional bool) error {
	if r.ContentLength > maxBodyBytes {
		return errorf(http.StatusRequestEntityTooLarge, "Request body exceeds %d bytes", maxBodyBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "Request body exceeds %d bytes", maxBodyBytes)
		}
		return badRequest("Could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return badRequest("Request body is required")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		}
	}
	return decodeJSON(body, dst)
}

// decodeJSON strictly decodes one JSON value into dst.
func decodeJSON(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return badRequest("Request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if all := fieldProblems(body, dst); len(all) > 0 {
			return all.Err()
		}
		return jsonError(err)
	}
	if dec.More() {
		return badRequest("Request body must be a single JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("Request body must be a single JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var fieldErr *fieldError
	switch {
	case errors.As(err, &syntax):
		return badRequest("Malformed JSON at byte %d", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("Malformed JSON: unexpected end of input")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return badRequest("Request body must be a JSON object")
		}
		return Problems{field: {fmt.Sprintf("must be %s", jsonKind(typeErr.Type.Kind().String()))}}.Err()
	case errors.As(err, &fieldErr):
		return Problems{fieldErr.field: {fieldErr.reason}}.Err()
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Problems{name: {"is not a known field"}}.Err()
	default:
		return badRequest("Malformed JSON")
	}
}

func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "ptr":
		return "a valid value"
	default:
		return "a number"
	}
}

// fieldProblems names every unknown and mistyped top-level field of a JSON
// object body for dst (a pointer to a struct), where the decoder stops at
// the first; nil when the body is not such an object or has none.
func fieldProblems(body []byte, dst any) Problems {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return nil
	}
	known := jsonFields(reflect.TypeOf(dst))
	if known == nil {
		return nil
	}
	p := Problems{}
	for name, value := range raw {
		t, ok := known[name]
		if !ok {
			// The decoder matches names regardless of letter case.
			for k, kt := range known {
				if strings.EqualFold(k, name) {
					t, ok = kt, true
					break
				}
			}
		}
		if !ok {
			p.Add(name, "is not a known field")
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(value))
		dec.DisallowUnknownFields()
		err := dec.Decode(reflect.New(t).Interface())
		var typeErr *json.UnmarshalTypeError
		var fieldErr *fieldError
		switch {
		case err == nil:
		case errors.As(err, &typeErr):
			field := name
			if typeErr.Field != "" {
				field += "." + typeErr.Field
			}
			p.Add(field, "must be "+jsonKind(typeErr.Type.Kind().String()))
		case errors.As(err, &fieldErr):
			p.Add(fieldErr.field, fieldErr.reason)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			p.Add(name+"."+strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
		default:
			p.Add(name, "is not valid")
		}
	}
	return p
}

// jsonFields maps the JSON names of a struct's fields (those of embedded
// structs included) to their types; nil when t is not a struct or a
// pointer to one.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			for name, ft := range jsonFields(f.Type) {
				out[name] = ft
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		out[tag] = f.Type
	}
	return out
}

// fieldError reports a value that decoded but is invalid for its type.
type fieldError struct{ field, reason string }

func (e *fieldError) Error() string { return e.field + " " + e.reason }

// Optional is a PATCH field: it tells an absent field from an explicit null
// from a value.
type Optional[T any] struct {
	Set   bool // the field was present
	Null  bool // the field was null
	Value T
}

// UnmarshalJSON records presence and decodes the value.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Ptr returns the value when set and not null, or nil.
func (o Optional[T]) Ptr() *T {
	if !o.Set || o.Null {
		return nil
	}
	v := o.Value
	return &v
}

// pathID reads a UUID path parameter, answering 400 for a malformed one.
func pathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return "", badRequest("%s must be a UUID", name)
	}
	return id.String(), nil
}

// validUUID reports whether s is a canonical UUID string.
func validUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
