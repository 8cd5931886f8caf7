package io.certfleet.intake;

import io.certfleet.model.NewDomain;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class DomainImporterTest {

    /** A sink that behaves like the database: unique identifiers, reports how many were new. */
    static final class FakeSink {
        final Set<String> known = new HashSet<>();
        final List<NewDomain> stored = new ArrayList<>();
        int calls;

        int insert(List<NewDomain> batch) {
            calls++;
            int added = 0;
            for (NewDomain d : batch) {
                if (known.add(d.name().identifier())) {
                    stored.add(d);
                    added++;
                }
            }
            return added;
        }
    }

    private final FakeSink sink = new FakeSink();
    private final List<Rejection> rejections = new ArrayList<>();

    private ImportResult run(String text) throws IOException {
        return run(text.getBytes(StandardCharsets.UTF_8));
    }

    private ImportResult run(byte[] bytes) throws IOException {
        return new DomainImporter(sink::insert, 3).importFrom(new ByteArrayInputStream(bytes), rejections::add);
    }

    @Test
    void mixedFileKeepsEveryGoodLineAndReportsEveryBadOneWithItsLineNumber() throws IOException {
        ImportResult r = run("""
                name,customer
                Example.COM.,acme
                www.example.com,acme
                bücher.example,books
                *.wild.example.org,acme
                a..b.com
                com
                # a comment

                192.168.0.1
                foo.*.example.com
                WWW.example.com.
                "quoted.example.net","Cust, Inc."
                x,y,z
                "unterminated.example.com,acme
                """);
        assertThat(sink.stored).extracting(d -> d.name().identifier()).containsExactly(
                "example.com", "www.example.com", "xn--bcher-kva.example", "*.wild.example.org", "quoted.example.net");
        assertThat(sink.stored.get(4).customer()).contains("Cust, Inc.");
        assertThat(sink.stored.get(0).input()).isEqualTo("Example.COM.,acme");
        assertThat(rejections).extracting(Rejection::line, Rejection::cause).containsExactly(
                org.assertj.core.groups.Tuple.tuple(6L, "EMPTY_LABEL"),
                org.assertj.core.groups.Tuple.tuple(7L, "BARE_TLD"),
                org.assertj.core.groups.Tuple.tuple(10L, "IP_ADDRESS"),
                org.assertj.core.groups.Tuple.tuple(11L, "WILDCARD_POSITION"),
                org.assertj.core.groups.Tuple.tuple(14L, "CSV_SYNTAX"),
                org.assertj.core.groups.Tuple.tuple(15L, "CSV_SYNTAX"));
        assertThat(r).isEqualTo(new ImportResult(15, 5, 0, 1, 6, 3));
    }

    @Test
    void namesAlreadyInTheDatabaseAreCountedNotAdded() throws IOException {
        run("a.example.com\nb.example.com\n");
        ImportResult second = run("b.example.com\nc.example.com\n");
        assertThat(second.added()).isEqualTo(1);
        assertThat(second.alreadyKnown()).isEqualTo(1);
    }

    @Test
    void invalidUtf8AndOverlongLinesCostOnlyThemselves() throws IOException {
        var out = new ByteArrayOutputStream();
        out.writeBytes("good1.example.com\n".getBytes(StandardCharsets.UTF_8));
        out.writeBytes(new byte[]{'b', (byte) 0xC3, (byte) 0x28, '.', 'c', 'o', 'm', '\n'});
        out.writeBytes("x".repeat(1_000_000).getBytes(StandardCharsets.US_ASCII));
        out.writeBytes("\r\ngood2.example.com\r\n".getBytes(StandardCharsets.UTF_8));
        ImportResult r = run(out.toByteArray());
        assertThat(sink.stored).extracting(d -> d.name().name()).containsExactly("good1.example.com", "good2.example.com");
        assertThat(rejections).extracting(Rejection::line, Rejection::cause).containsExactly(
                org.assertj.core.groups.Tuple.tuple(2L, "INVALID_UTF8"),
                org.assertj.core.groups.Tuple.tuple(3L, "LINE_TOO_LONG"));
        assertThat(rejections.get(1).detail()).contains("1000000 bytes");
        assertThat(r.lines()).isEqualTo(4);
    }

    @Test
    void controlCharactersAreEscapedInReports() throws IOException {
        run("evil\u001b[31m.example.com\n");
        assertThat(rejections).singleElement().satisfies(rj -> {
            assertThat(rj.input()).doesNotContain("\u001b").contains("\\u001b");
            assertThat(rj.cause()).isEqualTo("INVALID_CHARACTER");
        });
    }

    @Test
    void bidiOverridesAndControlsInTheInputWereEchoedRawInTheRejectionDetail() throws IOException {
        // a right-to-left override in a report reorders what the operator's terminal shows ("Trojan Source")
        run("moc.elpmaxe\u202e\n" + "ctl\u200f" + "a".repeat(70) + ".example\n");
        assertThat(rejections).hasSize(2).allSatisfy(rj -> {
            assertThat(rj.toString()).doesNotContain("\u202e", "\u200f");
            assertThat(rj.detail().codePoints().filter(cp -> Character.isISOControl(cp)
                    || Character.getType(cp) == Character.FORMAT)).isEmpty();
        });
        assertThat(rejections.get(0).input()).contains("\\u202e");
        assertThat(rejections.get(0).cause()).isEqualTo("INVALID_IDN");
    }

    @Test
    void byteOrderMarkAndHeaderAreSkipped() throws IOException {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        var out = new ByteArrayOutputStream();
        out.writeBytes(bom);
        out.writeBytes("domain\nexample.com\n".getBytes(StandardCharsets.UTF_8));
        ImportResult r = run(out.toByteArray());
        assertThat(r.skipped()).isEqualTo(1);
        assertThat(r.added()).isEqualTo(1);
        assertThat(rejections).isEmpty();
    }

    @Test
    void lastLineWithoutNewlineIsRead() throws IOException {
        ImportResult r = run("a.example.com\nb.example.com");
        assertThat(r.added()).isEqualTo(2);
    }

    @Test
    void writesInChunksOfTheConfiguredSize() throws IOException {
        run("a.example.com\nb.example.com\nc.example.com\nd.example.com\n");
        assertThat(sink.calls).isEqualTo(2);
    }
}
