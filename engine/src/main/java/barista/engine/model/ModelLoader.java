package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.ModelConfig;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a {@link Qwen2Model} from a checkpoint: checks every tensor's shape, converts to the compute dtype on the
 * host (bf16 cannot live in DJL), moves it to the device and fuses q/k/v and gate/up into one weight each.
 */
public final class ModelLoader {
  private static final Logger log = LoggerFactory.getLogger(ModelLoader.class);

  private final Checkpoint ckpt;
  private final NDManager manager;
  private final DataType dtype;

  private ModelLoader(Checkpoint ckpt, NDManager manager, DataType dtype) {
    this.ckpt = ckpt;
    this.manager = manager;
    this.dtype = dtype;
  }

  /**
   * @param dtype FLOAT16 or FLOAT32
   * @param maxModelLen the longest sequence served (sizes the rotary table)
   */
  public static Qwen2Model load(Checkpoint ckpt, NDManager manager, DataType dtype, int maxModelLen) {
    return new ModelLoader(ckpt, manager, dtype).load(geometry(ckpt.config(), maxModelLen));
  }

  public static ModelGeometry geometry(ModelConfig c, int maxModelLen) {
    return new ModelGeometry(c.numLayers(), c.hiddenSize(), c.numHeads(), c.numKvHeads(), c.headDim(),
        c.intermediateSize(), c.vocabSize(), c.ropeTheta(), c.rmsNormEps(), maxModelLen, c.attentionBias(),
        c.tieWordEmbeddings());
  }

  private Qwen2Model load(ModelGeometry g) {
    long start = System.nanoTime();
    int hidden = g.hiddenSize();
    int qOut = g.numHeads() * g.headDim();
    int kvOut = g.numKvHeads() * g.headDim();
    NDArray embed = tensor("model.embed_tokens.weight", g.vocabSize(), hidden);
    Qwen2Model.DecoderLayer[] layers = new Qwen2Model.DecoderLayer[g.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      String p = "model.layers." + i + ".";
      NDArray qkvBias = null;
      if (g.attentionBias()) {
        qkvBias = concat(tensor(p + "self_attn.q_proj.bias", qOut), tensor(p + "self_attn.k_proj.bias", kvOut),
            tensor(p + "self_attn.v_proj.bias", kvOut));
      }
      NDArray qkv = concat(tensor(p + "self_attn.q_proj.weight", qOut, hidden),
          tensor(p + "self_attn.k_proj.weight", kvOut, hidden), tensor(p + "self_attn.v_proj.weight", kvOut, hidden));
      NDArray gateUp = concat(tensor(p + "mlp.gate_proj.weight", g.intermediateSize(), hidden),
          tensor(p + "mlp.up_proj.weight", g.intermediateSize(), hidden));
      layers[i] = new Qwen2Model.DecoderLayer(
          tensor(p + "input_layernorm.weight", hidden),
          new DenseLinear(qkv, qkvBias),
          new DenseLinear(tensor(p + "self_attn.o_proj.weight", hidden, qOut), null),
          tensor(p + "post_attention_layernorm.weight", hidden),
          new DenseLinear(gateUp, null),
          new DenseLinear(tensor(p + "mlp.down_proj.weight", hidden, g.intermediateSize()), null));
      if ((i + 1) % 7 == 0 || i + 1 == layers.length) {
        log.info("Loaded layer {}/{} ({} s)", i + 1, layers.length, String.format("%.1f", (System.nanoTime() - start) / 1e9));
      }
    }
    NDArray norm = tensor("model.norm.weight", hidden);
    boolean tied = g.tieWordEmbeddings() || !ckpt.has("lm_head.weight");
    LinearLayer lmHead = new DenseLinear(tied ? embed : tensor("lm_head.weight", g.vocabSize(), hidden), null);
    return new Qwen2Model(g, dtype, embed, layers, norm, lmHead, tied, manager);
  }

  /** One tensor on the device in the compute dtype, after checking its shape. */
  private NDArray tensor(String name, long... shape) {
    ckpt.expectShape(name, shape);
    ByteBuffer data = dtype == DataType.FLOAT16 ? ckpt.f16(name) : ckpt.f32(name);
    return manager.create(data, new Shape(shape), dtype);
  }

  private NDArray concat(NDArray... parts) {
    NDArray fused = NDArrays.concat(new NDList(parts), 0);
    for (NDArray p : parts) p.close();
    return fused;
  }
}
