package io.certfleet.intake;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CsvLineTest {
    @Test
    void splitsQuotedAndPlainFields() {
        assertThat(CsvLine.split("a.com,acme")).containsExactly("a.com", "acme");
        assertThat(CsvLine.split("\"a.com\",\"He said \"\"hi\"\", ok\"")).containsExactly("a.com", "He said \"hi\", ok");
        assertThat(CsvLine.split("a.com,")).containsExactly("a.com", "");
    }

    @Test
    void rejectsQuotingGames() {
        assertThatThrownBy(() -> CsvLine.split("\"a.com,acme")).hasMessageContaining("not closed");
        assertThatThrownBy(() -> CsvLine.split("\"a.com\"x,acme")).hasMessageContaining("follows a closing quote");
        assertThatThrownBy(() -> CsvLine.split("a\"b.com,acme")).hasMessageContaining("quote inside");
    }
}
