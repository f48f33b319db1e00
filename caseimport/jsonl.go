package caseimport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// ParseJSONLine parses one line of a JSON Lines import. The error is a
// *casegate.Error (EInvalid) whose Message names every wrong field and what is
// wrong with it, fit to show an operator.
func ParseJSONLine(line []byte) (Case, error) {
	trimmed, err := objectLine(line)
	if err != nil {
		return Case{}, err
	}
	if in, ok := decodeCaseFast(trimmed); ok {
		return in.parse()
	}
	var in caseInput
	if err := decodeStrict(trimmed, &in, "case"); err != nil {
		return Case{}, err
	}
	return in.parse()
}

// objectLine checks that line may hold one JSON object (not too long, UTF-8,
// starting with {) and returns it trimmed.
func objectLine(line []byte) ([]byte, error) {
	if len(line) > MaxLine {
		return nil, lineError(ErrLineTooLong.Error())
	}
	if !utf8.Valid(line) {
		return nil, lineError("the line is not valid UTF-8 text")
	}
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, lineError("the line must be one JSON object, starting with {")
	}
	return trimmed, nil
}

// decodeStrict decodes the one JSON object of trimmed into v, refusing
// unknown fields and anything after the object; what names a line's record
// ("case", "office") in the reason.
func decodeStrict(trimmed []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return lineError(jsonProblem(err, len(trimmed)))
	}
	if _, err := dec.Token(); err != io.EOF {
		return lineError("the line has more after the JSON object; put one " + what + " per line")
	}
	return nil
}

// jsonProblem says in plain words what is wrong with a line that does not decode.
func jsonProblem(err error, n int) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON object is cut off before its end"
	case errors.As(err, &syntax):
		if syntax.Offset >= int64(n) {
			return "the JSON object is cut off before its end"
		}
		return fmt.Sprintf("not valid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return "the line must be one JSON object"
		}
		return fmt.Sprintf("%s: must be %s, not a JSON %s", field, kindName(typ.Type), typ.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return fmt.Sprintf("%s: unknown field; the fields are those of the import format", strings.Trim(name, `"`))
	}
	return "not valid JSON: " + msg
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list [...]"
	case reflect.Struct:
		return "an object {...}"
	}
	return "a " + t.Kind().String()
}
