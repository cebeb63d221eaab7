package barista.engine.checkpoint;

/** Verbatim copies of the published DeepSeek-R1-Distill-Qwen-1.5B config files (transformers 4.x style). */
public final class R1DistillFiles {

    public static final String CONFIG_JSON = """
            {
              "architectures": [
                "Qwen2ForCausalLM"
              ],
              "attention_dropout": 0.0,
              "bos_token_id": 151643,
              "eos_token_id": 151643,
              "hidden_act": "silu",
              "hidden_size": 1536,
              "initializer_range": 0.02,
              "intermediate_size": 8960,
              "max_position_embeddings": 131072,
              "max_window_layers": 21,
              "model_type": "qwen2",
              "num_attention_heads": 12,
              "num_hidden_layers": 28,
              "num_key_value_heads": 2,
              "rms_norm_eps": 1e-06,
              "rope_theta": 10000,
              "sliding_window": 4096,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.44.0",
              "use_cache": true,
              "use_mrope": false,
              "use_sliding_window": false,
              "vocab_size": 151936
            }
            """;

    public static final String GENERATION_CONFIG_JSON = """
            {
              "_from_model_config": true,
              "bos_token_id": 151646,
              "eos_token_id": 151643,
              "do_sample": true,
              "temperature": 0.6,
              "top_p": 0.95
            }
            """;

    private R1DistillFiles() {}
}
