package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

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
  private final LinearLayer lmHead;
  private final NDArray ropeCos; // [maxPositions, headDim / 2]
  private final NDArray ropeSin;
  private final boolean tiedLmHead;

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
  public NDArray forward(ForwardBatch batch, PagedKvCache cache, NDManager m) {
    int t = batch.numTokens();
    AttentionPlan plan = AttentionPlan.build(batch, cache, m, geo, dtype);
    NDArray positions = m.create(toLongs(batch.positions()));
    NDIndex atPositions = new NDIndex("{}", positions);
    NDArray cos = ropeCos.get(m, atPositions).expandDims(1); // [T, 1, D/2]
    NDArray sin = ropeSin.get(m, atPositions).expandDims(1);
    NDArray slots = m.create(batch.slotMapping());

    NDArray h = embedTokens.get(m, new NDIndex("{}", m.create(toLongs(batch.tokenIds()))));
    int qSize = geo.numHeads() * geo.headDim();
    int kvSize = geo.numKvHeads() * geo.headDim();
    for (int i = 0; i < layers.length; i++) {
      // A scope per layer frees its intermediates (and the previous residual) as soon as the layer is done.
      try (NDManager scope = m.newSubManager()) {
        h.attach(scope);
        DecoderLayer layer = layers[i];
        NDArray x = rmsNorm(h, layer.inputNorm);
        NDList qkv = layer.qkvProj.apply(x).split(new long[] {qSize + kvSize}, 1);
        // q and k heads rotate together: one RoPE over [T, heads + kvHeads, headDim].
        NDList qk = rope(qkv.get(0).reshape(t, geo.numHeads() + geo.numKvHeads(), geo.headDim()), cos, sin)
            .split(new long[] {geo.numHeads()}, 1);
        NDArray q = qk.get(0);
        NDArray k = qk.get(1);
        NDArray v = qkv.get(1).reshape(t, geo.numKvHeads(), geo.headDim());
        cache.write(i, slots, k, v);
        h = h.add(layer.oProj.apply(plan.attend(i, q, cache)));

        x = rmsNorm(h, layer.postAttentionNorm);
        NDList gateUp = layer.gateUpProj.apply(x).split(2, 1);
        NDArray gate = gateUp.get(0);
        h = h.add(layer.downProj.apply(gate.mul(gate.getNDArrayInternal().sigmoid()).mul(gateUp.get(1))));
        h.attach(m);
      }
    }
    NDArray last = h.get(new NDIndex("{}", m.create(batch.logitRows())));
    return lmHead.apply(rmsNorm(last, finalNorm)).toType(DataType.FLOAT32, false);
  }

  /** x / sqrt(mean(x^2) + eps) * w, with the statistics in float32 as Hugging Face computes them. */
  private NDArray rmsNorm(NDArray x, NDArray weight) {
    NDArray x32 = x.toType(DataType.FLOAT32, false);
    NDArray inv = x32.square().mean(new int[] {-1}, true).add(geo.rmsNormEps()).pow(-0.5);
    return x32.mul(inv).toType(dtype, false).mul(weight);
  }

  /** Rotary embedding, Hugging Face's rotate_half layout: pairs (i, i + headDim/2). */
  private static NDArray rope(NDArray x, NDArray cos, NDArray sin) {
    NDList halves = x.split(2, 2); // x is [T, heads, headDim]
    NDArray x1 = halves.get(0);
    NDArray x2 = halves.get(1);
    return NDArrays.concat(new NDList(x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin))), 2);
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
