package torchbind

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The shim's build decides, from the libtorch and toolkit it finds, the C++
// standard and how the CUDA runtime is linked. A wrong guess costs a failed
// build on a GPU machine lent for minutes, so the choices are tested here on
// fake trees laid out as the real ones are.

// touch creates the files, with their folders, under root.
func touch(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// versionH is torch/version.h as libtorch writes it.
func versionH(major, minor, patch string) string {
	return "#define TORCH_VERSION_MAJOR " + major + "\n#define TORCH_VERSION_MINOR " + minor +
		"\n#define TORCH_VERSION_PATCH " + patch + "\n"
}

func TestFindLibtorchReadsAFolder(t *testing.T) {
	t.Parallel()
	const api = "include/torch/csrc/api/include/torch/"
	// The guards libtorch 2.14 put at the top of these headers.
	const atenGuard = "#pragma once\n#if !defined(_MSC_VER) && __cplusplus < 202002L\n#error C++20 or later compatible compiler is required to use ATen.\n#endif\n"
	const allGuard = "#pragma once\n#if __cplusplus < 202002L\n#error C++20 or later compatible compiler is required to use PyTorch.\n#endif\n"
	base := map[string]string{"include/torch/script.h": "", "lib/libtorch.so": ""}
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"pip torch 2.11 with CUDA", map[string]string{
			api + "version.h":                     versionH("2", "11", "0"),
			"include/ATen/ATen.h":                 "#pragma once\n#include <ATen/Functions.h>\n",
			"lib/libtorch_cuda.so":                "",
			"share/cmake/Torch/TorchConfig.cmake": `set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=1")`,
		}, []string{"TORCH_VERSION=2.11.0", "TORCH_CXXSTD=c++17", "TORCH_CUDA=1", "TORCH_ABI=1"}},
		{"libtorch 2.14 refusing C++17 in ATen.h", map[string]string{
			api + "version.h":     versionH("2", "14", "1"),
			"include/ATen/ATen.h": atenGuard,
		}, []string{"TORCH_VERSION=2.14.1", "TORCH_CXXSTD=c++20", "TORCH_CUDA=0"}},
		{"refusing C++17 in torch/all.h only", map[string]string{
			api + "version.h": versionH("2", "14", "0"),
			api + "all.h":     allGuard,
		}, []string{"TORCH_CXXSTD=c++20"}},
		{"a C++20 feature test is no demand", map[string]string{
			api + "version.h":     versionH("2", "11", "0"),
			"include/ATen/ATen.h": "#pragma once\n#if __cplusplus >= 202002L\n#include <span>\n#endif\n",
		}, []string{"TORCH_CXXSTD=c++17"}},
		{"version macros in torch/headeronly (2.10 on)", map[string]string{
			api + "version.h":                    "#pragma once\n#include <torch/headeronly/version.h>\n",
			"include/torch/headeronly/version.h": versionH("2", "12", "0"),
		}, []string{"TORCH_VERSION=2.12.0", "TORCH_CXXSTD=c++17"}},
		{"old pip wheel with the pre-C++11 ABI", map[string]string{
			api + "version.h":                     versionH("2", "4", "1"),
			"share/cmake/Torch/TorchConfig.cmake": `set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=0")`,
		}, []string{"TORCH_VERSION=2.4.1", "TORCH_ABI=0", "TORCH_CXXSTD=c++17"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			touch(t, dir, base)
			touch(t, dir, c.files)
			cmd := exec.Command("../third_party/find-libtorch.sh")
			cmd.Env = append(os.Environ(), "LIBTORCH="+dir)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("find-libtorch.sh: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			for _, w := range c.want {
				if !slices.Contains(lines, w) {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
		})
	}
}

func withoutMakeVars(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "MAKEFLAGS=") && !strings.HasPrefix(e, "MFLAGS=") && !strings.HasPrefix(e, "MAKELEVEL=") {
			out = append(out, e)
		}
	}
	return out
}

func TestMakefilePicksTheCUDARuntime(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	touch(t, dir, map[string]string{
		// a toolkit as NVIDIA installs it, with the static runtime
		"toolkit/bin/nvcc":                                   "",
		"toolkit/lib64/libcudart_static.a":                   "",
		"toolkit/lib64/libcudart.so.13":                      "",
		"cuda13/targets/x86_64-linux/lib/libcudart_static.a": "",
		// pip's CUDA wheels: nvcc and the shared runtime, no static one,
		// beside the torch that loads that runtime
		"site/nvidia/cu13/bin/nvcc":                      "",
		"site/nvidia/cu13/lib/libcudart.so.13":           "",
		"site/nvidia/cublas/lib/libcublas.so.13":         "",
		"site/torch/lib/libtorch.so":                     "",
		"bare/bin/nvcc":                                  "",
		"site12/nvidia/cuda_runtime/lib/libcudart.so.12": "",
		"site12/torch/lib/libtorch.so":                   "",
	})
	// A CUDA 12 torch beside both runtimes: its libc10_cuda.so names the one
	// it loads, which must win over the CUDA 13 one that sorts first.
	touch(t, dir, map[string]string{"both/nvidia/cu13/lib/libcudart.so.13": ""})
	for _, args := range [][]string{
		{"-o", "both/nvidia/cuda_runtime/lib/libcudart.so.12", "-Wl,-soname,libcudart.so.12"},
		{"-o", "both/torch/lib/libc10_cuda.so", "-Wl,--no-as-needed", "-x", "none", "both/nvidia/cuda_runtime/lib/libcudart.so.12"},
	} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(args[1])), 0o755)
		cc := exec.Command("gcc", append([]string{"-shared", "-x", "c", "/dev/null"}, args...)...)
		cc.Dir = dir
		if out, err := cc.CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v: %.300s", args, err, out)
		}
	}
	cases := []struct {
		name, cudaHome, torchLib string
		want                     string // "" for the error
	}{
		{"the runtime torch links", "bare", "both/torch/lib",
			filepath.Join(dir, "both/nvidia/cuda_runtime/lib/libcudart.so.12") +
				" -Wl,-rpath," + filepath.Join(dir, "both/nvidia/cuda_runtime/lib") + "/"},
		{"toolkit's static runtime", "toolkit", "site/torch/lib",
			filepath.Join(dir, "toolkit/lib64/libcudart_static.a") + " -ldl -lrt -lpthread"},
		{"CUDA 13 targets layout", "cuda13", "site/torch/lib",
			filepath.Join(dir, "cuda13/targets/x86_64-linux/lib/libcudart_static.a") + " -ldl -lrt -lpthread"},
		{"pip toolkit: torch's shared runtime", "site/nvidia/cu13", "site/torch/lib",
			filepath.Join(dir, "site/torch/lib/../../nvidia/cu13/lib/libcudart.so.13") +
				" -Wl,-rpath," + filepath.Join(dir, "site/torch/lib/../../nvidia/cu13/lib") + "/"},
		{"CUDA 12 wheels", "bare", "site12/torch/lib",
			filepath.Join(dir, "site12/torch/lib/../../nvidia/cuda_runtime/lib/libcudart.so.12") +
				" -Wl,-rpath," + filepath.Join(dir, "site12/torch/lib/../../nvidia/cuda_runtime/lib") + "/"},
		{"no runtime anywhere", "bare", "bare", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("make", "-s", "-C", "..", "--eval", "lv-show-cudart: ; @echo '$(CUDART)'", "lv-show-cudart",
				"CUDA_HOME="+filepath.Join(dir, c.cudaHome), "TORCH_LIBDIR="+filepath.Join(dir, c.torchLib))
			cmd.Env = withoutMakeVars(os.Environ()) // not the outer make's jobserver or flags
			out, err := cmd.CombinedOutput()
			got := strings.TrimSpace(string(out))
			if c.want == "" {
				if err == nil || !strings.Contains(got, "no libcudart_static.a") {
					t.Fatalf("want an error naming the missing runtime, got %v: %s", err, got)
				}
				// The diagnostic gpu-check prints first still runs.
				info := exec.Command("make", "-s", "-C", "..", "libtorch-info", "WITH_CUDA=1",
					"CUDA_HOME="+filepath.Join(dir, c.cudaHome), "TORCH_LIBDIR="+filepath.Join(dir, c.torchLib))
				info.Env = cmd.Env
				out, err := info.CombinedOutput()
				if err != nil || !strings.Contains(string(out), "CUDA runtime none found") {
					t.Fatalf("make libtorch-info without a runtime: %v: %s", err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("make: %v: %s", err, got)
			}
			if got != c.want {
				t.Errorf("CUDART\n got %s\nwant %s", got, c.want)
			}
		})
	}
}
