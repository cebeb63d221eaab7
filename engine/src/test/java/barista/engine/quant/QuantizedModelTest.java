package barista.engine.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import barista.engine.GreedyDriver;
import barista.engine.ModelRunner;
import barista.engine.TestModels;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.model.Qwen2Model;
import barista.engine.model.WeightBytes;
import barista.engine.reference.ReferenceQwen2;
import barista.engine.tools.CheckpointQuantizer;
import java.nio.FloatBuffer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Quantized tiny models against the float64 reference run on the same, dequantized, weights. */
class QuantizedModelTest {

  /** Our quantizer's AWQ and W8A16 checkpoints, detected from their config, through prefill and decode. */
  @ParameterizedTest
  @EnumSource(Quantization.Method.class)
  void quantizedCheckpointLogitsMatchReferenceOnDequantizedWeights(Quantization.Method method) {
    try (Checkpoint ckpt = Checkpoint.open(QuantTestModels.tiny(method)); NDManager manager = QuantTestModels.cpu();
        Qwen2Model model = ReferenceLoads.load(ckpt, manager, DataType.FLOAT32, 64)) {
      assertEquals(WeightBytes.of(model.geometry(), DataType.FLOAT32, method, CheckpointQuantizer.awqGroupSize(ckpt.config())),
          model.weightBytes(), "the linears are held quantized");
      ReferenceQwen2 reference = new ReferenceQwen2(ckpt.config(), FormatDequantizer.weights(ckpt));
      assertLogitsMatch(model, manager, reference, ckpt.config().vocabSize());
    }
  }

  /** --quantization int8 on the 16-bit tiny checkpoint: per-channel int8 with fp16 scales, quantized at load. */
  @Test
  void int8OnLoadLogitsMatchReferenceOnDequantizedWeights() {
    try (Checkpoint ckpt = Checkpoint.open(TestModels.tiny()); NDManager manager = QuantTestModels.cpu();
        Qwen2Model model = ReferenceLoads.load(ckpt, manager, DataType.FLOAT32, 64, Quantization.Method.INT8)) {
      assertEquals(WeightBytes.of(model.geometry(), DataType.FLOAT32, Quantization.Method.INT8, 0), model.weightBytes());
      Function<String, double[]> plain = ReferenceQwen2.weightsOf(ckpt);
      ReferenceQwen2 reference = new ReferenceQwen2(ckpt.config(), name -> {
        if (!name.matches(".*_proj\\.weight")) return plain.apply(name);
        long[] shape = ckpt.info(name).shape();
        int out = (int) shape[0];
        int in = (int) shape[1];
        float[] w = new float[out * in];
        FloatBuffer values = ckpt.f32(name).asFloatBuffer();
        values.get(w);
        return int8RoundTrip(w, out, in);
      });
      assertLogitsMatch(model, manager, reference, ckpt.config().vocabSize());
    }
  }

  /** Greedy decoding through the ModelRunner (quantization detected from config.json) matches the reference. */
  @ParameterizedTest
  @EnumSource(Quantization.Method.class)
  void greedyOutputsMatchReference(Quantization.Method method) {
    int[] prompt = {3, 141, 59, 26, 5, 35, 89};
    int[] expected;
    try (Checkpoint ckpt = Checkpoint.open(QuantTestModels.tiny(method))) {
      expected = new ReferenceQwen2(ckpt.config(), FormatDequantizer.weights(ckpt)).greedy(prompt, 8);
    }
    try (ModelRunner runner = TestModels.cpuRunner(QuantTestModels.tiny(method), 16, 16)) {
      assertArrayEquals(expected, GreedyDriver.generate(runner, new int[][] {prompt}, 8)[0]);
    }
  }

  /**
   * Symmetric per-output-channel int8 as compressed-tensors and vLLM define it, written here rather than taken from
   * Int8Weights: scale = max|w| / 127 stored in fp16, q = round(w / scale) clamped to [-128, 127], weight = q * scale.
   */
  static double[] int8RoundTrip(float[] w, int out, int in) {
    double[] d = new double[out * in];
    for (int o = 0; o < out; o++) {
      double maxAbs = 0;
      for (int i = 0; i < in; i++) maxAbs = Math.max(maxAbs, Math.abs((double) w[o * in + i]));
      double scale = toHalf(maxAbs > 0 ? maxAbs / 127 : 1);
      for (int i = 0; i < in; i++) {
        double q = Math.max(-128, Math.min(127, Math.rint(w[o * in + i] / scale)));
        d[o * in + i] = q * scale;
      }
    }
    return d;
  }

  /** The nearest IEEE half-precision value (round half to even), for positive normal and subnormal values. */
  static double toHalf(double v) {
    int exponent = Math.max(Math.getExponent(v), -14); // below 2^-14 halves are subnormal, spaced 2^-24
    double ulp = Math.scalb(1.0, exponent - 10);
    return Math.rint(v / ulp) * ulp;
  }

  private static void assertLogitsMatch(Qwen2Model model, NDManager manager, ReferenceQwen2 reference, int vocab) {
    int[] tokens = QuantTestModels.tokens(24, vocab);
    int prefill = 12;
    float[][] logits = QuantTestModels.logits(model, manager, tokens, prefill);
    double[][] expected = reference.logits(tokens);
    double worst = 0;
    for (int k = 0; k < logits.length; k++) {
      for (int v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(logits[k][v] - expected[prefill - 1 + k][v]));
    }
    assertTrue(worst < 1e-3, "max |logit - reference| = " + worst);
  }
}
