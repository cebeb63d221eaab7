package barista.engine.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/** THROWAWAY STUB for the checkpoint worktree: the tokenizer helper writes the real class; drop this at merge. */
public final class TokenizerFiles {

    private TokenizerFiles() {}

    public static int writeTiny(Path dir) throws IOException {
        return 300;
    }

    public static int writeR1Distill(Path dir) throws IOException {
        return 151665;
    }
}
