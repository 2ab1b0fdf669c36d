// Runs an ONNX model with onnxruntime-node on the CPU, for the Go tests:
//   node onnxrun.js MODEL IN.f32 N C H W RUNS OUT.f32
// IN.f32 is the input tensor (float32, little-endian, NCHW); OUT.f32 gets
// the model's first output of every run, one after the other, and standard
// error the mean time of the runs after the first. The runtime
// is found through NODE_PATH (build/onnxruntime/node_modules).
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inPath, n, c, h, w, runs, outPath] = process.argv.slice(2);
  const dims = [n, c, h, w].map(Number);
  const buf = fs.readFileSync(inPath);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  const out = fs.openSync(outPath, 'w');
  let ms = 0;
  for (let i = 0; i < Number(runs); i++) {
    const t0 = process.hrtime.bigint();
    const res = await session.run(feeds);
    if (i > 0) ms += Number(process.hrtime.bigint() - t0) / 1e6;
    const y = res[session.outputNames[0]];
    fs.writeSync(out, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.length * 4));
    if (i === 0) process.stderr.write(`output ${session.outputNames[0]} dims ${y.dims.join('x')}\n`);
  }
  fs.closeSync(out);
  process.stderr.write(`onnxruntime-node ${ort.env.versions.node}\n`);
  if (Number(runs) > 1) process.stderr.write(`${(ms / (Number(runs) - 1)).toFixed(1)} ms per run after the first\n`);
}
main().catch((e) => { console.error(e); process.exit(1); });
