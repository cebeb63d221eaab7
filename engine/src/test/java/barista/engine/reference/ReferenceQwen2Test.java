package barista.engine.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.ModelConfig;
import barista.engine.tools.ModelMaker;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReferenceQwen2Test {

  private static final double TOLERANCE = 1e-9;
  private static final int[] TOKENS = {5, 17, 260, 3, 99, 140, 7, 7, 201, 64};

  @TempDir
  static Path dir;
  static Checkpoint tiny;

  @BeforeAll
  static void makeTinyModel() throws Exception {
    ModelMaker.make(ModelMaker.Options.of("tiny", 11), dir);
    tiny = Checkpoint.open(dir);
  }

  @AfterAll
  static void closeCheckpoint() {
    tiny.close();
  }

  @Test
  void ropeLeavesPositionZeroAloneAndRotatesHalfPairs() {
    double[] x = {0.3, -1.2, 2.5, 0.7};
    double[] atZero = x.clone();
    ReferenceQwen2.rope(atZero, 0, 4, 0, 10000);
    assertArrayEquals(x, atZero);

    // headDim 4: element 0 pairs with 2 at frequency 1, element 1 with 3 at frequency 10000^(-1/2).
    double[] e0 = {1, 0, 0, 0};
    ReferenceQwen2.rope(e0, 0, 4, 1, 10000);
    assertArrayEquals(new double[] {Math.cos(1), 0, Math.sin(1), 0}, e0, TOLERANCE);
    double[] e1 = {0, 1, 0, 0};
    ReferenceQwen2.rope(e1, 0, 4, 3, 10000);
    assertArrayEquals(new double[] {0, Math.cos(0.03), 0, Math.sin(0.03)}, e1, TOLERANCE);
    // An offset selects the second head; the first stays untouched.
    double[] twoHeads = {9, 9, 0, 0, 0, 0, 1, 0};
    ReferenceQwen2.rope(twoHeads, 4, 4, 1, 10000);
    assertArrayEquals(new double[] {9, 9, 0, 0, -Math.sin(1), 0, Math.cos(1), 0}, twoHeads, TOLERANCE);
  }

  @Test
  void ropeDotProductsDependOnlyOnRelativePosition() {
    double[] q = {0.5, -1, 2, 0.25, 1.5, -0.5, 0.1, 3};
    double[] k = {-0.3, 0.8, 1.1, -2, 0.6, 0.2, -1.4, 0.9};
    double near = dot(rotated(q, 3), rotated(k, 1));
    double far = dot(rotated(q, 1003), rotated(k, 1001));
    assertEquals(near, far, 1e-9);
    assertEquals(Math.sqrt(dot(q, q)), Math.sqrt(dot(rotated(q, 77), rotated(q, 77))), 1e-12, "rotation keeps the norm");
  }

  @Test
  void consecutiveQueryHeadsShareAKvHead() {
    int[] expected = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    for (int h = 0; h < 12; h++) assertEquals(expected[h], ReferenceQwen2.kvHeadOf(h, 12, 2));
    for (int h = 0; h < 4; h++) assertEquals(h, ReferenceQwen2.kvHeadOf(h, 4, 4));
  }

  @Test
  void matchesAHandComputedOneLayerModel() {
    // hidden 2, one head of dim 2, vocab 2: q = k = 0 gives uniform causal attention, v = o = identity,
    // and the MLP adds [silu(h0) * h1, 0].
    ModelConfig c = config(ModelConfig.LLAMA, 2, 1, 1, 1, 2, 1, 10000, false);
    Map<String, double[]> w = new HashMap<>();
    w.put("model.embed_tokens.weight", new double[] {3, 4, 1, -2});
    w.put("model.layers.0.input_layernorm.weight", new double[] {1, 1});
    w.put("model.layers.0.self_attn.q_proj.weight", new double[4]);
    w.put("model.layers.0.self_attn.k_proj.weight", new double[4]);
    w.put("model.layers.0.self_attn.v_proj.weight", new double[] {1, 0, 0, 1});
    w.put("model.layers.0.self_attn.o_proj.weight", new double[] {1, 0, 0, 1});
    w.put("model.layers.0.post_attention_layernorm.weight", new double[] {1, 1});
    w.put("model.layers.0.mlp.gate_proj.weight", new double[] {1, 0});
    w.put("model.layers.0.mlp.up_proj.weight", new double[] {0, 1});
    w.put("model.layers.0.mlp.down_proj.weight", new double[] {1, 0});
    w.put("model.norm.weight", new double[] {2, 0.5});
    w.put("lm_head.weight", new double[] {1, 0, 0, 1});
    int[] tokens = {0, 1, 1};
    double[][] logits = new ReferenceQwen2(c, w::get).logits(tokens);

    double[][] x = {{3, 4}, {1, -2}, {1, -2}};
    double[][] normed = {norm(x[0]), norm(x[1]), norm(x[2])};
    for (int t = 0; t < 3; t++) {
      double[] y = x[t].clone();
      for (int s = 0; s <= t; s++) {
        y[0] += normed[s][0] / (t + 1);
        y[1] += normed[s][1] / (t + 1);
      }
      double[] h = norm(y);
      y[0] += h[0] / (1 + Math.exp(-h[0])) * h[1];
      double[] out = norm(y);
      assertArrayEquals(new double[] {2 * out[0], 0.5 * out[1]}, logits[t], TOLERANCE, "position " + t);
    }
  }

  @Test
  void logitsAtAPositionIgnoreLaterTokens() {
    ReferenceQwen2 model = ReferenceQwen2.of(tiny);
    double[][] a = model.logits(TOKENS);
    int[] changed = TOKENS.clone();
    for (int i = 6; i < changed.length; i++) changed[i] = (changed[i] + 31) % 300;
    double[][] b = model.logits(changed);
    for (int t = 0; t < 6; t++) assertArrayEquals(a[t], b[t], 0, "position " + t);
    assertFalse(Arrays.equals(a[6], b[6]));
  }

  @Test
  void ropeThetaMattersOnlyAfterPositionZero() {
    ModelConfig c = tiny.config();
    ModelConfig otherTheta = config(c.architecture(), c.hiddenSize(), c.numHeads(), c.numKvHeads(), c.numLayers(),
        c.vocabSize(), c.intermediateSize(), 500, false);
    double[][] a = ReferenceQwen2.of(tiny).logits(TOKENS);
    double[][] b = new ReferenceQwen2(otherTheta, ReferenceQwen2.weightsOf(tiny)).logits(TOKENS);
    assertArrayEquals(a[0], b[0], TOLERANCE);
    assertFalse(close(a[3], b[3]));
  }

  @Test
  void groupedQueryAttentionEqualsMultiHeadWithRepeatedKvHeads() {
    ModelConfig c = tiny.config();
    int group = c.numHeads() / c.numKvHeads();
    int rowsPerKvHead = c.headDim() * c.hiddenSize();
    Function<String, double[]> gqa = ReferenceQwen2.weightsOf(tiny);
    Function<String, double[]> mha = name -> {
      double[] w = gqa.apply(name);
      if (!name.matches(".*self_attn\\.[kv]_proj\\..*")) return w;
      int block = name.endsWith(".bias") ? c.headDim() : rowsPerKvHead;
      double[] repeated = new double[w.length * group];
      for (int head = 0; head < c.numHeads(); head++) {
        System.arraycopy(w, (head / group) * block, repeated, head * block, block);
      }
      return repeated;
    };
    ModelConfig mhaConfig = config(c.architecture(), c.hiddenSize(), c.numHeads(), c.numHeads(), c.numLayers(),
        c.vocabSize(), c.intermediateSize(), c.ropeTheta(), false);
    double[][] a = ReferenceQwen2.of(tiny).logits(TOKENS);
    double[][] b = new ReferenceQwen2(mhaConfig, mha).logits(TOKENS);
    for (int t = 0; t < TOKENS.length; t++) assertArrayEquals(a[t], b[t], TOLERANCE);
  }

  @Test
  void appliesQkvBiasesAndTiedEmbeddings() {
    ModelConfig c = tiny.config();
    Function<String, double[]> weights = ReferenceQwen2.weightsOf(tiny);
    double[][] a = ReferenceQwen2.of(tiny).logits(TOKENS);
    Function<String, double[]> noVBias = n -> n.endsWith("v_proj.bias") ? new double[weights.apply(n).length] : weights.apply(n);
    assertFalse(close(a[4], new ReferenceQwen2(c, noVBias).logits(TOKENS)[4]));

    ModelConfig tied = config(c.architecture(), c.hiddenSize(), c.numHeads(), c.numKvHeads(), c.numLayers(),
        c.vocabSize(), c.intermediateSize(), c.ropeTheta(), true);
    Function<String, double[]> embedAsHead = n -> weights.apply(n.equals("lm_head.weight") ? "model.embed_tokens.weight" : n);
    assertArrayEquals(new ReferenceQwen2(c, embedAsHead).logits(TOKENS)[2],
        new ReferenceQwen2(tied, name -> {
          assertFalse(name.equals("lm_head.weight"), "a tied model must not read lm_head");
          return weights.apply(name);
        }).logits(TOKENS)[2], 0);
  }

  @Test
  void tinyModelHasFiniteNonDegenerateOutputs() {
    ReferenceQwen2 model = ReferenceQwen2.of(tiny);
    double[][] logits = model.logits(TOKENS);
    for (double[] row : logits) {
      for (double v : row) assertTrue(Double.isFinite(v));
      double std = std(row);
      assertTrue(std > 0.5 && std < 5, "logit std " + std);
    }
    int[] generated = model.greedy(new int[] {1, 2, 3}, 12);
    List<Integer> distinct = Arrays.stream(generated).distinct().boxed().collect(Collectors.toList());
    assertTrue(distinct.size() > 3, "greedy output " + Arrays.toString(generated));
    System.out.println("tiny greedy " + Arrays.toString(generated) + ", logit std " + std(logits[0]));
  }

  private static ModelConfig config(String architecture, int hidden, int heads, int kvHeads, int layers, int vocab,
                                    int intermediate, double theta, boolean tied) {
    return new ModelConfig(architecture, architecture.equals(ModelConfig.QWEN2) ? "qwen2" : "llama", hidden, intermediate,
        layers, heads, kvHeads, hidden / heads, vocab, theta, 1e-6, 4096, tied, architecture.equals(ModelConfig.QWEN2),
        false, "float32", null, List.of(), null);
  }

  private static double std(double[] values) {
    double mean = Arrays.stream(values).average().orElseThrow();
    return Math.sqrt(Arrays.stream(values).map(v -> (v - mean) * (v - mean)).average().orElseThrow());
  }

  private static double[] norm(double[] x) {
    double scale = 1 / Math.sqrt((x[0] * x[0] + x[1] * x[1]) / 2 + 1e-6);
    return new double[] {x[0] * scale, x[1] * scale};
  }

  private static double[] rotated(double[] x, int position) {
    double[] copy = x.clone();
    ReferenceQwen2.rope(copy, 0, copy.length, position, 10000);
    return copy;
  }

  private static double dot(double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) sum += a[i] * b[i];
    return sum;
  }

  private static boolean close(double[] a, double[] b) {
    for (int i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1e-6) return false;
    return true;
  }
}
