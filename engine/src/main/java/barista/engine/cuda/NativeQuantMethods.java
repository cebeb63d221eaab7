package barista.engine.cuda;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import barista.engine.linear.LinearMethod;
import barista.engine.quant.AwqDeviceWeight;
import barista.engine.quant.Int8DeviceWeight;
import barista.engine.quant.QuantMethods;

/**
 * Quantized linears on CUDA through {@link QuantKernels}: weights repacked at load for the kernels (AWQ into
 * {@code [out, in / 8]} words, INT8 as stored with {@code [out, groups]} scales), applied by one native call each,
 * capturable into CUDA graphs. fp16 only; layers whose shape the kernels do not take load for the DJL reference.
 */
public final class NativeQuantMethods implements QuantMethods {
  public static final NativeQuantMethods INSTANCE = new NativeQuantMethods();

  private NativeQuantMethods() {}

  /** The methods for a CUDA forward path in this dtype with the library loaded: native for fp16, else the reference. */
  public static QuantMethods forDtype(DataType dtype) {
    return dtype == DataType.FLOAT16 && CudaNative.isLoaded() ? INSTANCE : QuantMethods.REFERENCE;
  }

  private static String kernels(String format) {
    int rows = QuantKernels.dequantMinRows();
    return format + ", libbarista_native: GEMV (dequantize in registers) up to " + QuantKernels.gemvMaxRows()
        + " rows, mma.sync tensor-core GEMM beyond" + (rows > 0 ? ", from " + rows + " rows the weight dequantized "
        + "into fp16 scratch for cuBLAS (" + DEQUANT_ROWS + ")" : "") + " (CUDA-graph capturable)";
  }

  /** The environment variable the native library reads for its dequantize-then-cuBLAS threshold. */
  private static final String DEQUANT_ROWS = "BARISTA_QUANT_DEQUANT_ROWS";

  private static final LinearMethod<AwqDeviceWeight> AWQ = new LinearMethod<>() {
    @Override
    public NDArray apply(AwqDeviceWeight w, NDArray x) {
      return QuantKernels.awqLinear(x, w);
    }

    @Override
    public boolean captureSafe() {
      return true;
    }

    @Override
    public String describe() {
      return kernels("AWQ 4-bit");
    }
  };

  private static final LinearMethod<Int8DeviceWeight> INT8 = new LinearMethod<>() {
    @Override
    public NDArray apply(Int8DeviceWeight w, NDArray x) {
      return QuantKernels.int8Linear(x, w);
    }

    @Override
    public boolean captureSafe() {
      return true;
    }

    @Override
    public String describe() {
      return kernels("INT8 weight-only");
    }
  };

  @Override
  public AwqDeviceWeight.Layout awqLayout() {
    return AwqDeviceWeight.Layout.KERNEL;
  }

  @Override
  public LinearMethod<AwqDeviceWeight> awq() {
    return AWQ;
  }

  @Override
  public Int8DeviceWeight.Layout int8Layout() {
    return Int8DeviceWeight.Layout.KERNEL;
  }

  @Override
  public LinearMethod<Int8DeviceWeight> int8() {
    return INT8;
  }

  /** The kernels need K a multiple of 32 and of the group, N a multiple of 8. */
  @Override
  public boolean servesAwq(long in, long out, int group) {
    return group > 0 && in % 32 == 0 && in % group == 0 && out % 8 == 0;
  }

  /** As for AWQ, and each scale group a multiple of 8 inputs. */
  @Override
  public boolean servesInt8(long out, long in, long groups) {
    return in % 32 == 0 && out % 8 == 0 && groups > 0 && in % groups == 0 && (in / groups) % 8 == 0;
  }
}
