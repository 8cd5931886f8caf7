package io.certfleet.intake;

/**
 * What an import did. {@code added + alreadyKnown + duplicates + rejected + skipped == lines}.
 *
 * @param lines        lines read
 * @param added        new names inserted as pending
 * @param alreadyKnown valid names the database already had
 * @param duplicates   valid names repeated within this input (after normalisation)
 * @param rejected     lines that are not valid names (each reported as a {@link Rejection})
 * @param skipped      blank lines, comments and a header line
 */
public record ImportResult(long lines, long added, long alreadyKnown, long duplicates, long rejected, long skipped) {
}
