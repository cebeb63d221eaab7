package barista.server.cli;

import barista.engine.checkpoint.DType;
import barista.engine.tools.ModelMaker;
import barista.server.progress.ProgressReporter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code barista make-model}: writes a synthetic checkpoint (real geometry and tokenizer, random weights). */
@Command(name = "make-model", mixinStandardHelpOptions = true,
    description = "Write a Hugging Face model folder with deterministic random weights of a real geometry.")
public final class MakeModelCommand implements Callable<Integer> {

  @Option(names = "--out", required = true, description = "Folder to write.") Path out;
  @Option(names = "--preset", defaultValue = "tiny", description = "tiny or r1-distill-1.5b (default ${DEFAULT-VALUE}).")
  String preset;
  @Option(names = "--seed", defaultValue = "0") long seed;
  @Option(names = "--dtype", description = "bf16, f16 or f32 in the files (default: the preset's).") String dtype;
  @Option(names = "--architecture", description = "Qwen2ForCausalLM or LlamaForCausalLM.") String architecture;
  @Option(names = "--layers") Integer layers;
  @Option(names = "--hidden") Integer hidden;
  @Option(names = "--heads") Integer heads;
  @Option(names = "--kv-heads") Integer kvHeads;
  @Option(names = "--intermediate") Integer intermediate;
  @Option(names = "--vocab") Integer vocab;
  @Option(names = "--tie-embeddings", negatable = true) Boolean tieEmbeddings;

  @Override
  public Integer call() throws Exception {
    long start = System.nanoTime();
    ProgressReporter progress = ProgressReporter.onStderr("make-model");
    try {
      ModelMaker.make(new ModelMaker.Options(preset, seed, dtype == null ? null : parseDType(dtype), layers, hidden,
          heads, kvHeads, intermediate, vocab, tieEmbeddings, architecture), out, progress::bytesWritten);
    } finally {
      progress.finish();
    }
    System.err.printf("wrote %s (preset %s, seed %d) in %.1f s; its weights are random%n", out, preset, seed,
        (System.nanoTime() - start) / 1e9);
    return 0;
  }

  private static DType parseDType(String s) {
    switch (s.toLowerCase()) {
      case "bf16": case "bfloat16": return DType.BF16;
      case "f16": case "fp16": case "float16": return DType.F16;
      case "f32": case "fp32": case "float32": return DType.F32;
      default: throw new IllegalArgumentException("--dtype must be bf16, f16 or f32, got " + s);
    }
  }
}
