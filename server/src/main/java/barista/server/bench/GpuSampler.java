package barista.server.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples GPU utilization and memory with nvidia-smi every 200 ms while a run lasts. With several GPUs each sample
 * line is one GPU's, and the figures are over all of them.
 */
final class GpuSampler {
  private static final List<String> COMMAND = List.of("nvidia-smi", "--query-gpu=utilization.gpu,memory.used",
      "--format=csv,noheader,nounits", "-lms", "200");

  /** Mean and max utilization (%) and memory used (MiB) over the samples. */
  record Usage(int samples, double meanUtilization, double maxUtilization, double meanMemoryMiB, double maxMemoryMiB) {}

  private final Process process;
  private final Thread reader;
  private final List<double[]> samples = new ArrayList<>();

  private GpuSampler(Process process) {
    this.process = process;
    this.reader = new Thread(this::read, "bench-nvidia-smi");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts sampling, or returns null when nvidia-smi cannot be run here. */
  static GpuSampler start() {
    try {
      return new GpuSampler(new ProcessBuilder(COMMAND).redirectError(ProcessBuilder.Redirect.DISCARD).start());
    } catch (IOException e) {
      return null;
    }
  }

  /** Stops sampling; null when no line could be read (no driver, no GPU). */
  Usage stop() throws InterruptedException {
    process.destroy();
    reader.join();
    synchronized (samples) {
      return usage(samples);
    }
  }

  private void read() {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        double[] sample = parse(line);
        if (sample != null) {
          synchronized (samples) {
            samples.add(sample);
          }
        }
      }
    } catch (IOException e) {
      // the process was stopped: the samples so far stand
    }
  }

  /** "utilization, memory" as nvidia-smi prints it with nounits, or null for any other line ("[N/A]", errors). */
  static double[] parse(String line) {
    String[] fields = line.split(",");
    if (fields.length != 2) return null;
    try {
      return new double[] {Double.parseDouble(fields[0].strip()), Double.parseDouble(fields[1].strip())};
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static Usage usage(List<double[]> samples) {
    if (samples.isEmpty()) return null;
    double sumUtil = 0, maxUtil = 0, sumMemory = 0, maxMemory = 0;
    for (double[] s : samples) {
      sumUtil += s[0];
      maxUtil = Math.max(maxUtil, s[0]);
      sumMemory += s[1];
      maxMemory = Math.max(maxMemory, s[1]);
    }
    return new Usage(samples.size(), sumUtil / samples.size(), maxUtil, sumMemory / samples.size(), maxMemory);
  }
}
