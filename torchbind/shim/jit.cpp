// jit.cpp - building, saving, loading and calling TorchScript modules.
#include <torch/script.h>

#include "common.h"

struct lv_jit_s {
  torch::jit::Module m;
};

using lv::R;
using lv::wrap;

extern "C" {

lv_err lv_jit_new(const char *qualified_name, lv_jit *out) {
  LV_TRY(*out = new lv_jit_s{torch::jit::Module(qualified_name)})
}

lv_err lv_jit_load(const char *path, int dev_type, int dev_index, lv_jit *out) {
  LV_TRY(*out = new lv_jit_s{torch::jit::load(path, lv::device(dev_type, dev_index))})
}

void lv_jit_free(lv_jit m) { delete m; }

lv_err lv_jit_register(lv_jit m, const char *name, lv_tensor t, int is_parameter) {
  LV_TRY({
    auto v = R(t, "tensor").detach();
    if (is_parameter)
      m->m.register_parameter(name, v, /*is_buffer=*/false);
    else
      m->m.register_buffer(name, v);
  })
}

lv_err lv_jit_define(lv_jit m, const char *source) { LV_TRY(m->m.define(source)) }

lv_err lv_jit_save(lv_jit m, const char *path) { LV_TRY(m->m.save(path)) }

lv_err lv_jit_call(lv_jit m, const char *method, const lv_tensor *ts, int nt,
                   const double *ds, int nd, lv_tensor *out) {
  LV_TRY({
    std::vector<c10::IValue> args;
    for (int i = 0; i < nt; i++) args.emplace_back(R(ts[i], "argument"));
    for (int i = 0; i < nd; i++) args.emplace_back(ds[i]);
    auto r = m->m.get_method(method)(args);
    TORCH_CHECK(r.isTensor(), "method ", method, " returned ", r.tagKind(),
                ", expected a Tensor");
    *out = wrap(r.toTensor());
  })
}

}  // extern "C"
