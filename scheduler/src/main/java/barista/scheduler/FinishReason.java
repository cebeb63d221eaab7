package barista.scheduler;

/** Why a request ended, as OpenAI's finish_reason spells it. */
public enum FinishReason {
  STOP("stop"),
  LENGTH("length"),
  ABORT("abort");

  private final String apiName;

  FinishReason(String apiName) {
    this.apiName = apiName;
  }

  public String apiName() {
    return apiName;
  }
}
