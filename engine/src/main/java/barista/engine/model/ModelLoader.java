package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.CheckpointException;
import barista.engine.checkpoint.DType;
import barista.engine.checkpoint.ModelConfig;
import barista.engine.checkpoint.Qwen2TensorNames;
import barista.engine.checkpoint.Qwen2TensorNames.Projection;
import barista.engine.checkpoint.TensorInfo;
import barista.engine.linear.DenseLinear;
import barista.engine.linear.LinearLayer;
import barista.engine.quant.QuantMethods;
import barista.engine.quant.Quantization;
import barista.engine.quant.QuantizedLinears;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a {@link Qwen2Model} from a checkpoint: checks every tensor's shape, converts to the compute dtype on the
 * host (bf16 cannot live in DJL), moves it to the device and fuses q/k/v and gate/up into one weight each. Linear
 * layers of an AWQ or INT8 checkpoint (or of a 16-bit one quantized on load) come from {@link QuantizedLinears}.
 */
public final class ModelLoader {
  private static final Logger log = LoggerFactory.getLogger(ModelLoader.class);

  private final Checkpoint ckpt;
  private final NDManager manager;
  private final DataType dtype;
  private final QuantizedLinears quantized; // null: every linear layer is 16/32-bit
  /** The GPU load's conversion buffer, grown to the largest tensor converted; dropped with the loader. */
  private ByteBuffer staging;

  private ModelLoader(Checkpoint ckpt, NDManager manager, DataType dtype, QuantizedLinears quantized) {
    this.ckpt = ckpt;
    this.manager = manager;
    this.dtype = dtype;
    this.quantized = quantized;
  }

  /**
   * @param dtype FLOAT16 or FLOAT32
   * @param maxModelLen the longest sequence served (sizes the rotary table)
   * @param quantization the {@code --quantization} method, or null to follow the checkpoint (a quantized checkpoint
   *     is detected from its config)
   * @param methods how quantized linears are applied, chosen by the forward path (their weights are laid out for
   *     it): {@link QuantMethods#REFERENCE} on the CPU, native kernels on CUDA
   */
  public static Qwen2Model load(Checkpoint ckpt, NDManager manager, DataType dtype, int maxModelLen,
      Quantization.Method quantization, QuantMethods methods) {
    QuantizedLinears quantized = QuantizedLinears.open(ckpt, manager, dtype, quantization, methods);
    return new ModelLoader(ckpt, manager, dtype, quantized).load(geometry(ckpt.config(), maxModelLen));
  }

  public static ModelGeometry geometry(ModelConfig c, int maxModelLen) {
    return new ModelGeometry(c.numLayers(), c.hiddenSize(), c.numHeads(), c.numKvHeads(), c.headDim(),
        c.intermediateSize(), c.vocabSize(), c.ropeTheta(), c.rmsNormEps(), maxModelLen, c.attentionBias(),
        c.tieWordEmbeddings());
  }

  private Qwen2Model load(ModelGeometry g) {
    if (!ckpt.has(Qwen2TensorNames.LM_HEAD)
        && ckpt.names().stream().anyMatch(n -> n.startsWith(Qwen2TensorNames.LM_HEAD_MODULE + "."))) {
      throw new CheckpointException(ckpt.folder() + ": lm_head is quantized; only a 16-bit lm_head.weight is supported");
    }
    long start = System.nanoTime();
    long hidden = g.hiddenSize();
    long qOut = (long) g.numHeads() * g.headDim();
    long kvOut = (long) g.numKvHeads() * g.headDim();
    long inter = g.intermediateSize();
    NDArray embed = tensor(Qwen2TensorNames.EMBED_TOKENS, g.vocabSize(), hidden);
    Qwen2Model.DecoderLayer[] layers = new Qwen2Model.DecoderLayer[g.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      layers[i] = new Qwen2Model.DecoderLayer(
          tensor(Qwen2TensorNames.inputLayernorm(i), hidden),
          linear(hidden, g.attentionBias(), modules(i, Projection.Q, Projection.K, Projection.V), qOut, kvOut, kvOut),
          linear(qOut, false, modules(i, Projection.O), hidden),
          tensor(Qwen2TensorNames.postAttentionLayernorm(i), hidden),
          linear(hidden, false, modules(i, Projection.GATE, Projection.UP), inter, inter),
          linear(inter, false, modules(i, Projection.DOWN), hidden));
      if ((i + 1) % 7 == 0 || i + 1 == layers.length) {
        log.info("Loaded layer {}/{} ({} s)", i + 1, layers.length, String.format("%.1f", (System.nanoTime() - start) / 1e9));
      }
    }
    NDArray norm = tensor(Qwen2TensorNames.FINAL_NORM, hidden);
    boolean tied = g.tieWordEmbeddings() || !ckpt.has(Qwen2TensorNames.LM_HEAD);
    LinearLayer lmHead = new DenseLinear(tied ? embed : tensor(Qwen2TensorNames.LM_HEAD, g.vocabSize(), hidden), null);
    Qwen2Model model = new Qwen2Model(g, dtype, embed, layers, norm, lmHead, tied, manager);
    logLinears(layers, lmHead);
    if (quantized != null) {
      long dense = WeightBytes.of(g, dtype, null, 0);
      log.info("{}: {} MiB of weights on the device, {}% of the {} MiB they take in {}",
          quantized.quantization().describe(), String.format("%.1f", model.weightBytes() / 1048576.0),
          String.format("%.1f", 100.0 * model.weightBytes() / dense), String.format("%.1f", dense / 1048576.0), dtype);
    }
    return model;
  }

  /** Which format and method serve each linear of the model (the first layer's; every layer is loaded alike). */
  private static void logLinears(Qwen2Model.DecoderLayer[] layers, LinearLayer lmHead) {
    if (layers.length == 0) return;
    Qwen2Model.DecoderLayer l = layers[0];
    java.util.Map<String, java.util.List<String>> byMethod = new java.util.LinkedHashMap<>();
    String[] names = {"qkv_proj", "o_proj", "gate_up_proj", "down_proj"};
    LinearLayer[] linears = {l.qkvProj(), l.oProj(), l.gateUpProj(), l.downProj()};
    for (int i = 0; i < names.length; i++) {
      byMethod.computeIfAbsent(linears[i].describe(), k -> new java.util.ArrayList<>()).add(names[i]);
    }
    byMethod.forEach((method, which) -> log.info("Linears {} of the {} layers: {}", String.join(", ", which),
        layers.length, method));
    log.info("Linear lm_head: {}", lmHead.describe());
  }

  private static String[] modules(int layer, Projection... projections) {
    String[] modules = new String[projections.length];
    for (int k = 0; k < projections.length; k++) modules[k] = projections[k].module(layer);
    return modules;
  }

  /** Modules fused along the output dimension (q/k/v, gate/up) or a single one, quantized or dense. */
  private LinearLayer linear(long in, boolean hasBias, String[] modules, long... outs) {
    NDArray bias = null;
    if (hasBias) {
      NDArray[] biases = new NDArray[modules.length];
      for (int k = 0; k < modules.length; k++) biases[k] = tensor(modules[k] + ".bias", outs[k]);
      bias = concat(biases);
    }
    LinearLayer layer = quantized == null ? null : quantized.load(modules, outs, in, bias);
    if (layer != null) return layer;
    NDArray[] weights = new NDArray[modules.length];
    for (int k = 0; k < modules.length; k++) weights[k] = tensor(modules[k] + ".weight", outs[k], in);
    return new DenseLinear(concat(weights), bias);
  }

  /** One tensor on the device in the compute dtype, after checking its shape. */
  private NDArray tensor(String name, long... shape) {
    ckpt.expectShape(name, shape);
    TensorInfo stored = ckpt.info(name);
    if (dtype == DataType.FLOAT16 && manager.getDevice().isGpu() && stored.dtype() != DType.F16) {
      // DJL copies host data to a GPU before create returns and keeps no reference to it, so one host buffer
      // carries every converted tensor: a fresh direct buffer a tensor cost more (zeroing, page faults) than the
      // conversion itself. An F16 tensor goes up from its mapped bytes and needs none.
      long bytes = stored.numel() * 2;
      if (staging == null || staging.capacity() < bytes) {
        staging = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      }
      return manager.create(ckpt.f16(name, staging), new Shape(shape), dtype);
    }
    ByteBuffer data = dtype == DataType.FLOAT16 ? ckpt.f16(name) : ckpt.f32(name);
    return manager.create(data, new Shape(shape), dtype);
  }

  private NDArray concat(NDArray... parts) {
    if (parts.length == 1) return parts[0];
    NDArray fused = NDArrays.concat(new NDList(parts), 0);
    for (NDArray p : parts) p.close();
    return fused;
  }
}
