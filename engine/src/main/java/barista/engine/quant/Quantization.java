package barista.engine.quant;

import barista.engine.checkpoint.CheckpointException;
import barista.engine.checkpoint.ModelConfig;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;

/**
 * How a checkpoint's linear layers are stored and kept on the device, from {@code --quantization} and config.json's
 * {@code quantization_config}.
 *
 * @param method AWQ (4-bit, pre-quantized) or INT8 (pre-quantized compressed-tensors, or quantized at load time)
 * @param groupSize AWQ's group_size (0 for INT8)
 * @param quantizeOnLoad INT8 from a 16-bit checkpoint
 * @param detected whether the checkpoint's config chose the method (no {@code --quantization})
 */
public record Quantization(Method method, int groupSize, boolean quantizeOnLoad, boolean detected) {

  public enum Method {
    AWQ, INT8;

    /** The method a {@code --quantization} value names; null for "none" or no value: follow the checkpoint. */
    public static Method of(String option) {
      if (option == null || option.equalsIgnoreCase("none")) return null;
      return switch (option.toLowerCase()) {
        case Quantization.AWQ -> AWQ;
        case Quantization.INT8 -> INT8;
        default -> throw new IllegalArgumentException("--quantization must be none, awq or int8, got " + option);
      };
    }
  }

  public static final String AWQ = "awq";
  public static final String INT8 = "int8";
  static final String COMPRESSED_TENSORS = "compressed-tensors";

  /**
   * @param want the {@code --quantization} method, or null to follow the checkpoint
   * @return null for a 16-bit checkpoint served as it is
   */
  public static Quantization resolve(ModelConfig config, Method want, String source) {
    JsonNode qc = config.quantizationConfig();
    String stored = qc == null ? null : qc.path("quant_method").asText(null);
    if (want == null && stored == null) return null;
    if (want == Method.AWQ && !AWQ.equals(stored)) {
      throw new CheckpointException("--quantization awq needs an AWQ checkpoint, but " + source + " has "
          + (stored == null ? "no quantization_config" : "quant_method " + stored));
    }
    if (stored == null) return new Quantization(Method.INT8, 0, true, false);
    if (want == Method.INT8 && !stored.equals(COMPRESSED_TENSORS)) {
      throw new CheckpointException("--quantization int8 needs a 16-bit or an 8-bit compressed-tensors checkpoint, but "
          + source + " has quant_method " + stored);
    }
    return switch (stored) {
      case AWQ -> new Quantization(Method.AWQ, awqGroupSize(qc, source), false, want == null);
      case COMPRESSED_TENSORS -> {
        checkCompressedTensors(qc, source);
        yield new Quantization(Method.INT8, 0, false, want == null);
      }
      default -> throw new CheckpointException(source + ": unsupported quantization_config.quant_method " + stored
          + " (supported: awq, compressed-tensors)");
    };
  }

  /** A line for the startup log. */
  public String describe() {
    return switch (method) {
      case AWQ -> "AWQ 4-bit (group " + groupSize + ")";
      case INT8 -> quantizeOnLoad ? "INT8 weight-only, quantized at load time" : "INT8 weight-only (compressed-tensors)";
    };
  }

  private static int awqGroupSize(JsonNode qc, String source) {
    int bits = qc.path("bits").asInt(qc.path("w_bit").asInt(-1));
    if (bits != 4) throw new CheckpointException(source + ": AWQ quantization_config.bits is " + bits + ", only 4 is supported");
    if (!qc.path("zero_point").asBoolean(true)) {
      throw new CheckpointException(source + ": AWQ quantization_config.zero_point is false; only zero-point AWQ is supported");
    }
    String version = qc.path("version").asText("gemm");
    if (!version.equalsIgnoreCase("gemm")) {
      throw new CheckpointException(source + ": AWQ quantization_config.version is " + version + ", only gemm is supported");
    }
    int group = qc.path("group_size").asInt(qc.path("q_group_size").asInt(-1));
    if (group <= 0 || group % 2 != 0) {
      throw new CheckpointException(source + ": AWQ quantization_config.group_size is " + group
          + ", expected a positive even number");
    }
    return group;
  }

  /** Every weight scheme must be symmetric 8-bit int, per channel or per group, in a format we read. */
  private static void checkCompressedTensors(JsonNode qc, String source) {
    JsonNode groups = qc.path("config_groups");
    if (!groups.isObject() || groups.isEmpty()) {
      throw new CheckpointException(source + ": compressed-tensors quantization_config has no config_groups");
    }
    for (Iterator<String> it = groups.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      JsonNode group = groups.get(name);
      JsonNode w = group.path("weights");
      String where = source + ": quantization_config.config_groups." + name;
      if (w.path("num_bits").asInt() != 8 || !w.path("type").asText().equals("int") || !w.path("symmetric").asBoolean()) {
        throw new CheckpointException(where + ".weights is not symmetric 8-bit int (num_bits " + w.path("num_bits")
            + ", type " + w.path("type") + ", symmetric " + w.path("symmetric") + ")");
      }
      String strategy = w.path("strategy").asText();
      if (!strategy.equals("channel") && !strategy.equals("group")) {
        throw new CheckpointException(where + ".weights.strategy is " + strategy + "; only channel and group are supported");
      }
      String format = (group.hasNonNull("format") ? group : qc).path("format").asText("");
      if (!format.equals("pack-quantized") && !format.equals("int-quantized")) {
        throw new CheckpointException(where + ": format " + format + " is not supported (pack-quantized, int-quantized)");
      }
    }
  }
}
