package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.CheckpointException;
import barista.engine.checkpoint.DType;
import barista.engine.checkpoint.TensorInfo;
import barista.engine.linear.LinearLayer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a checkpoint's quantized linear layers onto the device (AWQ or INT8), checking every tensor's dtype and
 * shape. Modules a checkpoint keeps in 16 bits (its {@code ignore} / {@code modules_to_not_convert}) are left to the
 * caller's dense path.
 */
public abstract class QuantizedLinears {
  private static final Logger log = LoggerFactory.getLogger(QuantizedLinears.class);

  final Checkpoint ckpt;
  final NDManager manager;
  final DataType dtype;
  final QuantMethods methods;
  private final Quantization quantization;

  QuantizedLinears(Checkpoint ckpt, NDManager manager, DataType dtype, Quantization quantization,
      QuantMethods methods) {
    this.ckpt = ckpt;
    this.manager = manager;
    this.dtype = dtype;
    this.quantization = quantization;
    this.methods = methods;
  }

  /**
   * @param requested the {@code --quantization} method, or null to follow the checkpoint
   * @param methods how the quantized linears will be applied (and so how their weights are laid out)
   * @return null when the checkpoint is served in 16 bits
   */
  public static QuantizedLinears open(Checkpoint ckpt, NDManager manager, DataType dtype,
      Quantization.Method requested, QuantMethods methods) {
    Quantization q = Quantization.resolve(ckpt.config(), requested, ckpt.folder().resolve("config.json").toString());
    if (q == null) return null;
    log.info("Quantization: {}{}", q.describe(),
        q.detected() ? ", detected from the checkpoint's quantization_config (no --quantization given)" : "");
    return q.method() == Quantization.Method.AWQ ? new AwqLinears(ckpt, manager, dtype, q, methods)
        : new Int8Linears(ckpt, manager, dtype, q, methods);
  }

  public Quantization quantization() {
    return quantization;
  }

  /** The method that applies this checkpoint's quantized linears, for the startup log. */
  public String describeMethod() {
    return (quantization.method() == Quantization.Method.AWQ ? methods.awq() : methods.int8()).describe();
  }

  /**
   * The given modules (e.g. {@code model.layers.0.self_attn.q_proj}) as one layer, fused along the output
   * dimension in order, or null when they are stored in 16 bits.
   *
   * @param outs each module's output size
   * @param in their common input size
   * @param bias the fused {@code [sum(outs)]} bias on the device, or null
   */
  public abstract LinearLayer load(String[] modules, long[] outs, long in, NDArray bias);

  /** How many of the modules have the tensor {@code module + suffix}; the rest must have none for fusing. */
  int countWith(String[] modules, String suffix) {
    int n = (int) Arrays.stream(modules).filter(m -> ckpt.has(m + suffix)).count();
    if (n != 0 && n != modules.length) {
      throw new CheckpointException("cannot fuse " + String.join(", ", modules) + ": only " + n + " of them have "
          + suffix.substring(1) + " (quantize all or none of them)");
    }
    return n;
  }

  int[] ints(String name, long... shape) {
    expect(name, DType.I32, shape);
    int[] values = new int[Math.toIntExact(ckpt.info(name).numel())];
    IntBuffer buffer = ckpt.raw(name).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    buffer.get(values);
    return values;
  }

  float[] floats(String name, long... shape) {
    TensorInfo info = ckpt.info(name);
    if (!info.dtype().isFloat()) throw wrongDType(info, "a float type");
    ckpt.expectShape(name, shape);
    float[] values = new float[Math.toIntExact(info.numel())];
    FloatBuffer buffer = ckpt.f32(name).asFloatBuffer();
    buffer.get(values);
    return values;
  }

  void expect(String name, DType dtype, long... shape) {
    TensorInfo info = ckpt.info(name);
    if (info.dtype() != dtype) throw wrongDType(info, dtype.toString());
    ckpt.expectShape(name, shape);
  }

  /** Host floats to the device in the compute dtype. */
  NDArray device(float[] values, long... shape) {
    NDArray f32 = manager.create(values, new Shape(shape));
    NDArray converted = f32.toType(dtype, false);
    if (converted != f32) f32.close();
    return converted;
  }

  /**
   * {@code a} with a new axis, as an array that owns its memory. A plain expandDims is a view, and on CPU DJL's
   * arrays made from host buffers keep that buffer alive only through the original: closing the original would
   * leave the view reading freed memory once the GC collects the buffer.
   */
  static NDArray ownedView(NDArray a, int axis) {
    NDArray view = a.expandDims(axis);
    NDArray owned = view.duplicate();
    view.close();
    a.close();
    return owned;
  }

  static NDArray concat(List<NDArray> parts, int axis) {
    if (parts.size() == 1) return parts.get(0);
    NDArray fused = NDArrays.concat(new NDList(parts), axis);
    parts.forEach(NDArray::close);
    return fused;
  }

  private static CheckpointException wrongDType(TensorInfo info, String expected) {
    return new CheckpointException("tensor " + info.name() + " in " + info.file() + " has dtype " + info.dtype()
        + ", expected " + expected);
  }
}
