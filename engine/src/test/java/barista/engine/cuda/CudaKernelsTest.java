package barista.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.linear.DenseLinear;
import barista.engine.model.AttentionBackend;
import barista.engine.model.DjlAttention;
import barista.engine.model.DjlLayerOps;
import barista.engine.model.ForwardBatch;
import barista.engine.model.LayerOps;
import barista.engine.model.ModelGeometry;
import barista.engine.model.PagedKvCache;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * libbarista_native's kernels against the DJL path they replace, on a CUDA device in fp16 (R1-Distill's
 * attention geometry: 12 query heads, 2 KV heads, head_dim 128). Skipped without a GPU or without the library
 * (scripts/gpu-check.sh runs them on a GPU box).
 */
class CudaKernelsTest {
  private static final int HEADS = 12, KV_HEADS = 2, HEAD_DIM = 128, BLOCK = 16;

  @BeforeAll
  static void needsGpuAndLibrary() {
    assumeTrue(Engine.getEngine("PyTorch").getGpuCount() > 0, "no CUDA device");
    var why = CudaNative.load(null);
    assumeTrue(why.isEmpty(), () -> "no native library: " + why.orElse(""));
  }

  private static NDArray randn(NDManager m, Random r, long... shape) {
    int n = (int) new Shape(shape).size();
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
    return m.create(v, new Shape(shape)).toType(DataType.FLOAT16, false);
  }

  private static double maxDiff(NDArray a, NDArray b) {
    float[] x = a.toType(DataType.FLOAT32, false).toFloatArray();
    float[] y = b.toType(DataType.FLOAT32, false).toFloatArray();
    assertTrue(x.length == y.length, "sizes " + x.length + " vs " + y.length);
    double worst = 0;
    for (int i = 0; i < x.length; i++) {
      assertTrue(Float.isFinite(x[i]), "non-finite output at " + i);
      worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1.0, Math.abs(y[i])));
    }
    return worst;
  }

  /**
   * One step through PagedAttention's metadata builder against the DJL backend (gather + masked softmax): each
   * sequence {@code s} has {@code queryLens[s]} new tokens ending a context of {@code contexts[s]}, in shuffled
   * blocks, plus three padding rows that must write no slot. The step is attended twice, as a graph replays it
   * (split contexts' merge counters must be back at zero). Returns the max difference.
   */
  private static double attendLikeDjl(String name, int heads, int kvHeads, int headDim, DataType dtype,
      int[] queryLens, int[] contexts) {
    Random random = new Random(name.hashCode());
    int n = contexts.length;
    int totalBlocks = 1, rows = 0, maxContext = 1;
    for (int s = 0; s < n; s++) {
      totalBlocks += (contexts[s] + BLOCK - 1) / BLOCK;
      rows += queryLens[s];
      maxContext = Math.max(maxContext, contexts[s]);
    }
    List<Integer> ids = new ArrayList<>();
    for (int b = 1; b < totalBlocks; b++) ids.add(b);
    Collections.shuffle(ids, random);
    ModelGeometry g = new ModelGeometry(1, heads * headDim, heads, kvHeads, headDim, 64, 64, 10000, 1e-6, maxContext,
        true, false);
    int padding = 3;
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      PagedKvCache cache = new PagedKvCache(m, 1, totalBlocks, BLOCK, kvHeads, headDim, dtype);
      long slotsTotal = (long) totalBlocks * BLOCK;
      cache.write(0, m.arange(0, slotsTotal, 1, DataType.INT64), randn(m, random, slotsTotal, kvHeads, headDim)
          .toType(dtype, false), randn(m, random, slotsTotal, kvHeads, headDim).toType(dtype, false));
      int[][] tables = new int[n][];
      int[] positions = new int[rows], starts = new int[n];
      long[] slots = new long[rows];
      boolean[] sample = new boolean[n];
      for (int s = 0, next = 0, r = 0; s < n; s++) {
        tables[s] = new int[(contexts[s] + BLOCK - 1) / BLOCK];
        for (int j = 0; j < tables[s].length; j++) tables[s][j] = ids.get(next++);
        starts[s] = r;
        sample[s] = true;
        for (int i = 0; i < queryLens[s]; i++, r++) {
          positions[r] = contexts[s] - queryLens[s] + i;
          slots[r] = (long) tables[s][positions[r] / BLOCK] * BLOCK + positions[r] % BLOCK;
        }
      }
      ForwardBatch batch = new ForwardBatch(new int[rows], positions, slots, starts, queryLens.clone(),
          contexts.clone(), tables, sample);
      NDArray q = randn(m, random, rows + padding, heads, headDim).toType(dtype, false);
      NDArray k = randn(m, random, rows + padding, kvHeads, headDim).toType(dtype, false);
      NDArray v = randn(m, random, rows + padding, kvHeads, headDim).toType(dtype, false);
      NDArray qReal = q.get("0:" + rows), kReal = k.get("0:" + rows), vReal = v.get("0:" + rows);
      DjlAttention djl = new DjlAttention(cache, g, dtype);
      NDArray expected = djl.attend(0, qReal, kReal, vReal, djl.plan(batch, m));

      float[] before = cache.keyTensor(0).toType(DataType.FLOAT32, false).toFloatArray();
      try (PagedAttention paged = new PagedAttention(cache, g, dtype, m, rows + padding, n, maxContext, 0)) {
        AttentionBackend.MetadataBuilder builder = paged.metadataBuilder();
        builder.stage(batch, rows + padding);
        AttentionBackend.Metadata metadata = builder.views(rows + padding, m);
        double worst = 0;
        for (int replay = 0; replay < 2; replay++) {
          NDArray got = paged.attend(0, q, k, v, metadata);
          worst = Math.max(worst, maxDiff(got.get("0:" + rows), expected));
        }
        System.out.printf("%s (%s): %s, max diff vs DJL backend %.2e%n", name, dtype, paged.describe(), worst);
        assertArrayEquals(before, cache.keyTensor(0).toType(DataType.FLOAT32, false).toFloatArray(),
            "the step rewrote the same k/v, and padding rows (slot -1) wrote nothing");
        return worst;
      }
    }
  }

  private static int[] ones(int n) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, 1);
    return a;
  }

  /** Decodes at contexts 1, 15, 16, 17, 33, 4,096 and 16,384 in one step, GQA ratios 6 (R1) and 1, fp16. */
  @Test
  void pagedDecodeAttentionMatchesDjlBackend() {
    int[] contexts = {1, 15, 16, 17, 33, 4096, 16384};
    assertTrue(attendLikeDjl("decodes, GQA 6", HEADS, KV_HEADS, HEAD_DIM, DataType.FLOAT16, ones(7), contexts) <= 2e-3);
    assertTrue(attendLikeDjl("decodes, GQA 1", 4, 4, HEAD_DIM, DataType.FLOAT16, ones(7), contexts) <= 2e-3);
    assertTrue(attendLikeDjl("one decode at 16,384 (split)", HEADS, KV_HEADS, HEAD_DIM, DataType.FLOAT16,
        new int[] {1}, new int[] {16384}) <= 2e-3);
  }

  /**
   * Prompt rows attend causally up to their own positions: a chunk of 20 after 17 cached tokens (a prefix-cache
   * hit) beside a decode, a whole prompt of 4,096, a chunk of 512 ending a context of 16,384; fp16, GQA 6 and 1,
   * head_dim 64; and the CUDA-core kernel that serves fp32.
   */
  @Test
  void pagedAttentionOverPromptChunksMatchesDjlBackend() {
    assertTrue(attendLikeDjl("chunk after a cached prefix + a decode", HEADS, KV_HEADS, HEAD_DIM, DataType.FLOAT16,
        new int[] {20, 1}, new int[] {37, 5}) <= 2e-3);
    assertTrue(attendLikeDjl("chunk after a cached prefix, GQA 1", 4, 4, HEAD_DIM, DataType.FLOAT16,
        new int[] {20, 1}, new int[] {37, 5}) <= 2e-3);
    assertTrue(attendLikeDjl("prompt of 4096", HEADS, KV_HEADS, HEAD_DIM, DataType.FLOAT16, new int[] {4096},
        new int[] {4096}) <= 2e-3);
    assertTrue(attendLikeDjl("chunk of 512 ending 16,384", HEADS, KV_HEADS, HEAD_DIM, DataType.FLOAT16,
        new int[] {512}, new int[] {16384}) <= 2e-3);
    assertTrue(attendLikeDjl("mixed, head_dim 64", 8, 2, 64, DataType.FLOAT16, new int[] {1, 33, 1, 70},
        new int[] {40, 97, 1, 70}) <= 2e-3);
    assertTrue(attendLikeDjl("mixed, fp32 (CUDA-core kernel)", HEADS, KV_HEADS, HEAD_DIM, DataType.FLOAT32,
        new int[] {1, 20, 1}, new int[] {4096, 37, 15}) <= 2e-3);
  }

  /** Each fused op equals the DJL op sequence it replaces (within one fp16 rounding). */
  /** fp16 cos and sin tables {@code [positions, HEAD_DIM / 2]} of RoPE with base 10,000. */
  private static NDArray[] rotaryTables(NDManager m, int positions) {
    int half = HEAD_DIM / 2;
    float[] cos = new float[positions * half], sin = new float[positions * half];
    for (int p = 0; p < positions; p++) {
      for (int i = 0; i < half; i++) {
        double angle = p / Math.pow(10000, 2.0 * i / HEAD_DIM);
        cos[p * half + i] = (float) Math.cos(angle);
        sin[p * half + i] = (float) Math.sin(angle);
      }
    }
    return new NDArray[] {m.create(cos, new Shape(positions, half)).toType(DataType.FLOAT16, false),
        m.create(sin, new Shape(positions, half)).toType(DataType.FLOAT16, false)};
  }

  /**
   * RoPE's split with the cache write fused in (BARISTA_FUSED_KV_WRITE) leaves the same q and the same caches,
   * bit for bit, as the split followed by writeKv; a padding row (slot -1) writes nowhere.
   */
  @Test
  void fusedKvWriteEqualsSplitThenWrite() {
    Random random = new Random(29);
    int t = 7, slots = 64;
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      NDArray[] tables = rotaryTables(m, 64);
      NDArray pos = m.create(new long[] {0, 1, 5, 17, 33, 62, 63});
      NDArray slot = m.create(new long[] {3, 10, -1, 40, 41, 0, 63});
      NDArray qkv = randn(m, random, t, (HEADS + 2 * KV_HEADS) * HEAD_DIM);
      NDArray kA = m.zeros(new Shape(slots, KV_HEADS, HEAD_DIM), DataType.FLOAT16), vA = kA.duplicate();
      NDArray kB = kA.duplicate(), vB = kA.duplicate();
      NDArray[] split = CudaLayerOps.INSTANCE.ropeSplit(qkv, CudaLayerOps.INSTANCE.rotary(pos, tables[0], tables[1]),
          HEADS, KV_HEADS, HEAD_DIM);
      CudaNative.writeKv(CudaNative.handle(split[1]), CudaNative.handle(split[2]), CudaNative.handle(kA),
          CudaNative.handle(vA), CudaNative.handle(slot));
      NDArray q = CudaNative.wrap(m, CudaNative.ropeSplitCache(CudaNative.handle(qkv), CudaNative.handle(pos),
          CudaNative.handle(tables[0]), CudaNative.handle(tables[1]), CudaNative.handle(kB), CudaNative.handle(vB),
          CudaNative.handle(slot), HEADS, KV_HEADS, HEAD_DIM));
      assertArrayEquals(split[0].toType(DataType.FLOAT32, false).toFloatArray(),
          q.toType(DataType.FLOAT32, false).toFloatArray(), "q");
      assertArrayEquals(kA.toType(DataType.FLOAT32, false).toFloatArray(),
          kB.toType(DataType.FLOAT32, false).toFloatArray(), "k cache");
      assertArrayEquals(vA.toType(DataType.FLOAT32, false).toFloatArray(),
          vB.toType(DataType.FLOAT32, false).toFloatArray(), "v cache");
      assertTrue(kB.get("3").toType(DataType.FLOAT32, false).abs().sum().getFloat() > 0, "slot 3 written");
    }
  }

  @Test
  void fusedLayerOpsMatchDjlOps() {
    Random random = new Random(11);
    LayerOps djl = DjlLayerOps.INSTANCE;
    LayerOps cuda = CudaLayerOps.INSTANCE;
    int t = 7, hidden = 1536, inter = 8960;
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      NDArray x = randn(m, random, t, hidden);
      NDArray res = randn(m, random, t, hidden);
      NDArray w = randn(m, random, hidden);
      List<String> report = new ArrayList<>();
      check(report, "rmsNorm", cuda.rmsNorm(x, w, 1e-6f), djl.rmsNorm(x, w, 1e-6f));
      NDArray[] a = cuda.addRmsNorm(x, res, w, 1e-6f);
      NDArray[] b = djl.addRmsNorm(x, res, w, 1e-6f);
      check(report, "addRmsNorm normed", a[0], b[0]);
      check(report, "addRmsNorm sum", a[1], b[1]);

      NDArray[] tables = rotaryTables(m, 64);
      NDArray cosT = tables[0], sinT = tables[1];
      NDArray pos = m.create(new long[] {0, 1, 5, 17, 33, 62, 63});
      NDArray qkv = randn(m, random, t, (HEADS + 2 * KV_HEADS) * HEAD_DIM);
      NDArray[] rc = cuda.ropeSplit(qkv, cuda.rotary(pos, cosT, sinT), HEADS, KV_HEADS, HEAD_DIM);
      NDArray[] rd = djl.ropeSplit(qkv, djl.rotary(pos, cosT, sinT), HEADS, KV_HEADS, HEAD_DIM);
      check(report, "rope q", rc[0], rd[0]);
      check(report, "rope k", rc[1], rd[1]);
      check(report, "rope v", rc[2], rd[2]);

      NDArray gateUp = randn(m, random, t, 2 * inter);
      check(report, "siluAndMul", cuda.siluAndMul(gateUp), djl.siluAndMul(gateUp));
      // The one-element-a-thread kernels: widths that are not a multiple of 8, and fp32.
      for (DataType type : new DataType[] {DataType.FLOAT16, DataType.FLOAT32}) {
        int odd = 1003;
        NDArray ox = randn(m, random, t, odd).toType(type, false);
        NDArray or = randn(m, random, t, odd).toType(type, false);
        NDArray ow = randn(m, random, odd).toType(type, false);
        check(report, "rmsNorm " + odd + " " + type, cuda.rmsNorm(ox, ow, 1e-6f), djl.rmsNorm(ox, ow, 1e-6f));
        NDArray[] oa = cuda.addRmsNorm(ox, or, ow, 1e-6f);
        NDArray[] ob = djl.addRmsNorm(ox, or, ow, 1e-6f);
        check(report, "addRmsNorm normed " + odd + " " + type, oa[0], ob[0]);
        check(report, "addRmsNorm sum " + odd + " " + type, oa[1], ob[1]);
        NDArray og = randn(m, random, t, 2 * odd).toType(type, false);
        check(report, "siluAndMul " + odd + " " + type, cuda.siluAndMul(og), djl.siluAndMul(og));
      }
      NDArray table = randn(m, random, 100, hidden);
      NDArray tokens = m.create(new long[] {3, 99, 0, 42});
      check(report, "embed", cuda.embed(table, tokens), djl.embed(table, tokens));
      System.out.println("fused ops vs DJL ops (max relative diff): " + report);
    }
  }

  /**
   * The fp16 GEMV of decode steps against DJL's linear (cuBLAS) for r1's projections (qkv with its bias, o, gate/up,
   * down) and widths with a tail of columns, at 1, 2, 7 and 8 rows; more rows than it takes go to cuBLAS unchanged.
   */
  @Test
  void denseGemvMatchesCublas() {
    Random random = new Random(13);
    int[][] shapes = {{2048, 1536}, {1536, 1536}, {17920, 1536}, {1536, 8960}, {1001, 64}, {4097, 136}};
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      List<String> report = new ArrayList<>();
      for (int[] nk : shapes) {
        NDArray w = randn(m, random, nk[0], nk[1]);
        NDArray bias = nk[0] == 2048 || nk[0] == 1001 ? randn(m, random, nk[0]) : null;
        DenseLinear dense = new DenseLinear(w, bias);
        GemvDenseLinear gemv = new GemvDenseLinear(dense, GemvDenseLinear.MAX_ROWS);
        for (int rows : new int[] {1, 2, 7, 8, 9}) {
          NDArray x = randn(m, random, rows, nk[1]);
          check(report, "gemv " + rows + "x" + nk[1] + " -> " + nk[0] + (bias == null ? "" : " +bias"), gemv.apply(x),
              dense.apply(x));
        }
      }
      System.out.println("dense GEMV vs cuBLAS (max relative diff): " + report);
    }
  }

  private static void check(List<String> report, String name, NDArray got, NDArray expected) {
    assertArrayEquals(expected.getShape().getShape(), got.getShape().getShape(), name + " shape");
    double d = maxDiff(got, expected);
    report.add(String.format("%s %.1e", name, d));
    assertTrue(d <= 2e-3, name + ": max relative diff " + d);
  }

  /**
   * The one-kernel constraint masks against the DJL ops they replace, over R1-Distill's vocabulary width: masked
   * rows (dense and near-empty masks), an unmasked row and a row with a forced token give the same logits, -inf and
   * all, and the buffers are reused for a second, smaller step.
   */
  @Test
  void tokenMaskKernelMatchesDjlMasking() {
    int vocab = 151_936, words = (vocab + 63) / 64;
    Random random = new Random(17);
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch");
        CudaTokenMasks masks = new CudaTokenMasks(m, 8)) {
      for (int rows : new int[] {5, 3}) {
        float[] values = new float[rows * vocab];
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian() * 4;
        List<barista.engine.sampling.SamplingRow> sampling = new ArrayList<>();
        var greedy = barista.engine.sampling.SamplingParams.greedy(4);
        for (int r = 0; r < rows; r++) {
          long[] bits = new long[words];
          if (r % 2 == 0) {
            for (int w = 0; w < words; w++) bits[w] = random.nextLong();
          } else {
            bits[random.nextInt(words)] = 1L << random.nextInt(64);
            bits[words - 1] |= 1L << ((vocab - 1) % 64); // the last token
          }
          var mask = barista.engine.sampling.TokenMask.ofWords(bits);
          if (r == 1) mask = null; // unmasked
          int forced = r == 3 ? 7 : -1; // a forced row keeps everything here (the sampler already forced it)
          sampling.add(new barista.engine.sampling.SamplingRow(greedy, 0, new int[] {1}, 1, 0, new int[0], mask,
              forced));
        }
        NDArray x = m.create(values, new Shape(rows, vocab));
        float[] expected = barista.engine.sampling.Sampler.maskWithDjlOps(x, sampling, vocab, m).toFloatArray();
        float[] actual = masks.apply(x.duplicate(), sampling, vocab, m).toFloatArray();
        assertArrayEquals(expected, actual, rows + " rows");
        int kept = 0;
        for (float v : actual) if (v != Float.NEGATIVE_INFINITY) kept++;
        assertTrue(kept > vocab && kept < rows * vocab, kept + " logits kept");
      }
    }
  }

  /**
   * The sampling kernel draws what the host draws (HostSampling, the CPU path) for rows of the r1 vocabulary: flat
   * rows (a random model's, whose boundaries fall in crowded buckets), spread and peaked rows, rows with most tokens
   * masked; top-k, top-p and min-p alone and together; greedy rows. Two tokens whose weights are within e^1e-4 (the
   * host's and the kernel's exponentials differ by about 1e-5) may be drawn either way, nothing else; a row of
   * 151,936 equal logits is left to the caller (-1).
   */
  @Test
  void samplingKernelDrawsWhatTheHostDraws() {
    int vocab = 151_936, n = 41;
    Random random = new Random(23);
    float[] logits = new float[n * vocab];
    float[] params = new float[n * 7];
    List<barista.engine.sampling.SamplingRow> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double spread = new double[] {0.3, 1.5, 6, 2}[i % 4];
      for (int t = 0; t < vocab; t++) {
        boolean masked = i % 4 == 3 && t % 97 != 0;
        logits[i * vocab + t] = i == n - 1 ? 0f
            : masked ? Float.NEGATIVE_INFINITY : (float) (spread * random.nextGaussian());
      }
      double temperature = i % 8 == 7 ? 0 : 0.25 + 0.25 * (i % 6);
      var p = barista.engine.sampling.SamplingParams.builder().temperature(temperature);
      int topK = i % 3 == 1 ? 1 + random.nextInt(i % 2 == 0 ? 40 : 6000) : vocab;
      double topP = i % 2 == 0 ? 0.95 : i % 5 == 3 ? 0.5 : 1;
      double minP = i % 7 == 3 ? 0.05 : 0;
      if (topK < vocab) p.topK(topK);
      p.topP(topP).minP(minP);
      double u = random.nextDouble();
      rows.add(new barista.engine.sampling.SamplingRow(p.build(), u, new int[] {0}, 1, 0, new int[0]));
      float[] row = {temperature == 0 ? 1f : (float) temperature, topK, (float) minP, (float) topP,
          Math.min((float) u, 0x1.fffffep-1f), temperature == 0 ? 1f : 0f, 0f};
      System.arraycopy(row, 0, params, i * 7, 7);
    }
    try (NDManager cpu = NDManager.newBaseManager(Device.cpu());
        NDManager gpu = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      int[] host = new barista.engine.sampling.Sampler().sample(cpu.create(logits, new Shape(n, vocab)), rows, cpu)
          .tokens();
      long[] drawn = CudaForwardPath.SAMPLING_KERNEL.draw(gpu.create(logits, new Shape(n, vocab)),
          gpu.create(params, new Shape(n, 7)), gpu).toLongArray();
      List<String> report = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (i == n - 1) {
          assertTrue(drawn[i] == -1, "a row of equal logits is the caller's, got " + drawn[i]);
          continue;
        }
        if (drawn[i] == host[i]) continue;
        double temperature = Math.max(params[i * 7], 1e-6f);
        boolean greedy = params[i * 7 + 5] != 0;
        double apart = drawn[i] < 0 ? Double.POSITIVE_INFINITY
            : Math.abs(logits[i * vocab + host[i]] - logits[i * vocab + (int) drawn[i]]) / temperature;
        if (greedy || !(apart < 1e-4)) report.add("row " + i + ": host " + host[i] + ", kernel " + drawn[i]);
      }
      assertTrue(report.isEmpty(), String.join("; ", report));
    }
  }
}
