package barista.engine.checkpoint;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tensor names of a Hugging Face Qwen2 (or Llama) checkpoint, as transformers' {@code Qwen2ForCausalLM} names
 * its state dict: written here once for the loader, the synthetic-checkpoint maker and the quantizer.
 */
public final class Qwen2TensorNames {
  public static final String EMBED_TOKENS = "model.embed_tokens.weight";
  public static final String FINAL_NORM = "model.norm.weight";
  /** The output projection's module; its weight is {@link #LM_HEAD}. */
  public static final String LM_HEAD_MODULE = "lm_head";
  public static final String LM_HEAD = LM_HEAD_MODULE + ".weight";

  private static final String LAYERS = "model.layers.";
  private static final Pattern LAYER = Pattern.compile(Pattern.quote(LAYERS) + "(\\d+)\\..*");

  /** The linear projections of a decoder layer, in the order the layer applies them. */
  public enum Projection {
    Q("self_attn.q_proj"), K("self_attn.k_proj"), V("self_attn.v_proj"), O("self_attn.o_proj"),
    GATE("mlp.gate_proj"), UP("mlp.up_proj"), DOWN("mlp.down_proj");

    private final String path;

    Projection(String path) {
      this.path = path;
    }

    /** The module in a layer: its tensors are this name plus ".weight", ".bias" or a quantized format's suffixes. */
    public String module(int layer) {
      return LAYERS + layer + "." + path;
    }

    public String weight(int layer) {
      return module(layer) + ".weight";
    }
  }

  private Qwen2TensorNames() {}

  public static String inputLayernorm(int layer) {
    return LAYERS + layer + ".input_layernorm.weight";
  }

  public static String postAttentionLayernorm(int layer) {
    return LAYERS + layer + ".post_attention_layernorm.weight";
  }

  /** The decoder layer a tensor belongs to, or -1 for the embeddings, final norm and head. */
  public static int layerOf(String name) {
    Matcher m = LAYER.matcher(name);
    if (!m.matches()) return -1;
    try {
      return Integer.parseInt(m.group(1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Whether the tensor is the weight of one of a decoder layer's projections (what quantization applies to). */
  public static boolean isProjectionWeight(String name) {
    int layer = layerOf(name);
    if (layer < 0) return false;
    for (Projection p : Projection.values()) {
      if (p.weight(layer).equals(name)) return true;
    }
    return false;
  }
}
