package io.certfleet.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DomainNameTest {

    @ParameterizedTest(name = "{0} -> {1} (wildcard {2})")
    @CsvSource(delimiter = '|', value = {
            "Example.COM|example.com|false",
            "example.com.|example.com|false",
            "  www.example.com  |www.example.com|false",
            "bücher.example|xn--bcher-kva.example|false",
            "BÜCHER.Example.|xn--bcher-kva.example|false",
            "*.example.org|example.org|true",
            "*.Münich.DE|xn--mnich-kva.de|true",
            "xn--bcher-kva.example|xn--bcher-kva.example|false",
            "例え.テスト|xn--r8jz45g.xn--zckzah|false",
            "a-b.c-d.example|a-b.c-d.example|false",
            "123.example.com|123.example.com|false",
            // IDNA2008 (UTS #46 non-transitional): ß and final sigma are kept, not mapped to ss and σ as IDNA2003 did
            "straße.de|xn--strae-oqa.de|false",
            "faß.example|xn--fa-hia.example|false",
            "σίσυφος.example|xn--kxa6ajbbmh.example|false",
            "ΣΊΣΥΦΟΣ.example|xn--kxa6akbbkh.example|false",
            "XN--STRAE-OQA.DE|xn--strae-oqa.de|false",
            "xn--fa-hia.example|xn--fa-hia.example|false",
            "例え。テスト。|xn--r8jz45g.xn--zckzah|false",
            "l·l.example|xn--ll-0ea.example|false",
    })
    void normalises(String input, String name, boolean wildcard) throws Exception {
        DomainName d = DomainName.parse(input);
        assertThat(d.name()).isEqualTo(name);
        assertThat(d.wildcard()).isEqualTo(wildcard);
        assertThat(d.identifier()).isEqualTo(wildcard ? "*." + name : name);
    }

    @ParameterizedTest(name = "{0} rejected: {1}")
    @CsvSource(delimiter = '|', value = {
            "''|EMPTY",
            "a..b.com|EMPTY_LABEL",
            ".example.com|EMPTY_LABEL",
            "example.com..|EMPTY_LABEL",
            "*.|WILDCARD_POSITION",
            "com|BARE_TLD",
            "*.com|BARE_TLD",
            "192.168.0.1|IP_ADDRESS",
            "[::1]|IP_ADDRESS",
            "2001:db8::1|IP_ADDRESS",
            "foo.*.example.com|WILDCARD_POSITION",
            "*example.com|WILDCARD_POSITION",
            "*.*.example.com|WILDCARD_POSITION",
            "-bad.example.com|INVALID_CHARACTER",
            "bad-.example.com|INVALID_CHARACTER",
            "under_score.example.com|INVALID_CHARACTER",
            "semi;colon.example.com|INVALID_CHARACTER",
            "'DROP TABLE domain;--'|INVALID_CHARACTER",
            "ab--cd.example.com|INVALID_CHARACTER",
            "example.123|INVALID_CHARACTER",
            "xn--zz.example|INVALID_IDN",
            "xn--a.example|INVALID_IDN",
            "www.xn--xn--a.example|INVALID_IDN",
            "☃.example|INVALID_IDN",
            "bü_cher.example|INVALID_CHARACTER",
            "-bücher.example|INVALID_CHARACTER",
            "bü--cher.example|INVALID_CHARACTER",
            "a‍b.example|INVALID_IDN",
            "a·b.example|INVALID_IDN",
            "́a.example|INVALID_IDN",
            "xا.example|INVALID_IDN",
    })
    void rejects(String input, InvalidDomainNameException.Cause cause) {
        assertThatThrownBy(() -> DomainName.parse(input))
                .isInstanceOfSatisfying(InvalidDomainNameException.class, e -> {
                    assertThat(e.reason()).isEqualTo(cause);
                    assertThat(e.input()).isEqualTo(input);
                    assertThat(e.getMessage()).startsWith("'" + input + "'");
                });
    }

    @Test
    void rejectsLabelLongerThan63Octets() {
        String label = "a".repeat(64);
        assertThatThrownBy(() -> DomainName.parse(label + ".example.com"))
                .isInstanceOfSatisfying(InvalidDomainNameException.class,
                        e -> assertThat(e.reason()).isEqualTo(InvalidDomainNameException.Cause.LABEL_TOO_LONG));
        assertThat(parses("a".repeat(63) + ".example.com")).isTrue();
    }

    @Test
    void rejectsNameLongerThan253Octets() {
        String name = ("a".repeat(63) + ".").repeat(4) + "com"; // 4*64 + 3 = 259
        assertThatThrownBy(() -> DomainName.parse(name))
                .isInstanceOfSatisfying(InvalidDomainNameException.class,
                        e -> assertThat(e.reason()).isEqualTo(InvalidDomainNameException.Cause.NAME_TOO_LONG));
    }

    @Test
    void rejectsControlCharactersWithTheirPosition() {
        assertThatThrownBy(() -> DomainName.parse("exa\u0000mple.com"))
                .isInstanceOfSatisfying(InvalidDomainNameException.class, e -> {
                    assertThat(e.reason()).isEqualTo(InvalidDomainNameException.Cause.INVALID_CHARACTER);
                    assertThat(e.getMessage()).contains("U+0000").contains("position 4").contains("\\u0000");
                });
    }

    @Test
    void ssharpIsNotFoldedIntoAnotherRegisteredDomain() throws Exception {
        // IDNA2003 (java.net.IDN) turned straße.de into strasse.de: a different domain, maybe someone else's
        assertThat(DomainName.parse("straße.de")).isNotEqualTo(DomainName.parse("strasse.de"));
        assertThat(DomainName.parse("straße.de").name()).isEqualTo("xn--strae-oqa.de");
    }

    @Test
    void aSymbolLabelIsRejectedNamingTheLabelAndTheCharacter() {
        assertThatThrownBy(() -> DomainName.parse("☃.example"))
                .isInstanceOfSatisfying(InvalidDomainNameException.class, e -> {
                    assertThat(e.reason()).isEqualTo(InvalidDomainNameException.Cause.INVALID_IDN);
                    assertThat(e.getMessage()).startsWith("'☃.example': label '☃' contains ☃ (U+2603, SNOWMAN)")
                            .contains("IDNA2008 does not allow");
                });
    }

    @Test
    void anALabelIsTakenAsGivenOnceItsPunycodeDecodes() throws Exception {
        // the exact identifier the CA sees: xn--n3h decodes (to a snowman) and is kept, while the U-label is refused
        assertThat(DomainName.parse("xn--n3h.example").name()).isEqualTo("xn--n3h.example");
        assertThatThrownBy(() -> DomainName.parse("xn--zz.example"))
                .isInstanceOfSatisfying(InvalidDomainNameException.class, e -> assertThat(e.getMessage())
                        .isEqualTo("'xn--zz.example': label 'xn--zz' is not a valid A-label (its punycode does not "
                                + "decode to a valid label)"));
    }

    @Test
    void aDisallowedAsciiCharacterNextToAUlabelIsNamed() {
        assertThatThrownBy(() -> DomainName.parse("bü_cher.example"))
                .isInstanceOfSatisfying(InvalidDomainNameException.class, e -> assertThat(e.getMessage())
                        .isEqualTo("'bü_cher.example': '_' (U+005F, LOW LINE) is not allowed in a domain name"));
    }

    @Test
    void aLongUlabelIsRejectedAsTooLong() {
        assertThatThrownBy(() -> DomainName.parse("ü".repeat(70) + ".example"))
                .isInstanceOfSatisfying(InvalidDomainNameException.class,
                        e -> assertThat(e.reason()).isEqualTo(InvalidDomainNameException.Cause.LABEL_TOO_LONG));
    }

    @Test
    void climbsFromTheNameToItsTld() throws Exception {
        assertThat(DomainName.parse("a.b.example.co.uk").selfAndParents())
                .containsExactly("a.b.example.co.uk", "b.example.co.uk", "example.co.uk", "co.uk", "uk");
        assertThat(DomainName.parse("*.example.com").selfAndParents()).containsExactly("example.com", "com");
    }

    private static boolean parses(String s) {
        try {
            DomainName.parse(s);
            return true;
        } catch (InvalidDomainNameException e) {
            return false;
        }
    }
}
