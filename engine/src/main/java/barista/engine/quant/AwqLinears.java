package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.CheckpointException;
import barista.engine.model.LinearLayer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** AutoAWQ GEMM tensors ({@code qweight}, {@code qzeros}, {@code scales}) repacked into {@link AwqLinear}s. */
final class AwqLinears extends QuantizedLinears {
  private final int group;

  AwqLinears(Checkpoint ckpt, NDManager manager, DataType dtype, Quantization quantization) {
    super(ckpt, manager, dtype, quantization);
    this.group = quantization.groupSize();
  }

  @Override
  public LinearLayer load(String[] modules, long[] outs, long in, NDArray bias) {
    if (countWith(modules, ".qweight") == 0) return null;
    List<NDArray> packed = new ArrayList<>();
    List<NDArray> zeros = new ArrayList<>();
    List<NDArray> scales = new ArrayList<>();
    for (int k = 0; k < modules.length; k++) {
      String m = modules[k];
      int out = Math.toIntExact(outs[k]);
      if (in % group != 0) {
        throw new CheckpointException("tensor " + m + ".qweight: input dim " + in + " is not a multiple of group_size "
            + group + " (quantization_config)");
      }
      if (out % 8 != 0) throw new CheckpointException("tensor " + m + ".qweight: output dim " + out + " is not a multiple of 8");
      long groups = in / group;
      byte[] pairs = AwqPacking.toNibblePairs(ints(m + ".qweight", in, out / 8), (int) in, out);
      int[] z = AwqPacking.unpack(ints(m + ".qzeros", groups, out / 8), (int) groups, out);
      float[] s = floats(m + ".scales", groups, out);
      float[] zf = new float[z.length];
      for (int i = 0; i < z.length; i++) zf[i] = z[i];
      packed.add(manager.create(ByteBuffer.wrap(pairs), new Shape(in / 2, out), DataType.UINT8));
      zeros.add(device(zf, groups, out));
      scales.add(device(s, groups, out));
    }
    return new AwqLinear(concat(packed, 1), concat(zeros, 1), concat(scales, 1), bias, group);
  }
}
