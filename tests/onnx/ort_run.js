// Runs an ONNX model with onnxruntime-node on raw float32 input.
// Usage: node ort_run.js MODEL.onnx INPUT.f32 ROWS COLS OUTDIR
// INPUT.f32 holds ROWS x COLS little-endian float32 values, fed to the
// model's first input. Every output is written to OUTDIR/<name>.f32
// (little-endian float32) and "name dims..." is printed, one per line.
// onnxruntime-node is found by Node's usual lookup, or under
// $ORT_NODE_DIR/node_modules (see scripts/onnxruntime.sh).
'use strict';
const fs = require('fs');
const path = require('path');

function loadOrt() {
  const dir = process.env.ORT_NODE_DIR;
  if (dir) return require(path.join(path.resolve(dir), 'node_modules', 'onnxruntime-node'));
  return require('onnxruntime-node');
}

function readF32(file, count) {
  const buf = fs.readFileSync(file);
  if (buf.length !== count * 4) {
    throw new Error(`${file}: ${buf.length} bytes, expected ${count * 4}`);
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

function writeF32(file, data) {
  const buf = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i], i * 4);
  fs.writeFileSync(file, buf);
}

async function main() {
  const [model, input, rowsArg, colsArg, outdir] = process.argv.slice(2);
  const rows = Number(rowsArg), cols = Number(colsArg);
  if (!outdir || !Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error('usage: node ort_run.js MODEL.onnx INPUT.f32 ROWS COLS OUTDIR');
  }
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(model);
  const x = new ort.Tensor('float32', readF32(input, rows * cols), [rows, cols]);
  const results = await session.run({ [session.inputNames[0]]: x });
  fs.mkdirSync(outdir, { recursive: true });
  for (const name of session.outputNames) {
    const t = results[name];
    if (t.type !== 'float32') throw new Error(`output ${name}: type ${t.type}, not float32`);
    writeF32(path.join(outdir, `${name}.f32`), t.data);
    console.log(`${name} ${t.dims.join(' ')}`);
  }
}

main().catch((e) => {
  console.error(`ort_run: ${e.message || e}`);
  process.exit(1);
});
