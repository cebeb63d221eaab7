package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.CheckpointException;
import barista.engine.linear.LinearLayer;
import barista.engine.linear.MethodLinear;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * AutoAWQ GEMM tensors ({@code qweight}, {@code qzeros}, {@code scales}) repacked into an {@link AwqDeviceWeight}
 * of the layout the chosen method reads.
 */
final class AwqLinears extends QuantizedLinears {
  private final int group;

  AwqLinears(Checkpoint ckpt, NDManager manager, DataType dtype, Quantization quantization, QuantMethods methods) {
    super(ckpt, manager, dtype, quantization, methods);
    this.group = quantization.groupSize();
  }

  @Override
  public LinearLayer load(String[] modules, long[] outs, long in, NDArray bias) {
    if (countWith(modules, ".qweight") == 0) return null;
    List<NDArray> packed = new ArrayList<>();
    List<NDArray> zeros = new ArrayList<>();
    List<NDArray> scales = new ArrayList<>();
    QuantMethods use = methods.servesAwq(in, Arrays.stream(outs).sum(), group) ? methods : QuantMethods.REFERENCE;
    boolean kernel = use.awqLayout() == AwqDeviceWeight.Layout.KERNEL;
    for (int k = 0; k < modules.length; k++) {
      String m = modules[k];
      int out = Math.toIntExact(outs[k]);
      if (in % group != 0) {
        throw new CheckpointException("tensor " + m + ".qweight: input dim " + in + " is not a multiple of group_size "
            + group + " (quantization_config)");
      }
      if (out % 8 != 0) throw new CheckpointException("tensor " + m + ".qweight: output dim " + out + " is not a multiple of 8");
      long groups = in / group;
      int[] qweight = ints(m + ".qweight", in, out / 8);
      int[] z = AwqPacking.unpack(ints(m + ".qzeros", groups, out / 8), (int) groups, out);
      float[] s = floats(m + ".scales", groups, out);
      float[] zf = new float[z.length];
      for (int i = 0; i < z.length; i++) zf[i] = z[i];
      if (kernel) {
        int[] words = AwqPacking.toKernelLayout(qweight, (int) in, out);
        packed.add(manager.create(words, new Shape(out, in / 8)));
        zeros.add(device(transpose(zf, (int) groups, out), out, groups));
        scales.add(device(transpose(s, (int) groups, out), out, groups));
      } else {
        byte[] pairs = AwqPacking.toNibblePairs(qweight, (int) in, out);
        packed.add(manager.create(ByteBuffer.wrap(pairs), new Shape(in / 2, out), DataType.UINT8));
        zeros.add(device(zf, groups, out));
        scales.add(device(s, groups, out));
      }
    }
    int axis = kernel ? 0 : 1; // fused along the output dimension
    AwqDeviceWeight w = kernel
        ? new AwqDeviceWeight(AwqDeviceWeight.Layout.KERNEL, concat(packed, 0), concat(zeros, 0), concat(scales, 0),
            bias, (int) in, (int) Arrays.stream(outs).sum(), group)
        : AwqDeviceWeight.nibblePairs(concat(packed, axis), concat(zeros, axis), concat(scales, axis), bias, group);
    return new MethodLinear<>(w, use.awq());
  }

  /** {@code [rows, cols]} row-major to {@code [cols, rows]}. */
  static float[] transpose(float[] a, int rows, int cols) {
    float[] t = new float[a.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
    }
    return t;
  }
}
