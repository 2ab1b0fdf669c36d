package testkit

import (
	"encoding/csv"
	"os"
	"testing"
)

// ReadCSV returns the rows of a CSV file (a run's log.csv), its header
// first; a file that cannot be read or parsed fails the test.
func ReadCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}
