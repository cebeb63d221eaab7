package barista.engine.reference;

import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.ModelConfig;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * An independent float64 forward pass of Qwen2 / Llama, written straight from the math with plain loops,
 * to check the engine's model against. Slow by design; meant for tiny models.
 *
 * <p>Per layer: RMSNorm, q/k/v projections (+bias), RoPE in Hugging Face's rotate_half convention, causal
 * grouped-query attention, o_proj, residual; RMSNorm, down(SiLU(gate) * up), residual. Then the final norm
 * and lm_head (or the embeddings when tied). Weight matrices are Hugging Face's [out, in], row-major.
 */
public final class ReferenceQwen2 {

  private final ModelConfig config;
  private final Function<String, double[]> source;
  private final Map<String, double[]> weights = new HashMap<>();

  /** weights maps a Hugging Face tensor name to its (dequantized) values, row-major. */
  public ReferenceQwen2(ModelConfig config, Function<String, double[]> weights) {
    this.config = config;
    this.source = weights;
  }

  public static ReferenceQwen2 of(Checkpoint checkpoint) {
    return new ReferenceQwen2(checkpoint.config(), weightsOf(checkpoint));
  }

  /** The checkpoint's 16/32-bit float tensors as doubles; wrap it to substitute dequantized weights. */
  public static Function<String, double[]> weightsOf(Checkpoint checkpoint) {
    return name -> {
      FloatBuffer values = checkpoint.f32(name).asFloatBuffer();
      double[] out = new double[values.remaining()];
      for (int i = 0; i < out.length; i++) out[i] = values.get(i);
      return out;
    };
  }

  /** Logits at every position of the sequence: [tokens.length][vocab]. */
  public double[][] logits(int[] tokens) {
    int hidden = config.hiddenSize();
    double[] embed = weight("model.embed_tokens.weight");
    double[][] x = new double[tokens.length][];
    for (int t = 0; t < tokens.length; t++) x[t] = Arrays.copyOfRange(embed, tokens[t] * hidden, (tokens[t] + 1) * hidden);
    for (int layer = 0; layer < config.numLayers(); layer++) decoderLayer(layer, x);
    String head = config.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
    double[][] logits = new double[tokens.length][];
    for (int t = 0; t < tokens.length; t++) {
      logits[t] = linear(rmsNorm(x[t], weight("model.norm.weight")), weight(head), null, config.vocabSize());
    }
    return logits;
  }

  /** Greedy continuation: appends the argmax token steps times, recomputing everything each step. */
  public int[] greedy(int[] prompt, int steps) {
    int[] tokens = Arrays.copyOf(prompt, prompt.length + steps);
    for (int i = prompt.length; i < tokens.length; i++) {
      double[] last = logits(Arrays.copyOf(tokens, i))[i - 1];
      tokens[i] = argmax(last);
    }
    return Arrays.copyOfRange(tokens, prompt.length, tokens.length);
  }

  private void decoderLayer(int layer, double[][] x) {
    String p = "model.layers." + layer + ".";
    int n = x.length;
    int headDim = config.headDim();
    int qDim = config.numHeads() * headDim;
    int kvDim = config.numKvHeads() * headDim;
    boolean qkvBias = config.attentionBias();
    // Llama's attention_bias also covers o_proj; Qwen2 never has an o_proj bias.
    boolean oBias = config.attentionBias() && config.architecture().equals(ModelConfig.LLAMA);

    double[][] q = new double[n][];
    double[][] k = new double[n][];
    double[][] v = new double[n][];
    for (int t = 0; t < n; t++) {
      double[] h = rmsNorm(x[t], weight(p + "input_layernorm.weight"));
      q[t] = linear(h, weight(p + "self_attn.q_proj.weight"), qkvBias ? weight(p + "self_attn.q_proj.bias") : null, qDim);
      k[t] = linear(h, weight(p + "self_attn.k_proj.weight"), qkvBias ? weight(p + "self_attn.k_proj.bias") : null, kvDim);
      v[t] = linear(h, weight(p + "self_attn.v_proj.weight"), qkvBias ? weight(p + "self_attn.v_proj.bias") : null, kvDim);
      for (int head = 0; head < config.numHeads(); head++) rope(q[t], head * headDim, headDim, t, config.ropeTheta());
      for (int head = 0; head < config.numKvHeads(); head++) rope(k[t], head * headDim, headDim, t, config.ropeTheta());
    }
    for (int t = 0; t < n; t++) {
      double[] attended = attention(q, k, v, t);
      double[] o = linear(attended, weight(p + "self_attn.o_proj.weight"), oBias ? weight(p + "self_attn.o_proj.bias") : null,
          config.hiddenSize());
      for (int i = 0; i < o.length; i++) x[t][i] += o[i];
    }
    for (int t = 0; t < n; t++) {
      double[] h = rmsNorm(x[t], weight(p + "post_attention_layernorm.weight"));
      boolean bias = config.mlpBias();
      int inter = config.intermediateSize();
      double[] gate = linear(h, weight(p + "mlp.gate_proj.weight"), bias ? weight(p + "mlp.gate_proj.bias") : null, inter);
      double[] up = linear(h, weight(p + "mlp.up_proj.weight"), bias ? weight(p + "mlp.up_proj.bias") : null, inter);
      double[] act = new double[inter];
      for (int i = 0; i < inter; i++) act[i] = silu(gate[i]) * up[i];
      double[] down = linear(act, weight(p + "mlp.down_proj.weight"), bias ? weight(p + "mlp.down_proj.bias") : null,
          config.hiddenSize());
      for (int i = 0; i < down.length; i++) x[t][i] += down[i];
    }
  }

  /** Causal attention for position t over positions 0..t; query head h reads kv head kvHeadOf(h). */
  private double[] attention(double[][] q, double[][] k, double[][] v, int t) {
    int headDim = config.headDim();
    double[] out = new double[config.numHeads() * headDim];
    for (int head = 0; head < config.numHeads(); head++) {
      int qOff = head * headDim;
      int kvOff = kvHeadOf(head, config.numHeads(), config.numKvHeads()) * headDim;
      double[] scores = new double[t + 1];
      double max = Double.NEGATIVE_INFINITY;
      for (int s = 0; s <= t; s++) {
        double dot = 0;
        for (int d = 0; d < headDim; d++) dot += q[t][qOff + d] * k[s][kvOff + d];
        scores[s] = dot / Math.sqrt(headDim);
        max = Math.max(max, scores[s]);
      }
      double sum = 0;
      for (int s = 0; s <= t; s++) {
        scores[s] = Math.exp(scores[s] - max);
        sum += scores[s];
      }
      for (int s = 0; s <= t; s++) {
        double weight = scores[s] / sum;
        for (int d = 0; d < headDim; d++) out[qOff + d] += weight * v[s][kvOff + d];
      }
    }
    return out;
  }

  /** Consecutive query heads share a kv head, as in transformers' repeat_kv. */
  static int kvHeadOf(int head, int heads, int kvHeads) {
    return head / (heads / kvHeads);
  }

  /**
   * Rotates x[offset, offset + headDim) in place for the given position: element i pairs with i + headDim/2,
   * rotated by position * theta^(-2i/headDim) (transformers' rotate_half convention).
   */
  static void rope(double[] x, int offset, int headDim, int position, double theta) {
    int half = headDim / 2;
    for (int i = 0; i < half; i++) {
      double angle = position * Math.pow(theta, -2.0 * i / headDim);
      double cos = Math.cos(angle);
      double sin = Math.sin(angle);
      double a = x[offset + i];
      double b = x[offset + i + half];
      x[offset + i] = a * cos - b * sin;
      x[offset + i + half] = b * cos + a * sin;
    }
  }

  private double[] rmsNorm(double[] x, double[] weight) {
    double sumSquares = 0;
    for (double value : x) sumSquares += value * value;
    double scale = 1 / Math.sqrt(sumSquares / x.length + config.rmsNormEps());
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) out[i] = x[i] * scale * weight[i];
    return out;
  }

  /** y = W x + b with W stored [out, in] row-major. */
  private static double[] linear(double[] in, double[] w, double[] bias, int outDim) {
    if (w.length != (long) outDim * in.length || (bias != null && bias.length != outDim)) {
      throw new IllegalArgumentException("weight has " + w.length + " values, expected " + outDim + " x " + in.length);
    }
    double[] out = new double[outDim];
    for (int o = 0; o < outDim; o++) {
      double sum = bias == null ? 0 : bias[o];
      for (int i = 0; i < in.length; i++) sum += w[o * in.length + i] * in[i];
      out[o] = sum;
    }
    return out;
  }

  private static double silu(double x) {
    return x / (1 + Math.exp(-x));
  }

  static int argmax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  private double[] weight(String name) {
    return weights.computeIfAbsent(name, source);
  }
}
