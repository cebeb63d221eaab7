package barista.engine.model;

import ai.djl.ndarray.types.DataType;
import barista.engine.quant.AwqDeviceWeight;
import barista.engine.quant.Int8DeviceWeight;
import barista.engine.quant.Quantization;

/**
 * Bytes of a model's weights on the device, computed from its geometry with the formulas the linear layers use
 * (so the figure for a 3.5 GB model needs no 3.5 GB load): embeddings, norms and the LM head in the compute
 * dtype, the seven projections of every layer in the chosen form, biases in the compute dtype.
 */
public final class WeightBytes {
  private WeightBytes() {}

  /**
   * @param method null for 16/32-bit weights
   * @param awqGroup AWQ's group size (ignored otherwise)
   */
  public static long of(ModelGeometry g, DataType dtype, Quantization.Method method, int awqGroup) {
    long e = dtype.getNumOfBytes();
    long hidden = g.hiddenSize();
    long q = (long) g.numHeads() * g.headDim();
    long kv = (long) g.numKvHeads() * g.headDim();
    long inter = g.intermediateSize();
    long perLayer = 2 * hidden * e // the two norms
        + (g.attentionBias() ? (q + 2 * kv) * e : 0)
        + linear(hidden, q + 2 * kv, dtype, method, awqGroup)
        + linear(q, hidden, dtype, method, awqGroup)
        + linear(hidden, 2 * inter, dtype, method, awqGroup)
        + linear(inter, hidden, dtype, method, awqGroup);
    long embed = g.vocabSize() * hidden * e;
    return embed + (g.tieWordEmbeddings() ? 0 : embed) + hidden * e + g.numLayers() * perLayer;
  }

  private static long linear(long in, long out, DataType dtype, Quantization.Method method, int awqGroup) {
    if (method == null) return in * out * dtype.getNumOfBytes();
    return switch (method) {
      case AWQ -> AwqDeviceWeight.bytes(in, out, awqGroup, dtype);
      case INT8 -> Int8DeviceWeight.bytes(out, in, 1, dtype);
    };
  }
}
