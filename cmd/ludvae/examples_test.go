package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// readYAMLExamples parses the YAML examples with Python's yaml (Debian's
// python3-yaml, which python3-torch depends on) and returns each file's
// documents as JSON values.
const readYAMLExamples = `
import json, sys, yaml
out = {}
for path in sys.argv[1:]:
    with open(path) as f:
        out[path] = list(yaml.safe_load_all(f))
print(json.dumps(out))
`

// TestDistributedExamples: the launch examples under docker/examples parse
// (bash -n, YAML), have the shape their launcher needs, and every flag they
// give ludvae is one its --help lists.
func TestDistributedExamples(t *testing.T) {
	dir := filepath.Join(testkit.Root(), "docker", "examples")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) < 5 {
		t.Fatalf("examples %v (%v)", files, err)
	}
	var commands [][]string // each: ludvae's arguments
	var yamls []string
	for _, f := range files {
		switch filepath.Ext(f) {
		case ".sh", ".sbatch":
			if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s: bash -n: %v %s", f, err, out)
			}
			commands = append(commands, shellCommands(t, f)...)
		case ".yaml":
			yamls = append(yamls, f)
		default:
			t.Errorf("%s: not a kind of example this test checks", f)
		}
	}
	var docs map[string][]map[string]any
	if err := json.Unmarshal([]byte(testkit.RunPython(t, readYAMLExamples, yamls...)), &docs); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for f, ds := range docs {
		for _, d := range ds {
			kinds[d["kind"].(string)] = true
			checkKubernetes(t, f, d)
			for _, args := range containerArgs(d) {
				commands = append(commands, args)
			}
		}
	}
	if !kinds["PyTorchJob"] || !kinds["Job"] {
		t.Errorf("kinds %v: want a PyTorchJob (training) and a Job (sharded synthesis)", kinds)
	}
	helps := map[string]string{}
	seen := map[string]bool{}
	for _, args := range commands {
		sub := args[0]
		seen[sub] = true
		if _, ok := helps[sub]; !ok {
			helps[sub] = cliHelp(t, sub)
		}
		for _, a := range args[1:] {
			if name, ok := strings.CutPrefix(a, "--"); ok {
				name, _, _ = strings.Cut(name, "=")
				if !strings.Contains(helps[sub], "--"+name+" ") && !strings.Contains(helps[sub], "--"+name+"[") {
					t.Errorf("ludvae %s has no flag --%s (%v)", sub, name, args)
				}
			}
		}
	}
	if !seen["train"] || !seen["synth"] {
		t.Errorf("commands %v: want train and synth", commands)
	}
}

// shellCommands returns the arguments of every `ludvae` command in a
// shell file, continuation lines joined.
func shellCommands(t *testing.T, path string) [][]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	re := regexp.MustCompile(`(?m)^[^#]*\bludvae (\w+)([^\n]*)`)
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		out = append(out, append([]string{m[1]}, strings.Fields(m[2])...))
	}
	if len(out) == 0 {
		t.Errorf("%s runs no ludvae command", path)
	}
	return out
}

// containerArgs lists the args of every container in a Kubernetes object.
func containerArgs(d map[string]any) [][]string {
	var out [][]string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if cs, ok := v["containers"].([]any); ok {
				for _, c := range cs {
					var args []string
					for _, a := range c.(map[string]any)["args"].([]any) {
						args = append(args, a.(string))
					}
					out = append(out, args)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(d)
	return out
}

// checkKubernetes checks what each launcher needs: a PyTorchJob's master
// and workers, an Indexed Job whose completions equal ludvae's --shards.
func checkKubernetes(t *testing.T, file string, d map[string]any) {
	spec, _ := d["spec"].(map[string]any)
	switch d["kind"] {
	case "PyTorchJob":
		rs, _ := spec["pytorchReplicaSpecs"].(map[string]any)
		if rs["Master"] == nil || rs["Worker"] == nil {
			t.Errorf("%s: a PyTorchJob without Master and Worker", file)
		}
	case "Job":
		if spec["completionMode"] != "Indexed" {
			t.Errorf("%s: completionMode %v, want Indexed", file, spec["completionMode"])
		}
		for _, args := range containerArgs(d) {
			for i, a := range args {
				if a == "--shards" && (i+1 >= len(args) || args[i+1] != strings.TrimSuffix(strings.TrimSpace(jsonString(spec["completions"])), ".0")) {
					t.Errorf("%s: --shards %v, completions %v", file, args[i+1:], spec["completions"])
				}
			}
		}
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// cliHelp is `ludvae SUB --help`, from this test binary run as the command.
func cliHelp(t *testing.T, sub string) string {
	cmd := exec.Command(os.Args[0], sub, "--help")
	cmd.Env = append(os.Environ(), asCLI+"=1")
	out, _ := cmd.CombinedOutput() // --help exits 0; its text is what counts
	if !strings.Contains(string(out), "--") {
		t.Fatalf("ludvae %s --help: %s", sub, out)
	}
	return string(out)
}
