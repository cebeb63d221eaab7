package barista.engine.quant;

import barista.engine.linear.LinearMethod;

/**
 * The apply methods for quantized linears and the device layouts they read, chosen by the forward path before the
 * weights are loaded (each weight is repacked for the method that will read it): {@link #REFERENCE}, DJL's stock
 * ops, on the CPU and for checks; libbarista_native's kernels on CUDA ({@code barista.engine.cuda.NativeQuantMethods}).
 */
public interface QuantMethods {

  AwqDeviceWeight.Layout awqLayout();

  LinearMethod<AwqDeviceWeight> awq();

  Int8DeviceWeight.Layout int8Layout();

  LinearMethod<Int8DeviceWeight> int8();

  /**
   * Whether the AWQ method serves an {@code [in, out]} layer of this group size; a layer it does not serve is loaded
   * for {@link #REFERENCE} instead.
   */
  default boolean servesAwq(long in, long out, int group) {
    return true;
  }

  /** Whether the INT8 method serves an {@code [out, in]} layer with {@code groups} scales per output. */
  default boolean servesInt8(long out, long in, long groups) {
    return true;
  }

  QuantMethods REFERENCE = new QuantMethods() {
    @Override
    public AwqDeviceWeight.Layout awqLayout() {
      return AwqDeviceWeight.Layout.NIBBLE_PAIRS;
    }

    @Override
    public LinearMethod<AwqDeviceWeight> awq() {
      return DjlAwqMethod.INSTANCE;
    }

    @Override
    public Int8DeviceWeight.Layout int8Layout() {
      return Int8DeviceWeight.Layout.DJL;
    }

    @Override
    public LinearMethod<Int8DeviceWeight> int8() {
      return DjlInt8Method.INSTANCE;
    }
  };
}
