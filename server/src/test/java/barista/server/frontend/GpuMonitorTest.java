package barista.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class GpuMonitorTest {
  @Test
  void readsNvidiaSmiCsvLinesAndSkipsTheRest() {
    assertEquals(new GpuMonitor.Sample(1, 97, 70123, 81559), GpuMonitor.parse("1, 97, 70123, 81559"));
    assertNull(GpuMonitor.parse("0, [N/A], 1024, 81559"));
    assertNull(GpuMonitor.parse("No devices were found"));
    assertNull(GpuMonitor.parse("0, 50, 1024"));
  }
}
