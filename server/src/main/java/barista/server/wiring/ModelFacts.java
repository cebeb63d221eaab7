package barista.server.wiring;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What the server is told of the model an engine has loaded, so that it need not reach into the engine.
 *
 * @param maxModelLen context length: prompt plus completion tokens
 * @param vocabSize token ids a request may give are below this (the model's embedding rows)
 * @param device where the weights are, e.g. "cpu()" or "gpu(0)"
 * @param weightBytes bytes of weights on the device
 * @param dtype what the model computes in, "float16" or "float32"
 */
public record ModelFacts(int maxModelLen, int vocabSize, String architecture, int layers, String device,
    long weightBytes, String dtype) {

  /** What the status page shows of the model, by name. */
  public Map<String, String> forStatusPage() {
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put("architecture", architecture);
    facts.put("layers", Integer.toString(layers));
    facts.put("device", device);
    facts.put("weights_mib", String.format(Locale.ROOT, "%.1f", weightBytes / 1048576.0));
    facts.put("dtype", dtype);
    return facts;
  }
}
