package dev.viditq.nn.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A prompts file: UTF-8 text, one prompt per line; blank lines and lines starting with {@code #} are skipped.
 * Anything else — a binary file, another encoding, a file too large to be a prompt list — is refused naming the
 * file, without echoing its bytes.
 */
public final class PromptFile {
    /** Far more than any prompt list (a million prompts of 60 characters). */
    static final long MAX_BYTES = 64L << 20;

    private PromptFile() {}

    /** The prompts of {@code file}, in order; at least one. */
    public static List<String> read(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such prompts file");
        String text;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new IllegalArgumentException(file + ": " + size + " bytes is too large for a prompts file (at most "
                        + MAX_BYTES + ")");
            }
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": is not UTF-8 text (a binary file?); a prompts file holds one prompt per line");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the prompts: " + e.getMessage(), e);
        }
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(file + ": holds NUL bytes, so it is not text (a binary file?); a prompts file"
                    + " holds one prompt per line");
        }
        List<String> prompts = text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        if (prompts.isEmpty()) throw new IllegalArgumentException(file + ": no prompts in the file");
        return prompts;
    }
}
