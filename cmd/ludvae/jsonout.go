package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"reflect"
	"strings"
)

// writeJSON writes v as indented JSON as encoding/json would, except that
// a float that is NaN or ±Inf (an empty bin's std), which encoding/json
// refuses, is written as null, and ±Inf in a field tagged ",inf" (the PSNR
// of identical images) as the string "inf" or "-inf", which Python's
// float() reads and which null (not available) cannot be taken for. v's structs
// and the noisestats types they hold say their keys with json tags.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	if err := encodeNullNaN(&buf, reflect.ValueOf(v)); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

// encodeNullNaN writes v compactly: structs field by field (embedded
// structs' fields in their place), lists element by element, non-finite
// floats as null, and every other value by encoding/json.
func encodeNullNaN(buf *bytes.Buffer, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			buf.WriteString("null")
			return nil
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		return encodeNullNaN(buf, v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		buf.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeNullNaN(buf, v.Index(i)); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case reflect.Struct:
		buf.WriteByte('{')
		first := true
		err := encodeFields(buf, v, &first)
		buf.WriteByte('}')
		return err
	}
	data, err := json.Marshal(v.Interface())
	buf.Write(data)
	return err
}

// encodeFields writes struct v's fields as members: those with a json tag
// name, omitempty ones only when not empty, and an untagged embedded
// struct's own fields.
func encodeFields(buf *bytes.Buffer, v reflect.Value, first *bool) error {
	for i := range v.NumField() {
		f, fv := v.Type().Field(i), v.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			if fv.Kind() == reflect.Pointer {
				fv = fv.Elem()
			}
			if err := encodeFields(buf, fv, first); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() || name == "" || name == "-" || (opts == "omitempty" && isEmpty(fv)) {
			continue
		}
		if !*first {
			buf.WriteByte(',')
		}
		*first = false
		key, _ := json.Marshal(name)
		buf.Write(key)
		buf.WriteByte(':')
		if opts == "inf" && (fv.Kind() == reflect.Float64 || fv.Kind() == reflect.Float32) && math.IsInf(fv.Float(), 0) {
			// A value that is infinite by meaning (the PSNR of identical
			// images) as Python's float() reads it, so that it differs
			// from null (not available).
			if fv.Float() > 0 {
				buf.WriteString(`"inf"`)
			} else {
				buf.WriteString(`"-inf"`)
			}
			continue
		}
		if err := encodeNullNaN(buf, fv); err != nil {
			return err
		}
	}
	return nil
}

// isEmpty is encoding/json's omitempty test for the kinds the documents
// hold.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return v.IsZero()
}
