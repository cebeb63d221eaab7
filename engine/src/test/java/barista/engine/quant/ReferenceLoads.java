package barista.engine.quant;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.model.ModelLoader;
import barista.engine.model.Qwen2Model;

/** Models loaded for the CPU path's reference linears, as the DJL path loads them. */
final class ReferenceLoads {
  private ReferenceLoads() {}

  /** The checkpoint as it is stored (a quantized one is detected from its config). */
  static Qwen2Model load(Checkpoint ckpt, NDManager manager, DataType dtype, int maxModelLen) {
    return load(ckpt, manager, dtype, maxModelLen, null);
  }

  /** @param quantization the {@code --quantization} method, or null to follow the checkpoint */
  static Qwen2Model load(Checkpoint ckpt, NDManager manager, DataType dtype, int maxModelLen,
      Quantization.Method quantization) {
    return ModelLoader.load(ckpt, manager, dtype, maxModelLen, quantization, QuantMethods.REFERENCE);
  }
}
