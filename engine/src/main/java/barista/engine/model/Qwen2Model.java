package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.linear.DenseLinear;
import barista.engine.linear.LinearLayer;

/**
 * Qwen2ForCausalLM (and LlamaForCausalLM, which is the same network without the q/k/v biases) written with DJL
 * NDArray ops, in the order the paper writes it: embed, then per layer RMSNorm, attention with RoPE over the paged
 * KV cache, residual, RMSNorm, SiLU-gated MLP, residual; final RMSNorm and the LM head.
 *
 * <p>One call runs a flattened batch (any mix of prefill chunks and decode tokens) and returns float32 logits of
 * the last token of each sampled sequence.
 */
public final class Qwen2Model implements AutoCloseable {
  private final ModelGeometry geo;
  private final DataType dtype;
  private final NDArray embedTokens;
  private final DecoderLayer[] layers;
  private final NDArray finalNorm;
  private LinearLayer lmHead;
  private final NDArray ropeCos; // [maxPositions, headDim / 2]
  private final NDArray ropeSin;
  private final boolean tiedLmHead;
  private LayerOps ops = DjlLayerOps.INSTANCE;

  Qwen2Model(ModelGeometry geo, DataType dtype, NDArray embedTokens, DecoderLayer[] layers, NDArray finalNorm,
      LinearLayer lmHead, boolean tiedLmHead, NDManager manager) {
    this.geo = geo;
    this.dtype = dtype;
    this.embedTokens = embedTokens;
    this.layers = layers;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
    this.tiedLmHead = tiedLmHead;
    NDArray[] table = ropeTable(manager, geo);
    ropeCos = table[0];
    ropeSin = table[1];
  }

  /** The weights of one decoder layer, q/k/v and gate/up fused into one matmul each. */
  record DecoderLayer(NDArray inputNorm, LinearLayer qkvProj, LinearLayer oProj, NDArray postAttentionNorm,
      LinearLayer gateUpProj, LinearLayer downProj) implements AutoCloseable {
    @Override
    public void close() {
      inputNorm.close();
      qkvProj.close();
      oProj.close();
      postAttentionNorm.close();
      gateUpProj.close();
      downProj.close();
    }
  }

  public ModelGeometry geometry() {
    return geo;
  }

  public DataType dtype() {
    return dtype;
  }

  /** Bytes of all weights on the device. */
  public long weightBytes() {
    long n = DenseLinear.bytes(embedTokens) + DenseLinear.bytes(finalNorm) + (tiedLmHead ? 0 : lmHead.deviceBytes());
    for (DecoderLayer l : layers) {
      n += DenseLinear.bytes(l.inputNorm) + DenseLinear.bytes(l.postAttentionNorm) + l.qkvProj.deviceBytes()
          + l.oProj.deviceBytes() + l.gateUpProj.deviceBytes() + l.downProj.deviceBytes();
    }
    return n;
  }

  /**
   * Runs the batch; intermediate arrays live in {@code m}, which the caller closes after reading the logits.
   *
   * @return float32 logits {@code [numSampled, vocab]}, rows in sequence order of {@code batch.sample()}
   */
  public NDArray forward(StepInputs in, AttentionBackend attention, NDManager m) {
    return logits(hidden(in, attention, m));
  }

  /**
   * Everything up to the LM head: the final-normed hidden states of the logit rows, {@code [rows, hidden]}. With
   * {@link #ops} fused and a capture-safe backend this issues no host-to-device copies and no syncs, so a decode
   * step can be recorded as a CUDA graph.
   */
  public NDArray hidden(StepInputs in, AttentionBackend attention, NDManager m) {
    LayerOps.Rotary rotary = ops.rotary(in.positions(), ropeCos, ropeSin);
    NDArray h = ops.embed(embedTokens, in.tokenIds());
    NDArray residual = null;
    float eps = (float) geo.rmsNormEps();
    for (int i = 0; i < layers.length; i++) {
      // A scope per layer frees its intermediates (and the previous residual) as soon as the layer is done.
      try (NDManager scope = m.newSubManager()) {
        h.attach(scope);
        if (residual != null) residual.attach(scope);
        DecoderLayer layer = layers[i];
        NDArray x;
        if (residual == null) {
          x = ops.rmsNorm(h, layer.inputNorm, eps);
          residual = h;
        } else {
          NDArray[] normed = ops.addRmsNorm(h, residual, layer.inputNorm, eps);
          x = normed[0];
          residual = normed[1];
        }
        h = layer.oProj.apply(attention.attendQkv(i, layer.qkvProj.apply(x), ops, rotary, geo, in.attention()));

        NDArray[] normed = ops.addRmsNorm(h, residual, layer.postAttentionNorm, eps);
        residual = normed[1];
        h = layer.downProj.apply(ops.siluAndMul(layer.gateUpProj.apply(normed[0])));
        h.attach(m);
        residual.attach(m);
      }
    }
    if (in.logitRows() != null) {
      NDIndex rows = new NDIndex("{}", in.logitRows());
      h = h.get(rows);
      residual = residual.get(rows);
    }
    return ops.addRmsNorm(h, residual, finalNorm, eps)[0];
  }

  /** The LM head over final hidden states, as float32 logits. */
  public NDArray logits(NDArray hidden) {
    return lmHead.apply(hidden).toType(DataType.FLOAT32, false);
  }

  /** The fused ops (CUDA) or plain DJL ops; chosen once by the runner before the first step. */
  public void useOps(LayerOps ops) {
    this.ops = ops;
  }

  /**
   * Replaces every linear (the layers' four and the LM head) by {@code how}'s answer for it, which takes over closing
   * it: how a device path runs linears it has a faster kernel for. Call before the first step.
   */
  public void replaceLinears(java.util.function.UnaryOperator<LinearLayer> how) {
    for (int i = 0; i < layers.length; i++) {
      DecoderLayer l = layers[i];
      layers[i] = new DecoderLayer(l.inputNorm(), how.apply(l.qkvProj()), how.apply(l.oProj()), l.postAttentionNorm(),
          how.apply(l.gateUpProj()), how.apply(l.downProj()));
    }
    lmHead = how.apply(lmHead);
  }

  /** Whether every linear can be recorded in a CUDA graph (AWQ's dequantize uses host scalars: not yet). */
  public boolean captureSafe() {
    boolean safe = lmHead.captureSafe();
    for (DecoderLayer l : layers) {
      safe &= l.qkvProj.captureSafe() && l.oProj.captureSafe() && l.gateUpProj.captureSafe()
          && l.downProj.captureSafe();
    }
    return safe;
  }

  /** cos/sin of every position, rounded the way Hugging Face computes them (float32 angles) so logits match. */
  private NDArray[] ropeTable(NDManager manager, ModelGeometry g) {
    int half = g.headDim() / 2;
    int n = g.ropePositions();
    float[] cos = new float[n * half];
    float[] sin = new float[n * half];
    for (int i = 0; i < half; i++) {
      float invFreq = 1.0f / (float) Math.pow(g.ropeTheta(), (float) (2 * i) / (float) g.headDim());
      for (int p = 0; p < n; p++) {
        float angle = (float) p * invFreq;
        cos[p * half + i] = (float) Math.cos(angle);
        sin[p * half + i] = (float) Math.sin(angle);
      }
    }
    Shape shape = new Shape(n, half);
    return new NDArray[] {
      manager.create(cos, shape).toType(dtype, false), manager.create(sin, shape).toType(dtype, false)
    };
  }

  static long[] toLongs(int[] a) {
    long[] r = new long[a.length];
    for (int i = 0; i < a.length; i++) r[i] = a[i];
    return r;
  }

  @Override
  public void close() {
    if (!tiedLmHead) lmHead.close();
    embedTokens.close();
    for (DecoderLayer l : layers) l.close();
    finalNorm.close();
    ropeCos.close();
    ropeSin.close();
  }
}
