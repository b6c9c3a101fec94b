package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// KeyError is a JSON object key that DecodeStrict refuses: one that appears
// twice in the same object, or that is not exactly (case included) the name
// of a field of the target struct. Its text names the key's path, never a
// value.
type KeyError struct {
	Path      string // e.g. "oidc[0].name"
	Duplicate bool   // true: the key is repeated; false: the key is unknown
}

func (e *KeyError) Error() string {
	if e.Duplicate {
		return fmt.Sprintf("duplicate field %q: each field may appear only once", e.Path)
	}
	return fmt.Sprintf("unknown field %q (field names are case-sensitive)", e.Path)
}

// ErrTrailingData: something follows the single JSON value.
var ErrTrailingData = errors.New("trailing data after the JSON value")

// DecodeStrict decodes exactly one JSON value from raw into dst (a pointer).
// Unlike encoding/json, object keys must match the struct's field names
// exactly (encoding/json also accepts other cases: "Provider" for
// "provider") and may appear only once in an object (encoding/json keeps the
// last of duplicates, so {"provider":"a","provider":"b"} would read as "b").
// Unknown keys, duplicates and trailing data are errors; a *KeyError names the
// key. Inside maps and untyped values (any, json.RawMessage) only duplicates
// are checked.
func DecodeStrict(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	// Numbers stay text while only keys are checked: a number beyond float64
	// is the target type's business (e.g. the upload size's own decoder).
	dec.UseNumber()
	if err := checkKeys(dec, reflect.TypeOf(dst), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailingData
	}
	// The keys are now known to be exact, unique field names, so the standard
	// decoder only has types left to check.
	dec = json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// checkKeys reads one JSON value from dec, checking the keys of every object
// in it against t (nil: duplicates only).
func checkKeys(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && reflect.PointerTo(t).Implements(unmarshalerType) {
		t = nil // decodes itself: its keys are not struct fields
	}
	switch tok {
	case json.Delim('{'):
		return checkObject(dec, t, path)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := checkKeys(dec, elem, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
		return err
	}
	return nil
}

// checkObject checks the keys of an object whose '{' was just read, up to
// and including its '}': each key once, and, for a struct, each one of its
// fields; a map's values are checked as its element type.
func checkObject(dec *json.Decoder, t reflect.Type, path string) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = structFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := kt.(string)
		kp := k
		if path != "" {
			kp = path + "." + k
		}
		if seen[k] {
			return &KeyError{Path: kp, Duplicate: true}
		}
		seen[k] = true
		ft := elem
		if fields != nil {
			var ok bool
			if ft, ok = fields[k]; !ok {
				return &KeyError{Path: kp}
			}
		}
		if err := checkKeys(dec, ft, kp); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// structFields maps the JSON names of t's fields (as encoding/json names
// them, embedded structs flattened) to their types.
func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range structFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
