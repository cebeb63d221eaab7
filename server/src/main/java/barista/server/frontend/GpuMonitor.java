package barista.server.frontend;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The latest utilization and memory of each GPU, from one {@code nvidia-smi -lms} process read by a thread of its
 * own (never the event loop), as {@code bench} samples them. Holds one sample per GPU. Without nvidia-smi (a CPU
 * machine) it holds none and the status page shows no GPU charts.
 */
final class GpuMonitor implements AutoCloseable {
  private static final List<String> COMMAND = List.of("nvidia-smi",
      "--query-gpu=index,utilization.gpu,memory.used,memory.total", "--format=csv,noheader,nounits", "-lms", "1000");

  /** One GPU's latest figures: utilization in percent, memory in MiB. */
  record Sample(int index, double utilization, double memoryUsedMiB, double memoryTotalMiB) {}

  private final Map<Integer, Sample> latest = new TreeMap<>();
  private Process process;
  private boolean started;
  private boolean closed;

  /** The latest sample of each GPU, by index; empty until nvidia-smi answers, and where it cannot run. */
  synchronized List<Sample> samples() {
    if (!started && !closed) start();
    return List.copyOf(latest.values());
  }

  private void start() {
    started = true;
    try {
      process = new ProcessBuilder(COMMAND).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      return; // no nvidia-smi: no GPU figures
    }
    Process reading = process;
    Thread reader = new Thread(() -> read(reading), "barista-nvidia-smi");
    reader.setDaemon(true);
    reader.start();
  }

  private void read(Process from) {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(from.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        Sample sample = parse(line);
        if (sample == null) continue;
        synchronized (this) {
          latest.put(sample.index(), sample);
        }
      }
    } catch (IOException e) {
      // nvidia-smi was stopped: the last samples stand
    }
  }

  /** "index, utilization, used, total" as nvidia-smi prints them with nounits; null for any other line ("[N/A]"). */
  static Sample parse(String line) {
    String[] f = line.split(",");
    if (f.length != 4) return null;
    try {
      return new Sample(Integer.parseInt(f[0].strip()), Double.parseDouble(f[1].strip()),
          Double.parseDouble(f[2].strip()), Double.parseDouble(f[3].strip()));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (process != null) process.destroy();
  }
}
