package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The connection cap against the descriptor limit, and the G1 setting that lets the heap shrink after bursts. */
class ConnectionCapTest {
  @Test
  void theCapLeavesTheReserveAndTheOpenDescriptorsFree() {
    assertEquals(8192, Server.connectionCap(8192, 1_048_576, 300), "a large limit leaves the flag as it is");
    assertEquals(20_000 - 300 - 1024, Server.connectionCap(8192 * 4, 20_000, 300), "a reserve of 1024");
    assertEquals(1024 - 50 - 256, Server.connectionCap(8192, 1024, 50), "a quarter of a small limit");
    assertEquals(1, Server.connectionCap(8192, 256, 250), "never below one connection");
    assertEquals(1024, Server.fdReserve(1_048_576));
    assertEquals(256, Server.fdReserve(1024));
  }

  @Test
  void g1PeriodicCollectionIsOnUnlessSetByTheUser() {
    boolean g1 = ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(gc -> gc.getName().startsWith("G1"));
    boolean userSet = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .anyMatch(arg -> arg.contains(HeapReturn.FLAG));
    assumeTrue(g1 && !userSet, "only with G1 and no -XX:" + HeapReturn.FLAG + " of the user's");
    HeapReturn.enable();
    assertEquals(String.valueOf(HeapReturn.INTERVAL_MILLIS),
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption(HeapReturn.FLAG).getValue());
  }
}
