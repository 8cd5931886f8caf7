package io.certfleet.intake;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Reads lines of bytes with bounded memory: a line longer than {@code maxBytes} is consumed to its end but only
 * reported as too long, and each line is decoded as strict UTF-8 on its own, so one bad line costs only itself.
 */
final class LineReader {
    /** One line: its number, its text if it decoded, and why it did not. */
    record Line(long number, Optional<String> text, Optional<String> problem, String preview) {
    }

    private final InputStream in;
    private final int maxBytes;
    private final byte[] buf;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private long number;
    private boolean eof;

    LineReader(InputStream in, int maxBytes) {
        this.in = in.markSupported() ? in : new java.io.BufferedInputStream(in, 1 << 16);
        this.maxBytes = maxBytes;
        this.buf = new byte[maxBytes];
    }

    /** The next line, or empty at the end of input. */
    Optional<Line> next() throws IOException {
        if (eof) {
            return Optional.empty();
        }
        int len = 0;
        long total = 0;
        int b;
        int last = -1;
        while ((b = in.read()) != -1 && b != '\n') {
            if (len < maxBytes) {
                buf[len++] = (byte) b;
            }
            total++;
            last = b;
        }
        if (b == -1) {
            eof = true;
            if (total == 0) {
                return Optional.empty();
            }
        }
        number++;
        if (last == '\r') {
            total--;
            if (total < len) {
                len--;
            }
        }
        if (number == 1 && len >= 3 && (buf[0] & 0xff) == 0xEF && (buf[1] & 0xff) == 0xBB && (buf[2] & 0xff) == 0xBF) {
            System.arraycopy(buf, 3, buf, 0, len - 3);
            len -= 3;
            total -= 3;
        }
        String preview = new String(buf, 0, Math.min(len, 80), StandardCharsets.UTF_8);
        if (total > maxBytes) {
            return Optional.of(new Line(number, Optional.empty(),
                    Optional.of("the line is " + total + " bytes long; at most " + maxBytes + " are read"), preview));
        }
        try {
            String text = decoder.reset().decode(ByteBuffer.wrap(buf, 0, len)).toString();
            return Optional.of(new Line(number, Optional.of(text), Optional.empty(), preview));
        } catch (CharacterCodingException e) {
            return Optional.of(new Line(number, Optional.empty(), Optional.of("the line is not valid UTF-8"), preview));
        }
    }
}
