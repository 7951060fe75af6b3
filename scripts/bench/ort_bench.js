// ONNX Runtime side of the encoder benchmark (see BENCHMARKS.md).
// Not used by the product or CI. Usage:
//   ORT_DIR=/work/ortbench node ort_bench.js MODEL.onnx [LENGTHS.txt] [THREADS] [CHECK.json] [--lockstep]
// LENGTHS.txt holds one token count per text (the mixed-length workload);
// the fixed workloads (16 x 128 documents, one 16-token query) are built in.
// CHECK.json (torch_bench.py --export) holds a padded batch and PyTorch's
// output on it; the largest absolute difference from ORT's is reported.
// With --lockstep it serves lockstep.py instead: a JSON line when ready,
// then for each line of stdin (batch, query or mixed) one run of that
// workload and a line {"op": ..., "s": seconds}.
const path = require('path');
const fs = require('fs');
const ort = require(path.join(process.env.ORT_DIR || '/work/ortbench', 'node_modules/onnxruntime-node'));

function batchFeeds(lengths, vocab) {
  const b = lengths.length, L = Math.max(...lengths);
  const ids = new BigInt64Array(b * L), mask = new BigInt64Array(b * L);
  let seed = 7;
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < lengths[i]; j++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      ids[i * L + j] = BigInt(j === 0 ? 101 : j === lengths[i] - 1 ? 102 : 1000 + (seed % (vocab - 1000)));
      mask[i * L + j] = 1n;
    }
  }
  return { input_ids: new ort.Tensor('int64', ids, [b, L]), attention_mask: new ort.Tensor('int64', mask, [b, L]) };
}

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }

const engineName = () => 'onnxruntime-node ' + require(path.join(process.env.ORT_DIR || '/work/ortbench', 'node_modules/onnxruntime-node/package.json')).version;

// check returns the largest |ORT - PyTorch| on CHECK.json's batch.
async function check(sess, checkFile) {
  const c = JSON.parse(fs.readFileSync(checkFile, 'utf8'));
  const b = c.input_ids.length, L = c.input_ids[0].length;
  const t = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [b, L]);
  const res = await sess.run({ input_ids: t(c.input_ids), attention_mask: t(c.attention_mask) });
  const got = res[sess.outputNames[0]].data;
  if (got.length !== c.output.length) throw new Error(`${checkFile}: ORT returned ${got.length} values, torch ${c.output.length}`);
  let d = 0;
  for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i] - c.output[i]));
  return d;
}

// lockstep serves lockstep.py: one run per workload named on stdin.
async function lockstep(sess, vocab, lengthsFile, info) {
  const feeds = { batch: [batchFeeds(new Array(16).fill(128), vocab)], query: [batchFeeds([16], vocab)], mixed: [] };
  if (lengthsFile) {
    const lengths = fs.readFileSync(lengthsFile, 'utf8').trim().split(/\s+/).map(Number);
    for (let i = 0; i < lengths.length; i += 16) feeds.mixed.push(batchFeeds(lengths.slice(i, i + 16), vocab));
  }
  console.log(JSON.stringify({ engine: engineName(), ready: true, ...info }));
  const rl = require('readline').createInterface({ input: process.stdin });
  for await (const line of rl) {
    const op = line.trim();
    if (!op) continue;
    if (!feeds[op] || feeds[op].length === 0) throw new Error(`unknown or empty workload ${JSON.stringify(op)}`);
    const t = process.hrtime.bigint();
    for (const f of feeds[op]) await sess.run(f);
    console.log(JSON.stringify({ op, s: Number(process.hrtime.bigint() - t) / 1e9 }));
  }
}

async function main() {
  const args = process.argv.slice(2).filter((a) => a !== '--lockstep');
  const [model, lengthsFile, threads, checkFile] = args;
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads || 2), interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const vocab = 30522;
  const out = {};
  if (checkFile) out.check_max_abs_vs_torch = await check(sess, checkFile);
  if (process.argv.includes('--lockstep')) return lockstep(sess, vocab, lengthsFile, out);
  // Fixed batch: 16 documents of 128 tokens.
  const docFeeds = batchFeeds(new Array(16).fill(128), vocab);
  await sess.run(docFeeds);
  const docTimes = [];
  for (let r = 0; r < 5; r++) { const t = process.hrtime.bigint(); await sess.run(docFeeds); docTimes.push(Number(process.hrtime.bigint() - t) / 1e9); }
  out.batch16x128_docs_per_s = 16 / median(docTimes);
  // One 16-token query.
  const qFeeds = batchFeeds([16], vocab);
  await sess.run(qFeeds);
  const qTimes = [];
  for (let r = 0; r < 30; r++) { const t = process.hrtime.bigint(); await sess.run(qFeeds); qTimes.push(Number(process.hrtime.bigint() - t) / 1e6); }
  out.query16_ms_median = median(qTimes);
  // Mixed lengths (real texts), batches of 16 in file order, padded to the batch maximum as usual.
  if (lengthsFile) {
    const lengths = fs.readFileSync(lengthsFile, 'utf8').trim().split(/\s+/).map(Number);
    const t = process.hrtime.bigint();
    for (let i = 0; i < lengths.length; i += 16) await sess.run(batchFeeds(lengths.slice(i, i + 16), vocab));
    out.mixed_docs_per_s = lengths.length / (Number(process.hrtime.bigint() - t) / 1e9);
    out.mixed_docs = lengths.length;
  }
  console.log(JSON.stringify({ engine: engineName(), threads: Number(threads || 2), ...out }));
}
main().catch((e) => { console.error(e); process.exit(1); });
