package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// jsonCase has what the eval documents hold: nested and embedded structs,
// arrays, slices, nil and empty lists, omitempty, untagged and "-" fields.
type jsonCase struct {
	jsonInner
	Name   string       `json:"name"`
	Vals   [3]float64   `json:"vals"`
	Rows   [][]float64  `json:"rows"`
	Counts []int64      `json:"counts"`
	Ptr    *jsonInner   `json:"ptr,omitempty"`
	Opt    []string     `json:"opt,omitempty"`
	Nil    []float64    `json:"nil"`
	Skip   float64      `json:"-"`
	Sub    jsonInnerPtr `json:"sub"`
}

type jsonInner struct {
	X float64 `json:"x"`
	S string  `json:"s,omitempty"`
}

type jsonInnerPtr struct {
	*jsonInner
	Y float64 `json:"y"`
}

// TestWriteJSONMatchesEncodingJSON: with finite numbers writeJSON writes
// what encoding/json's indented encoder writes, byte for byte (HTML
// escaping, float formats 1e-07 and 1e+21, key order included); a NaN or
// ±Inf anywhere becomes null where encoding/json refuses the value.
func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	v := jsonCase{
		jsonInner: jsonInner{X: 0.1},
		Name:      "a<b>&c \"q\" é",
		Vals:      [3]float64{1e-7, 1e21, -3.25},
		Rows:      [][]float64{{1, 2}, {}},
		Counts:    []int64{0, math.MaxInt64},
		Ptr:       &jsonInner{X: 2, S: "s"},
		Opt:       []string{},
		Skip:      5,
		Sub:       jsonInnerPtr{&jsonInner{X: 4}, 1.5},
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := writeJSON(&got, v); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("writeJSON:\n%s\nencoding/json:\n%s", got.String(), want.String())
	}

	v.Vals[1], v.Rows[0][1], v.X, v.Sub.Y = math.NaN(), math.Inf(1), math.Inf(-1), math.NaN()
	if err := json.NewEncoder(&bytes.Buffer{}).Encode(v); err == nil {
		t.Fatal("encoding/json took a NaN: this encoder is not needed")
	}
	got.Reset()
	if err := writeJSON(&got, v); err != nil {
		t.Fatal(err)
	}
	var back struct {
		X    *float64     `json:"x"`
		Vals []*float64   `json:"vals"`
		Rows [][]*float64 `json:"rows"`
		Sub  struct {
			Y *float64 `json:"y"`
		} `json:"sub"`
	}
	if err := json.Unmarshal(got.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, got.String())
	}
	if back.X != nil || back.Vals[1] != nil || *back.Vals[2] != -3.25 || back.Rows[0][1] != nil || *back.Rows[0][0] != 1 || back.Sub.Y != nil {
		t.Fatalf("non-finite values not null, or finite ones lost:\n%s", got.String())
	}
	if strings.Contains(got.String(), "NaN") || strings.Contains(got.String(), "Inf") {
		t.Fatalf("NaN or Inf written:\n%s", got.String())
	}
}
