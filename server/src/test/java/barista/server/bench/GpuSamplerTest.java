package barista.server.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class GpuSamplerTest {

  @Test
  void parsesNvidiaSmiNoUnitsLines() {
    assertArrayEquals(new double[] {87, 40321}, GpuSampler.parse("87, 40321"));
    assertNull(GpuSampler.parse("[N/A], 1024"));
    assertNull(GpuSampler.parse("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."));
  }

  @Test
  void meanAndMaxOverSamples() {
    GpuSampler.Usage usage = GpuSampler.usage(List.of(new double[] {20, 1000}, new double[] {80, 3000},
        new double[] {50, 2000}));
    assertEquals(new GpuSampler.Usage(3, 50, 80, 2000, 3000), usage);
  }

  @Test
  void noSamplesNoUsage() {
    assertNull(GpuSampler.usage(List.of()));
  }
}
