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
   * Contexts of 1, 15, 16, 17, 33 (block boundaries) and 4,096 tokens in shuffled blocks, plus one padding row:
   * the paged kernel equals the DJL backend's gather + softmax within 2e-3, and the padding row reads nothing.
   */
  @Test
  void pagedDecodeAttentionMatchesDjlBackend() {
    int[] contexts = {1, 15, 16, 17, 33, 4096};
    Random random = new Random(7);
    int totalBlocks = 1;
    for (int c : contexts) totalBlocks += (c + BLOCK - 1) / BLOCK;
    List<Integer> ids = new ArrayList<>();
    for (int b = 1; b < totalBlocks; b++) ids.add(b);
    Collections.shuffle(ids, random);
    int maxBlocks = (4096 + BLOCK - 1) / BLOCK;
    ModelGeometry g = new ModelGeometry(1, HEADS * HEAD_DIM, HEADS, KV_HEADS, HEAD_DIM, 64, 64, 10000, 1e-6, 4096,
        true, false);
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      PagedKvCache cache = new PagedKvCache(m, 1, totalBlocks, BLOCK, KV_HEADS, HEAD_DIM, DataType.FLOAT16);
      DjlAttention djl = new DjlAttention(cache, g, DataType.FLOAT16);
      long slotsTotal = (long) totalBlocks * BLOCK;
      NDArray allK = randn(m, random, slotsTotal, KV_HEADS, HEAD_DIM);
      NDArray allV = randn(m, random, slotsTotal, KV_HEADS, HEAD_DIM);
      cache.write(0, m.arange(0, slotsTotal, 1, DataType.INT64), allK, allV);

      int s = contexts.length;
      int[][] tables = new int[s][];
      int[] flatTables = new int[(s + 1) * maxBlocks];
      long[] lastSlot = new long[s];
      int[] ctx = new int[s + 1];
      int next = 0;
      for (int i = 0; i < s; i++) {
        tables[i] = new int[(contexts[i] + BLOCK - 1) / BLOCK];
        for (int j = 0; j < tables[i].length; j++) {
          tables[i][j] = ids.get(next++);
          flatTables[i * maxBlocks + j] = tables[i][j];
        }
        int p = contexts[i] - 1;
        lastSlot[i] = (long) tables[i][p / BLOCK] * BLOCK + p % BLOCK;
        ctx[i] = contexts[i];
      }
      NDArray q = randn(m, random, s + 1, HEADS, HEAD_DIM);
      NDArray slotIndex = m.create(lastSlot);
      NDArray kNew = allK.get(new ai.djl.ndarray.index.NDIndex("{}", slotIndex));
      NDArray vNew = allV.get(new ai.djl.ndarray.index.NDIndex("{}", slotIndex));

      int[] zeros = new int[s];
      int[] starts = new int[s];
      int[] ones = new int[s];
      boolean[] sample = new boolean[s];
      for (int i = 0; i < s; i++) {
        starts[i] = i;
        ones[i] = 1;
        sample[i] = true;
      }
      ForwardBatch batch = new ForwardBatch(zeros, contexts.clone(), lastSlot, starts, ones, contexts.clone(), tables,
          sample);
      NDArray qReal = q.get("0:" + s);
      NDArray expected = djl.attend(0, qReal, kNew, vNew, djl.plan(batch, m));

      PagedAttention paged = new PagedAttention(cache, HEADS, HEAD_DIM);
      long[] slotsWithPad = java.util.Arrays.copyOf(lastSlot, s + 1);
      slotsWithPad[s] = -1;
      NDArray kPad = randn(m, random, s + 1, KV_HEADS, HEAD_DIM); // the padding row's k/v must land nowhere
      NDArray vPad = randn(m, random, s + 1, KV_HEADS, HEAD_DIM);
      kPad.set(new ai.djl.ndarray.index.NDIndex("0:" + s), kNew);
      vPad.set(new ai.djl.ndarray.index.NDIndex("0:" + s), vNew);
      float[] before = cache.keyTensor(0).toType(DataType.FLOAT32, false).toFloatArray();
      AttentionBackend.Metadata decode = new PagedAttention.Paged(m.create(slotsWithPad),
          m.create(flatTables, new Shape(s + 1, maxBlocks)), null, m.create(ctx));
      NDArray got = paged.attend(0, q, kPad, vPad, decode);

      double diff = maxDiff(got.get("0:" + s), expected);
      System.out.printf("paged decode attention vs DJL backend, contexts %s: max diff %.2e%n",
          java.util.Arrays.toString(contexts), diff);
      assertTrue(diff <= 2e-3, "max diff " + diff);
      float[] pad = got.get(s + ":").toType(DataType.FLOAT32, false).toFloatArray();
      assertArrayEquals(new float[pad.length], pad, "a padding row attends to nothing");
      assertArrayEquals(before, cache.keyTensor(0).toType(DataType.FLOAT32, false).toFloatArray(),
          "a padding row (slot -1) must not write the cache");
    }
  }

  /**
   * A prompt chunk (20 new tokens after 17 cached, crossing blocks) beside a decode, in one launch: each prompt row
   * attends causally up to its own position, as the DJL plan's masked softmax does.
   */
  @Test
  void pagedAttentionOverPromptChunksMatchesDjlPlan() {
    Random random = new Random(3);
    int blocks = 8;
    int[][] tables = {{5, 2, 7}, {3}};
    int cached = 17, chunk = 20, decodeCtx = 5;
    ModelGeometry g = new ModelGeometry(1, HEADS * HEAD_DIM, HEADS, KV_HEADS, HEAD_DIM, 64, 64, 10000, 1e-6, 256,
        true, false);
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      PagedKvCache cache = new PagedKvCache(m, 1, blocks, BLOCK, KV_HEADS, HEAD_DIM, DataType.FLOAT16);
      long slotsTotal = (long) blocks * BLOCK;
      cache.write(0, m.arange(0, slotsTotal, 1, DataType.INT64), randn(m, random, slotsTotal, KV_HEADS, HEAD_DIM),
          randn(m, random, slotsTotal, KV_HEADS, HEAD_DIM));
      int rows = chunk + 1;
      int[] ids = new int[rows], pos = new int[rows], rowSeq = new int[rows], ctxRows = new int[rows];
      long[] slots = new long[rows];
      for (int r = 0; r < rows; r++) {
        boolean prompt = r < chunk;
        int s = prompt ? 0 : 1;
        pos[r] = prompt ? cached + r : decodeCtx - 1;
        slots[r] = (long) tables[s][pos[r] / BLOCK] * BLOCK + pos[r] % BLOCK;
        rowSeq[r] = s;
        ctxRows[r] = pos[r] + 1;
      }
      ForwardBatch batch = new ForwardBatch(ids, pos, slots, new int[] {0, chunk}, new int[] {chunk, 1},
          new int[] {cached + chunk, decodeCtx}, tables, new boolean[] {true, true});
      NDArray q = randn(m, random, rows, HEADS, HEAD_DIM);
      NDArray k = randn(m, random, rows, KV_HEADS, HEAD_DIM);
      NDArray v = randn(m, random, rows, KV_HEADS, HEAD_DIM);
      DjlAttention djl = new DjlAttention(cache, g, DataType.FLOAT16);
      NDArray expected = djl.attend(0, q, k, v, djl.plan(batch, m));
      int[] flat = new int[2 * 4];
      for (int s = 0; s < 2; s++) System.arraycopy(tables[s], 0, flat, s * 4, tables[s].length);
      NDArray got = new PagedAttention(cache, HEADS, HEAD_DIM).attend(0, q, k, v, new PagedAttention.Paged(
          m.create(slots), m.create(flat, new Shape(2, 4)), m.create(rowSeq), m.create(ctxRows)));
      double diff = maxDiff(got, expected);
      System.out.printf("paged attention over a prompt chunk + a decode vs DJL plan: max diff %.2e%n", diff);
      assertTrue(diff <= 2e-3, "max diff " + diff);
    }
  }

  /** Each fused op equals the DJL op sequence it replaces (within one fp16 rounding). */
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

      int half = HEAD_DIM / 2, positions = 64;
      float[] cos = new float[positions * half], sin = new float[positions * half];
      for (int p = 0; p < positions; p++) {
        for (int i = 0; i < half; i++) {
          double angle = p / Math.pow(10000, 2.0 * i / HEAD_DIM);
          cos[p * half + i] = (float) Math.cos(angle);
          sin[p * half + i] = (float) Math.sin(angle);
        }
      }
      NDArray cosT = m.create(cos, new Shape(positions, half)).toType(DataType.FLOAT16, false);
      NDArray sinT = m.create(sin, new Shape(positions, half)).toType(DataType.FLOAT16, false);
      NDArray pos = m.create(new long[] {0, 1, 5, 17, 33, 62, 63});
      NDArray qkv = randn(m, random, t, (HEADS + 2 * KV_HEADS) * HEAD_DIM);
      NDArray[] rc = cuda.ropeSplit(qkv, cuda.rotary(pos, cosT, sinT), HEADS, KV_HEADS, HEAD_DIM);
      NDArray[] rd = djl.ropeSplit(qkv, djl.rotary(pos, cosT, sinT), HEADS, KV_HEADS, HEAD_DIM);
      check(report, "rope q", rc[0], rd[0]);
      check(report, "rope k", rc[1], rd[1]);
      check(report, "rope v", rc[2], rd[2]);

      NDArray gateUp = randn(m, random, t, 2 * inter);
      check(report, "siluAndMul", cuda.siluAndMul(gateUp), djl.siluAndMul(gateUp));
      NDArray table = randn(m, random, 100, hidden);
      NDArray tokens = m.create(new long[] {3, 99, 0, 42});
      check(report, "embed", cuda.embed(table, tokens), djl.embed(table, tokens));
      System.out.println("fused ops vs DJL ops (max relative diff): " + report);
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
}
