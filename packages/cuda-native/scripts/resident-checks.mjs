// Checks of the resident entry point on a real GPU, written once and run by the vitest suite
// (test/resident-device.test.ts) and by the device check (scripts/device-run.mjs). Each check throws on a
// failure. The resident path runs the same kernels on the same inputs as the host path, so results must be
// bit-identical to backend.attention(); conversions must match the host's round-to-nearest-even.
//
//   const results = await runResidentChecks(cudaNative, viaResident, { nativeTensors });   // [{ name, ok, ms, error? }]

function random(n, seed) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32) * 4 - 2;
  }
  return a;
}

const tensor = (shape, seed) => ({
  data: random(
    shape.reduce((a, b) => a * b, 1),
    seed,
  ),
  shape,
});

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function sameBits(a, b, what) {
  assert(a.length === b.length, `${what}: length ${a.length} != ${b.length}`);
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i])) throw new Error(`${what}: value ${i} differs: ${a[i]} vs ${b[i]} (the resident path must be bit-identical)`);
}

async function rejectsWith(promise, code, what) {
  try {
    await promise;
  } catch (e) {
    assert(e?.code === code, `${what}: expected ${code}, got ${e?.code}: ${e?.message}`);
    return;
  }
  throw new Error(`${what}: expected a ${code} error, the call succeeded`);
}

/** bf16 of x, round to nearest even (convert.cc floatToBf16). */
function bf16(x) {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  if ((u[0] & 0x7fffffff) > 0x7f800000) return x;
  u[0] = ((u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16) << 16;
  return f[0];
}

const REQUESTS = [
  {
    name: 'local GQA bshd + lse',
    make: () => ({
      q: tensor([2, 70, 4, 32], 1),
      k: tensor([2, 70, 2, 32], 2),
      v: tensor([2, 70, 2, 24], 3),
      layout: 'bshd',
      pattern: { kind: 'local', left: 9, right: 5 },
      returnLse: true,
    }),
  },
  {
    name: 'per-head causal / dilated, Sq != Sk',
    make: () => ({
      q: tensor([1, 2, 33, 64], 4),
      k: tensor([1, 2, 97, 64], 5),
      v: tensor([1, 2, 97, 64], 6),
      pattern: [{ kind: 'causal' }, { kind: 'dilated', left: 20, right: 20, dilation: 3 }],
      returnLse: true,
    }),
  },
  {
    name: 'top-k',
    make: () => ({
      q: tensor([1, 1, 50, 16], 7),
      k: tensor([1, 1, 50, 16], 8),
      v: tensor([1, 1, 50, 16], 9),
      pattern: { kind: 'topk', k: 5 },
    }),
  },
];

/** The checks for one storage precision. */
function checksFor(viaResident, precision) {
  const p = `[${precision}] `;
  return [
    [
      `${p}upload / download round trip`,
      async (b) => {
        const x = tensor([3, 5, 7, 11], 11);
        const t = await b.upload(x);
        const back = (await b.download(t)).data;
        if (precision === 'float32') sameBits(back, x.data, 'float32 round trip');
        else if (precision === 'bfloat16') sameBits(back, x.data.map(bf16), 'bf16 round trip (host rounding)');
        else for (let i = 0; i < back.length; i++) assert(Math.abs(back[i] - x.data[i]) <= 2 ** -11 * Math.abs(x.data[i]) + 2 ** -24, `f16 value ${i}`);
        const again = (await b.download(await b.upload({ data: back, shape: x.shape }))).data;
        sameBits(again, back, 'a stored value round-trips exactly');
      },
    ],
    [
      `${p}cast on the device = host rounding`,
      async (b) => {
        const x = tensor([4, 1000], 12);
        const t32 = await b.upload(x, { dtype: 'float32' });
        for (const dtype of ['bfloat16', 'float16', 'float32']) {
          const onDevice = (await b.download(await b.cast(t32, dtype))).data;
          const viaHost = (await b.download(await b.upload(x, { dtype }))).data;
          sameBits(onDevice, viaHost, `cast float32 -> ${dtype}`);
        }
      },
    ],
    ...REQUESTS.map(({ name, make }) => [
      `${p}resident = host path: ${name}`,
      async (b) => {
        const req = make();
        const host = await b.attention(req);
        const res = await viaResident(b).attention(req);
        sameBits(res.out.data, host.out.data, 'out');
        if (req.returnLse) sameBits(res.lse.data, host.lse.data, 'lse');
      },
    ]),
    [
      `${p}writes into given out / lse; host q against resident k, v`,
      async (b) => {
        const req = REQUESTS[0].make();
        const host = await b.attention(req);
        const k = await b.upload(req.k);
        const v = await b.upload(req.v);
        const out = await b.empty(host.out.shape, { dtype: 'float32' });
        const lse = await b.empty(host.lse.shape, { dtype: 'float32' });
        const r = await b.attentionResident({ ...req, k, v, out, lse });
        assert(r.out === out && r.lse === lse, 'the given tensors are returned');
        sameBits((await b.download(out)).data, host.out.data, 'out');
        sameBits((await b.download(lse)).data, host.lse.data, 'lse');
      },
    ],
    [
      `${p}two chained layers stay on the GPU`,
      async (b) => {
        const req = {
          q: tensor([1, 2, 129, 64], 21),
          k: tensor([1, 2, 129, 64], 22),
          v: tensor([1, 2, 129, 64], 23),
          pattern: { kind: 'local', left: 17, right: 17 },
        };
        const [q, k, v] = [await b.upload(req.q), await b.upload(req.k), await b.upload(req.v)];
        const first = await b.attentionResident({ q, k, v, pattern: req.pattern });
        const q2 = precision === 'float32' ? first.out : await b.cast(first.out, precision);
        const second = await b.attentionResident({ q: q2, k, v, pattern: req.pattern });
        const hostFirst = await b.attention(req);
        sameBits((await b.download(first.out)).data, hostFirst.out.data, 'layer 1');
        // On the host path the second layer's q is layer 1's float32 output (converted to the storage type on upload).
        const hostSecond = await b.attention({ ...req, q: hostFirst.out });
        sameBits((await b.download(second.out)).data, hostSecond.out.data, 'layer 2');
      },
    ],
    [
      `${p}operations queued without await run in call order`,
      async (b) => {
        const req = REQUESTS[1].make();
        const host = await b.attention(req);
        const out = await b.empty(host.out.shape, { dtype: 'float32' });
        const q = await b.upload(req.q);
        const writing = b.attentionResident({ ...req, q, out }); // not awaited
        const read = b.download(out); // issued right after: it must wait for the call that writes out
        const disposing = q.dispose(); // frees q only once that call is done
        // Settle all three before judging (a failure of one must not leave the others' rejections unhandled).
        const [w, r, d] = await Promise.allSettled([writing, read, disposing]);
        for (const [what, s] of [
          ['the attention', w],
          ['the download', r],
          ['the dispose', d],
        ])
          if (s.status === 'rejected') throw new Error(`${what} failed: ${s.reason?.stack ?? s.reason}`);
        sameBits(r.value.data, host.out.data, 'out read after the call that wrote it');
      },
    ],
    [
      `${p}typed errors: dtype, shape, aliasing, disposed, memory`,
      async (b) => {
        const req = REQUESTS[0].make();
        const other = precision === 'float32' ? 'bfloat16' : 'float32';
        const wrongType = await b.upload(req.q, { dtype: other });
        await rejectsWith(b.attentionResident({ ...req, q: wrongType }), 'INVALID_ARGUMENT', 'q of the wrong dtype');
        const small = await b.empty([1, 2, 3], { dtype: 'float32' });
        await rejectsWith(b.attentionResident({ ...req, out: small }), 'INVALID_SHAPE', 'out of the wrong shape');
        const q = await b.upload(req.q);
        await q.dispose();
        await rejectsWith(b.attentionResident({ ...req, q }), 'INVALID_ARGUMENT', 'a disposed q');
        await rejectsWith(b.download(q), 'INVALID_ARGUMENT', 'download of a disposed tensor');
        await rejectsWith(b.empty([2 ** 40]), 'RESOURCE_LIMIT', 'a tensor larger than the device');
      },
    ],
  ].map(([name, run]) => ({ name, precision, run }));
}

/**
 * Runs every check for each precision on a fresh backend (the addon already loaded and checked in a child
 * process by then, so `isolateLoad: false` spares a child process per check). After each, `dispose()` must
 * leave the addon's count of live device tensors (process-wide: `nativeTensors()`, the binding's tensorCount())
 * where it was before the check.
 */
export async function runResidentChecks(cudaNative, viaResident, { precisions = ['float32', 'bfloat16', 'float16'], nativeTensors }) {
  if (typeof nativeTensors !== 'function') throw new TypeError("runResidentChecks: nativeTensors() (the addon's tensor count) is required");
  const results = [];
  for (const precision of precisions) {
    for (const check of checksFor(viaResident, precision)) {
      const backend = cudaNative({ precision, isolateLoad: false });
      const before = await nativeTensors();
      const started = Date.now();
      try {
        await check.run(backend);
        results.push({ name: check.name, ok: true, ms: Date.now() - started });
      } catch (e) {
        results.push({ name: check.name, ok: false, ms: Date.now() - started, error: String(e?.stack ?? e) });
      } finally {
        try {
          await backend.dispose();
          const after = await nativeTensors();
          if (after !== before)
            results.push({ name: `${check.name}: dispose frees every tensor`, ok: false, error: `${after - before} device tensor(s) left` });
          if (backend.liveTensors() !== 0) results.push({ name: `${check.name}: liveTensors() after dispose`, ok: false, error: `${backend.liveTensors()}` });
        } catch (e) {
          results.push({ name: `${check.name}: dispose`, ok: false, error: String(e?.stack ?? e) });
        }
      }
    }
  }
  return results;
}
