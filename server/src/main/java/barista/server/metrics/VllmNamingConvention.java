package barista.server.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.prometheusmetrics.PrometheusNamingConvention;

/**
 * Prometheus naming that keeps vLLM's "vllm:" prefix: the stock convention sanitizes ':' to '_', although
 * Prometheus allows colons, which would break dashboards built for vLLM. The rest of the name follows the stock
 * rules (snake case, unit and "_total" suffixes).
 */
final class VllmNamingConvention implements NamingConvention {
  private static final String PREFIX = "vllm:";
  private final PrometheusNamingConvention prometheus = new PrometheusNamingConvention();

  @Override
  public String name(String name, Meter.Type type, String baseUnit) {
    if (name.startsWith(PREFIX)) return PREFIX + prometheus.name(name.substring(PREFIX.length()), type, baseUnit);
    return prometheus.name(name, type, baseUnit);
  }

  @Override
  public String tagKey(String key) {
    return prometheus.tagKey(key);
  }
}
