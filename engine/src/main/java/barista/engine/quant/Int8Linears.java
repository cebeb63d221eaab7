package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.CheckpointException;
import barista.engine.checkpoint.DType;
import barista.engine.linear.LinearLayer;
import barista.engine.linear.MethodLinear;
import barista.engine.checkpoint.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link Int8DeviceWeight}s from compressed-tensors tensors ({@code weight_packed} of pack-quantized, int8 {@code weight}
 * of int-quantized, each with {@code weight_scale}), or from 16-bit weights quantized here when asked to.
 */
final class Int8Linears extends QuantizedLinears {

  Int8Linears(Checkpoint ckpt, NDManager manager, DataType dtype, Quantization quantization, QuantMethods methods) {
    super(ckpt, manager, dtype, quantization, methods);
  }

  @Override
  public LinearLayer load(String[] modules, long[] outs, long in, NDArray bias) {
    boolean packed = countWith(modules, ".weight_packed") > 0;
    boolean stored = packed || countWith(modules, ".weight_scale") > 0;
    if (!stored && !quantization().quantizeOnLoad()) return null;
    List<NDArray> weights = new ArrayList<>();
    List<NDArray> scales = new ArrayList<>();
    long groups = -1;
    for (int k = 0; k < modules.length; k++) {
      Int8Weights w = stored ? read(modules[k], (int) outs[k], (int) in, packed)
          : Int8Weights.quantize(floats(modules[k] + ".weight", outs[k], in), (int) outs[k], (int) in, DType.F16);
      if (groups >= 0 && w.groups() != groups) {
        throw new CheckpointException("tensor " + modules[k] + ".weight_scale has " + w.groups() + " groups per row, "
            + modules[0] + ".weight_scale has " + groups + ": cannot fuse them");
      }
      groups = w.groups();
      weights.add(manager.create(ByteBuffer.wrap(w.q()), new Shape(outs[k], in), DataType.INT8));
      scales.add(device(w.scales(), outs[k], groups));
    }
    QuantMethods use = methods.servesInt8(Arrays.stream(outs).sum(), in, groups) ? methods : QuantMethods.REFERENCE;
    return new MethodLinear<>(new Int8DeviceWeight(use.int8Layout(), concat(weights, 0), concat(scales, 0), bias),
        use.int8());
  }

  private Int8Weights read(String m, int out, int in, boolean packed) {
    String scaleName = m + ".weight_scale";
    if (!ckpt.has(scaleName)) throw new CheckpointException("tensor " + scaleName + " not found in " + ckpt.folder());
    long[] scaleShape = ckpt.info(scaleName).shape();
    int groups = scaleShape.length == 2 ? (int) scaleShape[1] : -1;
    if (groups <= 0 || in % groups != 0) {
      throw new CheckpointException("tensor " + scaleName + " has shape " + ckpt.info(scaleName).shapeString()
          + ", expected [" + out + ", G] with G dividing the input dim " + in);
    }
    byte[] q;
    if (packed) {
      if (in % 4 != 0) throw new CheckpointException("tensor " + m + ".weight_packed: input dim " + in + " is not a multiple of 4");
      q = PackQuantized.unpack(ints(m + ".weight_packed", out, in / 4), out, in);
      if (ckpt.has(m + ".weight_shape")) checkWeightShape(m + ".weight_shape", out, in);
    } else {
      expect(m + ".weight", DType.I8, out, in);
      q = new byte[out * in];
      ckpt.raw(m + ".weight").get(q);
    }
    return new Int8Weights(out, in, groups, q, floats(scaleName, out, groups));
  }

  /** weight_shape is the unpacked [out, in], as int64 (int32 accepted). */
  private void checkWeightShape(String name, int out, int in) {
    TensorInfo info = ckpt.info(name);
    long[] shape = new long[2];
    if (info.numel() == 2 && (info.dtype() == DType.I64 || info.dtype() == DType.I32)) {
      ByteBuffer raw = ckpt.raw(name).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 2; i++) {
        shape[i] = info.dtype() == DType.I64 ? raw.getLong(raw.position() + 8 * i) : raw.getInt(raw.position() + 4 * i);
      }
    }
    if (shape[0] != out || shape[1] != in) {
      throw new CheckpointException("tensor " + name + " holds " + Arrays.toString(shape) + ", expected [" + out + ", "
          + in + "]");
    }
  }
}
