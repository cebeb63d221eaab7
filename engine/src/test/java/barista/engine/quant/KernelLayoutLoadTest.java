package barista.engine.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.NDManager;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.cuda.NativeQuantMethods;
import barista.engine.linear.LinearMethod;
import barista.engine.linear.MethodLinear;
import barista.engine.model.ModelLoader;
import barista.engine.model.Qwen2Model;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The loader's repacking for the native kernels, checked on the CPU: a tiny AWQ / INT8 checkpoint loaded with
 * methods that read the kernels' layouts (AWQ {@code [out, in / 8]} words with {@code [out, groups]} zero points and
 * scales; INT8 {@code [out, groups]} scales) and dequantize them on the host gives the logits of the DJL reference
 * load. Layers whose shape the kernels do not take (NativeQuantMethods' rule) load for the reference instead.
 */
class KernelLayoutLoadTest {

  /** Host dequantization of the kernel layouts, then a matmul: what the kernels compute, in float32. */
  private static final class HostKernelMethods implements QuantMethods {
    final List<String> served = new ArrayList<>();

    @Override
    public AwqDeviceWeight.Layout awqLayout() {
      return AwqDeviceWeight.Layout.KERNEL;
    }

    @Override
    public LinearMethod<AwqDeviceWeight> awq() {
      return new LinearMethod<>() {
        @Override
        public NDArray apply(AwqDeviceWeight w, NDArray x) {
          assertEquals(AwqDeviceWeight.Layout.KERNEL, w.layout());
          int in = w.in(), out = w.out(), groups = in / w.group();
          assertEquals(new Shape(out, in / 8), w.packed().getShape());
          assertEquals(new Shape(out, groups), w.scales().getShape());
          int[] packed = w.packed().toIntArray();
          float[] z = w.zeros().toFloatArray();
          float[] s = w.scales().toFloatArray();
          float[] weight = new float[in * out];
          for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
              int g = o * groups + i / w.group();
              weight[i * out + o] = (AwqPacking.kernelValue(packed, in, i, o) - z[g]) * s[g];
            }
          }
          NDArray y = x.matMul(x.getManager().create(weight, new Shape(in, out)));
          return w.bias() == null ? y : y.add(w.bias());
        }

        @Override
        public boolean captureSafe() {
          return true;
        }

        @Override
        public String describe() {
          return "AWQ kernel layout, host dequantize";
        }
      };
    }

    @Override
    public Int8DeviceWeight.Layout int8Layout() {
      return Int8DeviceWeight.Layout.KERNEL;
    }

    @Override
    public LinearMethod<Int8DeviceWeight> int8() {
      return new LinearMethod<>() {
        @Override
        public NDArray apply(Int8DeviceWeight w, NDArray x) {
          assertEquals(Int8DeviceWeight.Layout.KERNEL, w.layout());
          int in = w.in(), out = w.out(), groups = w.groups();
          assertEquals(new Shape(out, groups), w.scales().getShape());
          byte[] q = w.weight().toByteArray();
          float[] s = w.scales().toFloatArray();
          float[] weight = new float[in * out];
          for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) weight[i * out + o] = q[o * in + i] * s[o * groups + i / (in / groups)];
          }
          NDArray y = x.matMul(x.getManager().create(weight, new Shape(in, out)));
          return w.bias() == null ? y : y.add(w.bias());
        }

        @Override
        public boolean captureSafe() {
          return true;
        }

        @Override
        public String describe() {
          return "INT8 kernel layout, host dequantize";
        }
      };
    }

    @Override
    public boolean servesAwq(long in, long out, int group) {
      boolean serves = NativeQuantMethods.INSTANCE.servesAwq(in, out, group);
      served.add(in + "x" + out + (serves ? " kernel" : " reference"));
      return serves;
    }

    @Override
    public boolean servesInt8(long out, long in, long groups) {
      boolean serves = NativeQuantMethods.INSTANCE.servesInt8(out, in, groups);
      served.add(in + "x" + out + (serves ? " kernel" : " reference"));
      return serves;
    }
  }

  @ParameterizedTest
  @EnumSource(Quantization.Method.class)
  void kernelLayoutsGiveTheReferenceLogits(Quantization.Method method) {
    HostKernelMethods methods = new HostKernelMethods();
    try (Checkpoint ckpt = Checkpoint.open(QuantTestModels.tiny(method)); NDManager manager = QuantTestModels.cpu();
        Qwen2Model reference = ReferenceLoads.load(ckpt, manager, DataType.FLOAT32, 64);
        Qwen2Model kernel = ModelLoader.load(ckpt, manager, DataType.FLOAT32, 64, null, methods)) {
      // tiny: hidden 64 (a multiple of 64: kernel layout), intermediate 176 (down_proj: reference)
      assertTrue(methods.served.contains("64x" + (64 + 2 * 32) + " kernel"), methods.served.toString());
      assertTrue(methods.served.contains("176x64 reference"), methods.served.toString());
      assertEquals(reference.weightBytes(), kernel.weightBytes(), "same bytes in either layout");
      int[] tokens = QuantTestModels.tokens(24, ckpt.config().vocabSize());
      float[][] want = QuantTestModels.logits(reference, manager, tokens, 20);
      float[][] got = QuantTestModels.logits(kernel, manager, tokens, 20);
      for (int p = 0; p < want.length; p++) {
        for (int v = 0; v < want[p].length; v++) {
          assertEquals(want[p][v], got[p][v], 1e-3 * Math.max(1, Math.abs(want[p][v])), "position " + p + ", token " + v);
        }
      }
    }
  }
}
