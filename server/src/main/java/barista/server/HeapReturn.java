package barista.server;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets G1 give heap back to the OS soon after a burst: request bodies are read onto the heap, and G1 only shrinks
 * the heap at the end of a concurrent cycle or a full GC, which an idle server may not run for hours. G1's
 * periodic collection (JEP 346: a concurrent cycle when no GC ran for an interval) does it; it is a manageable
 * flag, set here unless the user set it (-XX:G1PeriodicGCInterval) or another collector is in use.
 *
 * <p>5 s: G1 looks every interval and collects when no GC ran for one, so the heap comes back up to two intervals
 * after the last GC; twice that came too close to the 30 s promised (docs/reliability.md).
 * An idle server pays a few milliseconds of collection every interval.
 */
final class HeapReturn {
  private static final Logger log = LoggerFactory.getLogger(HeapReturn.class);
  static final String FLAG = "G1PeriodicGCInterval";
  static final long INTERVAL_MILLIS = 5_000;

  private HeapReturn() {}

  static void enable() {
    boolean g1 = ManagementFactory.getGarbageCollectorMXBeans().stream()
        .map(GarbageCollectorMXBean::getName).anyMatch(name -> name.startsWith("G1"));
    if (!g1) return;
    try {
      HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      VMOption option = hotspot.getVMOption(FLAG);
      if (option.getOrigin() != VMOption.Origin.DEFAULT) return;
      hotspot.setVMOption(FLAG, String.valueOf(INTERVAL_MILLIS));
      log.debug("-XX:{}={} so the heap shrinks after bursts of request bodies", FLAG, INTERVAL_MILLIS);
    } catch (RuntimeException e) {
      log.debug("Cannot set -XX:{}: {}", FLAG, e.toString());
    }
  }
}
