package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/casegate/casegate"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decodeJSON reads exactly one JSON object into v, refusing unknown fields,
// wrong types, trailing data and oversized bodies with problems that name the field.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return casegate.NewError(casegate.EInvalid, "api.content_type")
		}
	}
	var raw bytes.Buffer
	dec := json.NewDecoder(io.TeeReader(http.MaxBytesReader(w, r.Body, maxJSONBody), &raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return casegate.NewError(casegate.EInvalid, "api.one_object")
	}
	return checkMembers(raw.Bytes(), v)
}

// checkMembers refuses what encoding/json lets through into v without a
// word, as the contract allows none of it: a body of null (decoded into a
// struct as nothing at all: it is not the object every body is); a member
// of null (decoded as the field's zero value: false, "", absent — no field
// of the contract is nullable); and a member whose name is a field's only by
// case ("Email" for "email"), which encoding/json takes as the field. data
// decoded into v already.
func checkMembers(data []byte, v any) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil // not an object: v is not a struct, and said so already
	}
	if members == nil {
		return casegate.NewError(casegate.EInvalid, "api.object")
	}
	fields := jsonFields(reflect.TypeOf(v))
	for name, raw := range members {
		kind, ok := fields[name]
		switch {
		case !ok:
			return casegate.FieldError(name, "api.unknown_field")
		case bytes.Equal(bytes.TrimSpace(raw), []byte("null")):
			return casegate.FieldErrors(map[string]casegate.Msg{name: jsonKind(kind.String())})
		}
	}
	return nil
}

var jsonFieldCache sync.Map // reflect.Type → map[string]reflect.Kind

// jsonFields maps the member names encoding/json gives the fields of struct
// type t (or of the struct t points to) to the kind of value each holds
// (a pointer field's, the kind it points to).
func jsonFields(t reflect.Type) map[string]reflect.Kind {
	if m, ok := jsonFieldCache.Load(t); ok {
		return m.(map[string]reflect.Kind)
	}
	st := t
	for st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	fields := map[string]reflect.Kind{}
	if st.Kind() == reflect.Struct {
		for f := range st.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case !f.IsExported() || name == "-":
			case name == "":
				fields[f.Name] = ft.Kind()
			default:
				fields[name] = ft.Kind()
			}
		}
	}
	jsonFieldCache.Store(t, fields)
	return fields
}

// jsonProblem explains a decoding error in terms of the body's fields.
func jsonProblem(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		mbe    *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return casegate.NewError(casegate.EInvalid, "api.object")
		}
		return casegate.FieldErrors(map[string]casegate.Msg{field: jsonKind(typ.Type.Kind().String())})
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return casegate.NewError(casegate.EInvalid, "api.invalid_json")
	case errors.Is(err, io.EOF):
		return casegate.NewError(casegate.EInvalid, "api.empty_body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return casegate.FieldError(name, "api.unknown_field")
	}
	return casegate.NewError(casegate.EInvalid, "api.unreadable")
}

// jsonKind is the message that a field must hold a value of Go kind k.
func jsonKind(k string) casegate.Msg {
	switch k {
	case "string":
		return casegate.M("api.must_be_string")
	case "bool":
		return casegate.M("api.must_be_boolean")
	case "int", "int64", "float64":
		return casegate.M("api.must_be_number")
	}
	return casegate.M("api.must_be_kind", "Kind", k)
}
